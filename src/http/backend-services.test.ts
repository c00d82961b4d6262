/**
 * SMART Backend Services: a registered client signs an assertion with its private key, gets a five-minute
 * access token for the scopes it asked for and may have, and is held on /fhir to those scopes, its
 * organisation and role, and the audit, like a person. Every way of getting it wrong is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { testEngine } from '../../test/db.ts';
import { create, fhirHarness, issues, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';
import { SYSTEM_ACTOR, addClient, disableClient } from '../modules/access/index.ts';

const TOKEN_URL = 'http://localhost:80/oauth/token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let h: FhirHarness;
interface Registered {
  id: string;
  key: CryptoKey;
  alg: 'RS384' | 'ES384';
  kid: string;
}
let rsaClient: Registered;
let ecClient: Registered;
let readOnly: Registered;
let wrongKey: CryptoKey;

async function register(alg: 'RS384' | 'ES384', scopes: string[], role: 'admin' | 'clinician' = 'admin'): Promise<Registered> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg };
  const client = await addClient(h.db, SYSTEM_ACTOR, { name: `Test ${alg} system`, org: 'U90001', role, scopes, jwks: { keys: [jwk] } });
  return { id: client.id, key: privateKey, alg, kid };
}

function assertion(client: Registered, change: { key?: CryptoKey; aud?: string; exp?: number; jti?: string; iss?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: client.alg, kid: client.kid, typ: 'JWT' })
    .setIssuer(change.iss ?? client.id)
    .setSubject(change.iss ?? client.id)
    .setAudience(change.aud ?? TOKEN_URL)
    .setExpirationTime(change.exp ?? now + 240)
    .setJti(change.jti ?? randomUUID())
    .sign(change.key ?? client.key);
}

async function askToken(form: Record<string, string>) {
  const reply = await h.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
  return { status: reply.statusCode, headers: reply.headers, body: reply.json<Record<string, unknown>>() };
}
const tokenRequest = (clientAssertion: string, scope: string) => ({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, scope });

before(async () => {
  h = await fhirHarness();
  rsaClient = await register('RS384', ['system/*.read', 'system/Patient.write']);
  ecClient = await register('ES384', ['system/Patient.rs']);
  readOnly = await register('RS384', ['system/*.read']);
  wrongKey = (await generateKeyPair('RS384')).privateKey;
});
after(async () => {
  await h.close();
});

test(`the discovery document advertises the token endpoint, private_key_jwt, RS384/ES384 and client_credentials (${testEngine})`, async () => {
  const reply = await h.app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
  assert.equal(reply.statusCode, 200);
  const config = reply.json<Record<string, unknown>>();
  assert.equal(config.token_endpoint, TOKEN_URL);
  assert.deepEqual(config.token_endpoint_auth_methods_supported, ['private_key_jwt']);
  assert.deepEqual(config.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
  assert.deepEqual(config.grant_types_supported, ['client_credentials']);
  assert.ok((config.scopes_supported as string[]).includes('system/*.read'));
});

test('a valid client (RS384 and ES384) gets a five-minute token for the scopes it may have, and reads with it; the audit names the client', async () => {
  const nhs = nhsNumber(4001);
  const created = await create(h.fhir, patient(nhs, 'Z90101', { name: [{ family: 'Backend', given: ['Read'] }] }));
  const granted = await askToken(tokenRequest(await assertion(rsaClient), 'system/*.read system/Observation.write'));
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  assert.equal(granted.body.token_type, 'bearer');
  assert.ok((granted.body.expires_in as number) > 0 && (granted.body.expires_in as number) <= 300);
  assert.equal(granted.body.scope, 'system/*.read', 'granted = requested ∩ allowed: Observation.write is not allowed');
  assert.equal(granted.headers['cache-control'], 'no-store');
  const auth = `Bearer ${granted.body.access_token}`;
  const read = await h.fhir<{ id: string }>('GET', `/fhir/Patient/${created.id}`, { auth });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.id, created.id);
  const audit = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event WHERE actor = $1', [`client:${rsaClient.id}`]);
  assert.ok(audit[0]!.n > 0, 'the read is audited under the client’s name');
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/pcns', headers: { authorization: auth } })).statusCode, 403, 'a client speaks FHIR only');

  const ec = await askToken(tokenRequest(await assertion(ecClient), 'system/Patient.rs'));
  assert.equal(ec.status, 200, JSON.stringify(ec.body));
  const search = await h.fhir('GET', `/fhir/Patient?identifier=${nhs}`, { auth: `Bearer ${ec.body.access_token}` });
  assert.equal(search.status, 200, search.text);
});

test('wrong key, expired assertion, replayed jti, wrong aud, unknown client, disabled client: each invalid_client 401; a scope outside the allowed ones is invalid_scope', async () => {
  const now = Math.floor(Date.now() / 1000);
  const refused = async (what: string, form: Record<string, string>, error: string, status: number, message?: RegExp) => {
    const reply = await askToken(form);
    assert.equal(reply.status, status, `${what}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.error, error, what);
    assert.equal(typeof reply.body.error_description, 'string', what);
    if (message) assert.match(reply.body.error_description as string, message, what);
  };
  await refused('wrong key', tokenRequest(await assertion(rsaClient, { key: wrongKey }), 'system/*.read'), 'invalid_client', 401, /signature/);
  await refused('expired assertion', tokenRequest(await assertion(rsaClient, { exp: now - 120 }), 'system/*.read'), 'invalid_client', 401, /expired/);
  await refused('exp too far ahead', tokenRequest(await assertion(rsaClient, { exp: now + 3600 }), 'system/*.read'), 'invalid_client', 401, /5 minutes/);
  await refused('wrong aud', tokenRequest(await assertion(rsaClient, { aud: 'https://elsewhere.example/token' }), 'system/*.read'), 'invalid_client', 401, /aud/);
  await refused('unknown client', tokenRequest(await assertion(rsaClient, { iss: randomUUID() }), 'system/*.read'), 'invalid_client', 401, /no client/);
  await refused('scope outside allowed', tokenRequest(await assertion(ecClient), 'system/Observation.read'), 'invalid_scope', 400);
  await refused('not a scope', tokenRequest(await assertion(ecClient), 'patient/*.read'), 'invalid_scope', 400);
  await refused('grant type', { ...tokenRequest(await assertion(ecClient), 'system/Patient.rs'), grant_type: 'password' }, 'unsupported_grant_type', 400);

  const once = await assertion(rsaClient);
  assert.equal((await askToken(tokenRequest(once, 'system/*.read'))).status, 200, 'the first use of a jti works');
  await refused('replayed jti', tokenRequest(once, 'system/*.read'), 'invalid_client', 401, /jti has been used/);

  const doomed = await register('ES384', ['system/*.read']);
  const token = await askToken(tokenRequest(await assertion(doomed), 'system/*.read'));
  assert.equal(token.status, 200);
  const auth = `Bearer ${token.body.access_token}`;
  assert.equal((await h.fhir('GET', '/fhir/Patient?_count=1', { auth })).status, 200);
  await disableClient(h.db, SYSTEM_ACTOR, doomed.id);
  assert.equal((await h.fhir('GET', '/fhir/Patient?_count=1', { auth })).status, 401, 'a disabled client loses access at once');
  await refused('disabled client', tokenRequest(await assertion(doomed), 'system/*.read'), 'invalid_client', 401, /disabled/);
});

test('scopes are enforced on /fhir: read-only refused on POST, Patient-only refused on Observation, each 403 naming the scope needed', async () => {
  const readToken = `Bearer ${(await askToken(tokenRequest(await assertion(readOnly), 'system/*.read'))).body.access_token}`;
  const patientToken = `Bearer ${(await askToken(tokenRequest(await assertion(ecClient), 'system/Patient.rs'))).body.access_token}`;
  const writer = `Bearer ${(await askToken(tokenRequest(await assertion(rsaClient), 'system/Patient.write system/*.read'))).body.access_token}`;

  const post = await h.fhir<OperationOutcome>('POST', '/fhir/Patient', { auth: readToken, body: patient(nhsNumber(4002), 'Z90101') });
  assert.equal(post.status, 403, post.text);
  assert.match(issues(post.json)[0]!.text, /needs the scope system\/Patient\.c/);
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' }, resource: patient(nhsNumber(4003), 'Z90101') }] };
  assert.equal((await h.fhir('POST', '/fhir', { auth: readToken, body: bundle })).status, 403, 'nor inside a transaction');
  assert.equal((await h.fhir('GET', '/fhir/Observation?_count=1', { auth: readToken })).status, 200, '*.read reads every type');

  const obs = await h.fhir<OperationOutcome>('GET', '/fhir/Observation?_count=1', { auth: patientToken });
  assert.equal(obs.status, 403);
  assert.match(issues(obs.json)[0]!.text, /system\/Observation\.s/);
  assert.equal((await h.fhir('GET', '/fhir/Patient?_count=1', { auth: patientToken })).status, 200);
  const everything = await h.fhir('GET', '/fhir/Patient/x/$everything', { auth: patientToken });
  assert.equal(everything.status, 403, 'Patient.rs does not reach every type');

  const written = await h.fhir('POST', '/fhir/Patient', { auth: writer, body: patient(nhsNumber(4004), 'Z90101') });
  assert.equal(written.status, 201, `Patient.write creates: ${written.text}`);
  assert.equal((await h.fhir('POST', '/fhir/Observation', { auth: writer, body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } })).status, 403);
});

test('registration refuses an unknown organisation, a private key, an unknown scope or algorithm', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const pub = await exportJWK(publicKey);
  const base = { name: 'Bad', org: 'U90001', role: 'admin' as const, scopes: ['system/*.read'], jwks: { keys: [pub] } };
  await assert.rejects(addClient(h.db, SYSTEM_ACTOR, { ...base, org: 'Q12345' }), /no PCN, practice or partner organisation has the code Q12345/);
  await assert.rejects(addClient(h.db, SYSTEM_ACTOR, { ...base, jwks: { keys: [await exportJWK(privateKey)] } }), /private or secret key/);
  await assert.rejects(addClient(h.db, SYSTEM_ACTOR, { ...base, scopes: ['user/*.read'] }), /not a system scope/);
  const es256 = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  await assert.rejects(addClient(h.db, SYSTEM_ACTOR, { ...base, jwks: { keys: [es256] } }), /RS384 .* ES384/);
  await assert.rejects(addClient(h.db, { ...SYSTEM_ACTOR, role: 'clinician' }, base), /only an admin/);
  assert.ok((await addClient(h.db, SYSTEM_ACTOR, base)).id, 'the same, put right, registers');
});
