/**
 * Sign-in is decided on the route that will run: every registered route, reached by any percent-encoded
 * spelling of its path, answers 401 without a token (never 200 with data) unless it is one of the few
 * public ones; with a token the encoded spelling answers as the plain one does.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';

let h: FhirHarness;
before(async () => {
  h = await fhirHarness();
});
after(async () => {
  await h.close();
});

/** Only these may be called without signing in (plus the web app's files). */
const PUBLIC = new Set([
  '/healthz',
  '/api/login',
  '/api/config',
  '/api/openapi.json',
  '/fhir/metadata',
  '/fhir/.well-known/smart-configuration',
  '/oauth/token',
  // Single sign-on: sent to the provider and back before anyone holds a token (404 while it is not configured).
  '/api/auth/oidc/start',
  '/api/auth/oidc/callback',
  '/api/auth/oidc/session',
]);
const isWebFile = (url: string) => url === '/' || url === '/index.html' || url.startsWith('/assets/');

/** Every (url, methods) the app registered, read from Fastify's own route tree. */
function registeredRoutes(): Array<{ url: string; methods: string[] }> {
  const routes: Array<{ url: string; methods: string[] }> = [];
  const stack: string[] = [];
  for (const line of h.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ├└─]*?)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack[depth] = match[2]!;
    if (match[3]) routes.push({ url: stack.join(''), methods: match[3].split(', ') });
  }
  return routes;
}

const SAMPLE: Record<string, string> = { code: 'U90001', ods: 'Z90101', id: 'a', file: 'Patient.ndjson', '*': 'Patient' };
const concrete = (url: string) => url.replace(/:(\w+)|\*/g, (all, name: string | undefined) => SAMPLE[name ?? all] ?? 'x');

/** Spellings of a path that name the same route, and a few (%2F) that may name none. */
function encodedVariants(path: string): { same: string[]; maybeOther: string[] } {
  const encode = (c: string, upper: boolean) => `%${c.charCodeAt(0).toString(16)[upper ? 'toUpperCase' : 'toLowerCase']()}`;
  const segments = path.split('/');
  const atSegment = (i: number, upper: boolean, all = false) =>
    segments.map((s, j) => (j !== i || !/^[A-Za-z]/.test(s) ? s : all ? [...s].map((c) => (/[A-Za-z0-9]/.test(c) ? encode(c, upper) : c)).join('') : encode(s[0]!, upper) + s.slice(1))).join('/');
  const last = segments.length - 1;
  const same = new Set([atSegment(1, false), atSegment(1, true), atSegment(last, false), atSegment(last, true), atSegment(1, true, true), atSegment(2, false)]);
  same.delete(path);
  const slash = path.lastIndexOf('/');
  return { same: [...same], maybeOther: slash > 0 ? [`${path.slice(0, slash)}%2F${path.slice(slash + 1)}`, `${path.slice(0, slash)}%2f${path.slice(slash + 1)}`] : [] };
}

test(`every private route, spelt any encoded way, is a 401 without a token (${testEngine})`, async () => {
  const routes = registeredRoutes();
  assert.ok(routes.some((r) => r.url === '/api/pcns/:code') && routes.some((r) => r.url === '/fhir/$export-status/:id') && routes.some((r) => r.url === '/fhir/*'), JSON.stringify(routes));
  let checked = 0;
  for (const route of routes) {
    const path = concrete(route.url);
    const isPublic = PUBLIC.has(route.url) || isWebFile(route.url);
    for (const method of route.methods.filter((m) => ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(m))) {
      const send = (url: string) =>
        h.app.inject({ method: method as 'GET', url, ...(['POST', 'PUT', 'PATCH'].includes(method) ? { headers: { 'content-type': 'application/json' }, payload: '{}' } : {}) });
      const plain = await send(path);
      if (isPublic) {
        assert.notEqual(plain.statusCode, 401, `${method} ${path} is public`);
        continue;
      }
      assert.equal(plain.statusCode, 401, `${method} ${path}: ${plain.body.slice(0, 200)}`);
      const { same, maybeOther } = encodedVariants(path);
      for (const url of same) {
        const reply = await send(url);
        assert.equal(reply.statusCode, 401, `${method} ${url} (${route.url}): ${reply.body.slice(0, 200)}`);
        checked++;
      }
      for (const url of maybeOther) {
        const reply = await send(url);
        // Another route, or none: a 401 or 404, or the web app's page; never an answer with data.
        const webPage = reply.statusCode === 200 && String(reply.headers['content-type']).startsWith('text/html');
        assert.ok(reply.statusCode === 401 || reply.statusCode === 404 || webPage, `${method} ${url}: ${reply.statusCode} ${reply.body.slice(0, 200)}`);
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} encoded requests were checked`);
});

test('the public routes answer without a token; a route nobody registered under /api or /fhir is a 401 too', async () => {
  for (const url of ['/healthz', '/api/config', '/api/openapi.json', '/fhir/metadata', '/fhir/.well-known/smart-configuration', '/%61pi/config', '/fhir/%6Detadata']) {
    const reply = await h.app.inject({ method: 'GET', url });
    assert.equal(reply.statusCode, 200, `${url}: ${reply.body.slice(0, 200)}`);
  }
  for (const url of ['/api/nothing-here', '/%61pi/nothing-here', '/fhir/', '/%66hir']) {
    const reply = await h.app.inject({ method: 'GET', url });
    assert.equal(reply.statusCode, 401, `${url}: ${reply.body.slice(0, 200)}`);
  }
});

test('with a token, an encoded path answers as the plain one: reads and writes', async () => {
  const auth = { authorization: h.admin };
  const plain = await h.app.inject({ method: 'GET', url: '/api/pcns', headers: auth });
  for (const url of ['/%61pi/pcns', '/api/%70cns', '/%61%70%69/pcns', '/api/%70%63%6E%73', '/api/%70%63%6e%73']) {
    const reply = await h.app.inject({ method: 'GET', url, headers: auth });
    assert.equal(reply.statusCode, 200, `${url}: ${reply.body.slice(0, 200)}`);
    assert.deepEqual(reply.json(), plain.json(), url);
  }
  // A case-changed path is another path, not the same route: no data.
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/%50cns', headers: auth })).statusCode, 404);

  // Writes sent encoded used to fail with 500: now they land like the plain ones.
  for (const [url, code] of [
    ['/api/pcns', 'U90501'],
    ['/%61pi/pcns', 'U90502'],
    ['/api/%70cns', 'U90503'],
  ] as const) {
    const reply = await h.app.inject({ method: 'POST', url, headers: auth, payload: { code, name: `Encoded ${code} PCN`, areaCode: 'Q99' } });
    assert.equal(reply.statusCode, 201, `${url}: ${reply.body}`);
    assert.equal(reply.json<{ code: string }>().code, code);
  }

  const bronte = await create<Patient>(h.fhir, patient(nhsNumber(7), 'Z90101', { name: [{ family: 'Brontë' }] }));
  const read = await h.fhir<Patient>('GET', `/fhir/Patient/${bronte.id}`);
  for (const url of [`/fhir/%50atient/${bronte.id}`, `/%66hir/Patient/${bronte.id}`, `/fhir/%50%61tient/${bronte.id}`]) {
    const reply = await h.fhir<Patient>('GET', url);
    assert.equal(reply.status, 200, `${url}: ${reply.text}`);
    assert.deepEqual(reply.json, read.json, url);
  }
  const search = await h.fhir<Bundle>('GET', `/fhir/%50atient?_id=${bronte.id}`);
  assert.equal(search.status, 200, search.text);
  assert.deepEqual(
    search.json.entry?.map((e) => e.resource?.id),
    [bronte.id],
  );
  const written = await h.fhir<Patient>('POST', '/fhir/%50atient', { body: patient(nhsNumber(8), 'Z90101') });
  assert.equal(written.status, 201, written.text);
  assert.equal((await h.fhir('GET', `/fhir/Patient/${written.json.id}`)).status, 200);
});
