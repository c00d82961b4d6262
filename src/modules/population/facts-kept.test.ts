/**
 * Runs score from each patient's facts kept beside the record (population_facts) once a run has built them, as a
 * user would notice it: the same results as reading every record; a later day rewrites only the results that say
 * something new, and the others read as of the run's day (ages in cohorts too); a change nobody followed is in the
 * next run; our RiskAssessment removed by someone else comes back; a new facts format is built afresh; a record
 * whose only change is new entries is scored from its facts with them added, as reading it whole would.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, RiskAssessment } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { readChanges, readCompartment } from '../../fhir-store/index.ts';
import { systemContext } from '../record/index.ts';
import { patchedWithNewEntries, patientsChangedBy, scoredPatientOf } from './facts-store.ts';
import { SCORED_TYPES } from './score-patients.ts';
import { RULES_VERSION, runPopulation } from './index.ts';
import type { PopulationResult } from './results.ts';
import { riskAssessmentId } from './risk-assessment.ts';
import { storedResult } from './stored-results.ts';

let h: FhirHarness;
let turning65: string; // 65 on 2026-06-10
let turning70: string; // 70 on 2026-03-01: over 65 on every day here, so their result says the same
let young: string;
let other: string;

const condition = (patientId: string, code: string): Condition => ({
  resourceType: 'Condition',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code }] },
  subject: { reference: `Patient/${patientId}` },
  onsetDateTime: '2020-01-01',
});
const AF = '49436004';
const DIABETES = '44054006';

before(async () => {
  h = await fhirHarness();
  turning65 = (await create(h.fhir, patient(nhsNumber(401), 'Z90101', { birthDate: '1961-06-10' }))).id;
  turning70 = (await create(h.fhir, patient(nhsNumber(402), 'Z90101', { birthDate: '1956-03-01' }))).id;
  young = (await create(h.fhir, patient(nhsNumber(403), 'Z90101', { birthDate: '1990-07-07' }))).id;
  other = (await create(h.fhir, patient(nhsNumber(404), 'Z90101', { birthDate: '1985-01-01' }))).id;
  for (const id of [turning65, turning70]) await create(h.fhir, condition(id, AF));
});
after(() => h.close());

const everyone = () => [turning65, turning70, young, other];
const results = async () => Promise.all(everyone().map(async (id) => (await storedResult(h.db, id, RULES_VERSION))!.result));
const computedAt = async (id: string) => (await h.db.query<{ at: string }>("SELECT to_char(computed_at, 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM population_result WHERE patient_id = $1", [id]))[0]!.at;
const ageInCohorts = async (id: string) =>
  (await h.db.query<{ age: number }>('SELECT extract(year FROM age(as_of, birth_date))::int AS age FROM population_patient_now WHERE patient_id = $1', [id]))[0]!.age;
const ltcCount = async (id: string) => (await storedResult(h.db, id, RULES_VERSION))!.result.multimorbidity.count;

test(`the first run builds the facts from the record; the next scores from them with the same results, writing nothing that says the same (${testEngine})`, async () => {
  const first = await runPopulation(h.db, { asOf: '2026-02-15' });
  assert.equal(first.builtFacts, true);
  const [{ n }] = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM population_facts')) as [{ n: number }];
  assert.equal(n, 4, 'one row of facts a patient');
  const built = await results();
  const written = await Promise.all(everyone().map(computedAt));

  // On worker threads, as a large population is scored.
  const second = await runPopulation(h.db, { asOf: '2026-02-15', threads: 2 });
  assert.equal(second.builtFacts, false, 'the kept facts are used');
  assert.equal(second.patients, 4);
  assert.deepEqual(await results(), built, 'the same results as reading every record');
  assert.deepEqual(await Promise.all(everyone().map(computedAt)), written, 'no result rewritten: each says the same');

  // A new format of facts (a change to the code that makes them): the next run reads every record again.
  await h.db.query("UPDATE population_run SET facts_version = 'an-older-format' WHERE facts_version IS NOT NULL");
  const rebuilt = await runPopulation(h.db, { asOf: '2026-02-15' });
  assert.equal(rebuilt.builtFacts, true);
  assert.deepEqual(await results(), built);
});

test(`a later day rewrites only the results that say something new; the others hold as of the run's day, ages in cohorts included (${testEngine})`, async () => {
  await runPopulation(h.db, { asOf: '2026-02-15' });
  const before65 = (await storedResult(h.db, turning65, RULES_VERSION))!.result;
  assert.equal(before65.efi, null, 'under 65: no frailty score');
  const keptAt = await computedAt(turning70);
  const ra = riskAssessmentId(turning70, 'eFI');
  const raBefore = (await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${ra}`)).json;
  assert.equal(await ageInCohorts(turning70), 69);

  await runPopulation(h.db, { asOf: '2026-06-15', threads: 2 });
  const after65 = (await storedResult(h.db, turning65, RULES_VERSION))!.result;
  assert.notEqual(after65.efi, null, 'now 65: scored, so the result is rewritten');
  assert.equal(after65.asOf, '2026-06-15');
  assert.equal((await h.fhir('GET', `/fhir/RiskAssessment/${riskAssessmentId(turning65, 'eFI')}`)).status, 200, 'and their RiskAssessment written');

  const kept = (await storedResult(h.db, turning70, RULES_VERSION))!.result;
  assert.equal(await computedAt(turning70), keptAt, 'the same result is not written again');
  assert.equal(kept.asOf, '2026-06-15', 'but it holds as of the run’s day');
  assert.equal(await ageInCohorts(turning70), 70, 'a cohort by age counts them at their age on the run’s day');
  const [raw] = await h.db.query<{ as_of: string }>("SELECT to_char(as_of, 'YYYY-MM-DD') AS as_of FROM population_patient WHERE patient_id = $1", [turning70]);
  assert.equal(raw!.as_of, '2026-02-15', 'the row itself was left as it was');
  const raAfter = (await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${ra}`)).json;
  assert.equal(raAfter.meta?.versionId, raBefore.meta?.versionId, 'an assessment that says the same is not a new version each run');
  assert.equal(raAfter.occurrenceDateTime, '2026-02-15');

  // A run as of an earlier day writes the results that day gives, and they read as of it.
  await runPopulation(h.db, { asOf: '2026-02-20' });
  assert.equal((await storedResult(h.db, turning65, RULES_VERSION))!.result.efi, null);
  assert.equal((await storedResult(h.db, turning70, RULES_VERSION))!.result.asOf, '2026-02-20');
  assert.equal(await ageInCohorts(turning70), 69);
});

test(`a change no follower saw is in the next run; changes of our own RiskAssessments re-read nobody, someone else's removal does and it comes back (${testEngine})`, async () => {
  await runPopulation(h.db, { asOf: '2026-03-01' });
  const countBefore = await ltcCount(young);
  await create(h.fhir, condition(young, DIABETES));
  await runPopulation(h.db, { asOf: '2026-03-01' });
  assert.equal(await ltcCount(young), countBefore + 1, 'the new long-term condition is counted');
  assert.equal(await ltcCount(other), 0, 'a patient whose record did not change is as before');

  const ra = riskAssessmentId(turning70, 'eFI');
  const ours = (await readChanges(h.db, { types: ['RiskAssessment'], limit: 1000 })).filter((c) => c.patientId === turning70 || c.patientId === turning65);
  assert.ok(ours.length > 0);
  assert.deepEqual(await patientsChangedBy(h.db, ours), [], 'the versions this module wrote are its own: nobody re-read for them');

  assert.equal((await h.fhir('DELETE', `/fhir/RiskAssessment/${ra}`)).status, 200);
  const removal = (await readChanges(h.db, { types: ['RiskAssessment'], limit: 1000 })).filter((c) => c.id === ra && c.kind === 'delete');
  assert.deepEqual(await patientsChangedBy(h.db, removal), [turning70], 'someone else removed ours: that patient is re-read');
  await runPopulation(h.db, { asOf: '2026-03-01' });
  const back = await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${ra}`);
  assert.equal(back.status, 200, 'written again by the next run');
  assert.ok(((await storedResult(h.db, turning70, RULES_VERSION))!.result as PopulationResult).efi);
});

test(`a record whose only change is new entries is scored from its facts kept with them added: the facts reading it whole makes; an edit reads it whole (${testEngine})`, async () => {
  await runPopulation(h.db, { asOf: '2026-03-01' });
  const from = (await readChanges(h.db, { limit: 100_000 })).at(-1)!.position;
  // One id that sorts before every entry of the record, one after: each must land where reading it whole puts it.
  assert.equal((await h.fhir('PUT', '/fhir/Condition/0-first-entry', { body: { ...condition(other, DIABETES), id: '0-first-entry' } })).json.meta?.versionId, '1');
  await create(h.fhir, condition(other, AF));
  await create(h.fhir, { resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, subject: { reference: `Patient/${other}` } });
  const changes = (await readChanges(h.db, { after: from, limit: 1000 })).filter((c) => c.patientId === other);
  assert.equal(changes.length, 3);
  const context = await systemContext(h.db, 'test');
  const patched = await patchedWithNewEntries(h.db, context, changes, [other]);
  assert.ok(patched.has(other), 'new entries only: patched, not read whole');
  const whole = scoredPatientOf((await readCompartment(h.db, context, other, SCORED_TYPES))!);
  assert.deepEqual(patched.get(other), whole, 'the same facts, in the same order, as reading the record whole');

  // Scored that way by the run's catch-up: both long-term conditions counted.
  await runPopulation(h.db, { asOf: '2026-03-01' });
  assert.equal(await ltcCount(other), 2);

  // An edit of an entry is not a new entry: that record is read whole.
  const since = (await readChanges(h.db, { limit: 100_000 })).at(-1)!.position;
  assert.equal((await h.fhir('PUT', '/fhir/Condition/0-first-entry', { body: { ...condition(other, DIABETES), id: '0-first-entry', onsetDateTime: '2021-01-01' } })).status, 200);
  await create(h.fhir, condition(other, DIABETES));
  const edited = (await readChanges(h.db, { after: since, limit: 1000 })).filter((c) => c.patientId === other);
  assert.equal((await patchedWithNewEntries(h.db, context, edited, [other])).size, 0, 'an edit among the changes: read whole');

  // Facts not built by this code (a run must build them again): nothing is patched.
  const fresh = edited.filter((c) => c.kind === 'create');
  assert.equal((await patchedWithNewEntries(h.db, context, fresh, [other])).size, 1);
  await h.db.query("UPDATE population_run SET facts_version = 'an-older-format' WHERE facts_version IS NOT NULL");
  assert.equal((await patchedWithNewEntries(h.db, context, fresh, [other])).size, 0, 'facts of another format: read whole');
  await runPopulation(h.db, { asOf: '2026-03-01' });
});
