/**
 * The pipeline from the record to stored, served results, as a user would notice it: a run scores every
 * patient as of its day under the current rules and is audited once; the follower re-scores exactly the
 * patients whose records change, as of today, and after a restart catches up on what changed while it was
 * stopped; the API serves a result only to whoever may open the record; the frailty RiskAssessment is
 * readable over /fhir under the same rules. What the rules find is the rule families' tests' business.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Condition, Observation, OperationOutcome, RiskAssessment } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { auditSince, create, fhirHarness, lastAuditId, matches, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { readCompartments } from '../../fhir-store/index.ts';
import { systemContext } from '../record/index.ts';
import { registryToday } from '../../shared/dates.ts';
import { startServer } from '../../server.ts';
import { FRAILTY_SCORE_EXTENSION, keepPopulationCurrent, RULES_VERSION, runPopulation } from './index.ts';
import type { PopulationResult } from './results.ts';
import { riskAssessmentId } from './risk-assessment.ts';
import { scoredPatientOf } from './facts-store.ts';
import { SCORED_TYPES, storeResults } from './score-patients.ts';
import { storedResult } from './stored-results.ts';

let h: FhirHarness;
let gp: string; // a GP of U90001, whose practices include Z90101
let mine: string; // registered at Z90101
let theirs: string; // registered at Z90201 (U90002)
let third: string;

const condition = (patientId: string): Condition => ({
  resourceType: 'Condition',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '49436004' }] },
  subject: { reference: `Patient/${patientId}` },
  onsetDateTime: '2020-01-01',
});
const observation = (patientId: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '1000731000000107' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: '2025-06-01',
  valueQuantity: { value: 55, system: 'http://unitsofmeasure.org', code: 'mmol/mol' },
});

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: 'dr.pop@u90001.example', name: 'Dr Pop', role: 'gp', org: 'U90001' });
  mine = (await create(h.fhir, patient(nhsNumber(301), 'Z90101', { birthDate: '1940-05-05' }))).id;
  theirs = (await create(h.fhir, patient(nhsNumber(302), 'Z90201', { birthDate: '1941-06-06' }))).id;
  third = (await create(h.fhir, patient(nhsNumber(303), 'Z90101', { birthDate: '1990-07-07' }))).id;
  await create(h.fhir, condition(mine));
  await create(h.fhir, observation(theirs));
});
after(() => h.close());

interface Row {
  patient_id: string;
  rules_version: string;
  as_of: string;
  result: PopulationResult;
}
const stored = async (patientId: string) =>
  (await h.db.query<Row>('SELECT patient_id, rules_version, as_of, result FROM population_result WHERE patient_id = $1', [patientId])).map((r) => ({
    ...r,
    result: typeof r.result === 'string' ? (JSON.parse(r.result) as PopulationResult) : r.result,
  }));
/** The day a patient's result holds as of, as the API and cohorts see it (a run that found it unchanged confirmed it). */
const asOfOf = async (patientId: string) => (await storedResult(h.db, patientId, RULES_VERSION))?.result.asOf;

/** Waits until `check` holds (the follower polls every 20 ms here), failing after a few seconds. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await delay(20);
  }
  assert.fail(`not within 5 s: ${what}`);
}

test(`a run scores every patient as of its day under the current rules, audited as one system operation (${testEngine})`, async () => {
  const auditBefore = await lastAuditId(h);
  const run = await runPopulation(h.db, { asOf: '2026-01-15', batchSize: 2 });
  assert.equal(run.patients, 3);
  for (const id of [mine, theirs, third]) {
    const rows = await stored(id);
    assert.equal(rows.length, 1, `one row for ${id}`);
    assert.equal(rows[0]!.as_of, '2026-01-15');
    assert.equal(rows[0]!.rules_version, RULES_VERSION);
    assert.equal(rows[0]!.result.patientId, id, 'each row holds its own patient’s result');
    assert.equal(rows[0]!.result.asOf, '2026-01-15');
    assert.equal(rows[0]!.result.rulesVersion, RULES_VERSION);
  }
  // The projection cohorts and dashboards read agrees with each stored result.
  const projected = await h.db.query<{ patient_id: string; practice_ods: string; efi_category: string | null; ltc_count: number; rules_version: string }>(
    'SELECT patient_id, practice_ods, efi_category, ltc_count, rules_version FROM population_patient WHERE patient_id = ANY($1::text[]) ORDER BY birth_date',
    [[mine, third]],
  );
  const [mineResult] = await stored(mine);
  const efi = mineResult!.result.efi as { category: string };
  assert.deepEqual(
    projected.map((p) => ({ ...p })),
    [
      { patient_id: mine, practice_ods: 'Z90101', efi_category: efi.category, ltc_count: 1, rules_version: RULES_VERSION },
      { patient_id: third, practice_ods: 'Z90101', efi_category: null, ltc_count: 0, rules_version: RULES_VERSION },
    ],
    'the over-65 with atrial fibrillation has a frailty band and one long-term condition; the 36-year-old has neither',
  );
  const [runRow] = await h.db.query<{ patients: number; finished: boolean }>('SELECT patients, finished_at IS NOT NULL AS finished FROM population_run WHERE id = $1', [run.runId]);
  assert.deepEqual({ ...runRow }, { patients: 3, finished: true });
  const audit = await auditSince(h, auditBefore);
  const [first, ...changes] = audit;
  assert.deepEqual([first?.actor, first?.action], ['system', 'population.run'], 'one audit record for the run, none per patient read');
  assert.match(first!.summary, /as of 2026-01-15/);
  // The two over-65s' frailty RiskAssessments are written as changes: one record per batch that wrote any (2 batches here), never one per patient.
  assert.ok(changes.length >= 1 && changes.length <= 2, `change records: ${changes.length}`);
  assert.ok(changes.every((c) => c.actor === 'system' && c.action === 'fhir.create'));
});

test(`a run refuses a day that is not a calendar day, before reading anything (${testEngine})`, async () => {
  const auditBefore = await lastAuditId(h);
  for (const bad of ['2026-02-30', '15/01/2026', 'today', '']) {
    await assert.rejects(runPopulation(h.db, { asOf: bad }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'invalid');
      assert.match(error.message, /asOf must be a calendar day written YYYY-MM-DD/);
      return true;
    });
  }
  assert.deepEqual(await auditSince(h, auditBefore), []);
});

test(`the follower starts where the last run began reading, re-scores as of today exactly the patients whose records change, and after a restart those changed while it was stopped (${testEngine})`, async () => {
  let today = '2026-03-01';
  const follow = (signal: AbortSignal) => keepPopulationCurrent(h.db, { signal, pollMs: 20, today: () => today });
  // First start, after a run: it begins where the run began reading, so nobody unchanged since is re-scored.
  let stop = new AbortController();
  let following = follow(stop.signal);
  await delay(200);
  for (const id of [mine, theirs, third]) assert.equal(await asOfOf(id), '2026-01-15', 'nothing changed since the run');

  today = '2026-03-02';
  await create(h.fhir, observation(mine));
  await eventually('the changed patient re-scored', async () => (await asOfOf(mine)) === '2026-03-02');
  await delay(100);
  assert.equal(await asOfOf(theirs), '2026-01-15', 'a patient whose record did not change is not re-scored');
  assert.equal(await asOfOf(third), '2026-01-15');
  stop.abort();
  await following;

  // Changes while the follower is stopped: an entry of one patient, the Patient of another.
  today = '2026-03-03';
  await create(h.fhir, condition(theirs));
  const p = await h.fhir<{ id: string; meta?: unknown }>('GET', `/fhir/Patient/${third}`);
  assert.equal((await h.fhir('PUT', `/fhir/Patient/${third}`, { body: { ...p.json, gender: 'female' } })).status, 200);
  await delay(100);
  assert.equal(await asOfOf(theirs), '2026-01-15', 'nothing happens while stopped');
  stop = new AbortController();
  following = follow(stop.signal);
  await eventually('both caught up after the restart', async () => (await asOfOf(theirs)) === '2026-03-03' && (await asOfOf(third)) === '2026-03-03');
  assert.equal(await asOfOf(mine), '2026-03-02', 'a patient not changed since is not re-scored after the restart');

  // A change of a type the rules do not read (an immunisation) re-scores nobody.
  today = '2026-03-04';
  await create(h.fhir, { resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'Flu' }, patient: { reference: `Patient/${mine}` }, occurrenceDateTime: '2025-10-01' });
  await delay(200);
  assert.equal(await asOfOf(mine), '2026-03-02');
  stop.abort();
  await following;

  // A run while the follower is stopped (after a bulk import, say) first brings in the changes the follower has
  // not seen (each patient's facts rebuilt, scored as of the run's day), then scores everyone from the facts kept:
  // on restart the follower has nothing before the run to re-score, and still re-scores a change made after it.
  today = '2026-03-06';
  await create(h.fhir, condition(mine));
  const position = async () => (await h.db.query<{ position: number }>("SELECT position FROM fhir_change_consumer WHERE name = 'population'"))[0]!.position;
  const behind = await position();
  const run = await runPopulation(h.db, { asOf: '2026-03-05' });
  assert.equal(run.builtFacts, false, 'the facts kept since the first run are used, not every record read again');
  const [{ feed_position: runPosition }] = (await h.db.query<{ feed_position: number }>('SELECT feed_position FROM population_run WHERE id = $1', [run.runId])) as [{ feed_position: number }];
  assert.ok((await position()) > behind && (await position()) >= runPosition, 'the run caught the stopped follower up');
  stop = new AbortController();
  following = follow(stop.signal);
  await delay(200);
  assert.equal(await asOfOf(mine), '2026-03-05', 'the patient changed before the run keeps the run’s result, not re-scored as of today');
  await create(h.fhir, condition(theirs));
  await eventually('a change after the run re-scored', async () => (await asOfOf(theirs)) === '2026-03-06');
  stop.abort();
  await following;
});

const api = (url: string, auth: string) => h.app.inject({ method: 'GET', url, headers: { authorization: auth } });

test(`GET /api/population/patients/:id: the result for whoever may open the record (one audited look); 403 with the reason otherwise; 404 without a result (${testEngine})`, async () => {
  await runPopulation(h.db, { asOf: '2026-01-20' });
  const auditBefore = await lastAuditId(h);
  const ok = await api(`/api/population/patients/${mine}`, gp);
  assert.equal(ok.statusCode, 200, ok.body);
  const body = ok.json<PopulationResult & { computedAt: string }>();
  assert.equal(body.patientId, mine);
  assert.equal(body.asOf, '2026-01-20');
  assert.equal(body.rulesVersion, RULES_VERSION);
  for (const key of ['efi', 'smr', 'multimorbidity', 'careGaps', 'computedAt']) assert.ok(key in body, key);
  const looked = await auditSince(h, auditBefore);
  assert.equal(looked.length, 1, 'the look is audited once');
  assert.equal(looked[0]!.actor, 'dr.pop@u90001.example');
  assert.deepEqual(looked[0]!.detail.patients, [mine]);

  const refused = await api(`/api/population/patients/${theirs}`, gp);
  assert.equal(refused.statusCode, 403, refused.body);
  const error = refused.json<{ error: { code: string; message: string } }>().error;
  assert.equal(error.code, 'forbidden');
  assert.match(error.message, /no legitimate relationship/);
  const attempts = (await auditSince(h, auditBefore)).slice(1);
  assert.equal(attempts.length, 1, 'the refused attempt is audited once');
  assert.deepEqual(attempts[0]!.detail.patients, [theirs]);

  const analyst = await h.addUser({ email: 'pop.analyst@icb.example', name: 'Ana Pop', role: 'analyst', org: 'U90001' });
  assert.equal((await api(`/api/population/patients/${mine}`, analyst)).statusCode, 403, 'an analyst sees no patient-level result');

  const unknown = await api('/api/population/patients/no-such-patient', gp);
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'not-found');
  const fresh = (await create(h.fhir, patient(nhsNumber(304), 'Z90101'))).id;
  const none = await api(`/api/population/patients/${fresh}`, gp);
  assert.equal(none.statusCode, 404, none.body);
  assert.match(none.json<{ error: { message: string } }>().error.message, /no population health result yet/);
});

/** A result whose frailty model scored (the shipped rules may or may not score these test patients). */
const scored = (patientId: string, score: number, category: string, entryId: string): PopulationResult => ({
  patientId,
  asOf: '2026-02-01',
  rulesVersion: RULES_VERSION,
  efi: {
    model: 'eFI',
    modelVersion: '2016',
    score,
    category,
    deficits: [{ id: 'd1', name: 'Diabetes', weight: 1, rule: 'code', entries: [{ type: 'Condition', id: entryId }] }],
  },
  smr: { priority: false, reasons: [] },
  multimorbidity: { count: 0, multimorbid: false, complex: false, conditions: [] },
  careGaps: [],
  profile: { careHome: false, housebound: false },
});

test(`the frailty result as a FHIR RiskAssessment: written when it changes, readable by a GP with a relationship, refused to one without (${testEngine})`, async () => {
  const system = await systemContext(h.db, 'test');
  const entry = await create(h.fhir, condition(mine));
  const store = async (results: PopulationResult[]) => {
    const compartments = await readCompartments(
      h.db,
      system,
      results.map((r) => r.patientId),
      SCORED_TYPES,
    );
    await h.db.transaction((tx) => storeResults(tx, system, compartments.map(scoredPatientOf), results));
  };
  await store([scored(mine, 0.25, 'moderate', entry.id), scored(theirs, 0.1, 'fit', entry.id)]);
  const id = riskAssessmentId(mine, 'eFI');
  const read = await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${id}`, { auth: gp });
  assert.equal(read.status, 200, read.text);
  const ra = read.json;
  assert.equal(ra.status, 'final');
  assert.equal(ra.subject?.reference, `Patient/${mine}`);
  assert.equal(ra.occurrenceDateTime, '2026-02-01');
  assert.equal(ra.prediction?.[0]?.qualitativeRisk?.coding?.[0]?.code, 'moderate');
  assert.equal(ra.extension?.find((e) => e.url === FRAILTY_SCORE_EXTENSION)?.valueDecimal, 0.25);
  assert.deepEqual(ra.basis, [{ reference: `Condition/${entry.id}` }]);
  assert.match(ra.method?.text ?? '', /eFI/);
  const search = await h.fhir<import('@medplum/fhirtypes').Bundle>('GET', `/fhir/RiskAssessment?subject=Patient/${mine}`, { auth: gp });
  assert.deepEqual(
    matches(search.json).map((r) => r.id),
    [id],
  );

  const other = await h.fhir<OperationOutcome>('GET', `/fhir/RiskAssessment/${riskAssessmentId(theirs, 'eFI')}`, { auth: gp });
  assert.equal(other.status, 403, 'a GP without a relationship is refused');
  const hidden = await h.fhir<import('@medplum/fhirtypes').Bundle>('GET', `/fhir/RiskAssessment?subject=Patient/${theirs}`, { auth: gp });
  assert.deepEqual(matches(hidden.json), [], 'and finds nothing in a search');

  // The same result again writes nothing; a changed one is a new version; no score any more removes it.
  await store([scored(mine, 0.25, 'moderate', entry.id)]);
  assert.equal((await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${id}`)).json.meta?.versionId, read.json.meta?.versionId);
  await store([scored(mine, 0.39, 'severe', entry.id)]);
  const changed = await h.fhir<RiskAssessment>('GET', `/fhir/RiskAssessment/${id}`);
  assert.notEqual(changed.json.meta?.versionId, read.json.meta?.versionId);
  assert.equal(changed.json.prediction?.[0]?.qualitativeRisk?.coding?.[0]?.code, 'severe');
  await store([{ ...scored(mine, 0, 'fit', entry.id), efi: null }]);
  assert.equal((await h.fhir('GET', `/fhir/RiskAssessment/${id}`)).status, 410);
});

test(`the server keeps scores current: a change to a record is re-scored as of today within seconds (${testEngine})`, async () => {
  await runPopulation(h.db, { asOf: '2026-01-10' });
  const server = await startServer({ db: h.db, logger: false });
  try {
    await create(h.fhir, observation(third));
    const started = Date.now();
    await eventually('re-scored by the server', async () => (await asOfOf(third)) === registryToday());
    assert.ok(Date.now() - started < 5000);
  } finally {
    await server.close();
  }
});

test(`a batch that cannot be stored is tried again, never skipped (${testEngine})`, async () => {
  const today = '2026-05-05';
  const errors: string[] = [];
  const stop = new AbortController();
  await h.db.exec('ALTER TABLE population_result RENAME TO population_result_away');
  let following: Promise<void> | undefined;
  try {
    following = keepPopulationCurrent(h.db, { signal: stop.signal, pollMs: 20, retryMs: 20, today: () => today, onError: (error) => errors.push((error as Error).message) });
    await create(h.fhir, observation(theirs));
    await eventually('the failure reported', async () => errors.length > 0);
  } finally {
    await h.db.exec('ALTER TABLE population_result_away RENAME TO population_result');
  }
  await eventually('the same change scored once the store takes it', async () => (await asOfOf(theirs)) === today);
  stop.abort();
  await following;
  assert.match(errors[0]!, /population_result/);
});
