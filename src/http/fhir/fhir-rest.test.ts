/**
 * FHIR REST interactions as a client sees them: create/read/vread/update/patch/delete with their
 * status codes and headers, versioning and history, conditional create (also under concurrency),
 * Prefer, $everything, metadata, validation answers and batch/transaction Bundles.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, CapabilityStatement, Condition, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, ids, issues, matches, NHS_NUMBER_SYSTEM, nhsNumber, ODS_SYSTEM, patient, type FhirHarness } from '../../../test/fhir.ts';

let h: FhirHarness;
const PRACTICE = 'Z90101';

before(async () => {
  h = await fhirHarness();
});
after(async () => {
  await h.close();
});

const etagOf = (headers: Record<string, unknown>) => headers.etag as string;

test(`create answers 201 with Location, ETag W/"1" and meta (${testEngine})`, async () => {
  const before = Date.now();
  const reply = await h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(nhsNumber(1), PRACTICE, { name: [{ family: 'Create', given: ['Ada'] }] }) });
  assert.equal(reply.status, 201, reply.text);
  const id = reply.json.id!;
  assert.match(id, /^[A-Za-z0-9\-.]{1,64}$/);
  assert.match(reply.headers.location as string, new RegExp(`/fhir/Patient/${id}/_history/1$`));
  assert.equal(etagOf(reply.headers), 'W/"1"');
  assert.match(reply.headers['content-type'] as string, /^application\/fhir\+json/);
  assert.equal(reply.json.meta?.versionId, '1');
  const lastUpdated = Date.parse(reply.json.meta!.lastUpdated!);
  assert.ok(lastUpdated >= before - 5000 && lastUpdated <= Date.now() + 5000, reply.json.meta!.lastUpdated);
  assert.equal(new Date(reply.headers['last-modified'] as string).getTime(), Math.floor(lastUpdated / 1000) * 1000);
  assert.equal(reply.json.name?.[0]?.family, 'Create');
});

test('read and vread return the stored version; unknown ids and versions are 404', async () => {
  const created = await create(h.fhir, patient(nhsNumber(2), PRACTICE, { name: [{ family: 'Reader' }] }));
  const read = await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, created);
  assert.equal(etagOf(read.headers), 'W/"1"');
  const vread = await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}/_history/1`);
  assert.equal(vread.status, 200);
  assert.deepEqual(vread.json, created);
  for (const url of [`/fhir/Patient/${created.id}/_history/2`, `/fhir/Patient/${created.id}/_history/not-a-version`, '/fhir/Patient/no-such-patient']) {
    const missing = await h.fhir<OperationOutcome>('GET', url);
    assert.equal(missing.status, 404, url);
    assert.equal(issues(missing.json)[0]!.code, 'not-found');
  }
});

test('update makes version 2; the first version is still readable', async () => {
  const created = await create(h.fhir, patient(nhsNumber(3), PRACTICE, { name: [{ family: 'Before' }] }));
  const update = await h.fhir<Patient>('PUT', `/fhir/Patient/${created.id}`, { body: { ...created, name: [{ family: 'After' }] } });
  assert.equal(update.status, 200, update.text);
  assert.equal(update.json.meta?.versionId, '2');
  assert.equal(etagOf(update.headers), 'W/"2"');
  assert.ok(update.json.meta!.lastUpdated! >= created.meta!.lastUpdated!);
  assert.equal((await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}`)).json.name?.[0]?.family, 'After');
  assert.equal((await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}/_history/1`)).json.name?.[0]?.family, 'Before');
});

test('update with a stale If-Match is refused with 412 and changes nothing', async () => {
  const created = await create(h.fhir, patient(nhsNumber(4), PRACTICE, { name: [{ family: 'Match' }] }));
  const second = await h.fhir<Patient>('PUT', `/fhir/Patient/${created.id}`, { body: { ...created, gender: 'female' }, headers: { 'if-match': 'W/"1"' } });
  assert.equal(second.status, 200, second.text);
  const stale = await h.fhir<OperationOutcome>('PUT', `/fhir/Patient/${created.id}`, { body: { ...created, gender: 'male' }, headers: { 'if-match': 'W/"1"' } });
  assert.equal(stale.status, 412, stale.text);
  assert.equal(stale.json.resourceType, 'OperationOutcome');
  const current = await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}`);
  assert.equal(current.json.gender, 'female');
  assert.equal(current.json.meta?.versionId, '2');
});

test('update of an id that does not exist yet creates it (update as create) with 201', async () => {
  const id = 'client-chosen-id-1';
  const reply = await h.fhir<Patient>('PUT', `/fhir/Patient/${id}`, { body: patient(nhsNumber(5), PRACTICE, { id }) });
  assert.equal(reply.status, 201, reply.text);
  assert.match(reply.headers.location as string, new RegExp(`/fhir/Patient/${id}/_history/1$`));
  assert.equal(reply.json.id, id);
  assert.equal(reply.json.meta?.versionId, '1');
  assert.equal((await h.fhir('GET', `/fhir/Patient/${id}`)).status, 200);
  // The same PUT again updates what is now stored: 200, no Location.
  const again = await h.fhir<Patient>('PUT', `/fhir/Patient/${id}`, { body: { ...reply.json, gender: 'female' } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.location, undefined);
  assert.equal(again.json.meta?.versionId, '2');
});

test('a body whose id differs from the URL, or whose type differs from the URL, is refused', async () => {
  const created = await create(h.fhir, patient(nhsNumber(6), PRACTICE));
  const wrongId = await h.fhir<OperationOutcome>('PUT', `/fhir/Patient/${created.id}`, { body: { ...created, id: 'someone-else' } });
  assert.equal(wrongId.status, 400, wrongId.text);
  const wrongTypeCreate = await h.fhir<OperationOutcome>('POST', '/fhir/Patient', { body: { resourceType: 'Observation', status: 'final', code: { text: 'BP' } } });
  assert.equal(wrongTypeCreate.status, 400, wrongTypeCreate.text);
  assert.match(issues(wrongTypeCreate.json)[0]!.text, /Observation/);
  const wrongTypeUpdate = await h.fhir<OperationOutcome>('PUT', `/fhir/Patient/${created.id}`, {
    body: { resourceType: 'Condition', id: created.id, subject: { reference: `Patient/${created.id}` } },
  });
  assert.equal(wrongTypeUpdate.status, 400, wrongTypeUpdate.text);
  const noType = await h.fhir<OperationOutcome>('POST', '/fhir/Patient', { body: { name: [{ family: 'Typeless' }] } });
  assert.ok(noType.status >= 400 && noType.status < 500, noType.text);
  const count = await h.fhir<Bundle>('GET', '/fhir/Observation?_summary=count');
  assert.equal(count.json.total, 0);
});

test('If-None-Exist returns the existing resource (200) and makes no duplicate', async () => {
  const nhs = nhsNumber(7);
  const headers = { 'if-none-exist': `identifier=${NHS_NUMBER_SYSTEM}|${nhs}` };
  const first = await h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE, { name: [{ family: 'Once' }] }), headers });
  assert.equal(first.status, 201, first.text);
  const second = await h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE, { name: [{ family: 'Twice' }] }), headers });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.json.id, first.json.id);
  assert.equal(second.json.name?.[0]?.family, 'Once');
  const found = await h.fhir<Bundle>('GET', `/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhs}`);
  assert.deepEqual(ids(found.json), [first.json.id]);
});

test('If-None-Exist under Prefer: handling=lenient still finds the one existing resource', async () => {
  const nhs = nhsNumber(29);
  const existing = await create(h.fhir, patient(nhs, PRACTICE, { name: [{ family: 'Lenient' }] }));
  const reply = await h.fhir<Patient>('POST', '/fhir/Patient', {
    body: patient(nhs, PRACTICE),
    headers: { 'if-none-exist': `identifier=${NHS_NUMBER_SYSTEM}|${nhs}&no-such-param=1`, prefer: 'handling=lenient' },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.resourceType, 'Patient');
  assert.equal(reply.json.id, existing.id);
});

test('10 concurrent conditional creates with one identifier make exactly one resource', async () => {
  const nhs = nhsNumber(8);
  const replies = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(nhs, PRACTICE, { name: [{ family: `Racer${i}` }] }), headers: { 'if-none-exist': `identifier=${NHS_NUMBER_SYSTEM}|${nhs}` } }),
    ),
  );
  assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], replies.map((r) => r.text).join('\n'));
  assert.equal(new Set(replies.map((r) => r.json.id)).size, 1);
  const found = await h.fhir<Bundle>('GET', `/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhs}&_total=accurate`);
  assert.equal(found.json.total, 1);
  const [{ n }] = (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_token WHERE resource_type = 'Patient' AND code = 'identifier' AND value = $1`, [nhs])) as [{ n: number }];
  assert.equal(n, 1);
});

test('JSON Patch changes the resource and makes a new version; a bad patch changes nothing', async () => {
  const created = await create(h.fhir, patient(nhsNumber(9), PRACTICE, { name: [{ family: 'Patchy' }], gender: 'unknown' }));
  const patched = await h.fhir<Patient>('PATCH', `/fhir/Patient/${created.id}`, {
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/gender', value: 'unknown' },
      { op: 'replace', path: '/gender', value: 'female' },
      { op: 'add', path: '/birthDate', value: '1960-02-29' },
    ],
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.gender, 'female');
  assert.equal(patched.json.birthDate, '1960-02-29');
  assert.equal(patched.json.meta?.versionId, '2');
  assert.equal(etagOf(patched.headers), 'W/"2"');

  const failingTest = await h.fhir<OperationOutcome>('PATCH', `/fhir/Patient/${created.id}`, {
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/gender', value: 'male' },
      { op: 'replace', path: '/gender', value: 'other' },
    ],
  });
  assert.ok(failingTest.status >= 400 && failingTest.status < 500, failingTest.text);
  const invalidResult = await h.fhir<OperationOutcome>('PATCH', `/fhir/Patient/${created.id}`, {
    contentType: 'application/json-patch+json',
    body: [{ op: 'replace', path: '/birthDate', value: 'yesterday' }],
  });
  assert.equal(invalidResult.status, 422, invalidResult.text);
  const changeId = await h.fhir<OperationOutcome>('PATCH', `/fhir/Patient/${created.id}`, { contentType: 'application/json-patch+json', body: [{ op: 'replace', path: '/id', value: 'stolen' }] });
  assert.ok(changeId.status >= 400 && changeId.status < 500, changeId.text);
  const notArray = await h.fhir<OperationOutcome>('PATCH', `/fhir/Patient/${created.id}`, { contentType: 'application/json-patch+json', body: { op: 'remove', path: '/gender' } });
  assert.equal(notArray.status, 400, notArray.text);

  const current = await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}`);
  assert.equal(current.json.meta?.versionId, '2');
  assert.equal(current.json.gender, 'female');
});

test('delete: reads answer 410 Gone, history shows the delete, old versions stay readable', async () => {
  const created = await create(h.fhir, patient(nhsNumber(10), PRACTICE, { name: [{ family: 'Leaving' }] }));
  await h.fhir('PUT', `/fhir/Patient/${created.id}`, { body: { ...created, gender: 'male' } });
  const deleted = await h.fhir('DELETE', `/fhir/Patient/${created.id}`);
  assert.ok(deleted.status === 200 || deleted.status === 204, deleted.text);
  const read = await h.fhir<OperationOutcome>('GET', `/fhir/Patient/${created.id}`);
  assert.equal(read.status, 410, read.text);
  assert.equal(read.json.resourceType, 'OperationOutcome');
  const history = await h.fhir<Bundle>('GET', `/fhir/Patient/${created.id}/_history`);
  assert.equal(history.status, 200, history.text);
  assert.equal(history.json.type, 'history');
  assert.deepEqual(
    history.json.entry?.map((e) => [e.request?.method, e.response?.etag, e.resource ? 'resource' : 'none']),
    [
      ['DELETE', 'W/"3"', 'none'],
      ['PUT', 'W/"2"', 'resource'],
      ['POST', 'W/"1"', 'resource'],
    ],
  );
  assert.equal((await h.fhir('GET', `/fhir/Patient/${created.id}/_history/1`)).status, 200);
  assert.equal((await h.fhir('GET', `/fhir/Patient/${created.id}/_history/3`)).status, 410);
  const search = await h.fhir<Bundle>('GET', `/fhir/Patient?_id=${created.id}`);
  assert.deepEqual(ids(search.json), []);
  const again = await h.fhir('DELETE', `/fhir/Patient/${created.id}`);
  assert.ok(again.status === 200 || again.status === 204, `deleting again is no error: ${again.text}`);
  assert.equal((await h.fhir<Bundle>('GET', `/fhir/Patient/${created.id}/_history`)).json.entry?.length, 3, 'and changes nothing');
  assert.equal((await h.fhir('DELETE', '/fhir/Patient/never-existed')).status, 404);
});

test('instance history lists every version newest first; type history lists the type’s changes', async () => {
  const created = await create(h.fhir, patient(nhsNumber(11), PRACTICE, { name: [{ family: 'Historic' }] }));
  let current: Patient = created;
  for (const gender of ['male', 'female'] as const) current = (await h.fhir<Patient>('PUT', `/fhir/Patient/${created.id}`, { body: { ...current, gender } })).json;
  const history = await h.fhir<Bundle<Patient>>('GET', `/fhir/Patient/${created.id}/_history`);
  assert.deepEqual(
    history.json.entry?.map((e) => e.resource?.meta?.versionId),
    ['3', '2', '1'],
  );
  assert.deepEqual(
    history.json.entry?.map((e) => e.resource?.gender ?? null),
    ['female', 'male', null],
  );
  assert.ok(history.json.entry?.every((e) => e.fullUrl?.endsWith(`/fhir/Patient/${created.id}`)));

  const since = current.meta!.lastUpdated!;
  const later = await create(h.fhir, { resourceType: 'Condition', subject: { reference: `Patient/${created.id}` }, code: { text: 'Asthma' } } as Condition);
  const typeHistory = await h.fhir<Bundle>('GET', `/fhir/Condition/_history?_since=${encodeURIComponent(since)}`);
  assert.equal(typeHistory.status, 200, typeHistory.text);
  assert.equal(typeHistory.json.type, 'history');
  assert.ok(typeHistory.json.entry?.some((e) => e.resource?.id === later.id));
  assert.ok(typeHistory.json.entry?.every((e) => e.resource?.resourceType === 'Condition'));
  const patientHistory = await h.fhir<Bundle>('GET', '/fhir/Patient/_history?_count=2');
  assert.equal(patientHistory.json.entry?.length, 2);
});

test('Prefer: return=minimal answers with no body; return=OperationOutcome with an outcome', async () => {
  const minimal = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(12), PRACTICE), headers: { prefer: 'return=minimal' } });
  assert.equal(minimal.status, 201);
  assert.equal(minimal.text, '');
  assert.match(minimal.headers.location as string, /\/fhir\/Patient\/[^/]+\/_history\/1$/);
  assert.equal(etagOf(minimal.headers), 'W/"1"');
  const id = (minimal.headers.location as string).split('/').at(-3)!;
  assert.equal((await h.fhir('GET', `/fhir/Patient/${id}`)).status, 200);

  const outcome = await h.fhir<OperationOutcome>('PUT', `/fhir/Patient/${id}`, { body: patient(nhsNumber(12), PRACTICE, { id, gender: 'other' }), headers: { prefer: 'return=OperationOutcome' } });
  assert.equal(outcome.status, 200, outcome.text);
  assert.equal(outcome.json.resourceType, 'OperationOutcome');
  const representation = await h.fhir<Patient>('PUT', `/fhir/Patient/${id}`, { body: patient(nhsNumber(12), PRACTICE, { id, gender: 'male' }), headers: { prefer: 'return=representation' } });
  assert.equal(representation.json.gender, 'male');
});

test('_format=json is accepted on reads and searches', async () => {
  const created = await create(h.fhir, patient(nhsNumber(13), PRACTICE, { name: [{ family: 'Formatted' }] }));
  for (const format of ['json', 'application/fhir+json', 'application/json']) {
    const read = await h.fhir<Patient>('GET', `/fhir/Patient/${created.id}?_format=${encodeURIComponent(format)}`);
    assert.equal(read.status, 200, read.text);
    assert.match(read.headers['content-type'] as string, /json/);
    const search = await h.fhir<Bundle>('GET', `/fhir/Patient?family=Formatted&_format=${encodeURIComponent(format)}`);
    assert.equal(search.status, 200, search.text);
    assert.deepEqual(ids(search.json), [created.id]);
  }
});

test('Patient/$everything returns the patient and the entries from several agencies, and no one else’s', async () => {
  const subject = await create(h.fhir, patient(nhsNumber(14), PRACTICE, { name: [{ family: 'Everything' }] }));
  const other = await create(h.fhir, patient(nhsNumber(15), PRACTICE, { name: [{ family: 'Bystander' }] }));
  const ref = { reference: `Patient/${subject.id}` };
  const entries = [
    { resourceType: 'Condition', subject: ref, code: { text: 'Type 2 diabetes' }, recorder: { reference: 'Organization/ods-Z90101' } },
    { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: ref, medicationCodeableConcept: { text: 'Metformin 500mg' }, requester: { reference: 'Organization/ods-FZ011' } },
    {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
      subject: ref,
      serviceProvider: { reference: 'Organization/partner-CH-U90001-1' },
    },
    { resourceType: 'Observation', status: 'final', code: { text: 'HbA1c' }, subject: ref, performer: [{ reference: 'Organization/ods-U90001' }], valueQuantity: { value: 53, unit: 'mmol/mol' } },
    {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: ref,
      code: { text: 'Penicillin' },
    },
  ];
  const made = [];
  for (const entry of entries) made.push(await create(h.fhir, entry as Condition));
  await create(h.fhir, { resourceType: 'Condition', subject: { reference: `Patient/${other.id}` }, code: { text: 'Not theirs' } } as Condition);

  const everything = await h.fhir<Bundle>('GET', `/fhir/Patient/${subject.id}/$everything`);
  assert.equal(everything.status, 200, everything.text);
  assert.equal(everything.json.resourceType, 'Bundle');
  const resources = (everything.json.entry ?? []).map((e) => e.resource!);
  assert.equal(resources[0]?.resourceType, 'Patient');
  assert.equal(resources[0]?.id, subject.id);
  assert.deepEqual(
    resources
      .slice(1)
      .map((r) => `${r.resourceType}/${r.id}`)
      .sort(),
    made.map((r) => `${r.resourceType}/${r.id}`).sort(),
  );
  const agencies = new Set(JSON.stringify(resources).match(/Organization\/[\w-]+/g));
  assert.ok(agencies.size >= 4, [...agencies].join());
  assert.equal((await h.fhir('GET', '/fhir/Patient/no-such-patient/$everything')).status, 404);
});

test('/fhir/metadata lists Patient with its search parameters and interactions', async () => {
  const reply = await h.fhir<CapabilityStatement>('GET', '/fhir/metadata', { auth: '' });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.resourceType, 'CapabilityStatement');
  assert.equal(reply.json.fhirVersion, '4.0.1');
  const rest = reply.json.rest![0]!;
  const patientType = rest.resource!.find((r) => r.type === 'Patient')!;
  const params = new Set(patientType.searchParam!.map((p) => p.name));
  for (const name of ['identifier', 'name', 'family', 'given', 'birthdate', 'gender', 'address-postalcode', 'general-practitioner', '_id', '_lastUpdated']) assert.ok(params.has(name), name);
  assert.equal(patientType.searchParam!.find((p) => p.name === 'birthdate')?.type, 'date');
  const interactions = new Set(patientType.interaction!.map((i) => i.code));
  for (const code of ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']) assert.ok(interactions.has(code as 'read'), code);
  assert.ok(patientType.operation?.some((o) => o.name === 'everything'));
  assert.ok(rest.interaction?.some((i) => i.code === 'transaction'));
});

// -------------------------------------------------------------------------------------------------
// Validation
// -------------------------------------------------------------------------------------------------

async function refused(body: object, url = `/fhir/${(body as { resourceType: string }).resourceType}`) {
  const reply = await h.fhir<OperationOutcome>('POST', url, { body });
  assert.equal(reply.status, 422, reply.text);
  return issues(reply.json);
}

test('validation: a wrong type or cardinality is 422 with the field in expression', async () => {
  const birthDate = await refused(patient(nhsNumber(16), PRACTICE, { birthDate: 'yesterday' }));
  assert.ok(
    birthDate.some((i) => i.expression.some((e) => /Patient\.birthDate/.test(e))),
    JSON.stringify(birthDate),
  );
  const gender = await refused({ ...patient(nhsNumber(16), PRACTICE), gender: ['female', 'male'] });
  assert.ok(
    gender.some((i) => i.expression.some((e) => /Patient\.gender/.test(e))),
    JSON.stringify(gender),
  );
  const missingStatus = await refused({ resourceType: 'Observation', code: { text: 'Pulse' } });
  assert.ok(
    missingStatus.some((i) => i.expression.some((e) => /Observation\.status/.test(e))),
    JSON.stringify(missingStatus),
  );
  const unknownField = await refused({ ...patient(nhsNumber(16), PRACTICE), favouriteColour: 'blue' });
  assert.ok(
    unknownField.some((i) => i.expression.some((e) => /favouriteColour/.test(e))),
    JSON.stringify(unknownField),
  );
});

test('validation: an NHS number failing Modulus 11 is 422 naming the identifier', async () => {
  const nhs = nhsNumber(17);
  const wrongCheck = `${nhs.slice(0, 9)}${(Number(nhs[9]) + 1) % 10}`;
  const found = await refused(patient(wrongCheck, PRACTICE));
  assert.deepEqual(
    found.map((i) => i.expression),
    [['Patient.identifier[0].value']],
  );
  assert.match(found[0]!.text, /check digit|Modulus 11/i);
  const short = await refused(patient('99912345', PRACTICE));
  assert.match(short[0]!.text, /10 digits/);
  assert.equal((await h.fhir<Bundle>('GET', `/fhir/Patient?identifier=${wrongCheck}`)).json.entry?.length ?? 0, 0);
});

test('validation: a bad ODS code in an Organization identifier is 422 naming the identifier', async () => {
  const found = await refused({
    resourceType: 'Organization',
    name: 'Nowhere Surgery',
    identifier: [
      { system: 'https://example.org/local', value: 'L1' },
      { system: ODS_SYSTEM, value: 'not an ods code!' },
    ],
  });
  assert.deepEqual(
    found.map((i) => i.expression),
    [['Organization.identifier[1].value']],
  );
  assert.match(found[0]!.text, /ODS/);
});

// -------------------------------------------------------------------------------------------------
// Batch and transaction Bundles
// -------------------------------------------------------------------------------------------------

const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

test('a PUT entry of a transaction or batch that creates its resource answers 201 with a location; one that updates answers 200', async () => {
  const stored = await create(h.fhir, patient(nhsNumber(40), PRACTICE, { name: [{ family: 'Stored' }] }));
  for (const type of ['transaction', 'batch'] as const) {
    const id = `put-entry-${type}`;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type,
      entry: [
        { resource: { resourceType: 'Condition', id, subject: { reference: `Patient/${stored.id}` }, code: { text: 'Asthma' } }, request: { method: 'PUT', url: `Condition/${id}` } },
        { resource: { ...stored, gender: type === 'batch' ? 'male' : 'female' }, request: { method: 'PUT', url: `Patient/${stored.id}` } },
      ],
    };
    const reply = await h.fhir<Bundle>('POST', '/fhir', { body: bundle });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.json.entry?.map((e) => e.response?.status.slice(0, 3)),
      ['201', '200'],
      type,
    );
    assert.match(reply.json.entry![0]!.response!.location!, new RegExp(`Condition/${id}`));
    assert.equal((await h.fhir('GET', `/fhir/Condition/${id}`)).status, 200);
  }
});

test('a transaction resolves urn:uuid references to the ids it assigns', async () => {
  const nhs = nhsNumber(20);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: uuid(2), resource: { resourceType: 'Condition', subject: { reference: uuid(1) }, code: { text: 'COPD' } }, request: { method: 'POST', url: 'Condition' } },
      { fullUrl: uuid(1), resource: patient(nhs, PRACTICE, { name: [{ family: 'Transacted' }] }), request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const reply = await h.fhir<Bundle>('POST', '/fhir', { body: bundle });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.type, 'transaction-response');
  assert.deepEqual(
    reply.json.entry?.map((e) => e.response?.status),
    ['201', '201'],
  );
  const patientId = reply.json.entry![1]!.resource!.id!;
  const condition = reply.json.entry![0]!.resource as Condition;
  assert.equal(condition.subject.reference, `Patient/${patientId}`);
  const search = await h.fhir<Bundle>('GET', `/fhir/Condition?subject=Patient/${patientId}`);
  assert.equal(matches(search.json).length, 1);
});

test('a transaction with one bad entry fails whole, names the entry, and writes nothing', async () => {
  const good = [nhsNumber(21), nhsNumber(22), nhsNumber(23)];
  const badNhs = `${good[2]!.slice(0, 9)}${(Number(good[2]![9]) + 1) % 10}`;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: uuid(11), resource: patient(good[0]!, PRACTICE, { name: [{ family: 'Atomic' }] }), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: uuid(12), resource: patient(good[1]!, PRACTICE, { name: [{ family: 'Atomic' }] }), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: uuid(13), resource: patient(badNhs, PRACTICE, { name: [{ family: 'Atomic' }] }), request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Condition', subject: { reference: uuid(11) }, code: { text: 'Gout' } }, request: { method: 'POST', url: 'Condition' } },
    ],
  };
  const reply = await h.fhir<OperationOutcome>('POST', '/fhir', { body: bundle });
  assert.ok(reply.status >= 400 && reply.status < 500, `${reply.status} ${reply.text}`);
  const found = issues(reply.json);
  assert.ok(
    found.some((i) => i.expression.some((e) => e.startsWith('Bundle.entry[2]'))),
    JSON.stringify(found),
  );
  assert.ok(
    found.some((i) => /check digit|Modulus 11/i.test(i.text)),
    JSON.stringify(found),
  );
  const written = await h.fhir<Bundle>('GET', '/fhir/Patient?family=Atomic&_total=accurate');
  assert.equal(written.json.total, 0);
  const [{ n }] = (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_token WHERE code = 'identifier' AND value = ANY($1::text[])`, [good])) as [{ n: number }];
  assert.equal(n, 0);
});

test('a transaction resolves conditional references (Patient?identifier=…) and conditional creates', async () => {
  const nhs = nhsNumber(24);
  const existing = await create(h.fhir, patient(nhs, PRACTICE, { name: [{ family: 'Conditional' }] }));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: { resourceType: 'Condition', subject: { reference: `Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhs}` }, code: { text: 'Asthma' } }, request: { method: 'POST', url: 'Condition' } },
      { fullUrl: uuid(31), resource: patient(nhs, PRACTICE, { name: [{ family: 'Duplicate?' }] }), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${nhs}` } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'Peak flow' }, subject: { reference: uuid(31) } }, request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const reply = await h.fhir<Bundle>('POST', '/fhir', { body: bundle });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(
    reply.json.entry?.map((e) => e.response?.status),
    ['201', '200', '201'],
  );
  assert.equal((reply.json.entry![0]!.resource as Condition).subject.reference, `Patient/${existing.id}`);
  assert.equal((reply.json.entry![2]!.resource as Condition).subject.reference, `Patient/${existing.id}`);
  const patients = await h.fhir<Bundle>('GET', `/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhs}`);
  assert.deepEqual(ids(patients.json), [existing.id]);
  const everything = await h.fhir<Bundle>('GET', `/fhir/Patient/${existing.id}/$everything`);
  assert.equal(everything.json.entry?.length, 3);

  const unresolved = await h.fhir<OperationOutcome>('POST', '/fhir', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Condition', subject: { reference: `Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhsNumber(25)}` }, code: { text: 'x' } },
          request: { method: 'POST', url: 'Condition' },
        },
      ],
    },
  });
  assert.ok(unresolved.status >= 400 && unresolved.status < 500, unresolved.text);
  assert.ok(
    issues(unresolved.json).some((i) => i.expression.some((e) => e.startsWith('Bundle.entry[0]'))),
    unresolved.text,
  );
});

test('a batch runs its entries independently: one failure does not stop the others', async () => {
  const [a, b] = [nhsNumber(26), nhsNumber(27)];
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: patient(a, PRACTICE, { name: [{ family: 'Batched' }] }), request: { method: 'POST', url: 'Patient' } },
      { resource: patient('9990000000', PRACTICE, { birthDate: 'yesterday' }), request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: 'Patient/no-such-patient' } },
      { resource: patient(b, PRACTICE, { name: [{ family: 'Batched' }] }), request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const reply = await h.fhir<Bundle>('POST', '/fhir', { body: bundle });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.type, 'batch-response');
  assert.deepEqual(
    reply.json.entry?.map((e) => e.response?.status),
    ['201', '422', '404', '201'],
  );
  const failure = reply.json.entry![1]!.response!.outcome as OperationOutcome;
  assert.ok(
    issues(failure).some((i) => i.expression.some((e) => /Patient\.birthDate/.test(e))),
    JSON.stringify(failure),
  );
  const written = await h.fhir<Bundle>('GET', '/fhir/Patient?family=Batched');
  assert.equal(matches(written.json).length, 2);
});

test('a Bundle of another type, or with no entries, is refused with 400', async () => {
  const collection = await h.fhir<OperationOutcome>('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient(nhsNumber(28), PRACTICE) }] } });
  assert.equal(collection.status, 400, collection.text);
  const empty = await h.fhir<OperationOutcome>('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction' } });
  assert.equal(empty.status, 400, empty.text);
  const notBundle = await h.fhir<OperationOutcome>('POST', '/fhir', { body: patient(nhsNumber(28), PRACTICE) });
  assert.equal(notBundle.status, 400, notBundle.text);
});
