/**
 * The service directory journey (issue 12) in Chromium against a real server on a fresh demo-seeded database: a
 * GP of Great Yarmouth and Northern Villages PCN opens Services, finds a falls prevention service covering their
 * PCN (and Pharmacy First near Great Yarmouth, nearest first), opens it and sees its figures — computed by the
 * server's change-feed follower from the service's own referrals (made here as FHIR ServiceRequest + Task) — and
 * the "Refer a patient" link to the referral form. Screenshots go to test-results/directory-*.png (each checked by axe).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/directory.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { nhsNumberFor } from '../../src/demo/synthetic-population.ts';
import { createPatient, eventually, journeyServer, PHONE, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'gp.directory@pcn-hub.example', password: 'a long directory gp password', name: 'Dr Dana Yarmouth' };
const THERAPIST = { email: 'falls.lead@pcn-hub.example', password: 'a long falls lead password', name: 'Fran Falls' };
const FALLS = 'service-falls-prevention-rz5';
const HOUR = 3_600_000;
let patientId: string;

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: GP.email, name: GP.name, role: 'gp', org: 'Z90401', password: GP.password });
  await addUser(server.db, { email: THERAPIST.email, name: THERAPIST.name, role: 'first-contact-practitioner', org: 'RZ5', password: THERAPIST.password });
  patientId = await createPatient(server.url, ADMIN, {
    nhsNumber: nhsNumberFor(700_101),
    family: 'Fairweather',
    given: 'Iris',
    birthDate: '1941-06-12',
    practiceOds: 'Z90401',
    problem: 'Falls',
  });
  const login = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  const post = async (type: string, resource: object) => {
    const response = await fetch(`${server.url}/fhir/${type}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: type, ...resource }),
    });
    assert.equal(response.status, 201, `POST /fhir/${type}: ${await response.clone().text()}`);
    return (await response.json()) as { id: string };
  };
  // Three referrals to the falls service: accepted after 3 and 5 hours, and one rejected.
  const sent = Date.now() - 10 * 24 * HOUR;
  for (const [status, acceptedAfter] of [
    ['accepted', 3],
    ['in-progress', 5],
    ['rejected', null],
  ] as const) {
    const request = await post('ServiceRequest', {
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${patientId}` },
      authoredOn: new Date(sent).toISOString(),
      performer: [{ reference: `HealthcareService/${FALLS}`, display: 'Falls prevention service' }, { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RZ5' } }],
      reasonCode: [{ text: 'Two falls since the summer' }],
    });
    await post('Task', {
      status,
      intent: 'order',
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
      focus: { reference: `ServiceRequest/${request.id}` },
      basedOn: [{ reference: `ServiceRequest/${request.id}` }],
      for: { reference: `Patient/${patientId}` },
      authoredOn: new Date(sent).toISOString(),
      owner: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RZ5' } },
      ...(acceptedAfter === null ? { statusReason: { text: 'Seen by the practice nurse instead' } } : { executionPeriod: { start: new Date(sent + acceptedAfter * HOUR).toISOString() } }),
    });
  }
  // The server's follower counts them within seconds.
  await eventually(
    async () => (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_referral WHERE service_id = $1', [FALLS]))[0]?.n ?? 0,
    (n) => n === 3,
    'the directory follower counts the falls referrals',
    30_000,
  );
});

test('a GP finds a falls prevention service covering their PCN, opens it and sees its figures', async () => {
  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, GP);
    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByRole('heading', { level: 1, name: 'Find a service' }).waitFor();
    await page.getByRole('heading', { level: 2, name: /services found/ }).waitFor();
    await screenshot(page, 'directory-1-all-services');

    await page.getByLabel('Need').selectOption('pharmacy-first');
    await page.getByLabel('Near (town, postcode or district)').fill('Great Yarmouth');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 2, name: /nearest to Great Yarmouth first/ }).waitFor();
    const first = (await page.locator('.pcn-service-card').first().textContent()) ?? '';
    assert.match(first, /km away/);
    await page.getByTestId('services-map').locator('.pcn-service').first().waitFor();
    await screenshot(page, 'directory-2-pharmacy-near-yarmouth');

    await page.getByLabel('Need').selectOption('falls-prevention');
    await page.getByLabel('PCN covered').selectOption('U90004');
    await page.getByLabel('Near (town, postcode or district)').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 2, name: '1 service found' }).waitFor();
    assert.match(new URL(page.url()).search, /need=falls-prevention&pcn=U90004/);
    await screenshot(page, 'directory-3-falls-for-pcn');

    await page.getByRole('link', { name: 'Falls prevention service (community therapy)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Falls prevention service (community therapy)' }).waitFor();
    const figures = page.locator('dl').first();
    await figures.getByText('4 hours').waitFor();
    await figures.getByText('67% (2 accepted, 1 rejected)').waitFor();
    await figures.getByText('2 of 120').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Refer a patient' }).getAttribute('href'), `/referrals/new?service=${FALLS}`);
    await page.getByRole('link', { name: 'Great Yarmouth and Northern Villages PCN' }).waitFor();
    await screenshot(page, 'directory-4-falls-service');

    // On a phone the page reflows (the screenshot checks nothing scrolls sideways), the results and map too.
    await page.setViewportSize(PHONE);
    await screenshot(page, 'directory-5-falls-service-phone');
    await page.getByRole('link', { name: 'Find a service' }).first().click();
    await page.getByRole('heading', { level: 2, name: /services found/ }).waitFor();
    await screenshot(page, 'directory-6-search-phone');

    // Opened to refer one patient, the directory carries the patient to the referral form's link.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${running.server.url}/services?patient=${patientId}&need=falls-prevention`);
    await page.getByRole('link', { name: 'Falls prevention service (community therapy)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Falls prevention service (community therapy)' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Refer a patient' }).getAttribute('href'), `/referrals/new?patient=${patientId}&service=${FALLS}`);
  } finally {
    await context.close();
  }
});

test('the community trust keeps its falls service’s entry current: it pauses referrals, and GPs see it is not taking them', async () => {
  const gp = await running.openPage();
  try {
    await running.signIn(gp.page, GP);
    await gp.page.goto(`${running.server.url}/services/${FALLS}`);
    await gp.page.getByRole('link', { name: 'Refer a patient' }).waitFor();
    assert.equal(await gp.page.getByText('Keep this service’s entry up to date').count(), 0, 'a GP does not edit another organisation’s service');
  } finally {
    await gp.context.close();
  }
  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, THERAPIST);
    await page.goto(`${running.server.url}/services/${FALLS}`);
    await page.getByText('Keep this service’s entry up to date').click();
    await page.getByLabel('Capacity').fill('lots');
    await page.getByRole('button', { name: 'Save the entry' }).click();
    await page.getByRole('alert').getByText('Capacity is a whole number of open referrals, or blank').waitFor();
    await page.getByLabel('Capacity').fill('90');
    await page.getByLabel('Taking referrals').uncheck();
    await page.getByLabel('When it is closed').fill('Paused until 4 January: staff shortage');
    await screenshot(page, 'directory-7-provider-edits');
    await page.getByRole('button', { name: 'Save the entry' }).click();
    await page.getByRole('status').filter({ hasText: 'The service’s entry is saved.' }).waitFor();
    await page.getByText('Not taking referrals').waitFor();
    await page.getByText('2 of 90').waitFor();
  } finally {
    await context.close();
  }
  const back = await running.openPage();
  try {
    await running.signIn(back.page, GP);
    await back.page.goto(`${running.server.url}/services/${FALLS}`);
    await back.page.getByText('Not taking referrals').waitFor();
    await back.page.getByText('Closed: Paused until 4 January: staff shortage').waitFor();
    assert.equal(await back.page.getByRole('link', { name: 'Refer a patient' }).count(), 0, 'no referring to a paused service');
    await screenshot(back.page, 'directory-8-paused-for-gp');
  } finally {
    await back.context.close();
  }
});
