/**
 * What the store accepts on write is owned, canonical and storable: clinical entries always belong
 * to a stored Patient (references by NHS number are resolved, unresolvable ones refused by element),
 * one active Patient per NHS number (also under concurrency, in transactions and in imports), text
 * the database cannot hold is a 422, long values are stored and searched exactly, and ODS codes
 * inside references are checked. On both engines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, ids, issues, NHS_NUMBER_SYSTEM, nhsNumber, ODS_SYSTEM, patient, type FhirHarness } from '../../../test/fhir.ts';
import { importFhir, type ImportItem } from '../../fhir-store/index.ts';
import { systemContext } from '../../modules/record/index.ts';

let h: FhirHarness;
let gp: string; // a clinician of U90001 (practices Z90101 …)
let mine: Patient & { id: string }; // registered at Z90101, in U90001
let elsewhere: Patient & { id: string }; // registered at Z90201, in U90002

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: 'dr.write@u90001.example', name: 'Dr Write', role: 'clinician', org: 'U90001' });
  mine = await create(h.fhir, patient(nhsNumber(1), 'Z90101', { name: [{ family: 'Writemine' }] }));
  elsewhere = await create(h.fhir, patient(nhsNumber(2), 'Z90201', { name: [{ family: 'Writeelsewhere' }] }));
});
after(() => h.close());

const observation = (subject: Observation['subject'], extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  valueQuantity: { value: 72, unit: '/min' },
  subject,
  ...extra,
});

const byNhsNumber = (value: string) => ({ identifier: { system: NHS_NUMBER_SYSTEM, value } });

async function stored(type: string, id: string) {
  const [row] = await h.db.query<{ patient_id: string | null; content: Observation }>('SELECT patient_id, content FROM fhir_resource WHERE resource_type = $1 AND id = $2', [type, id]);
  return row;
}

/** A 422 whose issue names the element and says why. */
function assertRefusedAt(reply: { status: number; text: string; json: unknown }, expression: string, text: RegExp, status = 422) {
  assert.equal(reply.status, status, reply.text);
  const found = issues(reply.json as OperationOutcome);
  assert.ok(
    found.some((i) => i.expression.includes(expression) && text.test(i.text)),
    `${expression} ${text}: ${reply.text}`,
  );
}

const count = async (sql: string, values: unknown[] = []) => (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values))[0]!.n;

// -------------------------------------------------------------------------------------------------
// 1. Nothing clinical is stored without its patient
// -------------------------------------------------------------------------------------------------

test(`a subject given by NHS number is stored as that Patient's, and a clinician without a relationship cannot see it (${testEngine})`, async () => {
  const theirs = await create(h.fhir, observation(byNhsNumber(elsewhere.identifier![0]!.value!)));
  const row = await stored('Observation', theirs.id);
  assert.equal(row?.patient_id, elsewhere.id);
  assert.deepEqual(row?.content.subject, { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber(2) }, reference: `Patient/${elsewhere.id}` });
  assert.equal((await h.fhir('GET', `/fhir/Observation/${theirs.id}`, { auth: gp })).status, 403);
  assert.deepEqual(ids((await h.fhir<Bundle>('GET', `/fhir/Observation?_id=${theirs.id}`, { auth: gp })).json), []);
  assert.deepEqual(ids((await h.fhir<Bundle>('GET', `/fhir/Observation?patient=${elsewhere.id}`)).json), [theirs.id], 'found by patient');

  // …while the same by NHS number for the clinician's own patient is theirs to read.
  const ours = await create(h.fhir, observation(byNhsNumber(nhsNumber(1))), gp);
  assert.equal((await stored('Observation', ours.id))?.patient_id, mine.id);
  assert.equal((await h.fhir('GET', `/fhir/Observation/${ours.id}`, { auth: gp })).status, 200);
  // A clinician may not add to a record they have no relationship with, by NHS number either.
  assert.equal((await h.fhir('POST', '/fhir/Observation', { body: observation(byNhsNumber(nhsNumber(2))), auth: gp })).status, 403);
});

test(`an unresolved urn:uuid, an NHS number no patient holds, or a Patient not stored is a 422 naming the element (${testEngine})`, async () => {
  const before = await count('fhir_resource WHERE resource_type = $1', ['Observation']);
  const urn = 'urn:uuid:7d3a1c2e-0000-4000-8000-000000000001';
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: observation({ reference: urn }) }), 'Observation.subject', new RegExp(`${urn} is not resolved in this transaction`));
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: observation(byNhsNumber(nhsNumber(900))) }), 'Observation.subject', new RegExp(`no patient holds NHS number ${nhsNumber(900)}`));
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: observation({ reference: 'Patient/not-stored-1' }) }), 'Observation.subject', /Patient\/not-stored-1 does not exist/);
  assertRefusedAt(
    await h.fhir('POST', '/fhir/Observation', { body: observation({ reference: `Patient/${mine.id}` }, { performer: [{ reference: 'Practitioner/p1' }, { reference: 'Patient/not-stored-2' }] }) }),
    'Observation.performer[1]',
    /Patient\/not-stored-2 does not exist/,
  );
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: observation({ identifier: { system: 'https://trust.example/mrn', value: 'MRN-1' } }) }), 'Observation.subject', /no type/);
  // The same in an update and in a transaction.
  const made = await create(h.fhir, observation({ reference: `Patient/${mine.id}` }));
  assertRefusedAt(await h.fhir('PUT', `/fhir/Observation/${made.id}`, { body: { ...made, subject: { reference: urn } } }), 'Observation.subject', /is not resolved/);
  const transaction = await h.fhir<OperationOutcome>('POST', '/fhir', {
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation({ reference: 'Patient/not-stored-3' }), request: { method: 'POST', url: 'Observation' } }] },
  });
  assertRefusedAt(transaction, 'Bundle.entry[0].resource.subject', /Patient\/not-stored-3 does not exist/);
  assert.equal(await count('fhir_resource WHERE resource_type = $1', ['Observation']), before + 1, 'only the good one was stored');
  assert.equal(await count("fhir_resource WHERE resource_type = 'Observation' AND patient_id IS NULL"), 0, 'no observation without its patient');
});

test('literal references, a Device subject and an entry before its Patient in a transaction still work', async () => {
  const literal = await create(h.fhir, observation({ reference: `Patient/${mine.id}` }, { performer: [{ identifier: { system: ODS_SYSTEM, value: 'Z90101' } }] }));
  assert.equal((await stored('Observation', literal.id))?.patient_id, mine.id);
  const device = await create(h.fhir, observation({ identifier: { system: 'https://devices.example', value: 'pump-7' }, type: 'Device' }));
  assert.equal((await stored('Observation', device.id))?.patient_id, null, 'a device reading is nobody’s record');
  const patientUrl = 'urn:uuid:7d3a1c2e-0000-4000-8000-000000000002';
  const reply = await h.fhir<Bundle>('POST', '/fhir', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: observation({ reference: patientUrl }), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: patientUrl, resource: patient(nhsNumber(3), 'Z90101'), request: { method: 'POST', url: 'Patient' } },
      ],
    },
  });
  assert.equal(reply.status, 200, reply.text);
  const [obs, pat] = (reply.json.entry ?? []).map((e) => e.response?.location?.split('/')[1]);
  assert.equal((await stored('Observation', obs!))?.patient_id, pat);
});

test(`bulk import resolves NHS numbers and refuses unresolved patients by row (${testEngine})`, async () => {
  const context = await systemContext(h.db, 'test');
  const line = (n: number, subject: Observation['subject']): ImportItem => ({ label: `Observation.ndjson:${n}`, resource: { ...observation(subject), id: `imported-obs-${n}` } as Observation });
  assert.equal((await importFhir(h.db, context, [line(1, byNhsNumber(nhsNumber(2))), line(2, { reference: `Patient/${mine.id}` })])).resources, 2);
  assert.equal((await stored('Observation', 'imported-obs-1'))?.patient_id, elsewhere.id);
  assert.equal((await stored('Observation', 'imported-obs-1'))?.content.subject?.reference, `Patient/${elsewhere.id}`);
  await assert.rejects(importFhir(h.db, context, [line(3, byNhsNumber(nhsNumber(901)))]), /^AppError: Observation.ndjson:3 entry 0 \(Observation.subject\): no patient holds NHS number/);
  await assert.rejects(importFhir(h.db, context, [line(4, { reference: 'Patient/not-stored-4' })]), /Observation.ndjson:4 entry 0 \(Observation.subject\): Patient\/not-stored-4 does not exist/);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:aa', resource: patient(nhsNumber(4), 'Z90101'), request: { method: 'POST', url: 'Patient' } },
      { resource: observation({ reference: 'urn:uuid:bb' }), request: { method: 'POST', url: 'Observation' } },
    ],
  };
  await assert.rejects(importFhir(h.db, context, [{ label: 'synthea/one.json', bundle }]), /synthea\/one.json entry 1 \(Observation.subject\): urn:uuid:bb is not resolved/);
  assert.equal(await count("fhir_resource WHERE id IN ('imported-obs-3', 'imported-obs-4')"), 0);
  // Within its own bundle, a reference by NHS number is to the bundle's Patient.
  const own: Bundle = { ...bundle, entry: [bundle.entry![0]!, { resource: observation(byNhsNumber(nhsNumber(4))), request: { method: 'POST', url: 'Observation' } }] };
  assert.equal((await importFhir(h.db, context, [{ label: 'synthea/two.json', bundle: own }])).resources, 2);
  const [holder] = await h.db.query<{ patient_id: string }>('SELECT patient_id FROM fhir_patient_nhs_number WHERE nhs_number = $1', [nhsNumber(4)]);
  assert.equal(await count("fhir_resource WHERE resource_type = 'Observation' AND patient_id = $1", [holder!.patient_id]), 1);
});

// -------------------------------------------------------------------------------------------------
// 2. One active Patient per NHS number
// -------------------------------------------------------------------------------------------------

test(`an NHS number with spaces is a 422 saying so (${testEngine})`, async () => {
  const reply = await h.fhir('POST', '/fhir/Patient', { body: patient('999 000 0018', 'Z90101') });
  assertRefusedAt(reply, 'Patient.identifier[0].value', /10 digits, without spaces or dashes: 9990000018/);
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: observation(byNhsNumber('999-000-0018')) }), 'Observation.subject.identifier.value', /without spaces/);
});

test(`a second active Patient with an NHS number already held is a 409 naming the holder; inactive or deleted frees it (${testEngine})`, async () => {
  const number = nhsNumber(10);
  const first = await create(h.fhir, patient(number, 'Z90101'));
  const second = await h.fhir<OperationOutcome>('POST', '/fhir/Patient', { body: patient(number, 'Z90102') });
  assert.equal(second.status, 409, second.text);
  const [issue] = issues(second.json);
  assert.equal(issue?.code, 'duplicate');
  assert.match(issue!.text, new RegExp(`Patient/${first.id}`));
  // An update that takes another's number is refused the same way.
  const other = await create(h.fhir, patient(nhsNumber(11), 'Z90101'));
  const taking = await h.fhir('PUT', `/fhir/Patient/${other.id}`, { body: { ...other, identifier: [{ system: NHS_NUMBER_SYSTEM, value: number }] } });
  assert.equal(taking.status, 409, taking.text);
  // Conditional create finds the holder.
  const conditional = await h.fhir<Patient>('POST', '/fhir/Patient', { body: patient(number, 'Z90101'), headers: { 'if-none-exist': `identifier=${NHS_NUMBER_SYSTEM}|${number}` } });
  assert.equal(conditional.status, 200, conditional.text);
  assert.equal(conditional.json.id, first.id);
  // Made inactive, the first frees the number; deleted, so does the second.
  assert.equal((await h.fhir('PUT', `/fhir/Patient/${first.id}`, { body: { ...first, active: false } })).status, 200);
  const again = await create(h.fhir, patient(number, 'Z90102'));
  assert.equal((await h.fhir('PUT', `/fhir/Patient/${first.id}`, { body: { ...first, active: true } })).status, 409, 'reactivated while another holds it');
  assert.equal((await h.fhir('DELETE', `/fhir/Patient/${again.id}`)).status, 200);
  assert.equal((await h.fhir('PUT', `/fhir/Patient/${first.id}`, { body: { ...first, active: true } })).status, 200);
});

test(`20 concurrent creates of one NHS number: exactly one 201, nineteen 409 (${testEngine})`, async () => {
  const number = nhsNumber(20);
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => h.fhir('POST', '/fhir/Patient', { body: patient(number, 'Z90101', { name: [{ family: `Race${i}` }] }) })));
  const statuses = replies.map((r) => r.status).sort();
  assert.deepEqual(
    statuses,
    [201, ...Array(19).fill(409)],
    replies
      .filter((r) => r.status !== 201 && r.status !== 409)
      .map((r) => r.text)
      .join('\n'),
  );
  assert.equal(await count("fhir_token WHERE resource_type = 'Patient' AND code = 'identifier' AND value = $1", [number]), 1);
});

test(`a transaction with a duplicate NHS number is a 409 and lands nothing (${testEngine})`, async () => {
  const patients = await count("fhir_resource WHERE resource_type = 'Patient'");
  const entry = (nhs: string) => ({ resource: patient(nhs, 'Z90101'), request: { method: 'POST', url: 'Patient' } });
  for (const entries of [
    [entry(nhsNumber(30)), entry(nhsNumber(30))],
    [entry(nhsNumber(31)), entry(nhsNumber(1))],
  ]) {
    const reply = await h.fhir<OperationOutcome>('POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
    assert.equal(reply.status, 409, reply.text);
    assert.equal(issues(reply.json)[0]?.code, 'duplicate');
  }
  assert.equal(await count("fhir_resource WHERE resource_type = 'Patient'"), patients);
});

test(`an import holding an NHS number already held is refused by row, and nothing of that bundle lands (${testEngine})`, async () => {
  const context = await systemContext(h.db, 'test');
  const patients = await count("fhir_resource WHERE resource_type = 'Patient'");
  const bundle = (nhs: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:p', resource: patient(nhs, 'Z90101'), request: { method: 'POST', url: 'Patient' } },
      { resource: observation({ reference: 'urn:uuid:p' }), request: { method: 'POST', url: 'Observation' } },
    ],
  });
  await assert.rejects(importFhir(h.db, context, [{ label: 'dup.json', bundle: bundle(nhsNumber(1)) }]), (error: Error) => {
    assert.match(error.message, new RegExp(`^dup.json entry 0 \\(Patient.identifier\\): its NHS number is already held by Patient/${mine.id}`));
    return true;
  });
  // A second, different file holding the same NHS number (the same file twice is one item, landed once).
  await assert.rejects(
    importFhir(h.db, context, [
      { label: 'a.json', bundle: bundle(nhsNumber(40)) },
      { label: 'b.json', bundle: { ...bundle(nhsNumber(40)), id: 'another-file' } },
    ]),
    /^AppError: b.json entry 0 \(Patient.identifier\): its NHS number is already held by Patient\/\S+ \(a.json entry 0, in this import\)/,
  );
  const line = (n: number, id: string, nhs: string): ImportItem => ({ label: `Patient.ndjson:${n}`, resource: { ...patient(nhs, 'Z90101'), id } });
  await assert.rejects(importFhir(h.db, context, [line(1, 'ndjson-dup-1', nhsNumber(2))]), /^AppError: Patient.ndjson:1 entry 0 \(Patient.identifier\): its NHS number is already held by Patient\//);
  assert.equal(await count("fhir_resource WHERE resource_type = 'Patient'"), patients);
  assert.equal((await importFhir(h.db, context, [{ label: 'fresh.json', bundle: bundle(nhsNumber(41)) }])).resources, 2, 'a new number imports');
});

// -------------------------------------------------------------------------------------------------
// 3. Text the database cannot hold, and long values
// -------------------------------------------------------------------------------------------------

test(`a NUL or a lone surrogate in any string is a 422 naming the element, never a 500 (${testEngine})`, async () => {
  const nul = observation({ reference: `Patient/${mine.id}` }, { code: { coding: [{ system: 'http://loinc.org\u0000', code: '8867-4' }] } });
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: nul }), 'Observation.code.coding[0].system', /NUL/);
  assertRefusedAt(await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(50), 'Z90101', { name: [{ family: 'Half\ud800' }] }) }), 'Patient.name[0].family', /lone UTF-16 surrogate/);
  assertRefusedAt(await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(51), 'Z90101', { name: [{ family: '\udc00Low' }] }) }), 'Patient.name[0].family', /lone UTF-16 surrogate/);
  assertRefusedAt(await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(52), 'Z90101', { name: [{ text: 'x\u0000' }] }) }), 'Patient.name[0].text', /NUL/);
  // A character outside the BMP (a surrogate pair) is whole, and stored.
  const emoji = await create(h.fhir, patient(nhsNumber(53), 'Z90101', { name: [{ family: 'Smile😀' }] }));
  assert.deepEqual(ids((await h.fhir<Bundle>('GET', `/fhir/Patient?family:exact=${encodeURIComponent('Smile😀')}`)).json), [emoji.id]);
  await assert.rejects(
    importFhir(h.db, await systemContext(h.db, 'test'), [{ label: 'nul.ndjson:1', resource: { ...nul, id: 'nul-1' } as Observation }]),
    /nul.ndjson:1 entry 0 \(Observation.code.coding\[0\].system\): holds a NUL/,
  );
});

test(`a 10 KB identifier and a 10 KB name are stored and found exactly, not by another sharing their first 5 KB (${testEngine})`, async () => {
  // Hex noise, which no compression shrinks below the index's limit as it would a repeated pattern.
  const noise = (seed: string) =>
    Array.from({ length: 5000 / 64 + 1 }, (_, i) => createHash('sha256').update(`${seed}${i}`).digest('hex'))
      .join('')
      .slice(0, 5000);
  const value = noise('shared') + noise('value');
  const sibling = noise('shared') + noise('sibling');
  const family = `Lo${noise('family')}${noise('made')}`.slice(0, 10_000);
  const familySibling = `Lo${noise('family')}${noise('other')}`.slice(0, 10_000);
  assert.equal(value.length, 10_000);
  const system = 'https://trust.example/long-id';
  const made = await create(
    h.fhir,
    patient(nhsNumber(60), 'Z90101', {
      identifier: [
        { system: NHS_NUMBER_SYSTEM, value: nhsNumber(60) },
        { system, value },
      ],
      name: [{ family }],
    }),
  );
  const other = await create(
    h.fhir,
    patient(nhsNumber(61), 'Z90101', {
      identifier: [
        { system: NHS_NUMBER_SYSTEM, value: nhsNumber(61) },
        { system, value: sibling },
      ],
      name: [{ family: familySibling }],
    }),
  );
  const search = async (query: string) => ids((await h.fhir<Bundle>('POST', '/fhir/Patient/_search', { raw: query, contentType: 'application/x-www-form-urlencoded' })).json);
  const q = (name: string, v: string) => `${name}=${encodeURIComponent(v)}`;
  assert.deepEqual(await search(q('identifier', `${system}|${value}`)), [made.id]);
  assert.deepEqual(await search(q('identifier', value)), [made.id]);
  assert.deepEqual(await search(q('identifier', `${system}|${sibling}`)), [other.id]);
  assert.deepEqual(await search(q('identifier', `${system}|${value.slice(0, 5000)}`)), [], 'a token matches whole');
  assert.deepEqual(await search(q('family:exact', family)), [made.id]);
  assert.deepEqual(await search(q('family:exact', familySibling)), [other.id]);
  assert.deepEqual(await search(q('family', family)), [made.id], 'starts-with, longer than the indexed prefix');
  assert.deepEqual(await search(q('family', family.slice(0, 5010))), [made.id], 'past where the two part');
  assert.deepEqual(await search(q('family', family.slice(0, 5000))).then((r) => r.sort()), [made.id, other.id].sort(), 'both start so');
  assert.deepEqual(await search(q('family', family.slice(0, 12))).then((r) => r.sort()), [made.id, other.id].sort());
  assert.deepEqual(await search(q('family:contains', noise('made').slice(100, 140))), [made.id], ':contains reads the whole value');
  assert.deepEqual(await search(q('family:contains', noise('other').slice(100, 140))), [other.id]);
  // In bulk too.
  const context = await systemContext(h.db, 'test');
  const longLine = (n: number, v: string): ImportItem => ({
    label: `long.ndjson:${n}`,
    resource: { ...patient(nhsNumber(70 + n), 'Z90101', { name: [{ family: `Bulk${v}` }] }), id: `long-${n}`, identifier: [{ system, value: `bulk${v}` }] },
  });
  assert.equal((await importFhir(h.db, context, [longLine(1, value), longLine(2, sibling)])).resources, 2);
  assert.deepEqual(await search(q('identifier', `${system}|bulk${value}`)), ['long-1']);
  assert.deepEqual(await search(q('family:exact', `Bulk${sibling}`)), ['long-2']);
});

// -------------------------------------------------------------------------------------------------
// 4. ODS codes inside references
// -------------------------------------------------------------------------------------------------

test(`an ODS code inside a reference is checked: a 422 naming the element, or stored (${testEngine})`, async () => {
  assertRefusedAt(await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(80), 'not ods!') }), 'Patient.generalPractitioner[0].identifier.value', /'not ods!' is not a valid ODS code/);
  assertRefusedAt(await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(80), 'z90101') }), 'Patient.generalPractitioner[0].identifier.value', /not a valid ODS code/);
  const performer = (code: string) => observation({ reference: `Patient/${mine.id}` }, { performer: [{ reference: 'Practitioner/p1' }, { identifier: { system: ODS_SYSTEM, value: code } }] });
  assertRefusedAt(await h.fhir('POST', '/fhir/Observation', { body: performer('X') }), 'Observation.performer[1].identifier.value', /not a valid ODS code/);
  await create(h.fhir, performer('FZ011'));
  await create(h.fhir, patient(nhsNumber(80), 'Z90101'));
});
