/**
 * Population dashboards in a real browser: a GP of U90001 opens their PCN's dashboard and reads the same numbers
 * in its tables as the API gives (the frailty pyramid, the care-gap rates); an analyst's area ranking shows
 * suppressed counts as "<5". Screenshots (checked by axe) go to test-results/dashboard-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/dashboard.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { RULES_VERSION, snapshotDashboardMonth, type Dashboard } from '../../src/modules/population/index.ts';
import { journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'dr.dash@u90001.example', password: 'a long gp password here', name: 'Dr Dash' };
const ANALYST = { email: 'ana@q99.example', password: 'a long analyst password', name: 'Ana Lyst' };

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { ...GP, role: 'gp', org: 'U90001' });
  await addUser(server.db, { ...ANALYST, role: 'analyst' });
  // The projection as a run leaves it: Z90101 with 12 fit, 9 mild, 5 moderate, 3 severe; COPD open for 6 of 20.
  const rows: Array<[string, string | null, string[], string[]]> = [];
  const add = (n: number, practice: string, efi: string | null, open: string[] = [], closed: string[] = []) => {
    for (let i = 0; i < n; i++) rows.push([practice, efi, open, closed]);
  };
  add(6, 'Z90101', 'fit', ['copd-review']);
  add(6, 'Z90101', 'fit', [], ['copd-review']);
  add(9, 'Z90101', 'mild', [], ['copd-review']);
  add(5, 'Z90101', 'moderate');
  add(3, 'Z90101', 'severe');
  add(15, 'Z90102', 'fit', [], ['copd-review']);
  add(5, 'Z90102', 'fit', ['copd-review']);
  for (const [i, [practice, efi, open, closed]] of rows.entries()) {
    await server.db.query(
      `INSERT INTO population_patient (patient_id, rules_version, as_of, practice_ods, efi_category, smr_priority, ltc_count, open_gaps, closed_gaps)
       VALUES ($1, $2, '2026-12-04', $3, $4, false, 0, $5::text[], $6::text[])`,
      [`e2e-${i}`, RULES_VERSION, practice, efi, open, closed],
    );
  }
  const [run] = await server.db.query<{ id: number }>(`INSERT INTO population_run (as_of, rules_version) VALUES ('2026-12-04', $1) RETURNING id`, [RULES_VERSION]);
  await snapshotDashboardMonth(server.db, run!.id, '2026-12-04');
});

const { openPage, signIn } = running;
/** Each body row of the section's table, its cells joined by " | ". */
const cells = async (page: import('playwright-core').Page, section: string) =>
  page
    .getByTestId(section)
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent ?? '').trim()).join(' | ')));

async function apiAs(who: { email: string; password: string }, path: string): Promise<Dashboard> {
  const login = await fetch(`${running.server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who) });
  const { token } = (await login.json()) as { token: string };
  return (await (await fetch(`${running.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Dashboard;
}

test('a GP opens their PCN’s dashboard and its tables say what the API says', async () => {
  const { context, page } = await openPage();
  try {
    await signIn(page, GP);
    await page.goto(`${running.server.url}/dashboards/pcn/U90001`);
    await page.getByRole('heading', { level: 2, name: 'Frailty of patients aged 65 and over' }).waitFor();
    const api = await apiAs(GP, '/api/population/dashboard?pcn=U90001');
    const frailty = await cells(page, 'frailty');
    assert.equal(frailty[0], `Severe frailty | ${api.total.frailty.severe} | ${Math.round((api.total.frailty.severe! / api.total.frailty.aged65!) * 1000) / 10}%`);
    assert.equal(frailty.at(-1), `All aged 65 and over | ${api.total.frailty.aged65} | 100%`);
    assert.equal(api.total.frailty.severe, 3, 'a GP of the PCN sees small counts (direct care)');
    const copd = api.total.gaps.find((g) => g.id === 'copd-review')!;
    const copdRow = (await cells(page, 'gaps')).find((row) => row.includes(copd.name));
    const rate = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 }).format(copd.rate!);
    assert.equal(copdRow?.split(' | ').slice(2, 5).join(' | '), `${copd.open} | ${copd.denominator} | ${rate}`);
    assert.ok(copd.open! >= 11, 'the 11 open of the journey’s rows are in it');
    await page.getByTestId('funnel').getByRole('table').waitFor();
    await screenshot(page, 'dashboard-pcn-gp');
  } finally {
    await context.close();
  }
});

test('an analyst ranks the area’s PCNs; small counts show as <5', async () => {
  const { context, page } = await openPage();
  try {
    await signIn(page, ANALYST);
    await page.goto(`${running.server.url}/dashboards/area/Q99?rank=gap:copd-review`);
    await page.getByRole('heading', { level: 2, name: 'PCNs ranked' }).waitFor();
    const frailty = await cells(page, 'frailty');
    assert.match(frailty[0] ?? '', /^Severe frailty \| <5 \|/, '3 severe is suppressed for an analyst');
    const ranking = await cells(page, 'ranking');
    assert.match(ranking[0] ?? '', /^1 \| /);
    await screenshot(page, 'dashboard-area-analyst');
  } finally {
    await context.close();
  }
});
