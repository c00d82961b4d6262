/**
 * The shared care record in a real browser against a real server (FHIR at /fhir) on a fresh, seeded
 * database (the engine chosen by PCN_TEST_ENGINE). Two patients are made through the FHIR API: one
 * registered in Norwich City PCN (U90001) with entries from four agencies and their "What matters to
 * me", one registered in another PCN. Screenshots go to test-results/record-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/record.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Bundle, Patient, Procedure, Resource } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { addUser } from '../../src/modules/access/index.ts';
import { eventually, journeyServer, screenshot, shotsDir } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const PHARMACIST = { email: 'sam.patel@pcn-hub.example', password: 'a long pharmacist password', name: 'Sam Patel' };
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const AGENCY = 'https://pcn-hub.example/agency';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

let adminToken: string;
let alice: Patient; // registered at Z90101 (Norwich City PCN, U90001)
let brian: Patient; // registered at a practice of U90002
let otherPractice: string;

/** A valid test-range NHS number (Modulus 11) from 9 digits starting 999. */
function nhsNumber(first9: string): string {
  const sum = [...first9].reduce((total, digit, i) => total + Number(digit) * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) throw new Error(`${first9} can never be valid`);
  return `${first9}${check === 11 ? 0 : check}`;
}
const ALICE_NHS = nhsNumber('999731205');
const BRIAN_NHS = nhsNumber('999731212');
const spaced = (n: string) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

async function login(who: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${running.server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who) });
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

async function fhir<T = Resource>(method: string, path: string, body?: unknown, token = adminToken): Promise<T> {
  const response = await fetch(`${running.server.url}/fhir/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  assert.ok(response.ok, `${method} /fhir/${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

const org = (value: string, display: string) => ({ identifier: { system: ODS, value }, display });
const tag = (code: string) => ({ tag: [{ system: AGENCY, code }] });
const OAK_STREET = org('Z90101', 'Oak Street Health Centre');
const PHARMACY = org('FZ991', 'Riverside Pharmacy');
const SOCIAL_CARE = org('XSC01', 'Norfolk County Council Adult Social Care');
const VOLUNTARY = org('XVS01', 'Age UK Norwich');

function bloodPressure(subject: string, date: string, systolic: number, diastolic: number, by = OAK_STREET, agency = 'gp-practice') {
  return {
    resourceType: 'Observation',
    meta: tag(agency),
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: 'Blood pressure' },
    subject: { reference: subject },
    effectiveDateTime: date,
    performer: [by],
    component: [
      {
        code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] },
        valueQuantity: { value: systolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
      {
        code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] },
        valueQuantity: { value: diastolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      },
    ],
  };
}

function quantity(subject: string, code: string, display: string, date: string, value: number, unit: string) {
  return {
    resourceType: 'Observation',
    meta: tag('gp-practice'),
    status: 'final',
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject: { reference: subject },
    effectiveDateTime: date,
    performer: [OAK_STREET],
    valueQuantity: { value, unit },
  };
}

async function seedRecords(): Promise<void> {
  adminToken = await login(ADMIN);
  const [row] = await running.server.db.query<{ practice_ods: string }>(`SELECT practice_ods FROM practice_membership WHERE pcn_code='U90002' AND end_date IS NULL ORDER BY practice_ods LIMIT 1`);
  otherPractice = row!.practice_ods;
  alice = await fhir<Patient>('POST', 'Patient', {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: ALICE_NHS }],
    name: [{ use: 'official', family: 'Smithson', given: ['Alice', 'May'] }],
    gender: 'female',
    birthDate: '1940-02-03',
    address: [{ use: 'home', line: ['12 Elm Hill'], city: 'Norwich', postalCode: 'NR3 1HN' }],
    generalPractitioner: [OAK_STREET],
  });
  brian = await fhir<Patient>('POST', 'Patient', {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: BRIAN_NHS }],
    name: [{ use: 'official', family: 'Blofeld', given: ['Brian'] }],
    gender: 'male',
    birthDate: '1952-11-30',
    address: [{ use: 'home', city: 'Norwich', postalCode: 'NR6 5DR' }],
    generalPractitioner: [org(otherPractice, 'A Norwich North practice')],
  });
  const a = `Patient/${alice.id}`;
  const entries: unknown[] = [
    {
      resourceType: 'Condition',
      meta: tag('gp-practice'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: SNOMED, code: '38341003', display: 'Hypertension' }] },
      subject: { reference: a },
      recordedDate: '2012-04-18',
      recorder: OAK_STREET,
    },
    {
      resourceType: 'Condition',
      meta: tag('gp-practice'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
      code: { coding: [{ system: SNOMED, code: '263102004', display: 'Fracture of wrist' }] },
      subject: { reference: a },
      recordedDate: '2019-09-02',
      recorder: OAK_STREET,
    },
    {
      resourceType: 'Condition',
      meta: tag('gp-practice'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: SNOMED, code: '44054006', display: 'Type 2 diabetes mellitus' }] },
      subject: { reference: a },
      recordedDate: '2016-06-21',
      recorder: OAK_STREET,
    },
    {
      resourceType: 'MedicationRequest',
      meta: tag('gp-practice'),
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'Amlodipine 5mg tablets' },
      subject: { reference: a },
      authoredOn: '2023-03-14',
      requester: OAK_STREET,
      dosageInstruction: [{ text: 'One tablet each morning' }],
    },
    {
      resourceType: 'MedicationRequest',
      meta: tag('gp-practice'),
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'Metformin 500mg tablets' },
      subject: { reference: a },
      authoredOn: '2016-07-01',
      requester: OAK_STREET,
      dosageInstruction: [{ text: 'One tablet twice a day with food' }],
    },
    {
      resourceType: 'AllergyIntolerance',
      meta: tag('gp-practice'),
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: { reference: a },
      code: { coding: [{ system: SNOMED, code: '764146007', display: 'Penicillin' }] },
      criticality: 'high',
      reaction: [{ manifestation: [{ text: 'Rash' }] }],
      recordedDate: '2001-05-05',
      recorder: OAK_STREET,
    },
    bloodPressure(a, '2024-01-15', 162, 94),
    bloodPressure(a, '2024-06-20', 151, 90),
    bloodPressure(a, '2024-12-09', 144, 86),
    bloodPressure(a, '2025-04-02', 139, 84, PHARMACY, 'community-pharmacy'), // the pharmacy's blood pressure check
    bloodPressure(a, '2025-09-17', 134, 80),
    quantity(a, '4548-4', 'HbA1c', '2024-02-01', 62, 'mmol/mol'),
    quantity(a, '4548-4', 'HbA1c', '2024-08-05', 55, 'mmol/mol'),
    quantity(a, '4548-4', 'HbA1c', '2025-03-10', 51, 'mmol/mol'),
    quantity(a, '39156-5', 'Body mass index', '2024-02-01', 31.2, 'kg/m2'),
    quantity(a, '39156-5', 'Body mass index', '2025-03-10', 29.8, 'kg/m2'),
    {
      resourceType: 'Procedure',
      meta: tag('community-pharmacy'),
      status: 'completed',
      code: { coding: [{ system: SNOMED, code: '182836005', display: 'Review of medication' }], text: 'New Medicine Service review' },
      subject: { reference: a },
      performedDateTime: '2025-04-02',
      performer: [{ actor: PHARMACY }],
      note: [{ text: 'Amlodipine started last month; no ankle swelling. Taking it every morning.' }],
    },
    {
      resourceType: 'Encounter',
      meta: tag('social-care'),
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: 'home health' },
      type: [{ text: 'Care and support assessment visit' }],
      subject: { reference: a },
      period: { start: '2025-05-12T10:00:00Z', end: '2025-05-12T11:30:00Z' },
      serviceProvider: SOCIAL_CARE,
      reasonCode: [{ text: 'Struggling with washing and dressing since the fall' }],
    },
    {
      resourceType: 'Encounter',
      meta: tag('voluntary'),
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      type: [{ text: 'Social prescribing link worker conversation' }],
      subject: { reference: a },
      period: { start: '2025-06-03T14:00:00Z' },
      serviceProvider: VOLUNTARY,
    },
    {
      resourceType: 'QuestionnaireResponse',
      meta: tag('voluntary'),
      questionnaire: 'https://pcn-hub.example/Questionnaire/what-matters-to-me',
      status: 'completed',
      subject: { reference: a },
      authored: '2025-06-03',
      author: VOLUNTARY,
      source: { reference: a },
      item: [
        { linkId: 'what-matters', text: 'What matters to me', answer: [{ valueString: 'Staying in my own home with my cat, Biscuit, and getting to my granddaughter’s wedding in June.' }] },
        { linkId: 'help-wanted', text: 'What I would like help with', answer: [{ valueString: 'Getting washed and dressed in the mornings.' }] },
      ],
    },
    {
      resourceType: 'CareTeam',
      meta: tag('gp-practice'),
      status: 'active',
      name: 'Frailty multidisciplinary team',
      subject: { reference: a },
      managingOrganization: [OAK_STREET],
      participant: [
        { member: { display: 'Dr Amelia Okafor' }, role: [{ text: 'GP' }], onBehalfOf: OAK_STREET },
        { member: { display: 'Jo Reed' }, role: [{ text: 'Social worker' }], onBehalfOf: SOCIAL_CARE },
      ],
    },
  ];
  for (const entry of entries) await fhir('POST', (entry as Resource).resourceType, entry);
  // Brian has one entry, so his record is not empty once opened.
  await fhir('POST', 'Condition', {
    resourceType: 'Condition',
    meta: tag('gp-practice'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: SNOMED, code: '195967001', display: 'Asthma' }] },
    subject: { reference: `Patient/${brian.id}` },
    recordedDate: '2010-01-20',
    recorder: org(otherPractice, 'A Norwich North practice'),
  });
}

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: PHARMACIST.email, name: PHARMACIST.name, role: 'clinician', org: 'U90001', password: PHARMACIST.password });
  await seedRecords();
});

const { openPage, signIn } = running;

const text = async (locator: { textContent(): Promise<string | null> }) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

function ageOn(birthDate: string, on = new Date()): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = on.getUTCFullYear() - y;
  if (on.getUTCMonth() + 1 < m || (on.getUTCMonth() + 1 === m && on.getUTCDate() < d)) age -= 1;
  return age;
}

const bannerFact = (page: Page, key: string) => page.locator('.pcn-patient-banner__fact', { has: page.locator('dt', { hasText: new RegExp(`^${key}$`) }) }).locator('dd');

// ---------------------------------------------------------------------------------------------

test('R1. find a patient by NHS number (checked first) and by name and date of birth', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Patients' }).click();
    await page.getByRole('heading', { level: 1, name: 'Find a patient' }).waitFor();

    // A wrong check digit is caught before the server is asked, and said plainly beside the field.
    const wrong = ALICE_NHS.slice(0, 9) + String((Number(ALICE_NHS[9]) + 1) % 10);
    await page.getByRole('textbox', { name: 'NHS number' }).fill(wrong);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#search-nhs-error').waitFor();
    assert.match(await text(page.locator('#search-nhs-error')), /not a valid NHS number.*check digit/);
    assert.equal(await page.locator('.nhsuk-error-summary a[href="#search-nhs"]').count(), 1);
    assert.equal(new URL(page.url()).search, '', 'nothing was searched');
    await page.getByRole('textbox', { name: 'NHS number' }).fill('999 123');
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(
      () => text(page.locator('#search-nhs-error')),
      (t) => /exactly 10 digits; you entered 6/.test(t),
      'the length message',
    );
    await screenshot(page, 'record-search-error');

    await page.getByRole('textbox', { name: 'NHS number' }).fill(spaced(ALICE_NHS));
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: /Patients found for NHS number/ });
    await results.waitFor();
    assert.equal(await text(page.locator('#results-heading')), '1 patient found');
    const row = await results.locator('tbody tr').allTextContents();
    assert.equal(row.length, 1);
    assert.equal(row[0], `SMITHSON, Alice May${spaced(ALICE_NHS)}3 February 1940Oak Street Health Centre (Z90101)`);
    await screenshot(page, 'record-search-nhs');

    // Name and date of birth: the start of the family name is enough.
    await page.getByLabel('Name and date of birth').check();
    await page.getByLabel('Name', { exact: true }).fill('smiths');
    const dob = page.getByRole('group', { name: 'Date of birth' });
    await dob.getByLabel('Day').fill('3');
    await dob.getByLabel('Month').fill('2');
    await dob.getByLabel('Year').fill('1940');
    await page.getByRole('button', { name: 'Search' }).click();
    const byName = page.getByRole('table', { name: /Patients found for “smiths” born 3 February 1940/ });
    await byName.waitFor();
    assert.match(new URL(page.url()).search, /by=name&name=smiths&dob=1940-02-03/);
    await byName.getByRole('link', { name: 'SMITHSON, Alice May' }).click();
    await page.waitForURL(new RegExp(`/patients/${alice.id}$`));
    await page.getByRole('heading', { level: 1, name: 'SMITHSON, Alice May' }).waitFor();

    // Postcode: the first part is enough, and it is normalised.
    await page.goto(`${running.server.url}/patients`);
    await page.getByRole('radio', { name: 'Postcode' }).check();
    await page.getByRole('textbox', { name: 'Postcode' }).fill('nr3');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('table', { name: /Patients found for postcode NR3/ })
      .getByRole('link', { name: 'SMITHSON, Alice May' })
      .waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('R2. the record: what matters first, every agency in one timeline, the blood pressure trend', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    await page.goto(`${running.server.url}/patients/${alice.id}`);
    await page.getByRole('heading', { level: 1, name: 'SMITHSON, Alice May' }).waitFor();

    assert.equal(await text(bannerFact(page, 'NHS number')), spaced(ALICE_NHS));
    assert.equal(await text(bannerFact(page, 'Born')), `3 February 1940 (${ageOn('1940-02-03')} years)`);
    assert.equal(await text(bannerFact(page, 'Gender')), 'Female');
    assert.equal(await text(bannerFact(page, 'Address')), '12 Elm Hill, Norwich, NR3 1HN');
    assert.equal(await text(bannerFact(page, 'Registered practice')), 'Oak Street Health Centre (Z90101)');
    await eventually(
      () => text(bannerFact(page, 'PCN')),
      (t) => t === 'Norwich City PCN (U90001)',
      'the PCN from the registry',
    );

    // "What matters to me" is the first thing after the banner, in the patient's words.
    const headings = (await page.locator('main h2').allTextContents()).map((h) => h.trim());
    assert.equal(headings[0], 'What matters to me', headings.join(' | '));
    const whatMatters = page.getByRole('region', { name: 'What matters to me' });
    assert.match(await text(whatMatters), /Staying in my own home with my cat, Biscuit/);
    assert.match(await text(whatMatters), /Last updated on 3 June 2025 by Age UK Norwich \(XVS01\) Voluntary and community sector/);

    // Problems: active first.
    const problems = await page.getByRole('table', { name: 'Problems, active first' }).locator('tbody tr').allTextContents();
    assert.deepEqual(
      problems.map((p) => p.split(/Active|Resolved/)[0]),
      ['Type 2 diabetes mellitus', 'Hypertension', 'Fracture of wrist'],
    );
    assert.equal(await page.getByRole('table', { name: 'Medicines, current first' }).locator('tbody tr').count(), 2);
    assert.match(await text(page.getByRole('table', { name: 'Allergies and adverse reactions' })), /Penicillin.*Rash.*High/);
    assert.match(await text(page.getByRole('region', { name: 'Care team', exact: true })), /Jo Reed.*Social worker.*Norfolk County Council Adult Social Care/);

    // One timeline, newest first, from every agency, each with its organisation and agency.
    const timeline = page.getByRole('list', { name: 'Timeline entries, newest first' });
    const items = timeline.locator('li');
    const all = await items.count();
    assert.equal(all, 20); // every entry but the care team, which is a standing fact, not an event
    const dates = await timeline.locator('time').evaluateAll((times) => times.map((t) => t.getAttribute('datetime')!.slice(0, 10)));
    assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
    const agencies = new Set(await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-agency'))));
    for (const agency of ['gp-practice', 'community-pharmacy', 'social-care', 'voluntary']) assert.ok(agencies.has(agency), `no ${agency} entry`);
    const allText = await text(timeline);
    for (const who of ['Oak Street Health Centre (Z90101)', 'Riverside Pharmacy (FZ991)', 'Norfolk County Council Adult Social Care (XSC01)', 'Age UK Norwich (XVS01)']) {
      assert.ok(allText.includes(who), `the timeline names ${who}`);
    }
    const social = timeline.locator('li[data-agency="social-care"]');
    assert.match(await text(social), /12 May 2025.*Contact: Care and support assessment visit.*Reason: Struggling with washing.*Norfolk County Council Adult Social Care \(XSC01\) Social care/);

    // The agency filter narrows it to one agency.
    await page.getByLabel('Show entries from').selectOption('community-pharmacy');
    await eventually(
      () => items.count(),
      (n) => n === 2,
      'only the pharmacy’s entries',
    );
    assert.match(await text(items.first()), /2 April 2025/);
    assert.match(await text(timeline), /New Medicine Service review.*Riverside Pharmacy \(FZ991\) Community pharmacy/);
    await page.getByLabel('Show entries from').selectOption('');
    await eventually(
      () => items.count(),
      (n) => n === all,
      'every entry again',
    );

    // The blood pressure trend: two lines (systolic, diastolic), five readings each, with a text alternative.
    const bp = page.getByRole('region', { name: 'Blood pressure' });
    const chart = bp.getByRole('img', { name: 'Blood pressure (mmHg) over time' });
    await chart.waitFor();
    assert.equal(await chart.locator('polyline').count(), 2);
    assert.equal(await chart.locator('[data-series="Systolic"] circle').count(), 5);
    assert.equal(await chart.locator('[data-series="Diastolic"] rect').count(), 5);
    const description = await chart.evaluate((svg) => document.getElementById(svg.getAttribute('aria-describedby')!)?.textContent ?? '');
    assert.match(description, /Systolic: 5 readings from 15 January 2024 to 17 September 2025; lowest 134, highest 162, latest 134 mmHg \(down from 162\)/);
    await bp.getByText('Show the Blood pressure readings as a table').click();
    const readings = await bp.getByRole('table').locator('tbody tr').allTextContents();
    assert.equal(readings[0], '17 September 202513480');
    assert.ok(await page.getByRole('region', { name: 'HbA1c' }).getByRole('img').isVisible());
    assert.ok(await page.getByRole('region', { name: 'Body mass index (BMI)' }).getByRole('img').isVisible());
    await screenshot(page, 'record-patient');
    await chart.screenshot({ path: join(shotsDir, 'record-bp-chart.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('R3. a PCN pharmacist adds a medicines review; it is at the top of the timeline', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, PHARMACIST);
    await page.goto(`${running.server.url}/patients/${alice.id}`);
    await page.getByRole('heading', { level: 1, name: 'SMITHSON, Alice May' }).waitFor();
    const form = page.getByRole('region', { name: 'Add an entry' });
    await eventually(
      () => text(form.locator('p').first()),
      (t) => t === 'Recorded by Sam Patel, clinician (GP), Norwich City PCN (U90001) Primary care network',
      'the author line',
    );

    // Nothing chosen: the summary says so and links to the choice.
    await form.getByRole('button', { name: 'Add entry' }).click();
    await form.locator('#entry-kind-error').waitFor();
    assert.match(await text(form.locator('.nhsuk-error-summary')), /Choose what you are recording/);
    assert.equal(await form.locator('.nhsuk-error-summary a').getAttribute('href'), '#entry-kind');

    await form.getByLabel('Medicines review (pharmacist)').check();
    await form.getByLabel('What did the review find and change?').fill('Structured medication review: stopped aspirin (no indication), metformin continued. Blood pressure at target.');

    // The server's OperationOutcome names an element; its message goes beside the matching field.
    await page.route('**/fhir/Procedure', (route) =>
      route.fulfill({
        status: 422,
        contentType: 'application/fhir+json',
        body: JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'structure', details: { text: 'Invalid dateTime format' }, expression: ['Procedure.performed[x]'] }],
        }),
      }),
    );
    await form.getByRole('button', { name: 'Add entry' }).click();
    await form.locator('#entry-date-error').waitFor();
    assert.equal(await text(form.locator('#entry-date-error')), 'Error: Invalid dateTime format');
    assert.equal(await form.locator('.nhsuk-error-summary a').getAttribute('href'), '#entry-date-day');
    await screenshot(page, 'record-add-entry-error');
    await page.unroute('**/fhir/Procedure');

    await form.getByRole('button', { name: 'Add entry' }).click();
    await page.getByRole('status').filter({ hasText: 'Medicines review added' }).waitFor();
    const first = page.getByRole('list', { name: 'Timeline entries, newest first' }).locator('li').first();
    await eventually(
      () => text(first),
      (t) => t.includes('Just added'),
      'the new entry at the top',
    );
    assert.match(
      await text(first),
      /Procedure or review: Medicines review.*Structured medication review: stopped aspirin.*Sam Patel, clinician \(GP\), Norwich City PCN \(U90001\) Primary care network/,
    );
    assert.equal(await first.getAttribute('data-agency'), 'pcn');
    await screenshot(page, 'record-added-review');

    // What the server holds: SNOMED CT review of medication, authored by the user's organisation, tagged with its agency.
    const bundle = await fhir<Bundle>('GET', `Procedure?subject=Patient/${alice.id}&code=${encodeURIComponent(`${SNOMED}|182836005`)}&_count=50`);
    const reviews = (bundle.entry ?? []).map((e) => e.resource as Procedure).filter((p) => p.performer?.[0]?.actor?.identifier?.value === 'U90001');
    assert.equal(reviews.length, 1);
    assert.equal(reviews[0]!.performer?.[0]?.actor?.display, 'Sam Patel, clinician (GP), Norwich City PCN', 'signed with name, role and organisation');
    assert.deepEqual(
      reviews[0]!.meta?.tag?.map((t) => `${t.system}|${t.code}`),
      [`${AGENCY}|pcn`],
    );
    assert.equal(reviews[0]!.performedDateTime, new Date().toISOString().slice(0, 10));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('R4. another PCN’s patient: refused with the reason, then seen after breaking the glass (audited)', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, PHARMACIST);

    // A name search finds nobody outside the PCN, and says why.
    await page.goto(`${running.server.url}/patients?by=name&name=Blofeld&dob=1952-11-30`);
    await page.getByRole('heading', { name: 'No patients found' }).waitFor();
    assert.match(await text(page.locator('.pcn-search-results')), /registered at practices in your PCN \(U90001\)/);

    await page.goto(`${running.server.url}/patients/${brian.id}`);
    await page.getByRole('heading', { level: 1, name: 'You do not have a care relationship with this patient' }).waitFor();
    assert.match(await text(page.getByTestId('refusal-reason')), /No legitimate relationship: the patient is not registered in U90001/);
    assert.match(await text(page.getByRole('region', { name: /Viewing this record in an emergency is audited/ })), /recorded in the audit log/);

    await page.getByRole('button', { name: 'View in an emergency' }).click();
    await page.locator('#break-glass-reason-error').waitFor();
    assert.match(await text(page.locator('#break-glass-reason-error')), /Enter why you need to see this record/);
    await screenshot(page, 'record-break-glass');

    const reason = 'Patient attending the PCN’s extended-access clinic — chest pain, GP record not available';
    await page.getByLabel('Why do you need to see this record?').fill(reason);
    await page.getByRole('button', { name: 'View in an emergency' }).click();
    await page.getByRole('heading', { level: 1, name: 'BLOFELD, Brian' }).waitFor();
    assert.match(await text(page.getByRole('region', { name: 'Emergency access' })), /You gave this reason: “Patient attending/);
    assert.match(await text(page.getByRole('table', { name: 'Problems, active first' })), /Asthma/);
    await screenshot(page, 'record-emergency-access');

    const audited = await running.server.db.query<{ actor: string; summary: string }>(`SELECT actor, summary FROM audit_event WHERE summary LIKE '%BREAK GLASS%' AND actor = $1`, [PHARMACIST.email]);
    assert.ok(audited.length >= 1, 'a break-glass audit row');
    // The header is Latin-1 only: the curly apostrophe and the dash arrive as ASCII.
    assert.ok(
      audited.some((row) => row.summary.includes("BREAK GLASS: Patient attending the PCN's extended-access clinic - chest pain")),
      JSON.stringify(audited),
    );

    // The glass stays broken for that one patient for 4 hours (the IG lead's review lists it), then closes.
    const [grant] = await running.server.db.query<{ reason: string }>(
      `SELECT b.reason FROM break_glass_grant b JOIN app_user u ON u.id = b.user_id WHERE u.email = $1 AND b.patient_id = $2 AND b.expires_at > now()`,
      [PHARMACIST.email, brian.id],
    );
    assert.match(grant?.reason ?? '', /extended-access clinic/);
    await running.server.db.query("UPDATE break_glass_grant SET expires_at = now() - interval '1 second'");

    // Searching one patient outside the PCN by NHS number says who they are, and one reason opens that one record.
    await page.goto(`${running.server.url}/patients?by=nhs&nhs=${BRIAN_NHS}`);
    await page.getByRole('heading', { name: 'Not one of your patients' }).waitFor();
    assert.match(await text(page.getByTestId('outside-care')), /^BLOFELD, Brian, NHS number .* — not one of your patients\.$/);
    await page.getByLabel('Why do you need to see this record?').fill('Unconscious patient in the clinic, identified by NHS number on a letter');
    await screenshot(page, 'record-search-outside-care');
    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    await page.getByRole('heading', { level: 1, name: 'BLOFELD, Brian' }).waitFor();
    assert.match(await text(page.getByRole('table', { name: 'Problems, active first' })), /Asthma/);
    const searched = await running.server.db.query<{ action: string }>(`SELECT action FROM audit_event WHERE actor = $1 AND summary LIKE '%BREAK GLASS: Unconscious patient%' ORDER BY id`, [
      PHARMACIST.email,
    ]);
    assert.deepEqual([...new Set(searched.map((r) => r.action))], ['fhir.read']);

    // Once the grant has run out, a name search finds nobody outside the PCN, and offers no reason to widen it.
    await running.server.db.query("UPDATE break_glass_grant SET expires_at = now() - interval '1 second'");
    await page.goto(`${running.server.url}/patients?by=name&name=Blofeld&dob=1952-11-30`);
    await page.getByRole('heading', { name: 'No patients found' }).waitFor();
    assert.equal(await page.getByText(/Break glass|not one of your patients/).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
