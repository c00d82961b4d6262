/**
 * Cohorts and worklists (issue 11, "Using it"): each filter matches the patient it should and not the one beside
 * it; deprivation is refused by name; counts under 5 are suppressed for analysts; the pseudonymised export holds no
 * identifier and leaves out the national data opt-out; a list of patients is filtered by the access policy and
 * audited once; a worklist row refuses a stale version with a 409 and shows the gap closed once the record shows it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';
import { demoMembers } from '../../demo/seed-demo.ts';
import { nhsNumberFor } from '../../demo/synthetic-population.ts';
import { NATIONAL_DATA_OPT_OUT } from '../../modules/access/index.ts';
import { loadRegistry } from '../../modules/network/index.ts';
import { ageBand } from '../../modules/population/index.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const AS_OF = '2026-12-04';

type Who = 'gp' | 'coordinator' | 'socialWorker' | 'analyst' | 'elsewhereGp';
let auth: Record<Who, string>;
let practiceA: string;
let practiceB: string;
let pcn: string;
const ids: Record<string, string> = {};
const nhs: Record<string, string> = {};

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, authorization: string, payload?: object) =>
  h.app.inject({ method, url, headers: { authorization }, ...(payload ? { payload } : {}) });

interface Scores {
  practice: string;
  birthDate: string | null;
  efi?: string | null;
  smr?: boolean | null;
  ltc?: number;
  open?: string[];
  closed?: string[];
  careHome?: boolean;
  housebound?: boolean;
  lastContact?: string | null;
  postcode?: string;
}

/** A population_patient row as a run would write it (the projection is this module's own table). */
async function score(patientId: string, s: Scores) {
  await h.db.query(
    `INSERT INTO population_patient (patient_id, rules_version, as_of, practice_ods, birth_date, gender, postcode, efi_category, efi_score, smr_priority, ltc_count,
                                     open_gaps, closed_gaps, care_home, housebound, last_contact)
     VALUES ($1, 'test', $2, $3, $4, 'female', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (patient_id) DO UPDATE SET open_gaps = excluded.open_gaps, closed_gaps = excluded.closed_gaps, smr_priority = excluded.smr_priority`,
    [
      patientId,
      AS_OF,
      s.practice,
      s.birthDate,
      s.postcode ?? 'NR1 1AA',
      s.efi ?? null,
      s.efi ? 0.3 : null,
      s.smr ?? null,
      s.ltc ?? 0,
      s.open ?? [],
      s.closed ?? [],
      s.careHome ?? false,
      s.housebound ?? false,
      s.lastContact ?? null,
    ],
  );
}

async function patient(family: string, index: number, s: Scores) {
  nhs[family] = nhsNumberFor(800_000 + index);
  const created = await call('POST', '/fhir/Patient', h.admin, {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: nhs[family] }],
    name: [{ family, given: ['Ada'] }],
    birthDate: s.birthDate ?? undefined,
    address: [{ postalCode: s.postcode ?? 'NR1 1AA' }],
    generalPractitioner: [{ identifier: { system: ODS, value: s.practice } }],
  });
  assert.equal(created.statusCode, 201, created.body);
  ids[family] = created.json<{ id: string }>().id;
  await score(ids[family], s);
}

const h = apiSuite(async () => {
  const registry = await loadRegistry(h.db);
  const members = demoMembers(registry);
  const gp = members.find((m) => m.role === 'gp')!;
  const social = members.find((m) => m.role === 'social-worker')!;
  practiceA = gp.org!;
  pcn = registry.memberships.find((m) => m.practiceOds === practiceA && m.endDate === null)!.pcnCode;
  practiceB = registry.memberships.find((m) => m.pcnCode === pcn && m.endDate === null && m.practiceOds !== practiceA)!.practiceOds;
  const elsewhere = registry.memberships.find((m) => m.endDate === null && m.pcnCode !== pcn)!;
  auth = {
    gp: await h.addUser({ email: gp.email, name: gp.name, role: 'gp', org: practiceA }),
    coordinator: await h.addUser({ email: 'coordinator.cohorts@pcn-hub.example', name: 'Cara Coordinator', role: 'care-coordinator', org: practiceB }),
    socialWorker: await h.addUser({ email: social.email, name: social.name, role: 'social-worker', org: social.org! }),
    analyst: await h.addUser({ email: 'analyst.cohorts@pcn-hub.example', name: 'Ann Analyst', role: 'analyst' }),
    elsewhereGp: await h.addUser({ email: 'gp.elsewhere@pcn-hub.example', name: 'Dr Else Where', role: 'gp', org: elsewhere.practiceOds }),
  };
  await patient('Alpha', 1, { practice: practiceA, birthDate: '1940-01-01', efi: 'severe', smr: true, ltc: 4, open: ['diabetes-hba1c'], careHome: true, lastContact: '2026-01-10' });
  // 65 on the as-of day exactly: the edge of an age range.
  await patient('Bravo', 2, { practice: practiceA, birthDate: '1961-12-04', efi: 'moderate', smr: false, ltc: 2, closed: ['diabetes-hba1c'], housebound: true, lastContact: '2026-11-01' });
  await patient('Charlie', 3, { practice: practiceB, birthDate: '1990-05-05', efi: null, smr: null, ltc: 0, open: ['hypertension-bp'], lastContact: null });
  await patient('Delta', 4, { practice: elsewhere.practiceOds, birthDate: '1940-01-01', efi: 'severe', smr: true, ltc: 4, open: ['diabetes-hba1c'] });
  await patient('Echo', 5, { practice: practiceA, birthDate: '1945-02-02', efi: 'severe', smr: false, ltc: 1, lastContact: '2026-03-01' });
  // Echo opted out of secondary use: in direct care, out of anything pseudonymised or counted for analysts.
  const consent = await call('POST', '/fhir/Consent', h.admin, {
    resourceType: 'Consent',
    status: 'active',
    patient: { reference: `Patient/${ids.Echo}` },
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    policy: [{ uri: NATIONAL_DATA_OPT_OUT }],
    provision: { type: 'deny' },
  });
  assert.equal(consent.statusCode, 201, consent.body);
  // Six fit patients of practice B, scored only (enough for an unsuppressed count).
  for (let i = 1; i <= 6; i++) await score(`fit-${i}`, { practice: practiceB, birthDate: '1980-01-01', efi: 'fit' });
});

async function save(definition: object, who = auth.gp, name = `cohort ${JSON.stringify(definition)}`) {
  const saved = await call('POST', '/api/population/cohorts', who, { name, definition, pcnCode: pcn });
  assert.equal(saved.statusCode, 201, saved.body);
  return saved.json<{ id: string; version: number; pcnCode: string }>();
}

/** The families a definition lists for the GP (whose PCN holds A and B). */
async function families(definition: object, who = auth.gp): Promise<string[]> {
  const cohort = await save(definition);
  const listed = await call('GET', `/api/population/cohorts/${cohort.id}/patients`, who);
  assert.equal(listed.statusCode, 200, listed.body);
  return listed
    .json<{ patients: Array<{ patient: { name: string } }> }>()
    .patients.map((p) => p.patient.name.split(',')[0]!)
    .sort();
}

test(`each filter lists the patients it should and not those beside them (${testEngine})`, async () => {
  assert.deepEqual(await families({}), ['ALPHA', 'BRAVO', 'CHARLIE', 'ECHO'], 'no filter: the PCN’s scored patients, never another PCN’s');
  assert.deepEqual(await families({ efiCategories: ['severe'] }), ['ALPHA', 'ECHO']);
  assert.deepEqual(await families({ efiCategories: ['moderate', 'mild'] }), ['BRAVO']);
  assert.deepEqual(await families({ smrPriority: true }), ['ALPHA']);
  assert.deepEqual(await families({ openGap: 'diabetes-hba1c' }), ['ALPHA'], 'not Bravo (closed) nor Delta (another PCN)');
  assert.deepEqual(await families({ closedGap: 'diabetes-hba1c' }), ['BRAVO']);
  assert.deepEqual(await families({ minLtcCount: 4 }), ['ALPHA'], 'ltc 4 matches ≥ 4; Bravo’s 2 does not');
  assert.deepEqual(await families({ ageMin: 65, ageMax: 70 }), ['BRAVO'], '65 on the as-of day is in 65–70');
  assert.deepEqual(await families({ ageMin: 66 }), ['ALPHA', 'ECHO'], 'Bravo is 65, not 66');
  assert.deepEqual(await families({ practices: [practiceB] }), ['CHARLIE']);
  assert.deepEqual(await families({ careHome: true }), ['ALPHA']);
  assert.deepEqual(await families({ housebound: true }), ['BRAVO']);
  assert.deepEqual(await families({ lastContactBefore: '2026-06-01' }), ['ALPHA', 'CHARLIE', 'ECHO'], 'no contact on record is before any day; Bravo’s November is not');
  assert.deepEqual(await families({ lastContactAfter: '2026-06-01' }), ['BRAVO']);
});

test('a filter the hub has no data for, or a wrong one, is refused naming it', async () => {
  const deprivation = await call('POST', '/api/population/cohorts/preview', auth.gp, { definition: { deprivationDecile: [1, 2] } });
  assert.equal(deprivation.statusCode, 422);
  assert.deepEqual(deprivation.json(), { error: { code: 'invalid', message: 'deprivation decile: no deprivation data loaded', field: 'definition.deprivationDecile' } });
  const unknownGap = await call('POST', '/api/population/cohorts/preview', auth.gp, { definition: { openGap: 'flu-jab' } });
  assert.equal(unknownGap.statusCode, 422);
  assert.equal(unknownGap.json<{ error: { field: string } }>().error.field, 'definition.openGap');
  const ages = await call('POST', '/api/population/cohorts/preview', auth.gp, { definition: { ageMin: 80, ageMax: 70 } });
  assert.equal(ages.json<{ error: { field: string } }>().error.field, 'definition.ageMax');
  const unknownFilter = await call('POST', '/api/population/cohorts/preview', auth.gp, { definition: { postcodeArea: 'NR' } });
  assert.equal(unknownFilter.statusCode, 422);
  const ok = await call('POST', '/api/population/cohorts/preview', auth.gp, { definition: { efiCategories: ['severe'] } });
  assert.deepEqual(ok.json(), { size: 2, suppressed: false, purpose: 'direct-care' });
});

test('an analyst sees counts only: under 5 suppressed, the opted-out left out; never the patients by name', async () => {
  const severe = await call('POST', '/api/population/cohorts/preview', auth.analyst, { definition: { efiCategories: ['severe'] }, pcnCode: pcn });
  assert.deepEqual(severe.json(), { size: null, suppressed: true, purpose: 'secondary-use' }, 'Alpha alone once Echo’s opt-out is honoured');
  const fit = await call('POST', '/api/population/cohorts/preview', auth.analyst, { definition: { efiCategories: ['fit'] }, pcnCode: pcn });
  assert.deepEqual(fit.json(), { size: 6, suppressed: false, purpose: 'secondary-use' });
  const cohort = await save({ efiCategories: ['fit'] }, auth.analyst);
  assert.equal((await call('GET', `/api/population/cohorts/${cohort.id}/patients`, auth.analyst)).statusCode, 403);
  const read = (await call('GET', `/api/population/cohorts/${cohort.id}`, auth.analyst)).json<{ size: { size: number; trend: Array<{ day: string; size: number }> } }>();
  assert.equal(read.size.size, 6);
  assert.equal(read.size.trend.length, 1, 'one size a day, however often it is counted');
  await call('GET', `/api/population/cohorts/${cohort.id}`, auth.analyst);
  const [kept] = await h.db.query<{ n: number | string }>('SELECT count(*) AS n FROM population_cohort_size WHERE cohort_id = $1', [cohort.id]);
  assert.equal(Number(kept!.n), 1);
});

test('the pseudonymised export holds no identifier, a stable per-cohort pseudonym and age bands, and leaves out the opted-out', async () => {
  const cohort = await save({}, auth.gp, 'everyone');
  const exported = await call('GET', `/api/population/cohorts/${cohort.id}/export?form=pseudonymised`, auth.analyst);
  assert.equal(exported.statusCode, 200, exported.body);
  assert.match(exported.headers['content-type'] as string, /text\/csv/);
  const lines = exported.body.trim().split('\n');
  assert.equal(lines[0], 'pseudonym,age_band,gender,practice,efi_category,efi_score,smr_priority,ltc_count,open_gaps,closed_gaps,care_home,housebound,last_contact_month,as_of');
  assert.equal(lines.length - 1, 9, 'Alpha, Bravo, Charlie and six fit patients; not Echo (opted out), not Delta (another PCN)');
  for (const value of [...Object.values(nhs), 'Alpha', 'ALPHA', 'NR1 1AA', '1940-01-01', '1961-12-04', ...Object.values(ids)]) assert.ok(!exported.body.includes(value), `no ${value}`);
  assert.ok(
    lines.some((l) => l.includes(',85-89,')),
    'Alpha as an age band',
  );
  assert.ok(
    lines.some((l) => l.includes(',65-69,')),
    'Bravo, 65, in 65–69',
  );
  const again = await call('GET', `/api/population/cohorts/${cohort.id}/export?form=pseudonymised`, auth.gp);
  assert.equal(again.body, exported.body, 'the same pseudonyms for the same cohort');
  const other = await save({}, auth.gp, 'everyone again');
  const otherExport = await call('GET', `/api/population/cohorts/${other.id}/export?form=pseudonymised`, auth.gp);
  const pseudonyms = (csv: string) =>
    new Set(
      csv
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
  assert.equal([...pseudonyms(otherExport.body)].filter((p) => pseudonyms(exported.body).has(p)).length, 0, 'another cohort’s pseudonyms do not link');
  // Identifiable for the GP: their patients by NHS number, Echo included (direct care).
  const identifiable = await call('GET', `/api/population/cohorts/${cohort.id}/export`, auth.gp);
  assert.ok(identifiable.body.startsWith('nhs_number,name,birth_date,postcode,'));
  assert.ok(identifiable.body.includes(nhs.Echo!) && identifiable.body.includes(nhs.Alpha!));
  assert.equal((await call('GET', `/api/population/cohorts/${cohort.id}/export?form=identifiable`, auth.analyst)).statusCode, 403);
  const small = await save({ efiCategories: ['severe'] });
  assert.equal((await call('GET', `/api/population/cohorts/${small.id}/export?form=pseudonymised`, auth.analyst)).statusCode, 403, 'one patient after the opt-out: too few');
});

test('a list of patients shows only those the viewer may open, audited once; another PCN’s cohorts are refused', async () => {
  const cohort = await save({ efiCategories: ['severe', 'moderate'] });
  const social = await call('GET', `/api/population/cohorts/${cohort.id}/patients`, auth.socialWorker);
  assert.equal(social.statusCode, 200, social.body);
  assert.deepEqual(social.json<{ patients: unknown[] }>().patients, [], 'a social worker has no relationship with any of them');
  assert.equal((await call('GET', `/api/population/cohorts/${cohort.id}`, auth.elsewhereGp)).statusCode, 403);
  assert.equal((await call('GET', `/api/population/cohorts/${cohort.id}/patients`, auth.elsewhereGp)).statusCode, 403);
  const listed = await call('GET', `/api/population/cohorts/${cohort.id}/patients`, auth.gp);
  const shown = listed.json<{ patients: Array<{ patientId: string }> }>().patients.map((p) => p.patientId);
  const audit = await h.db.query<{ patient_ids: string[] }>(`SELECT patient_ids FROM audit_event WHERE action = 'population.cohort.list' AND entity_id = $1 AND actor = $2`, [
    cohort.id,
    'gp.demo@pcn-hub.example',
  ]);
  assert.equal(audit.length, 1, 'one look, one audit record');
  assert.deepEqual([...audit[0]!.patient_ids].sort(), [...shown].sort());
  assert.deepEqual(shown.sort(), [ids.Alpha, ids.Bravo, ids.Echo].sort());
});

test('only the owner changes a cohort, naming its version; a stale version is a 409', async () => {
  const cohort = await save({ smrPriority: true });
  const changed = await call('PATCH', `/api/population/cohorts/${cohort.id}`, auth.gp, { name: 'SMR due', version: 1 });
  assert.equal(changed.json<{ version: number; name: string }>().version, 2);
  const stale = await call('PATCH', `/api/population/cohorts/${cohort.id}`, auth.gp, { name: 'Other', version: 1 });
  assert.equal(stale.statusCode, 409);
  assert.match(stale.json<{ error: { message: string } }>().error.message, /now at version 2/);
  assert.equal((await call('PATCH', `/api/population/cohorts/${cohort.id}`, auth.coordinator, { name: 'Mine', version: 2 })).statusCode, 403, 'shared to use, not to change');
  const list = (await call('GET', '/api/population/cohorts', auth.coordinator)).json<{ items: Array<{ id: string }> }>();
  assert.ok(
    list.items.some((c) => c.id === cohort.id),
    'shared within the PCN',
  );
  assert.ok(!(await call('GET', '/api/population/cohorts', auth.elsewhereGp)).json<{ items: Array<{ id: string }> }>().items.some((c) => c.id === cohort.id));
  assert.equal((await call('DELETE', `/api/population/cohorts/${cohort.id}`, auth.gp)).statusCode, 204);
  assert.equal((await call('GET', `/api/population/cohorts/${cohort.id}`, auth.gp)).statusCode, 404);
});

test('a worklist: statuses with versions (409 on a stale one), history, progress, and the gap shown closed once the record shows it', async () => {
  const cohort = await save({ openGap: 'diabetes-hba1c' });
  const made = await call('POST', '/api/population/worklists', auth.gp, { cohortId: cohort.id, name: 'HbA1c recalls', purpose: 'diabetes-hba1c', role: 'care-coordinator' });
  assert.equal(made.statusCode, 201, made.body);
  const worklist = made.json<{ id: string; patients: number }>();
  assert.equal(worklist.patients, 1);
  const bad = await call('POST', '/api/population/worklists', auth.gp, { cohortId: cohort.id, name: 'x', purpose: 'diabetes-hba1c', role: 'receptionist' });
  assert.equal(bad.statusCode, 422);
  assert.equal(bad.json<{ error: { field: string } }>().error.field, 'role');
  type View = { progress: Record<string, number>; rows: Array<{ patientId: string; status: string; version: number; action: string }> };
  const view = async (who = auth.coordinator) => (await call('GET', `/api/population/worklists/${worklist.id}`, who)).json<View>();
  const before = await view();
  assert.deepEqual(
    before.rows.map((r) => [r.patientId, r.status, r.version, r.action]),
    [[ids.Alpha, 'to-contact', 1, 'open']],
  );
  const row = `/api/population/worklists/${worklist.id}/patients/${ids.Alpha}`;
  const contacted = await call('PATCH', row, auth.coordinator, { status: 'contacted', note: 'Rang, booked for Tuesday', version: 1 });
  assert.equal(contacted.statusCode, 200, contacted.body);
  assert.equal(contacted.json<{ version: number }>().version, 2);
  const stale = await call('PATCH', row, auth.gp, { status: 'declined', version: 1 });
  assert.equal(stale.statusCode, 409);
  assert.match(stale.json<{ error: { message: string } }>().error.message, /version 2, status contacted/);
  const wrong = await call('PATCH', row, auth.coordinator, { status: 'phoned', version: 2 });
  assert.equal(wrong.statusCode, 422);
  assert.equal(wrong.json<{ error: { field: string } }>().error.field, 'status');
  assert.equal((await call('PATCH', row, auth.socialWorker, { status: 'done', version: 2 })).statusCode, 403, 'no relationship with the patient');
  assert.equal((await view(auth.socialWorker)).rows.length, 0);
  // The record shows the HbA1c: the follower re-scores the patient, and the row shows it at its next read.
  await h.db.query(`UPDATE population_patient SET open_gaps = '{}', closed_gaps = '{diabetes-hba1c}' WHERE patient_id = $1`, [ids.Alpha]);
  const after = await view();
  assert.equal(after.rows[0]!.action, 'closed');
  assert.equal(after.rows[0]!.status, 'contacted');
  assert.deepEqual(after.progress, { 'to-contact': 0, contacted: 1, booked: 0, done: 0, declined: 0, total: 1, actionShown: 1 });
  const history = (await call('GET', `${row}/history`, auth.gp)).json<{ items: Array<{ status: string; updatedBy: string; version: number }> }>();
  assert.deepEqual(
    history.items.map((c) => [c.version, c.status, c.updatedBy]),
    [[2, 'contacted', 'coordinator.cohorts@pcn-hub.example']],
  );
  const listed = (await call('GET', '/api/population/worklists', auth.coordinator)).json<{ items: Array<{ id: string; progress: { actionShown: number } }> }>();
  assert.equal(listed.items.find((w) => w.id === worklist.id)?.progress.actionShown, 1);
  assert.equal((await call('GET', `/api/population/worklists/${worklist.id}`, auth.elsewhereGp)).statusCode, 403);
});

test('a medication review worklist shows the action once the review priority clears, and not before', async () => {
  const cohort = await save({ smrPriority: true, efiCategories: ['severe'] });
  const made = await call('POST', '/api/population/worklists', auth.gp, { cohortId: cohort.id, name: 'SMRs due', purpose: 'smr', role: 'clinical-pharmacist' });
  assert.equal(made.statusCode, 201, made.body);
  const { id } = made.json<{ id: string }>();
  const actions = async () => (await call('GET', `/api/population/worklists/${id}`, auth.gp)).json<{ rows: Array<{ patientId: string; action: string }> }>().rows.map((r) => [r.patientId, r.action]);
  await h.db.query('UPDATE population_patient SET smr_priority = true WHERE patient_id = $1', [ids.Alpha]);
  assert.deepEqual(await actions(), [[ids.Alpha, 'open']]);
  await h.db.query('UPDATE population_patient SET smr_priority = false WHERE patient_id = $1', [ids.Alpha]);
  assert.deepEqual(await actions(), [[ids.Alpha, 'closed']]);
  await h.db.query('UPDATE population_patient SET smr_priority = NULL WHERE patient_id = $1', [ids.Alpha]);
  assert.deepEqual(await actions(), [[ids.Alpha, 'not-applicable']], 'a refused review rule is not shown as done');
});

test('age bands are five years on the as-of day, 90 and over together, unknown without a birth date', () => {
  assert.deepEqual([64, 65, 69, 70, 89, 90, 104, 0, null].map(ageBand), ['60-64', '65-69', '65-69', '70-74', '85-89', '90+', '90+', '0-4', 'unknown']);
});
