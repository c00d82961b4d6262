import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';

const h = apiSuite();

const get = (url: string, auth = h.admin) => h.app.inject({ method: 'GET', url, headers: { authorization: auth } });
const send = (method: 'POST' | 'PATCH', url: string, payload: unknown, auth = h.admin) => h.app.inject({ method, url, payload: payload as object, headers: { authorization: auth } });

interface PcnItem {
  code: string;
  name: string;
  listSize: number;
  practiceCount: number;
  sizeStatus: string;
  clinicalDirector: string | null;
}

test(`healthz says ok once the database is ready (${testEngine})`, async () => {
  const response = await h.app.inject('/healthz');
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'ok' });
});

test('the seeded area lists 20 PCNs with list sizes against the 25,000–70,000 rule', async () => {
  const areas = (await get('/api/areas')).json<{ items: Array<{ code: string; pcnCount: number; allocatedPence: number; sizeMin: number; sizeMax: number }> }>();
  assert.equal(areas.items.length, 1);
  assert.equal(areas.items[0]!.pcnCount, 20);
  assert.equal(areas.items[0]!.allocatedPence, 53_500_000);
  const pcns = (await get('/api/pcns?area=Q99')).json<{ items: PcnItem[]; total: number }>();
  assert.equal(pcns.total, 20);
  const statuses = pcns.items.map((p) => p.sizeStatus);
  assert.equal(statuses.filter((s) => s === 'below').length, 2);
  assert.equal(statuses.filter((s) => s === 'above').length, 1);
  for (const pcn of pcns.items) {
    const expected = pcn.listSize < 25_000 ? 'below' : pcn.listSize > 70_000 ? 'above' : 'within';
    assert.equal(pcn.sizeStatus, expected, pcn.code);
    assert.ok(pcn.clinicalDirector?.startsWith('Dr '));
  }
});

test('a PCN shows its practices, partners by type, payee and history; a practice its PCN', async () => {
  const pcn = (await get('/api/pcns/U90001')).json<{
    practices: Array<{ listSize: number; ods: string }>;
    listSize: number;
    partners: Array<{ type: string; role: string | null }>;
    nominatedPayee: { ods: string } | null;
    history: unknown[];
  }>();
  assert.equal(
    pcn.listSize,
    pcn.practices.reduce((sum, p) => sum + p.listSize, 0),
  );
  assert.ok(pcn.partners.some((p) => p.type === 'community-pharmacy' && p.role === 'Community pharmacy lead'));
  assert.ok(pcn.partners.some((p) => p.type === 'social-care'));
  assert.ok(pcn.practices.some((p) => p.ods === pcn.nominatedPayee?.ods));
  assert.ok(pcn.history.length >= pcn.practices.length);
  const practice = (await get(`/api/practices/${pcn.practices[0]!.ods}`)).json<{ pcn: { code: string } }>();
  assert.equal(practice.pcn.code, 'U90001');
});

test('moving a practice keeps its history, recomputes both list sizes and records who did it', async () => {
  const before = (await get('/api/pcns?area=Q99')).json<{ items: PcnItem[] }>().items;
  const from = (await get('/api/pcns/U90003')).json<{ practices: Array<{ ods: string; listSize: number }> }>();
  const moving = from.practices[0]!;
  const response = await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90004', date: '2026-04-01' });
  assert.equal(response.statusCode, 200, response.body);
  const practice = response.json<{ pcn: { code: string }; history: Array<{ pcnCode: string; startDate: string; endDate: string | null }> }>();
  assert.equal(practice.pcn.code, 'U90004');
  assert.deepEqual(
    practice.history.map((m) => [m.pcnCode, m.endDate]),
    [
      ['U90004', null],
      ['U90003', '2026-03-31'],
    ],
  );
  const after = (await get('/api/pcns?area=Q99')).json<{ items: PcnItem[] }>().items;
  const size = (items: PcnItem[], code: string) => items.find((p) => p.code === code)!.listSize;
  assert.equal(size(after, 'U90003'), size(before, 'U90003') - moving.listSize);
  assert.equal(size(after, 'U90004'), size(before, 'U90004') + moving.listSize);
  const target = (await get('/api/pcns/U90004')).json<{ changes: Array<{ actor: string; action: string; summary: string; at: string }> }>();
  assert.equal(target.changes[0]!.actor, 'admin@pcn-hub.example');
  assert.equal(target.changes[0]!.action, 'practice.move');
  assert.match(target.changes[0]!.summary, new RegExp(moving.ods));
  assert.match(target.changes[0]!.at, /^\d{4}-\d\d-\d\dT/);
});

test('an admin creates a PCN, sets its clinical director and adds a partner', async () => {
  const created = await send('POST', '/api/pcns', { code: 'U90099', name: 'Broadland Villages PCN', areaCode: 'Q99' });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json<{ sizeStatus: string }>().sizeStatus, 'below');
  const updated = await send('PATCH', '/api/pcns/U90099', { clinicalDirector: 'Dr Ada Lovelace' });
  assert.equal(updated.json<{ clinicalDirector: string }>().clinicalDirector, 'Dr Ada Lovelace');
  const partner = await send('POST', '/api/pcns/U90099/partners', { name: 'Broadland Befrienders', type: 'voluntary', postcode: 'nr13 6aa' });
  assert.equal(partner.statusCode, 201, partner.body);
  const pcn = (await get('/api/pcns/U90099')).json<{ partners: Array<{ name: string; postcode: string }>; changes: unknown[] }>();
  assert.deepEqual(
    pcn.partners.map((p) => [p.name, p.postcode]),
    [['Broadland Befrienders', 'NR13 6AA']],
  );
  assert.equal(pcn.changes.length, 3);
  const duplicate = await send('POST', '/api/pcns', { code: 'U90099', name: 'Again', areaCode: 'Q99' });
  assert.equal(duplicate.statusCode, 409);
});

test('bad input gets a 422 naming the field, and nothing changes', async () => {
  const count = async () => (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pcn'))[0]!.n;
  const before = await count();
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/api/pcns', { code: 'X9001', name: 'Bad', areaCode: 'Q99' }, 'code'],
    ['POST', '/api/pcns', { code: 'U90098', name: '', areaCode: 'Q99' }, 'name'],
    ['POST', '/api/pcns', { code: 'U90098', name: 'No area', areaCode: 'not an icb' }, 'areaCode'],
    ['POST', '/api/pcns/U90001/partners', { name: 'Somewhere', type: 'voluntary', postcode: 'NOT A POSTCODE' }, 'postcode'],
    ['POST', '/api/pcns/U90001/partners', { name: 'Somewhere', type: 'spaceship' }, 'type'],
    ['PATCH', '/api/practices/Z90101', { pcnCode: 'U9' }, 'pcnCode'],
    ['PATCH', '/api/practices/Z90101', { pcnCode: 'U90002', date: '1 April' }, 'date'],
  ];
  for (const [method, url, body, field] of cases) {
    const response = await send(method as 'POST', url, body);
    assert.equal(response.statusCode, 422, `${url} ${JSON.stringify(body)}: ${response.body}`);
    assert.equal(response.json<{ error: { field: string } }>().error.field, field);
  }
  assert.equal((await get('/api/pcns/X1')).statusCode, 422);
  assert.equal((await get('/api/pcns/U12345')).statusCode, 404);
  assert.equal((await get('/api/practices/A12345')).statusCode, 404);
  assert.equal((await send('PATCH', '/api/practices/Z90101', { pcnCode: 'U12345' })).statusCode, 404);
  assert.equal((await get('/api/pcns?limit=100000')).statusCode, 422, 'page size is capped');
  const malformed = await h.app.inject({ method: 'POST', url: '/api/pcns', headers: { authorization: h.admin, 'content-type': 'application/json' }, payload: '{"code":' });
  assert.equal(malformed.statusCode, 400);
  const huge = await h.app.inject({
    method: 'POST',
    url: '/api/pcns',
    headers: { authorization: h.admin, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
  });
  assert.equal(huge.statusCode, 413);
  assert.equal(await count(), before);
});

test('no token is 401; the wrong role or another PCN is 403', async () => {
  assert.equal((await h.app.inject('/api/pcns')).statusCode, 401);
  assert.equal((await get('/api/pcns', 'Bearer not-a-token')).statusCode, 401);
  const manager = await h.addUser({ email: 'manager@u90001.example', name: 'Pat Manager', role: 'pcn-manager', org: 'U90001' });
  const analyst = await h.addUser({ email: 'analyst@area.example', name: 'Ana Lyst', role: 'analyst' });
  assert.equal((await get('/api/pcns', analyst)).statusCode, 200, 'analysts may read the registry');
  assert.equal((await send('PATCH', '/api/pcns/U90001', { clinicalDirector: 'Dr Own' }, manager)).statusCode, 200);
  assert.equal((await send('PATCH', '/api/pcns/U90002', { clinicalDirector: 'Dr Other' }, manager)).statusCode, 403);
  assert.equal((await send('POST', '/api/pcns/U90002/partners', { name: 'X', type: 'voluntary' }, manager)).statusCode, 403);
  assert.equal((await send('PATCH', '/api/pcns/U90001', { clinicalDirector: 'Dr Analyst' }, analyst)).statusCode, 403);
  const other = (await get('/api/pcns/U90002')).json<{ practices: Array<{ ods: string }> }>().practices[0]!.ods;
  assert.equal((await send('PATCH', `/api/practices/${other}`, { pcnCode: 'U90001' }, manager)).statusCode, 403);
  assert.notEqual((await get('/api/pcns/U90002')).json<{ clinicalDirector: string }>().clinicalDirector, 'Dr Other');
});

test('sign-in refuses wrong passwords, and after 5 failures from one address backs off with 429 + Retry-After', async () => {
  await h.addUser({ email: 'locked@pcn.example', name: 'Lock Test', role: 'clinician' });
  const attempt = (password: string) => h.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'locked@pcn.example', password } });
  for (let i = 0; i < 5; i++) assert.equal((await attempt('wrong password!')).statusCode, 401);
  const locked = await attempt('correct horse battery staple');
  assert.equal(locked.statusCode, 429);
  assert.match(locked.json<{ error: { message: string } }>().error.message, /too many failed sign-ins/);
  assert.ok(Number(locked.headers['retry-after']) > 0, 'Retry-After says how long');
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'nobody@x.example', password: 'whatever' } })).statusCode, 401);
});

test('the OpenAPI document describes the routes from their schemas', async () => {
  const doc = (await h.app.inject('/api/openapi.json')).json<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
  for (const path of ['/api/login', '/api/pcns', '/api/pcns/{code}', '/api/practices/{ods}', '/api/pcns/{code}/partners']) assert.ok(doc.paths[path], path);
  assert.ok(doc.paths['/api/pcns']!.post!.requestBody);
});

test('FHIR metadata is a public CapabilityStatement; the record itself needs a token and answers in OperationOutcome', async () => {
  const metadata = await h.app.inject('/fhir/metadata');
  assert.equal(metadata.json<{ resourceType: string; fhirVersion: string }>().resourceType, 'CapabilityStatement');
  assert.match(metadata.headers['content-type'] as string, /application\/fhir\+json/);
  const anonymous = await h.app.inject('/fhir/Patient/1');
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.json<{ resourceType: string }>().resourceType, 'OperationOutcome');
  const missing = await h.app.inject({ url: '/fhir/Patient/1', headers: { authorization: h.admin } });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ resourceType: string }>().resourceType, 'OperationOutcome');
});
