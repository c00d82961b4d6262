/**
 * An unmodified, widely used FHIR client (fhir-kit-client) against a real listening server: what a
 * partner system's integration would do — create, read, update, search and page, delete, transaction.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, type FhirResource, type PaginationParams } from 'fhir-kit-client';
import type { Bundle, Condition, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { ADMIN_PASSWORD } from '../../../test/api.ts';
import { testDb, testEngine } from '../../../test/db.ts';
import { NHS_NUMBER_SYSTEM, nhsNumber, patient } from '../../../test/fhir.ts';
import type { Db } from '../../storage/db.ts';
import { startServer, type RunningServer } from '../../server.ts';

let server: RunningServer;
let db: Db;
let client: Client;

before(async () => {
  db = await testDb();
  server = await startServer({ db, seedDemo: true, adminPassword: ADMIN_PASSWORD });
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  client = new Client({ baseUrl: `${server.url}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });
});
after(async () => {
  await server.close();
  await db.close();
});

// fhir-kit-client types resources loosely (FhirResource); these two casts meet the R4 types.
const body = (resource: object) => resource as FhirResource;
const as = async <T>(answer: Promise<FhirResource>) => (await answer) as unknown as T;

/** fhir-kit-client rejects with the HTTP response on a non-2xx answer. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; data: OperationOutcome }> {
  try {
    await promise;
  } catch (error) {
    const { response } = error as { response?: { status: number; data: OperationOutcome } };
    if (response) return response;
    throw error;
  }
  assert.fail('expected the server to refuse');
}

test(`fhir-kit-client reads the CapabilityStatement (${testEngine})`, async () => {
  const metadata = (await client.capabilityStatement()) as { resourceType: string; fhirVersion: string };
  assert.equal(metadata.resourceType, 'CapabilityStatement');
  assert.equal(metadata.fhirVersion, '4.0.1');
});

test('fhir-kit-client creates, reads, updates and deletes a patient', async () => {
  const created = await as<Patient>(
    client.create({ resourceType: 'Patient', body: body(patient(nhsNumber(1), 'Z90101', { name: [{ family: 'Kitclient', given: ['Flo'] }], birthDate: '1944-04-04' })) }),
  );
  assert.ok(created.id);
  assert.equal(created.meta?.versionId, '1');
  const read = await as<Patient>(client.read({ resourceType: 'Patient', id: created.id! }));
  assert.deepEqual(read, created);

  const updated = await as<Patient>(client.update({ resourceType: 'Patient', id: created.id!, body: body({ ...read, gender: 'female' }) }));
  assert.equal(updated.meta?.versionId, '2');
  assert.equal(updated.gender, 'female');
  const first = await as<Patient>(client.vread({ resourceType: 'Patient', id: created.id!, version: '1' }));
  assert.equal(first.gender, undefined);
  const history = await as<Bundle>(client.history({ resourceType: 'Patient', id: created.id! }));
  assert.equal(history.entry?.length, 2);

  const patched = await as<Patient>(client.patch({ resourceType: 'Patient', id: created.id!, jsonPatch: [{ op: 'add', path: '/active', value: true }] }));
  assert.equal(patched.active, true);
  assert.equal(patched.meta?.versionId, '3');

  await client.delete({ resourceType: 'Patient', id: created.id! });
  const gone = await refusal(client.read({ resourceType: 'Patient', id: created.id! }));
  assert.equal(gone.status, 410);
  assert.equal(gone.data.resourceType, 'OperationOutcome');
});

test('fhir-kit-client gets a 422 OperationOutcome for an invalid NHS number', async () => {
  const nhs = nhsNumber(2);
  const bad = `${nhs.slice(0, 9)}${(Number(nhs[9]) + 1) % 10}`;
  const refused = await refusal(client.create({ resourceType: 'Patient', body: body(patient(bad, 'Z90101')) }));
  assert.equal(refused.status, 422);
  assert.deepEqual(refused.data.issue?.[0]?.expression, ['Patient.identifier[0].value']);
});

test('fhir-kit-client searches and pages with nextPage until the end, seeing each patient once', async () => {
  const made = new Set<string>();
  for (let i = 0; i < 7; i++) {
    const p = await as<Patient>(
      client.create({ resourceType: 'Patient', body: body(patient(nhsNumber(10 + i), 'Z90102', { name: [{ family: 'Pagedkit', given: [`N${i}`] }], birthDate: `198${i}-01-01` })) }),
    );
    made.add(p.id!);
  }
  let bundle = await as<Bundle<Patient>>(client.search({ resourceType: 'Patient', searchParams: { family: 'pagedkit', _count: 3, _sort: '-birthdate', _total: 'accurate' } }));
  assert.equal(bundle.total, 7);
  const seen: Patient[] = [];
  for (let pages = 1; ; pages++) {
    seen.push(...(bundle.entry ?? []).map((e) => e.resource!));
    const next = client.nextPage({ bundle: body(bundle) as PaginationParams['bundle'] });
    if (!next) {
      assert.equal(pages, 3);
      break;
    }
    bundle = await as<Bundle<Patient>>(next);
  }
  assert.deepEqual(
    seen.map((p) => p.birthDate),
    ['1986-01-01', '1985-01-01', '1984-01-01', '1983-01-01', '1982-01-01', '1981-01-01', '1980-01-01'],
  );
  assert.deepEqual(new Set(seen.map((p) => p.id)), made);

  const byIdentifier = await as<Bundle<Patient>>(client.search({ resourceType: 'Patient', searchParams: { identifier: `${NHS_NUMBER_SYSTEM}|${nhsNumber(12)}` } }));
  assert.deepEqual(
    byIdentifier.entry?.map((e) => e.resource?.name?.[0]?.given?.[0]),
    ['N2'],
  );
});

test('fhir-kit-client posts a transaction with urn:uuid references, and a failing one changes nothing', async () => {
  const patientUrn = 'urn:uuid:7e57c11e-0000-4000-8000-000000000001';
  const response = await as<Bundle>(
    client.transaction({
      body: body({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: patientUrn, resource: patient(nhsNumber(30), 'Z90103', { name: [{ family: 'Kittransaction' }] }), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Condition', subject: { reference: patientUrn }, code: { text: 'Heart failure' } }, request: { method: 'POST', url: 'Condition' } },
        ],
      }),
    }),
  );
  assert.equal(response.type, 'transaction-response');
  assert.deepEqual(
    response.entry?.map((e) => e.response?.status),
    ['201', '201'],
  );
  const patientId = (response.entry![0]!.resource as Patient).id!;
  assert.equal((response.entry![1]!.resource as Condition).subject.reference, `Patient/${patientId}`);
  const conditions = await as<Bundle>(client.search({ resourceType: 'Condition', searchParams: { patient: patientId } }));
  assert.equal(conditions.entry?.length, 1);

  const failing = await refusal(
    client.transaction({
      body: body({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Condition', subject: { reference: `Patient/${patientId}` }, code: { text: 'Should not land' } }, request: { method: 'POST', url: 'Condition' } },
          { resource: { resourceType: 'Patient', birthDate: 'yesterday' }, request: { method: 'POST', url: 'Patient' } },
        ],
      }),
    }),
  );
  assert.equal(failing.status, 422);
  assert.ok(
    failing.data.issue?.some((i) => i.expression?.some((e) => e.startsWith('Bundle.entry[1]'))),
    JSON.stringify(failing.data),
  );
  const after = await as<Bundle>(client.search({ resourceType: 'Condition', searchParams: { patient: patientId } }));
  assert.equal(after.entry?.length, 1);
});
