/**
 * Patients' records read whole for a population computation: every patient once, in id order, with exactly
 * their current entries of the types asked for; batches resume after a given patient; one patient's record
 * read alone; and only a context that may read whole populations may scan, while one patient's record follows
 * the record's access rules.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, Observation, Resource } from '@medplum/fhirtypes';
import { testEngine } from '../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';
import { findActor } from '../modules/access/index.ts';
import { recordContext, systemContext } from '../modules/record/index.ts';
import { countPatients, readCompartment, scanCompartments, type PatientCompartment } from './compartments.ts';
import type { RequestContext } from './context.ts';

let h: FhirHarness;
let system: RequestContext;
let gp: RequestContext;
const ids: string[] = [];
const entries = new Map<string, string[]>();
const TYPES = ['Condition', 'Observation'];

const condition = (patientId: string, code: string): Condition => ({
  resourceType: 'Condition',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code }] },
  subject: { reference: `Patient/${patientId}` },
});
const observation = (patientId: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `Patient/${patientId}` } });

before(async () => {
  h = await fhirHarness();
  // Five patients: two in U90001 (Z90101), three elsewhere (Z90201, U90002); the second has no entries at all.
  for (let n = 0; n < 5; n++) {
    const p = await create(h.fhir, patient(nhsNumber(100 + n), n < 2 ? 'Z90101' : 'Z90201', { birthDate: '1950-01-01' }));
    ids.push(p.id);
    entries.set(p.id, []);
    if (n === 1) continue;
    const c = await create(h.fhir, condition(p.id, '49436004'));
    const o = await create(h.fhir, observation(p.id));
    // A deleted entry and an entry of a type not asked for are not read.
    const gone = await create(h.fhir, condition(p.id, '195967001'));
    assert.equal((await h.fhir('DELETE', `/fhir/Condition/${gone.id}`)).status, 200);
    await create(h.fhir, { resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'Flu' }, patient: { reference: `Patient/${p.id}` }, occurrenceDateTime: '2025-10-01' });
    entries.set(p.id, [`Condition/${c.id}`, `Observation/${o.id}`]);
  }
  // A deleted patient is nobody's record any more.
  const removed = await create(h.fhir, patient(nhsNumber(120), 'Z90101'));
  assert.equal((await h.fhir('DELETE', `/fhir/Patient/${removed.id}`)).status, 200);
  ids.sort();
  system = await systemContext(h.db, 'test population scan');
  await h.addUser({ email: 'dr.scan@u90001.example', name: 'Dr Scan', role: 'gp', org: 'U90001' });
  gp = await recordContext(h.db, (await findActor(h.db, 'dr.scan@u90001.example'))!, { request: { method: 'GET', url: '/test' } });
});
after(() => h.close());

const shown = (c: PatientCompartment) => `${c.patient.id}: ${c.resources.map((r: Resource) => `${r.resourceType}/${r.id}`).join(' ')}`;
const expected = (id: string) => `${id}: ${[...entries.get(id)!].sort().join(' ')}`;

test(`a scan gives every current patient once, in id order, in batches, each with exactly their entries of the types asked for (${testEngine})`, async () => {
  const batches: PatientCompartment[][] = [];
  for await (const batch of scanCompartments(h.db, system, { types: TYPES, batchSize: 2 })) batches.push(batch);
  const scanned = batches.flat().filter((c) => ids.includes(c.patient.id));
  assert.deepEqual(scanned.map(shown), ids.map(expected));
  assert.ok(
    batches.every((b) => b.length <= 2),
    'no batch is larger than asked',
  );
  const all = batches.flat().map((c) => c.patient.id);
  assert.deepEqual(all, [...all].sort(), 'patient id order across batches');
  assert.equal(new Set(all).size, all.length, 'no patient twice');
  assert.equal(all.length, await countPatients(h.db));
});

test(`a scan resumes after a given patient (${testEngine})`, async () => {
  const rest: string[] = [];
  for await (const batch of scanCompartments(h.db, system, { types: TYPES, batchSize: 3, after: ids[2]! })) rest.push(...batch.map((c) => c.patient.id));
  assert.deepEqual(
    rest.filter((id) => ids.includes(id)),
    ids.slice(3),
  );
  assert.ok(rest.every((id) => id > ids[2]!));
});

test(`one patient's record read alone; an unknown patient is null (${testEngine})`, async () => {
  const one = await readCompartment(h.db, system, ids[0]!, TYPES);
  assert.equal(one && shown(one), expected(ids[0]!));
  assert.equal(await readCompartment(h.db, system, 'no-such-patient', TYPES), null);
});

test(`a GP may not scan everyone; reads one patient's record only where the access rules let them (${testEngine})`, async () => {
  await assert.rejects(async () => {
    for await (const _ of scanCompartments(h.db, gp, { types: TYPES })) assert.fail('a GP scanned the population');
  }, /only an admin may export the record in bulk/);
  const [z90101] = (await h.db.query<{ id: string }>("SELECT id FROM fhir_token WHERE code = 'general-practitioner:identifier' AND value = 'Z90101' AND id = ANY($1::text[])", [ids])).map((r) => r.id);
  const [z90201] = (await h.db.query<{ id: string }>("SELECT id FROM fhir_token WHERE code = 'general-practitioner:identifier' AND value = 'Z90201' AND id = ANY($1::text[])", [ids])).map((r) => r.id);
  const mine = await readCompartment(h.db, gp, z90101!, TYPES);
  assert.equal(mine?.patient.id, z90101);
  await assert.rejects(readCompartment(h.db, gp, z90201!, TYPES), /no legitimate relationship/);
});
