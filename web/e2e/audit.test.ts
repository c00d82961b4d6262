/**
 * The audit in a real browser against a real server: the patient's "who has looked at this record" on
 * their record page, and the IG lead's review of break-glass uses with its CSV export (the admin stands
 * in for the IG lead until that role exists). Screenshots go to test-results/audit-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/audit.test.ts
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { addUser } from '../../src/modules/access/index.ts';
import { nhsNumber, patient } from '../../test/fhir.ts';
import { eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'dr.ng@u90001.example', password: 'a long gp password here', name: 'Dr Ng' };
const VISITOR = { email: 'dr.far@u90002.example', password: 'a long visitor password', name: 'Dr Far' };
const REASON = 'Collapsed in the waiting room, no records to hand';

let alice: Patient & { id: string };
let brian: Patient & { id: string };

async function login(who: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${running.server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who) });
  return ((await response.json()) as { token: string }).token;
}

async function fhir<T>(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`${running.server.url}/fhir/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return (await response.json()) as T;
}

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { ...GP, role: 'clinician', org: 'U90001' });
  await addUser(server.db, { ...VISITOR, role: 'clinician', org: 'U90002' });
  const admin = await login(ADMIN);
  alice = await fhir('POST', 'Patient', admin, patient(nhsNumber(31), 'Z90101', { name: [{ family: 'Audit', given: ['Alice'] }], birthDate: '1950-01-01' }));
  brian = await fhir('POST', 'Patient', admin, patient(nhsNumber(32), 'Z90201', { name: [{ family: 'Audit', given: ['Brian'] }], birthDate: '1960-01-01' }));
  // A clinician of another PCN opens Alice's record with a break-glass reason.
  await fhir('GET', `Patient/${alice.id}`, await login(VISITOR), undefined, { 'x-break-glass-reason': REASON });
});

const { openPage, signIn } = running;
const text = async (locator: { textContent(): Promise<string | null> }) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

test('the GP sees who has looked at Alice’s record — organisation, role, when and why, emergency access first — and no log on a record they may not open', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, GP);
    await page.goto(`${running.server.url}/patients/${alice.id}`);
    const log = page.getByRole('region', { name: 'Who has looked at this record' }).or(page.locator('section.pcn-access-log'));
    await log.getByRole('table').waitFor();
    const rows = await eventually(
      async () => (await log.locator('tbody tr').allTextContents()).map((row) => row.replace(/\s+/g, ' ').trim()),
      (r) => r.length >= 3,
      'the access log rows',
    );
    // Newest first: the GP's own look (this page), the visitor's emergency access, the admin's create.
    assert.match(rows[0]!, /Norwich City PCNclinician.*Direct care/);
    assert.ok(
      rows.some((r) => r.includes('Norwich North PCN') && r.includes(`Emergency access: “${REASON}”`)),
      rows.join('\n'),
    );
    assert.ok(rows.some((r) => /create/.test(r)));
    assert.ok(!(await text(log)).includes(VISITOR.email), 'organisations and roles, not staff emails');
    await screenshot(page, 'audit-access-log');

    await page.goto(`${running.server.url}/patients/${brian.id}`);
    await page.locator('section.pcn-break-glass').waitFor();
    assert.equal(await page.locator('section.pcn-access-log').count(), 0, 'a record the GP may not open shows no access log');
    assert.equal(await page.getByRole('link', { name: 'Audit review' }).count(), 0, 'a clinician has no audit review');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the IG review lists the break-glass use with who, patient and reason, explains the unusual-access threshold, and exports CSV', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    await page.getByRole('link', { name: 'Audit review' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit review' }).waitFor();
    const uses = page.getByRole('table', { name: 'Emergency access (break glass)' });
    const rows = (await uses.locator('tbody tr').allTextContents()).map((row) => row.replace(/\s+/g, ' ').trim());
    assert.equal(rows.length, 1, rows.join('\n'));
    assert.ok(rows[0]!.includes(VISITOR.email) && rows[0]!.includes(alice.id) && rows[0]!.includes(REASON), rows[0]);
    assert.ok(!rows[0]!.includes(GP.email), 'ordinary access is not a break-glass use');
    assert.match(await text(page.locator('main')), /more than 50 different patients in one day/);
    assert.match(await text(page.locator('main')), /No one went over the threshold in this period/);
    await screenshot(page, 'audit-review');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'kind,when,user,organisation,role,patients,reason,action');
    assert.equal(lines.length, 2, csv);
    assert.ok(lines[1]!.startsWith('break-glass,') && lines[1]!.includes(REASON));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
