/**
 * Every error under /fhir is answered by one function from the one table (src/shared/errors.ts):
 * each status with its own OperationOutcome issue type.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { AppError, ERROR_TABLE, type ErrorCode } from '../../shared/errors.ts';
import Fastify from 'fastify';
import { sendFhirError, toErrorBody } from '../errors.ts';

let h: FhirHarness;
let bronte: Patient & { id: string };
before(async () => {
  h = await fhirHarness();
  bronte = await create(h.fhir, patient(nhsNumber(1), 'Z90101', { name: [{ family: 'Brontë' }] }));
});
after(async () => {
  await h.close();
});

function assertOutcome(reply: { status: number; text: string; json: unknown }, status: number, code: string) {
  assert.equal(reply.status, status, reply.text.slice(0, 300));
  const outcome = reply.json as OperationOutcome;
  assert.equal(outcome.resourceType, 'OperationOutcome', reply.text.slice(0, 300));
  assert.equal(outcome.issue?.[0]?.code, code, reply.text.slice(0, 300));
}

test(`400 invalid: an unknown search parameter (${testEngine})`, async () => {
  assertOutcome(await h.fhir('GET', '/fhir/Patient?no-such-parameter=1'), 400, 'invalid');
});

test('401 login: no token, or a token that is not ours', async () => {
  assertOutcome(await h.fhir('GET', `/fhir/Patient/${bronte.id}`, { auth: '' }), 401, 'login');
  assertOutcome(await h.fhir('GET', '/fhir/$export-status/x', { auth: 'Bearer not-a-token' }), 401, 'login');
});

test('403 forbidden: an analyst reads a Patient; a clinician asks for a bulk export', async () => {
  const analyst = await h.addUser({ email: 'analyst@icb.example', name: 'Ana Lyst', role: 'analyst', org: 'U90001' });
  assertOutcome(await h.fhir('GET', `/fhir/Patient/${bronte.id}`, { auth: analyst }), 403, 'forbidden');
  assertOutcome(await h.fhir('GET', '/fhir/$export', { auth: analyst }), 403, 'forbidden');
  assert.equal((await h.fhir('GET', `/fhir/Patient/${bronte.id}`)).status, 200); // the admin may
});

test('404 not-found: a missing resource, and a missing export (an AppError of the domain)', async () => {
  assertOutcome(await h.fhir('GET', '/fhir/Patient/0190f1a0-0000-7000-8000-000000000000'), 404, 'not-found');
  assertOutcome(await h.fhir('GET', '/fhir/$export-status/0190f1a0-0000-7000-8000-000000000000'), 404, 'not-found');
  assertOutcome(await h.fhir('DELETE', '/fhir/$export-status/0190f1a0-0000-7000-8000-000000000000'), 404, 'not-found');
});

test('404 not-found: a resource type the server does not hold is refused, not searched (an R4 type is)', async () => {
  assertOutcome(await h.fhir('GET', '/fhir/Nonsense'), 404, 'not-found');
  assertOutcome(await h.fhir('GET', '/fhir/Nonsense?name=x'), 404, 'not-found');
  assertOutcome(await h.fhir('POST', '/fhir/Nonsense', { body: { resourceType: 'Nonsense' } }), 404, 'not-found');
  assert.equal((await h.fhir('GET', '/fhir/Patient?name=x')).status, 200);
});

test('404/400: an operation or interaction not offered across all types, or an encoded character in the path, is refused, never an empty search; an encoded $ names the operation', async () => {
  for (const path of ['/fhir/$everything', '/fhir/$no-such-operation', '/fhir/_history', '/fhir/%24everything']) assertOutcome(await h.fhir('GET', path), 404, 'not-found');
  for (const path of ['/fhir/Patient%2Fx', '/fhir/%3Cscript%3E', `/fhir/Patient/${bronte.id}%2F_history`]) assertOutcome(await h.fhir('GET', path), 400, 'invalid');
  assert.equal((await h.fhir('GET', `/fhir/Patient/${bronte.id}/%24everything`)).status, 200, 'Patient/%24everything is Patient/$everything');
  assert.equal((await h.fhir('GET', '/fhir/%24export', { headers: { prefer: 'respond-async' } })).status, 202, '%24export is the bulk export');
  assert.equal((await h.fhir('GET', '/fhir/Patient?name=%24x')).status, 200, 'an encoded $ in a search value stays a value');
});

test(`409 conflict (duplicate): a second active Patient with an NHS number already held (${testEngine})`, async () => {
  const reply = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(1), 'Z90101') });
  assertOutcome(reply, 409, 'duplicate');
  assert.match(reply.text, new RegExp(`Patient/${bronte.id}`));
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(5), 'Z90101') })).status, 201);
});

test('410 deleted: reading a deleted resource', async () => {
  const gone = await create(h.fhir, patient(nhsNumber(2), 'Z90101'));
  assert.equal((await h.fhir('DELETE', `/fhir/Patient/${gone.id}`)).status, 200);
  assertOutcome(await h.fhir('GET', `/fhir/Patient/${gone.id}`), 410, 'deleted');
});

test('412 conflict: If-Match names another version', async () => {
  const reply = await h.fhir('PUT', `/fhir/Patient/${bronte.id}`, { body: { ...bronte, gender: 'female' }, headers: { 'if-match': 'W/"99"' } });
  assertOutcome(reply, 412, 'conflict');
  const right = await h.fhir('PUT', `/fhir/Patient/${bronte.id}`, { body: { ...bronte, gender: 'female' }, headers: { 'if-match': `W/"${bronte.meta?.versionId}"` } });
  assert.equal(right.status, 200, right.text);
});

test('413 too-costly: a body over the limit', async () => {
  const raw = JSON.stringify({ ...patient(nhsNumber(3), 'Z90101'), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(17 * 1024 * 1024)}</div>` } });
  assertOutcome(await h.fhir('POST', '/fhir/Patient', { raw }), 413, 'too-costly');
});

test('415 not-supported: a body that is not JSON', async () => {
  assertOutcome(await h.fhir('POST', '/fhir/Patient', { raw: 'Patient Brontë', contentType: 'text/plain' }), 415, 'not-supported');
});

test('422 invalid: a resource that breaks the rules', async () => {
  assertOutcome(await h.fhir('POST', '/fhir/Patient', { body: patient('9990000019', 'Z90101') }), 422, 'invalid'); // fails Modulus 11
  assertOutcome(await h.fhir('POST', '/fhir/Patient', { body: { ...patient(nhsNumber(4), 'Z90101'), colour: 'blue' } }), 422, 'structure'); // each issue keeps its own type
});

test('every code of the table arrives at a FHIR client with its own status and issue type', async () => {
  // A server answering errors with the very function /fhir uses, to reach the codes no FHIR route raises today (409, 429).
  const probe = Fastify();
  probe.setErrorHandler(sendFhirError);
  probe.get('/fhir/probe/:code', async (request) => {
    throw new AppError((request.params as { code: ErrorCode }).code, 'probe');
  });
  for (const [code, meaning] of Object.entries(ERROR_TABLE)) {
    const response = await probe.inject({ method: 'GET', url: `/fhir/probe/${code}` });
    assertOutcome({ status: response.statusCode, text: response.body, json: response.json() }, meaning.status, meaning.issue);
    assert.match(String(response.headers['content-type']), /application\/fhir\+json/);
    // …and at an /api client with the same status and the code itself.
    assert.deepEqual(toErrorBody(new AppError(code as ErrorCode, 'probe')), { status: meaning.status, body: { error: { code, message: 'probe' } } });
  }
  const statuses = new Set(Object.values(ERROR_TABLE).map((m) => m.status));
  for (const status of [400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 429, 503]) assert.ok(statuses.has(status), `${status} is in the table`);
  assert.equal(ERROR_TABLE.conflict.issue, 'conflict');
  assert.equal(ERROR_TABLE['rate-limited'].issue, 'throttled');
  await probe.close();
});
