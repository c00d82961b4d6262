/**
 * Partner organisations as members (issue 13), in a real browser on a fresh demo (the engine chosen by
 * PCN_TEST_ENGINE): the demo's members sign in and land on their role's home; the community pharmacy's
 * clinical pharmacist and the council's social worker find their care-team patients on "My patients" and
 * open their records without breaking glass (the social worker sees the summary and care plan, not the
 * clinical entries, and signs what they add by name); a GP who searches an NHS number outside their PCN is
 * told who the patient is, gives one reason and the record opens. Screenshots: test-results/members-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/members.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, CareTeam, Patient } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { demoMembers, type DemoMember } from '../../src/demo/seed-demo.ts';
import { syntheticPopulation } from '../../src/demo/synthetic-population.ts';
import { importFhir } from '../../src/fhir-store/index.ts';
import { loadRegistry } from '../../src/modules/network/index.ts';
import { systemContext } from '../../src/modules/record/index.ts';
import { eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN_PASSWORD = 'correct horse battery staple';
const DEMO_PASSWORD = 'a long demo members password';
const AREA_NAME = 'Norfolk and Waveney (demo)';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const COUNCIL = 'Norfolk County Council Adult Social Services';

let members: DemoMember[];
/** Frail patients of the demo GP's practice: their care team names the practice, the pharmacy and the council. */
let cared: Patient[];
/** A patient registered in another PCN. */
let away: Patient;

const member = (role: string) => {
  const found = members.find((m) => m.role === role);
  assert.ok(found, `a demo ${role}`);
  return { ...found, password: DEMO_PASSWORD };
};
const patientOf = (bundle: Bundle) => bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
const nhsOf = (patient: Patient) => patient.identifier?.find((i) => i.system === NHS)?.value ?? '';
const banner = (patient: Patient) => `${patient.name?.[0]?.family?.toUpperCase()}, ${patient.name?.[0]?.given?.join(' ')}`;
const spaced = (nhs: string) => `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`;

const running = journeyServer({ adminPassword: ADMIN_PASSWORD, demoMembers: true, demoPassword: DEMO_PASSWORD }, async (server) => {
  const registry = await loadRegistry(server.db);
  members = demoMembers(registry);
  // The demo population's own records (same generator and seed), only those the journeys need.
  const gpPractice = member('gp').org;
  const gpPcn = registry.memberships.find((m) => m.practiceOds === gpPractice && m.endDate === null)?.pcnCode;
  const otherPcn = new Set(registry.memberships.filter((m) => m.endDate === null && m.pcnCode !== gpPcn).map((m) => m.practiceOds));
  const chosen: Bundle[] = [];
  let elsewhere: Bundle | undefined;
  for (const bundle of syntheticPopulation({ ...registry, patients: 4000, seed: 1, asOf: new Date().toISOString().slice(0, 10) })) {
    const practice = patientOf(bundle).generalPractitioner?.[0]?.identifier?.value ?? '';
    const team = bundle.entry?.some((e) => e.resource?.resourceType === 'CareTeam');
    if (practice === gpPractice && team && chosen.length < 3) chosen.push(bundle);
    if (!elsewhere && otherPcn.has(practice)) elsewhere = bundle;
    if (chosen.length === 3 && elsewhere) break;
  }
  assert.equal(chosen.length, 3, 'frail patients at the demo practice');
  assert.ok(elsewhere);
  await importFhir(
    server.db,
    await systemContext(server.db, 'members journeys'),
    [...chosen, elsewhere].map((bundle, i) => ({ label: `patient ${i}`, bundle })),
  );
  const stored = async (nhs: string) => {
    const [row] = await server.db.query<{ id: string }>('SELECT patient_id AS id FROM fhir_patient_nhs_number WHERE nhs_number = $1', [nhs]);
    return row!.id;
  };
  cared = await Promise.all(chosen.map(async (b) => ({ ...patientOf(b), id: await stored(nhsOf(patientOf(b))) })));
  away = { ...patientOf(elsewhere), id: await stored(nhsOf(patientOf(elsewhere))) };
  const team = chosen[0]!.entry?.find((e) => e.resource?.resourceType === 'CareTeam')?.resource as CareTeam;
  assert.deepEqual(
    team.participant?.map((p) => p.member?.identifier?.value),
    [gpPractice, member('clinical-pharmacist').org, member('social-worker').org],
  );
});

const { openPage, signIn } = running;
const text = async (locator: { textContent(): Promise<string | null> }) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const menu = (page: Page) => page.getByRole('navigation', { name: 'Menu' });
const pathOf = (page: Page) => new URL(page.url()).pathname;

/** Signs in as a care-team member, lands on My patients, opens the first frail patient's record from it: no break-glass. */
async function openFromMyPatients(page: Page, who: { email: string; password: string }) {
  await signIn(page, who);
  assert.equal(pathOf(page), '/my-patients');
  await page.getByRole('heading', { level: 1, name: 'My patients' }).waitFor();
  const table = page.getByRole('table', { name: /Patients on a care team with/ });
  await table.waitFor();
  const names = await table.locator('tbody tr th, tbody tr td:first-child').allTextContents();
  for (const patient of cared)
    assert.ok(
      names.some((n) => n.includes(banner(patient))),
      `${banner(patient)} is on My patients: ${names.join(' | ')}`,
    );
  assert.match(await text(page.getByRole('region', { name: 'Inbox' })), /Your inbox is empty/);
  return table;
}

test('M1. the demo pharmacist lands on My patients, finds a care-team patient and opens their record without breaking glass', async () => {
  const { context, page, errors } = await openPage();
  try {
    const table = await openFromMyPatients(page, member('clinical-pharmacist'));
    assert.equal(await menu(page).getByRole('link', { name: 'My patients' }).count(), 1);
    await screenshot(page, 'members-pharmacist-my-patients');
    await table.getByRole('link', { name: banner(cared[0]!) }).click();
    await page.getByRole('heading', { level: 1, name: banner(cared[0]!) }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'You do not have a care relationship with this patient' }).count(), 0);
    assert.equal(await page.getByRole('region', { name: 'Emergency access' }).count(), 0, 'no break-glass');
    assert.match(await text(page.getByRole('region', { name: 'Care team', exact: true })), new RegExp(COUNCIL));
    await screenshot(page, 'members-pharmacist-record');
    const grants = await running.server.db.query('SELECT 1 FROM break_glass_grant');
    assert.equal(grants.length, 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('M2. the demo social worker finds a care-team patient, sees the summary and care plan (not the clinical entries), and signs an entry by name', async () => {
  const { context, page, errors } = await openPage();
  try {
    const social = member('social-worker');
    const table = await openFromMyPatients(page, social);
    assert.match(await text(page.getByRole('navigation', { name: 'Account' })), new RegExp(`Social worker, ${COUNCIL}`));
    await screenshot(page, 'members-social-worker-my-patients');
    await table.getByRole('link', { name: banner(cared[0]!) }).click();
    await page.getByRole('heading', { level: 1, name: banner(cared[0]!) }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Emergency access' }).count(), 0, 'no break-glass');
    await page.getByRole('region', { name: 'Care team', exact: true }).waitFor();
    // Summary and care plan only: no measurements, and no clinical entry on the timeline.
    const timeline = page.getByRole('list', { name: 'Timeline entries, newest first' });
    const types = await timeline.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
    for (const type of types) assert.ok(!['Observation', 'Encounter', 'Procedure'].includes(type ?? ''), `a social worker sees no ${type}`);
    assert.match(await text(page.getByRole('region', { name: 'Measurements and results' })), /No measurements or results are recorded/);

    // What they add is signed with their name, role and the council's name.
    const form = page.getByRole('region', { name: 'Add an entry' });
    assert.match(await text(form.locator('p').first()), new RegExp(`Recorded by ${social.name}, social worker, ${COUNCIL}`));
    await form.getByLabel('Update “What matters to me”').check();
    await form.locator('#entry-answer-0').fill('Staying in my own home with my cat');
    await form.getByRole('button', { name: 'Add entry' }).click();
    const first = timeline.locator('li').first();
    await eventually(
      () => text(first),
      (t) => t.includes('Just added'),
      'the new entry at the top',
    );
    assert.match(await text(first), new RegExp(`${social.name}, social worker, ${COUNCIL}`));
    assert.equal(await first.getAttribute('data-agency'), 'social-care', 'tagged with the council’s kind of agency');
    await screenshot(page, 'members-social-worker-record');

    // Outside their care, an NHS number search gives the plain answer: no one revealed, no break-glass offered.
    await page.goto(`${running.server.url}/patients?by=nhs&nhs=${nhsOf(away)}`);
    await page.getByRole('heading', { name: 'No patients found' }).waitFor();
    assert.doesNotMatch(await text(page.locator('main')), new RegExp(`${away.name?.[0]?.family}|Break glass`, 'i'));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('M3. a GP searches an NHS number outside their PCN, is told who the patient is, breaks glass once and the record opens', async () => {
  const { context, page, errors } = await openPage();
  try {
    const gp = member('gp');
    await signIn(page, gp);
    assert.equal(pathOf(page), '/patients');
    await page.getByRole('heading', { level: 1, name: 'Find a patient' }).waitFor();
    // Their caseload: the frail patients whose care team names their practice.
    const caseload = page.getByRole('table', { name: /Patients on a care team with/ });
    await caseload.waitFor();
    assert.match(await text(caseload), new RegExp(banner(cared[0]!).replace(/[()]/g, '.')));
    await screenshot(page, 'members-gp-home');

    await page.getByRole('textbox', { name: 'NHS number' }).fill(spaced(nhsOf(away)));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'Not one of your patients' }).waitFor();
    const who = await text(page.getByTestId('outside-care'));
    assert.ok(who.startsWith(`${banner(away)}, NHS number ${spaced(nhsOf(away))}, born `), who);
    assert.match(who, /— not one of your patients\.$/);
    await screenshot(page, 'members-gp-outside-care');

    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    await page.locator('#search-reason-error').waitFor();
    await page.getByLabel('Why do you need to see this record?').fill('Patient attending the extended-access clinic, GP record not available');
    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    await page.getByRole('heading', { level: 1, name: banner(away) }).waitFor();
    assert.match(await text(page.getByRole('region', { name: 'Emergency access' })), /You gave this reason: “Patient attending the extended-access clinic/);
    assert.equal(await page.getByLabel('Why do you need to see this record?').count(), 0, 'the reason is asked once');
    await screenshot(page, 'members-gp-break-glass-record');

    const grants = await running.server.db.query<{ reason: string }>('SELECT b.reason FROM break_glass_grant b JOIN app_user u ON u.id = b.user_id WHERE u.email = $1 AND b.patient_id = $2', [
      gp.email,
      away.id,
    ]);
    assert.equal(grants.length, 1, 'one grant, one reason');
    const reveals = await running.server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE actor = $1 AND action = 'record.reveal' AND $2 = ANY(patient_ids)`, [
      gp.email,
      away.id,
    ]);
    assert.equal(reveals[0]!.n, 1, 'showing who the patient is was audited');

    // Back home, the record just opened is listed apart from the care-team patients: "opened recently".
    const recent = page.getByRole('table', { name: 'Patients whose record you opened recently' });
    await eventually(
      async () => {
        await page.goto(`${running.server.url}/`);
        await page.getByRole('table', { name: /Patients on a care team with/ }).waitFor();
        return recent.count();
      },
      (n) => n === 1,
      'the recently opened list',
      8000,
    );
    assert.match(await text(recent), new RegExp(banner(away)));
    await screenshot(page, 'members-gp-recent');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('M4. each role lands on its home, and is offered only the pages it can use', async () => {
  const homes: Array<{ role: string; path: RegExp; heading: RegExp; patients: boolean; audit: boolean }> = [
    { role: 'pcn-manager', path: /^\/pcns\/U\d{5}$/, heading: /PCN$/, patients: false, audit: false },
    { role: 'analyst', path: /^\/$/, heading: new RegExp(`^${AREA_NAME.replace(/[()]/g, '\\$&')}$`), patients: false, audit: false },
    { role: 'ig-lead', path: /^\/audit$/, heading: /^Audit review$/, patients: false, audit: true },
    { role: 'clinical-pharmacist', path: /^\/my-patients$/, heading: /^My patients$/, patients: true, audit: false },
    { role: 'gp', path: /^\/patients$/, heading: /^Find a patient$/, patients: true, audit: false },
  ];
  for (const home of homes) {
    const { context, page, errors } = await openPage();
    try {
      await signIn(page, member(home.role));
      assert.match(pathOf(page), home.path, home.role);
      assert.match(await text(page.locator('main h1').first()), home.heading, home.role);
      assert.equal(
        (await menu(page)
          .getByRole('link', { name: /Patients|Find a patient/ })
          .count()) > 0,
        home.patients,
        `${home.role}: patient pages offered?`,
      );
      assert.equal(await menu(page).getByRole('link', { name: 'Audit review' }).count(), home.audit ? 1 : 0, `${home.role}: audit review offered?`);
      // The logo goes home too.
      await page.getByRole('link', { name: 'NHS PCN Hub homepage' }).click();
      await eventually(
        async () => pathOf(page),
        (p) => home.path.test(p),
        `${home.role} home from the logo`,
      );
      await screenshot(page, `members-home-${home.role}`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
});
