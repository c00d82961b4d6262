/**
 * The MDT journey (issue 12) in Chromium against a real server on a fresh demo-seeded database: a GP of a PCN
 * schedules an MDT, builds its agenda from the PCN's severe-frailty cohort (a patient with 20 eFI deficits on the
 * record, scored severe by the server's follower; a fitter patient of the same practice is not added), records the
 * discussion, an action and a referral to the falls service for the patient, records attendance and closes the meeting;
 * the action is a Task owned by the person named, the referral a ServiceRequest sent with the patient's consent, and the minutes are on the patient's record timeline. Screenshots: test-results/mdt-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/mdt.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { CARE_HOME_EXTENSION } from '../../src/modules/mdt/index.ts';
import { loadRegistry } from '../../src/modules/network/index.ts';
import { nhsNumberFor } from '../../src/demo/synthetic-population.ts';
import { createPatient, eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'gp.mdt@pcn-hub.example', password: 'a long mdt gp password', name: 'Dr Mina Teague' };
const PRACTICE = 'Z90101';
const SNOMED = 'http://snomed.info/sct';

let frailId: string;
let fitId: string;
let token: string;
let homeName: string;
let pcnCode: string;
const MANAGER = { email: 'manager.mdt@pcn-hub.example', password: 'a long pcn manager password', name: 'Morag Manager' };
let sharedHome: { code: string; name: string };

async function fhir(url: string, method: 'GET' | 'POST', path: string, body?: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/fhir/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  assert.ok(response.status < 300, `${method} /fhir/${path}: ${await response.clone().text()}`);
  return (await response.json()) as Record<string, unknown>;
}

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: GP.email, name: GP.name, role: 'gp', org: PRACTICE, password: GP.password });
  const login = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  token = ((await login.json()) as { token: string }).token;
  // Edith lives in a care home of the practice's PCN: her address is the home's, and her record names it.
  const registry = await loadRegistry(server.db);
  const pcn = registry.memberships.find((m) => m.practiceOds === PRACTICE && m.endDate === null)!.pcnCode;
  const home = registry.partners.find((p) => p.type === 'care-home' && registry.pcnPartners.some((l) => l.pcnCode === pcn && l.partnerCode === p.code))!;
  homeName = home.name;
  pcnCode = pcn;
  await addUser(server.db, { email: MANAGER.email, name: MANAGER.name, role: 'pcn-manager', org: pcn, password: MANAGER.password });
  // A care home of another PCN that the registry now links to this PCN too: aligned to neither until one is chosen.
  const other = registry.partners.find((p) => p.type === 'care-home' && !registry.pcnPartners.some((l) => l.pcnCode === pcn && l.partnerCode === p.code))!;
  sharedHome = { code: other.code, name: other.name };
  const linked = await fetch(`${server.url}/api/pcns/${pcn}/partners`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code: other.code, name: other.name, type: 'care-home' }),
  });
  assert.ok(linked.status < 300, await linked.clone().text());
  const edith = await fhir(server.url, 'POST', 'Patient', {
    resourceType: 'Patient',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(700_101) }],
    name: [{ use: 'official', family: 'Marsh', given: ['Edith'] }],
    birthDate: '1934-06-01',
    address: [{ use: 'home', line: [home.name], postalCode: home.postcode! }],
    generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: PRACTICE } }],
    extension: [{ url: CARE_HOME_EXTENSION, valueReference: { identifier: { system: 'https://pcn-hub.example/Id/partner', value: home.code }, display: home.name } }],
  });
  frailId = edith.id as string;
  fitId = await createPatient(server.url, ADMIN, { nhsNumber: nhsNumberFor(700_102), family: 'Quill', given: 'Harold', birthDate: '1940-02-02', practiceOds: PRACTICE, problem: 'Knee pain' });
  // Edith's record holds one code of each of 20 eFI deficits (from the published list): severe frailty.
  const efi = JSON.parse(readFileSync(new URL('../../reference/efi-deficits.json', import.meta.url), 'utf8')) as { deficits: Array<{ snomed: Array<{ code: string; display: string }> }> };
  for (const deficit of efi.deficits.slice(0, 20)) {
    const coding = deficit.snomed[0]!;
    await fhir(server.url, 'POST', 'Condition', {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: SNOMED, code: coding.code, display: coding.display }] },
      subject: { reference: `Patient/${frailId}` },
      onsetDateTime: '2024-05-01',
      recordedDate: '2024-05-01',
    });
  }
  await eventually(
    async () => (await server.db.query<{ efi_category: string | null }>('SELECT efi_category FROM population_patient WHERE patient_id = $1', [frailId]))[0]?.efi_category ?? null,
    (category) => category === 'severe',
    'the follower scores Edith severely frail',
    60_000,
  );
  // The PCN's severe-frailty list, saved by the GP.
  const gpLogin = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(GP) });
  const gpToken = ((await gpLogin.json()) as { token: string }).token;
  const cohort = await fetch(`${server.url}/api/population/cohorts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gpToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Severe frailty', definition: { efiCategories: ['severe'] } }),
  });
  assert.equal(cohort.status, 201, await cohort.clone().text());
});

test('a PCN GP schedules an MDT, builds the agenda from the severe-frailty list, records discussion and an action, closes it: the task exists and the minutes are on the record', async () => {
  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, GP);
    await page.getByRole('link', { name: 'MDT', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'MDT meetings' }).waitFor();
    await page.getByLabel('Title').fill('Frailty MDT');
    await page.getByLabel('Day').fill('10');
    await page.getByLabel('Month').fill('12');
    await page.getByLabel('Year').fill('2026');
    await page.getByLabel('Time').fill('13:30');
    await page.getByLabel('Place or video link').fill('Teams: frailty-mdt');
    await screenshot(page, 'mdt-1-schedule');
    await page.getByRole('button', { name: 'Schedule meeting' }).click();
    await page.getByRole('heading', { level: 1, name: 'Frailty MDT' }).waitFor();

    await page.getByLabel('From a cohort or worklist').selectOption({ label: 'Cohort: Severe frailty' });
    await page.getByRole('button', { name: 'Add the list’s patients' }).click();
    await page.getByRole('status').filter({ hasText: '1 patient(s) added' }).waitFor();
    await page.getByRole('heading', { level: 3, name: /MARSH, Edith/ }).waitFor();
    assert.equal(await page.getByText(/QUILL/).count(), 0, 'a patient outside the list is not on the agenda');
    await screenshot(page, 'mdt-2-agenda');

    await page.getByLabel('Discussion').fill('Two falls since October; lives alone; daughter visits weekly. Agreed: medicines review and falls assessment.');
    await page.getByRole('button', { name: 'Save discussion' }).click();
    await page.getByRole('status').filter({ hasText: 'Discussion saved' }).waitFor();
    await page.getByLabel('What is to be done').fill('Structured medication review for falls risk');
    await page.getByLabel('Owner’s email address').fill('pharmacist.demo@pcn-hub.example');
    await page.getByRole('group', { name: 'Due by' }).getByLabel('Day').fill('20');
    await page.getByRole('group', { name: 'Due by' }).getByLabel('Month').fill('12');
    await page.getByRole('group', { name: 'Due by' }).getByLabel('Year').fill('2026');
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.getByRole('cell', { name: 'Structured medication review for falls risk' }).waitFor();
    // An action can be a referral: to the falls service that covers the PCN, sent with Edith's consent.
    const service = page.getByLabel('Service', { exact: true });
    const falls = await service.locator('option', { hasText: 'Falls prevention' }).first().getAttribute('value');
    assert.ok(falls, 'a falls prevention service covers the PCN');
    await service.selectOption(falls);
    await page.getByLabel('Reason for referral').fill('Falls assessment: two falls since October');
    await page.getByLabel('Urgency').selectOption('urgent');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /consent/i })
      .waitFor();
    await page.getByLabel(/agrees to their information being shared/).check();
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByRole('status').filter({ hasText: 'Referral sent for' }).waitFor();
    await page.getByRole('link', { name: /Referral to Falls prevention.*Falls assessment: two falls since October/ }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Priya Shah');
    await page.getByLabel('Organisation', { exact: true }).fill('Community pharmacy');
    await page.getByLabel('Role', { exact: true }).fill('Clinical pharmacist');
    await page.getByRole('button', { name: 'Record attendance' }).click();
    await page.getByRole('cell', { name: 'Priya Shah' }).waitFor();
    await screenshot(page, 'mdt-3-discussed');

    await page.getByRole('button', { name: 'Close meeting and write the minutes' }).click();
    await page.getByRole('status').filter({ hasText: 'The minutes are on 1 patient record(s)' }).waitFor();
    await page.getByRole('heading', { level: 4, name: 'Minutes' }).waitFor();
    await screenshot(page, 'mdt-4-closed');

    const tasks = await fhir(running.server.url, 'GET', `Task?patient=Patient/${frailId}&code=${encodeURIComponent('https://pcn-hub.example/CodeSystem/task-kind|mdt-action')}`);
    const task = (tasks.entry as Array<{ resource: { description: string; owner: { identifier: { value: string } }; restriction: { period: { end: string } } } }>)[0]!.resource;
    assert.equal(task.description, 'Structured medication review for falls risk');
    assert.equal(task.owner.identifier.value, 'pharmacist.demo@pcn-hub.example');
    assert.equal(task.restriction.period.end, '2026-12-20');
    const referrals = await fhir(running.server.url, 'GET', `ServiceRequest?patient=Patient/${frailId}`);
    const referral = (referrals.entry as Array<{ resource: { priority: string; reasonCode: Array<{ text: string }>; identifier: Array<{ system: string }> } }>)[0]!.resource;
    assert.equal(referral.priority, 'urgent');
    assert.equal(referral.reasonCode[0]!.text, 'Falls assessment: two falls since October');
    assert.ok(referral.identifier.some((i) => i.system === 'https://fhir.nhs.uk/Id/UBRN'));
    assert.equal(((await fhir(running.server.url, 'GET', `ServiceRequest?patient=Patient/${fitId}`)).entry as unknown[] | undefined)?.length ?? 0, 0);
    const fitTasks = await fhir(running.server.url, 'GET', `Task?patient=Patient/${fitId}`);
    assert.equal((fitTasks.entry as unknown[] | undefined)?.length ?? 0, 0);

    await page.getByRole('link', { name: 'MARSH, Edith' }).click();
    const entry = page.locator('.pcn-timeline__item', { hasText: 'MDT discussion: Frailty MDT' });
    await entry.waitFor();
    assert.match((await entry.textContent()) ?? '', /Two falls since October/);
    assert.match((await entry.textContent()) ?? '', /Structured medication review for falls risk/);
    await entry.scrollIntoViewIfNeeded();
    await screenshot(page, 'mdt-5-minutes-on-record');
    await entry.screenshot({ path: 'test-results/mdt-5-timeline-entry.png' });

    // Her care home: she is a resident, due on this week's round because of her severe frailty.
    await page.getByRole('link', { name: 'Care homes' }).click();
    await page.getByRole('link', { name: homeName }).click();
    await page.getByRole('heading', { level: 1, name: homeName }).waitFor();
    const due = page.getByRole('table', { name: 'Due a review this week' }).getByRole('row', { name: /MARSH, Edith/ });
    assert.match((await due.textContent()) ?? '', /severe frailty/);
    assert.equal(await page.getByText(/QUILL/).count(), 0, 'Harold does not live there');
    await screenshot(page, 'mdt-6-care-home');
  } finally {
    await context.close();
  }
});

test('a care home linked to two PCNs waits to be aligned: the PCN manager aligns it to theirs; a GP cannot', async () => {
  const gp = await running.openPage();
  try {
    await running.signIn(gp.page, GP);
    await gp.page.goto(`${running.server.url}/care-homes/${encodeURIComponent(sharedHome.code)}`);
    await gp.page.getByRole('heading', { level: 1, name: sharedHome.name }).waitFor();
    await gp.page.getByText('Its PCN’s manager aligns it to one of them').waitFor();
    assert.equal(await gp.page.getByRole('button', { name: 'Align the home' }).count(), 0, 'a GP does not change the network');
  } finally {
    await gp.context.close();
  }
  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, MANAGER);
    await page.goto(`${running.server.url}/care-homes`);
    const waiting = page.locator('.nhsuk-warning-callout', { hasText: 'Waiting to be aligned' });
    await waiting.getByRole('link', { name: sharedHome.name }).waitFor();
    assert.equal(await page.getByRole('table', { name: 'Care homes' }).getByText(sharedHome.name).count(), 0, 'not listed as ours yet');
    await screenshot(page, 'mdt-7-care-home-waiting');
    await waiting.getByRole('link', { name: sharedHome.name }).click();
    await page.getByLabel('Align this home to').selectOption(pcnCode);
    await page.getByRole('button', { name: 'Align the home' }).click();
    await page.getByText(/Aligned to (?!no PCN yet)/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Align the home' }).count(), 0, 'aligned once, to one PCN');
    await page.goto(`${running.server.url}/care-homes`);
    await page.getByRole('table', { name: 'Care homes' }).getByRole('link', { name: sharedHome.name }).waitFor();
    assert.equal(await page.locator('.nhsuk-warning-callout', { hasText: 'Waiting to be aligned' }).count(), 0);
    await screenshot(page, 'mdt-8-care-home-aligned');
  } finally {
    await context.close();
  }
});
