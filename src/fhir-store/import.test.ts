import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import { testDb, testEngine } from '../../test/db.ts';
import { systemContext } from '../modules/record/index.ts';
import { demoArea } from '../demo/demo-area.ts';
import { importFhir, type ImportItem } from './import.ts';
import { nhsNumberFor, syntheticPopulation } from '../demo/synthetic-population.ts';

let db: Db;
before(async () => (db = await testDb()));
after(() => db.close());

const count = async (type: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = $1', [type]))[0]!.n;
const population = (patients: number, from = 0): ImportItem[] =>
  [...syntheticPopulation({ ...demoArea(1), patients: from + patients, from })].map((bundle, i) => ({ label: `bundle ${from + i}`, bundle }));

test(`bundles land with urn:uuid references resolved, and a re-run after a crash adds nothing twice (${testEngine})`, async () => {
  // A first run that "crashed" after 30 of 50 patients, then the whole run again.
  const first = await importFhir(db, await systemContext(db, 'test'), population(30));
  assert.equal(first.bundles, 30);
  const again = await importFhir(db, await systemContext(db, 'test'), population(50));
  assert.deepEqual([again.bundles, again.skipped], [20, 30]);
  assert.equal(await count('Patient'), 50);
  const [dangling] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM fhir_reference x LEFT JOIN fhir_resource r ON r.resource_type = x.target_type AND r.id = x.target_id
      WHERE x.target_type = 'Patient' AND r.id IS NULL`,
  );
  assert.equal(dangling!.n, 0, 'every reference to a Patient points at a stored Patient');
  const [unresolved] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE content::text LIKE '%urn:uuid:%'");
  assert.equal(unresolved!.n, 0);
});

test('a bad entry names its bundle, entry and field, and nothing of its group is written', async () => {
  const before = await count('Patient');
  const bad = population(3, 100);
  const patient = bad[1]!.bundle!.entry![0]!.resource as { identifier: Array<{ value: string }> };
  patient.identifier[0]!.value = '9990000019'; // fails Modulus 11
  await assert.rejects(importFhir(db, await systemContext(db, 'test'), bad), (error: Error) => {
    assert.match(error.message, /^bundle 101 entry 0 \(Patient\.identifier\[0\]\.value\): the NHS number check digit/);
    return true;
  });
  assert.equal(await count('Patient'), before);
});

test('NDJSON resources keep their ids and are skipped when already there', async () => {
  const lines: ImportItem[] = [
    { label: 'Patient.ndjson:1', resource: { resourceType: 'Patient', id: 'ndjson-1', gender: 'female' } },
    { label: 'Patient.ndjson:2', resource: { resourceType: 'Patient', id: 'ndjson-2', gender: 'male' } },
  ];
  assert.equal((await importFhir(db, await systemContext(db, 'test'), lines)).resources, 2);
  assert.deepEqual(await importFhir(db, await systemContext(db, 'test'), lines), { bundles: 0, resources: 0, skipped: 2 });
  const [row] = await db.query<{ content: { gender: string } }>("SELECT content FROM fhir_resource WHERE resource_type = 'Patient' AND id = 'ndjson-2'");
  assert.equal(row!.content.gender, 'male');
});

test('a Bundle of a type that cannot be imported is refused by name', async () => {
  const bundle: Bundle = { resourceType: 'Bundle', type: 'document', entry: [] };
  await assert.rejects(importFhir(db, await systemContext(db, 'test'), [{ label: 'doc.json', bundle }]), /doc.json: a Bundle of type 'document' cannot be imported/);
});

test(`the same resource or patient twice in one run lands once (${testEngine})`, async () => {
  const line = (n: number): ImportItem => ({ label: `Patient.ndjson:${n}`, resource: { resourceType: 'Patient', id: 'twice-1', gender: 'female' } });
  assert.deepEqual(await importFhir(db, await systemContext(db, 'test'), [line(1), line(2)]), { bundles: 1, resources: 1, skipped: 1 });
  const [bundle] = population(1, 300);
  const copy = structuredClone(bundle!);
  copy.label = 'the same patient again';
  const before = await count('Patient');
  assert.deepEqual(await importFhir(db, await systemContext(db, 'test'), [bundle!, copy]), { bundles: 1, resources: bundle!.bundle!.entry!.length, skipped: 1 });
  assert.equal(await count('Patient'), before + 1);
});

test(`NDJSON entries find a Patient written in the same group, by id or by NHS number; one whose Patient is nowhere is refused (${testEngine})`, async () => {
  const nhs = { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(5000) }; // beyond the population imported above
  const lines: ImportItem[] = [
    { label: 'Patient.ndjson:1', resource: { resourceType: 'Patient', id: 'same-group-patient', identifier: [nhs] } },
    {
      label: 'AllergyIntolerance.ndjson:1',
      resource: {
        resourceType: 'AllergyIntolerance',
        id: 'same-group-allergy',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        patient: { reference: 'Patient/same-group-patient' },
      },
    },
    { label: 'Observation.ndjson:1', resource: { resourceType: 'Observation', id: 'same-group-obs', status: 'final', code: { text: 'Weight' }, subject: { identifier: nhs } } },
  ];
  assert.equal((await importFhir(db, await systemContext(db, 'test'), lines)).resources, 3);
  const [owned] = await db.query<{ patient_id: string }>("SELECT patient_id FROM fhir_resource WHERE resource_type = 'Observation' AND id = 'same-group-obs'");
  assert.equal(owned!.patient_id, 'same-group-patient', 'the NHS-number reference resolved to the Patient of the same group');
  const orphan: ImportItem = {
    label: 'AllergyIntolerance.ndjson:2',
    resource: {
      resourceType: 'AllergyIntolerance',
      id: 'orphan-allergy',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: { reference: 'Patient/nowhere' },
    },
  };
  await assert.rejects(importFhir(db, await systemContext(db, 'test'), [orphan]), /AllergyIntolerance.ndjson:2 entry 0 \(AllergyIntolerance.patient\): Patient\/nowhere does not exist/);
});
