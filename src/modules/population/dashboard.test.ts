/**
 * Population dashboards as their users see them, over /api on both engines: hand-worked counts of two practices
 * of U90001; a GP of the PCN (direct care) sees them whole, its manager and an analyst (secondary use) without
 * the patient who opted out and with counts of 1–4 suppressed, secondarily too; another PCN's GP is refused;
 * every view is audited once; the funnel and the monthly trend.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { NATIONAL_DATA_OPT_OUT } from '../access/index.ts';
import { snapshotDashboardMonth } from './dashboard-data.ts';
import type { Dashboard, Funnel, Trends, UnitFigures } from './dashboard.ts';
import { wilsonInterval } from './dashboard-stats.ts';
import { RULES_VERSION } from './rules-version.ts';

let h: FhirHarness;
let gp: string;
let otherGp: string;
let manager: string;
let analyst: string;
let optedOut: string;

interface Row {
  efi: string | null;
  open?: string[];
  closed?: string[];
  smr?: boolean | null;
}

let serial = 0;
/** Rows of the projection as a run writes them (the rules' own tests say what they find; here only the counts matter). */
async function addRows(practice: string, n: number, row: Row, id?: string): Promise<void> {
  const ids = Array.from({ length: n }, () => id ?? `dash-${practice}-${++serial}`);
  await h.db.query(
    `INSERT INTO population_patient (patient_id, rules_version, as_of, practice_ods, efi_category, smr_priority, ltc_count, open_gaps, closed_gaps)
     SELECT id, $2, '2026-12-04', $3, $4, $5, 0, $6::text[], $7::text[] FROM unnest($1::text[]) id`,
    [ids, RULES_VERSION, practice, row.efi, row.smr === undefined ? false : row.smr, row.open ?? [], row.closed ?? []],
  );
}

const run = async (asOf: string) => (await h.db.query<{ id: number }>('INSERT INTO population_run (as_of, rules_version) VALUES ($1, $2) RETURNING id', [asOf, RULES_VERSION]))[0]!.id;
const copd = (open: boolean) => (open ? { open: ['copd-review'] } : { closed: ['copd-review'] });

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: 'dr.dash@u90001.example', name: 'Dr Dash', role: 'gp', org: 'U90001' });
  otherGp = await h.addUser({ email: 'dr.other@u90002.example', name: 'Dr Other', role: 'gp', org: 'U90002' });
  manager = await h.addUser({ email: 'manager@u90001.example', name: 'Manny Ger', role: 'pcn-manager', org: 'U90001' });
  analyst = await h.addUser({ email: 'analyst@q99.example', name: 'Ana Lyst', role: 'analyst' });
  optedOut = (await create(h.fhir, patient(nhsNumber(801), 'Z90101', { birthDate: '1935-01-01' }))).id;
  await create(h.fhir, {
    resourceType: 'Consent',
    status: 'active',
    patient: { reference: `Patient/${optedOut}` },
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    provision: { type: 'deny' },
    policy: [{ uri: NATIONAL_DATA_OPT_OUT }],
  } as Resource);
  // Z90101: 31 aged 65+ — fit 12, mild 9, moderate 5, severe 5 (one of them opted out); COPD 6 open of 20; 7 with review priority.
  await addRows('Z90101', 6, { efi: 'fit', ...copd(true) });
  await addRows('Z90101', 6, { efi: 'fit', ...copd(false) });
  await addRows('Z90101', 8, { efi: 'mild', ...copd(false), smr: true });
  await addRows('Z90101', 1, { efi: 'mild' });
  await addRows('Z90101', 5, { efi: 'moderate' });
  await addRows('Z90101', 4, { efi: 'severe' });
  await addRows('Z90101', 1, { efi: 'severe', smr: null }, optedOut);
  // Z90102: 20 aged 65+ (fit 10, mild 5, moderate 5) and 10 younger; COPD 2 open of 20.
  await addRows('Z90102', 2, { efi: 'fit', ...copd(true) });
  await addRows('Z90102', 8, { efi: 'fit', ...copd(false) });
  await addRows('Z90102', 5, { efi: 'mild', ...copd(false) });
  await addRows('Z90102', 5, { efi: 'moderate', ...copd(false), smr: true });
  await addRows('Z90102', 10, { efi: null });
  // Another PCN's practice, in the area but not in U90001.
  await addRows('Z90201', 40, { efi: 'fit', ...copd(true) });
  await snapshotDashboardMonth(h.db, await run('2026-12-04'), '2026-12-04');
});
after(() => h.close());

const get = async <T>(url: string, auth: string) => {
  const response = await h.app.inject({ method: 'GET', url, headers: { authorization: auth } });
  return { status: response.statusCode, json: response.json<T>() };
};
const unit = (dashboard: Dashboard, code: string): UnitFigures => dashboard.units.find((u) => u.code === code)!;
const gap = (figures: UnitFigures, id = 'copd-review') => figures.gaps.find((g) => g.id === id)!;
const dashboardAudits = async () => (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'population.dashboard'`))[0]!.n;

test('a GP of the PCN sees its practices whole: every patient counted, small counts shown (direct care)', async () => {
  const { status, json } = await get<Dashboard>('/api/population/dashboard?pcn=U90001', gp);
  assert.equal(status, 200);
  assert.equal(json.purpose, 'direct-care');
  assert.equal(json.suppressed, false);
  assert.equal(json.asOf, '2026-12-04', 'the figures are as the latest run left them');
  const a = unit(json, 'Z90101');
  assert.deepEqual(a.frailty, { fit: 12, mild: 9, moderate: 5, severe: 5, refused: 0, aged65: 31 });
  assert.deepEqual(a.smr, { priority: 8, refused: 1 });
  assert.equal(a.patients, 31);
  assert.deepEqual({ open: gap(a).open, denominator: gap(a).denominator, rate: gap(a).rate }, { open: 6, denominator: 20, rate: 0.3 });
  assert.deepEqual(gap(a).interval, wilsonInterval(6, 20));
  assert.deepEqual({ open: gap(unit(json, 'Z90102')).open, rate: gap(unit(json, 'Z90102')).rate }, { open: 2, rate: 0.1 });
  assert.deepEqual(json.total.frailty, { fit: 22, mild: 14, moderate: 10, severe: 5, refused: 0, aged65: 51 });
  assert.equal(json.total.patients, 61);
  assert.deepEqual({ open: gap(json.total).open, denominator: gap(json.total).denominator }, { open: 8, denominator: 40 }, 'Z90201 (U90002) is not in U90001');
  assert.equal(unit(json, 'Z90103').patients, 0, 'a practice without results is there with noughts');
});

test('the PCN manager and an analyst see aggregates for secondary use: the opted-out patient left out, 1–4 suppressed', async () => {
  for (const auth of [manager, analyst]) {
    const { status, json } = await get<Dashboard>('/api/population/dashboard?pcn=U90001', auth);
    assert.equal(status, 200);
    assert.equal(json.purpose, 'secondary-use');
    assert.equal(json.suppressed, true);
    const a = unit(json, 'Z90101');
    assert.equal(a.patients, 30, 'the opted-out patient is not counted');
    assert.equal(a.frailty.severe, null, '4 severe (5 less the opt-out) is suppressed');
    assert.equal(a.frailty.moderate, 5, '5 is shown');
    assert.equal(a.frailty.fit, 12);
    assert.equal(a.smr.refused, 0, 'the one the review rule refused was the opted-out patient');
    const b = gap(unit(json, 'Z90102'));
    assert.deepEqual({ open: b.open, rate: b.rate, interval: b.interval }, { open: null, rate: null, interval: null }, '2 open is suppressed, and so its rate');
    assert.equal(b.denominator, 20);
    assert.equal(gap(a).open, 6);
    const alone = (await get<Dashboard>('/api/population/dashboard?practice=Z90101', auth)).json;
    assert.deepEqual(alone.total, a, 'the practice’s own view hides what its PCN’s view hides, so neither gives the other away');
    const inArea = unit((await get<Dashboard>('/api/population/dashboard?area=Q99', analyst)).json, 'U90001');
    const pcnTotal = json.total;
    assert.deepEqual(inArea, pcnTotal, 'the PCN in the area view is the PCN view’s own total');
    // Secondary suppression: no row or column of a block holds exactly one hidden count.
    const rows = [...json.units, json.total].map((u) => [u.frailty.fit, u.frailty.mild, u.frailty.moderate, u.frailty.severe, u.frailty.refused, u.frailty.aged65]);
    for (const line of [...rows, ...rows[0]!.map((_, c) => rows.map((r) => r[c]))]) assert.notEqual(line.filter((n) => n === null).length, 1, JSON.stringify(line));
    const gapRows = [...json.units, json.total].map((u) => [gap(u).open, gap(u).denominator]);
    assert.notEqual(gapRows.map((r) => r[0]).filter((n) => n === null).length, 1, 'the open column does not give Z90102 away');
  }
});

test('a GP of another PCN is refused the PCN and its practices, and no one but analysts and admins sees the area', async () => {
  const before = await dashboardAudits();
  assert.equal((await get('/api/population/dashboard?pcn=U90001', otherGp)).status, 403);
  assert.equal((await get('/api/population/dashboard?practice=Z90101', otherGp)).status, 403);
  assert.equal((await get('/api/population/dashboard/funnel?pcn=U90001&gap=copd-review', otherGp)).status, 403);
  assert.equal((await get('/api/population/dashboard?area=Q99', gp)).status, 403);
  assert.equal((await get('/api/population/dashboard?area=Q99', manager)).status, 403);
  assert.equal((await get('/api/population/dashboard?practice=Z90201', otherGp)).status, 200, 'their own practice');
  assert.equal(await dashboardAudits(), before + 6, 'each view and each refusal audited once');
  const [denied] = await h.db.query<{ outcome: string; actor: string; entity_id: string }>(
    `SELECT outcome, actor, entity_id FROM audit_event WHERE action = 'population.dashboard' AND outcome = 'denied' ORDER BY id LIMIT 1`,
  );
  assert.deepEqual(denied, { outcome: 'denied', actor: 'dr.other@u90002.example', entity_id: 'U90001' });
});

test('the area ranks its PCNs by a chosen measure, for an analyst', async () => {
  const { status, json } = await get<Dashboard>('/api/population/dashboard?area=Q99&rank=gap:copd-review', analyst);
  assert.equal(status, 200);
  assert.equal(json.units.length, 20);
  assert.deepEqual(
    json.units.slice(0, 2).map((u) => [u.code, gap(u).rate]),
    [
      ['U90002', 1],
      ['U90001', 0.2],
    ],
  );
  assert.equal(json.total.patients, 100, '30 + 30 + 40, the opted-out patient left out');
});

test('the funnel puts each practice against the PCN’s overall rate, with 95 % and 99.8 % limits', async () => {
  const { status, json } = await get<Funnel>('/api/population/dashboard/funnel?pcn=U90001&gap=copd-review', gp);
  assert.equal(status, 200);
  assert.equal(json.centre, 0.2);
  const at20 = json.limits.find((l) => l.denominator === 20)!;
  assert.equal(Math.round(at20.inner.upper * 10_000), 3753, '0.2 + 1.96 × √(0.16/20)');
  const points = Object.fromEntries(json.points.map((p) => [p.code, [p.denominator, p.rate, p.position]]));
  assert.deepEqual(points.Z90101, [20, 0.3, 'within']);
  assert.deepEqual(points.Z90102, [20, 0.1, 'within']);
  const hidden = (await get<Funnel>('/api/population/dashboard/funnel?pcn=U90001&gap=copd-review', analyst)).json;
  assert.deepEqual(
    hidden.points.find((p) => p.code === 'Z90102'),
    { code: 'Z90102', name: hidden.points.find((p) => p.code === 'Z90102')!.name, denominator: null, rate: null, position: null },
    'a point would give its 2 away',
  );
  assert.equal((await get('/api/population/dashboard/funnel?pcn=U90001&gap=no-such-gap', gp)).status, 404);
});

test('the trend has one point a month, the month’s last run replacing an earlier one', async () => {
  await snapshotDashboardMonth(h.db, await run('2026-11-20'), '2026-11-20');
  await addRows('Z90101', 3, { efi: 'severe' });
  await snapshotDashboardMonth(h.db, await run('2026-12-01'), '2026-12-01');
  await addRows('Z90101', 2, { efi: 'severe' });
  await snapshotDashboardMonth(h.db, await run('2026-12-05'), '2026-12-05');
  const { status, json } = await get<Trends>('/api/population/dashboard/trends?practice=Z90101', gp);
  assert.equal((await get<Dashboard>('/api/population/dashboard?practice=Z90101', gp)).json.asOf, '2026-12-05', 'now is the latest run');
  assert.equal((await get<Dashboard>('/api/population/dashboard?practice=Z90101', gp)).json.total.frailty.severe, 10);
  assert.equal(status, 200);
  assert.deepEqual(
    json.months.map((m) => [m.month, m.figures.frailty.severe]),
    [
      ['2026-11', 5],
      ['2026-12', 10],
    ],
  );
  const secondary = (await get<Trends>('/api/population/dashboard/trends?practice=Z90101', analyst)).json;
  assert.deepEqual(
    secondary.months.map((m) => [m.month, m.figures.frailty.severe]),
    [
      ['2026-11', null],
      ['2026-12', 9],
    ],
  );
});

test('the scope is exactly one of practice, pcn or area, and rank names a measure', async () => {
  const none = await get<{ error: { code: string; field?: string } }>('/api/population/dashboard', gp);
  assert.equal(none.status, 422);
  assert.deepEqual(none.json.error, { code: 'invalid', message: 'pcn: name exactly one of practice, pcn or area', field: 'pcn' });
  assert.equal((await get('/api/population/dashboard?pcn=U90001&practice=Z90101', gp)).status, 422);
  assert.equal((await get('/api/population/dashboard?pcn=Z90101', gp)).status, 422, 'a practice code is not a PCN code');
  assert.equal((await get('/api/population/dashboard?area=Q99&rank=gap:nothing', analyst)).status, 422);
  assert.equal((await get('/api/population/dashboard?pcn=U90009', analyst)).status, 200);
  assert.equal((await get('/api/population/dashboard?pcn=U99999', analyst)).status, 404);
});
