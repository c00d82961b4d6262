/**
 * Idempotency-Key on FHIR writes, as a client retrying over a bad network would notice it: a retried
 * transaction or update writes once and is answered the same; a key reused for another request, or
 * while its first request runs, is refused by name; without a key nothing changes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { fhirHarness, issues, NHS_NUMBER_SYSTEM, nhsNumber, patient, type FhirHarness, type FhirReply } from '../../../test/fhir.ts';
import { pruneIdempotencyKeys } from '../../fhir-store/index.ts';

let h: FhirHarness;
const PRACTICE = 'Z90101';

before(async () => {
  h = await fhirHarness();
});
after(async () => {
  await h.close();
});

/** Patients stored with this NHS number. */
async function patientsWith(nhs: string): Promise<number> {
  const [row] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_token WHERE resource_type = 'Patient' AND code = 'identifier' AND value = $1", [nhs]);
  return row!.n;
}

/** A transaction Bundle in the usual (Synthea) shape: plain POSTs joined by urn:uuid references. */
function transaction(nhs: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:4a8e1c52-0d5e-4b8a-9d0e-6c1f2b3a4d5e', resource: patient(nhs, PRACTICE), request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: 'urn:uuid:9b7d2e61-3f4a-4c5b-8e6d-7a8b9c0d1e2f',
        resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, subject: { reference: 'urn:uuid:4a8e1c52-0d5e-4b8a-9d0e-6c1f2b3a4d5e' } },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}

const key = (name: string) => ({ 'idempotency-key': `${name}-${testEngine}` });

function assertSameAnswer(first: FhirReply<unknown>, again: FhirReply<unknown>) {
  assert.equal(again.status, first.status);
  assert.equal(again.text, first.text);
  for (const header of ['content-type', 'location', 'etag', 'last-modified']) assert.equal(again.headers[header], first.headers[header], header);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  assert.equal(again.headers['idempotent-replayed'], 'true');
}

test(`a transaction POSTed twice with one Idempotency-Key creates one patient, answered the same both times (${testEngine})`, async () => {
  const nhs = nhsNumber(1);
  const first = await h.fhir<Bundle>('POST', '/fhir', { body: transaction(nhs), headers: key('transaction') });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.type, 'transaction-response');
  const again = await h.fhir<Bundle>('POST', '/fhir', { body: transaction(nhs), headers: key('transaction') });
  assertSameAnswer(first, again);
  assert.equal(await patientsWith(nhs), 1);
  const [observations] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_reference WHERE resource_type = 'Observation' AND target_id = $1", [
    first.json.entry![0]!.response!.location!.split('/')[1],
  ]);
  assert.equal(observations!.n, 1, 'the Observation too was written once');
});

test('without an Idempotency-Key a request runs again: a second Practitioner is written, a second Patient with the NHS number refused', async () => {
  const practitioner = { resourceType: 'Practitioner', name: [{ family: 'Twice' }] };
  for (let i = 0; i < 2; i++) assert.equal((await h.fhir('POST', '/fhir/Practitioner', { body: practitioner })).status, 201);
  const [{ n }] = (await h.db.query<{ n: number }>("SELECT count(DISTINCT id)::int AS n FROM fhir_string WHERE resource_type = 'Practitioner' AND exact = 'Twice'")) as [{ n: number }];
  assert.equal(n, 2);
  const nhs = nhsNumber(2);
  assert.equal((await h.fhir('POST', '/fhir', { body: transaction(nhs) })).status, 200);
  const again = await h.fhir('POST', '/fhir', { body: transaction(nhs) });
  assert.equal(again.status, 409, again.text);
  assert.equal(await patientsWith(nhs), 1);
});

test('the same key with a different request is a 422 naming Idempotency-Key, and writes nothing', async () => {
  const first = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(3), PRACTICE), headers: key('reused') });
  assert.equal(first.status, 201, first.text);
  const other = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(4), PRACTICE), headers: key('reused') });
  assert.equal(other.status, 422, other.text);
  const [issue] = issues(other.json as never);
  assert.match(issue!.text, /Idempotency-Key was used .* for a different request/);
  assert.deepEqual(issue!.expression, ['http.Idempotency-Key']);
  assert.equal(await patientsWith(nhsNumber(4)), 0);
  // Another URL with the same body is another request too; the first request still replays.
  assert.equal(
    (await h.fhir('PUT', `/fhir/Patient/${(first.json as Patient).id}`, { body: { ...patient(nhsNumber(3), PRACTICE), id: (first.json as Patient).id }, headers: key('reused') })).status,
    422,
  );
  assertSameAnswer(first, await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(3), PRACTICE), headers: key('reused') }));
});

test(`10 concurrent identical requests with one key write once (${testEngine})`, async () => {
  const nhs = nhsNumber(5);
  const replies = await Promise.all(Array.from({ length: 10 }, () => h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('concurrent') })));
  assert.equal(await patientsWith(nhs), 1);
  const created = replies.filter((r) => r.status === 201);
  const busy = replies.filter((r) => r.status === 409);
  assert.equal(created.length + busy.length, 10, replies.map((r) => `${r.status} ${r.text}`).join('\n'));
  assert.equal(created.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1, 'one request wrote; the others were replays or told to wait');
  for (const reply of created) assert.equal(reply.text, created[0]!.text);
  for (const reply of busy) {
    assert.match(issues(reply.json as never)[0]!.text, /Idempotency-Key is still being processed/);
    assert.equal(reply.headers['retry-after'], '1');
  }
  // Once the first has finished, a retry is its answer.
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('concurrent') })).text, created[0]!.text);
});

test('a retried update or delete under its key changes the resource once', async () => {
  const created = await h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(nhsNumber(6), PRACTICE) });
  const id = created.json.id!;
  const update = { ...patient(nhsNumber(6), PRACTICE), id, gender: 'female' as const };
  const first = await h.fhir<Patient>('PUT', `/fhir/Patient/${id}`, { body: update, headers: key('update') });
  assert.equal(first.json.meta?.versionId, '2');
  assertSameAnswer(first, await h.fhir('PUT', `/fhir/Patient/${id}`, { body: update, headers: key('update') }));
  // Without a key, the same PUT again is a new version.
  assert.equal((await h.fhir<Patient>('PUT', `/fhir/Patient/${id}`, { body: update })).json.meta?.versionId, '3');
  const deleted = await h.fhir('DELETE', `/fhir/Patient/${id}`, { headers: key('delete') });
  assert.equal(deleted.status, 200, deleted.text);
  assertSameAnswer(deleted, await h.fhir('DELETE', `/fhir/Patient/${id}`, { headers: key('delete') }));
  const [versions] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_version WHERE resource_type = 'Patient' AND id = $1", [id]);
  assert.equal(versions!.n, 4, 'create, update, update without a key, one delete');
});

test('a key is 1 to 255 characters (a quoted structured-field string counts its inside), else 400 naming the header', async () => {
  for (const bad of ['', '""', 'k'.repeat(256)]) {
    const reply = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(7), PRACTICE), headers: { 'idempotency-key': bad } });
    assert.equal(reply.status, 400, `${bad.length}: ${reply.text}`);
    assert.match(issues(reply.json as never)[0]!.text, /^Idempotency-Key must be 1 to 255 characters/);
  }
  assert.equal(await patientsWith(nhsNumber(7)), 0);
  const longest = `${'k'.repeat(250)}-${testEngine.slice(0, 4)}`;
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(7), PRACTICE), headers: { 'idempotency-key': longest } })).status, 201);
  const quoted = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(7), PRACTICE), headers: { 'idempotency-key': `"${longest}"` } });
  assert.equal(quoted.headers['idempotent-replayed'], 'true', 'the quoted form is the same key');
  assert.equal(await patientsWith(nhsNumber(7)), 1);
});

test('keys are per user: another user’s same key is their own request', async () => {
  const other = await h.addUser({ email: `second-admin-${testEngine}@pcn-hub.example`, name: 'Second Admin', role: 'admin' });
  const nhs = nhsNumber(8);
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('per-user') })).status, 201);
  const theirs = await h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('per-user'), auth: other });
  // Not the first user's answer replayed: their request ran, and the NHS-number rule refused it.
  assert.equal(theirs.status, 409, theirs.text);
  assert.equal(theirs.headers['idempotent-replayed'], undefined);
  assert.equal(await patientsWith(nhs), 1);
});

test('an error is not remembered: it wrote nothing, so the key stays free for the corrected request', async () => {
  const invalid = patient('9990000019', PRACTICE); // fails Modulus 11
  for (let i = 0; i < 2; i++) {
    const reply = await h.fhir('POST', '/fhir/Patient', { body: invalid, headers: key('error') });
    assert.equal(reply.status, 422, reply.text);
    assert.equal(reply.headers['idempotent-replayed'], undefined);
  }
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(9), PRACTICE), headers: key('error') })).status, 201);
});

test('in a batch under a key, a failing entry is undone alone and the others land once', async () => {
  const nhs = nhsNumber(10);
  const batch: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: patient(nhs, PRACTICE), request: { method: 'POST', url: 'Patient' } },
      { resource: patient('9990000019', PRACTICE), request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const first = await h.fhir<Bundle>('POST', '/fhir', { body: batch, headers: key('batch') });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(
    first.json.entry!.map((e) => e.response?.status.slice(0, 3)),
    ['201', '422'],
  );
  assertSameAnswer(first, await h.fhir('POST', '/fhir', { body: batch, headers: key('batch') }));
  assert.equal(await patientsWith(nhs), 1);
});

test('after 24 hours a key is forgotten (the write runs again) and pruned', async () => {
  const nhs = nhsNumber(11);
  assert.equal((await h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('expiry') })).status, 201);
  await h.db.query("UPDATE fhir_idempotency SET created_at = now() - interval '25 hours' WHERE key = $1", [key('expiry')['idempotency-key']]);
  const again = await h.fhir('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE), headers: key('expiry') });
  // Not replayed: the request ran again, and the NHS-number rule refused the second Patient.
  assert.equal(again.status, 409, again.text);
  assert.equal(again.headers['idempotent-replayed'], undefined);
  assert.equal(await patientsWith(nhs), 1);
  await h.db.query("UPDATE fhir_idempotency SET created_at = now() - interval '25 hours' WHERE key = $1", [key('per-user')['idempotency-key']]);
  const [{ n: stale }] = (await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_idempotency WHERE created_at < now() - interval '24 hours'")) as [{ n: number }];
  assert.equal(stale, 2, 'both per-user rows');
  assert.equal(await pruneIdempotencyKeys(h.db), 2);
  const [{ n: live }] = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_idempotency')) as [{ n: number }];
  assert.ok(live > 0, 'unexpired keys stay');
  assert.equal(await pruneIdempotencyKeys(h.db), 0);
});

test('GET and POST _search ignore the key: reads are safe to retry anyway', async () => {
  const search = await h.fhir('POST', '/fhir/Patient/_search', { raw: `identifier=${NHS_NUMBER_SYSTEM}|${nhsNumber(1)}`, contentType: 'application/x-www-form-urlencoded', headers: key('search') });
  assert.equal(search.status, 200, search.text);
  assert.equal(search.headers['idempotent-replayed'], undefined);
  const [{ n }] = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_idempotency WHERE key = $1', [key('search')['idempotency-key']])) as [{ n: number }];
  assert.equal(n, 0);
});
