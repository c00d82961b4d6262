/**
 * The cohort → worklist → action → gap-closed journey (issue 11) in Chromium against a real server on a fresh
 * demo-seeded database: a GP of Norwich City PCN builds a cohort of people with diabetes whose HbA1c is due, saves
 * it, makes a worklist for the care coordinators, marks the patient contacted; an HbA1c of 48 mmol/mol is recorded
 * (FHIR, coded from pcd-ifcchbam_cod) and the follower re-scores the patient, so the worklist shows the gap closed.
 * Screenshots go to test-results/cohorts-*.png (each also checked by axe).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/cohorts.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { nhsNumberFor } from '../../src/demo/synthetic-population.ts';
import { createPatient, eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'gp.cohorts@pcn-hub.example', password: 'a long cohort gp password', name: 'Dr Gwen Cohort' };
const SNOMED = 'http://snomed.info/sct';
/** Diabetes (pcd-dm_cod) and an IFCC HbA1c (pcd-ifcchbam_cod). */
const DIABETES = '111552007';
const HBA1C = '1049321000000109';

let patientId: string;

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: GP.email, name: GP.name, role: 'gp', org: 'Z90101', password: GP.password });
  patientId = await createPatient(server.url, ADMIN, { nhsNumber: nhsNumberFor(700_001), family: 'Hobbs', given: 'Diana', birthDate: '1950-03-01', practiceOds: 'Z90101', problem: 'Knee pain' });
  await fhirPost(server.url, 'Condition', {
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ system: SNOMED, code: DIABETES, display: 'Diabetes mellitus without complication' }] },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: '2018-05-01',
    recordedDate: '2018-05-01',
  });
  // The server's follower scores the new record within seconds.
  await eventually(
    async () => (await server.db.query<{ open_gaps: string[] }>('SELECT open_gaps FROM population_patient WHERE patient_id = $1', [patientId]))[0]?.open_gaps ?? [],
    (gaps) => gaps.includes('diabetes-hba1c'),
    'the follower scores Diana with her HbA1c due',
    30_000,
  );
});

async function fhirPost(url: string, type: string, resource: object): Promise<void> {
  const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  const response = await fetch(`${url}/fhir/${type}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: type, ...resource }),
  });
  assert.equal(response.status, 201, `POST /fhir/${type}: ${await response.clone().text()}`);
}

test('a GP builds a cohort, saves it, makes a worklist, marks a patient contacted, and sees the gap close when the HbA1c is recorded', async () => {
  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, GP);
    await page.getByRole('link', { name: 'Cohorts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Cohorts' }).waitFor();
    await screenshot(page, 'cohorts-1-builder');

    await page.getByLabel('Open care gap').selectOption('diabetes-hba1c');
    await page.getByRole('button', { name: 'Count patients' }).click();
    await page.getByRole('status').filter({ hasText: 'This cohort holds' }).waitFor();
    assert.match((await page.getByRole('status').filter({ hasText: 'This cohort holds' }).textContent()) ?? '', /1 patient\b/);
    await screenshot(page, 'cohorts-2-counted');

    await page.getByLabel('Cohort name').fill('Diabetes: HbA1c due');
    await page.getByRole('button', { name: 'Save cohort' }).click();
    await page.getByRole('cell', { name: 'Diabetes: HbA1c due', exact: true }).waitFor();
    await screenshot(page, 'cohorts-3-saved');

    await page.getByLabel('Worklist name').fill('HbA1c recalls');
    await page.getByLabel('The action it is for').selectOption('diabetes-hba1c');
    await page.getByLabel('Assigned to').selectOption('care-coordinator');
    await page.getByRole('button', { name: 'Make worklist' }).click();
    await page.getByRole('heading', { level: 1, name: 'HbA1c recalls' }).waitFor();
    const row = page.getByRole('row', { name: /HOBBS, Diana/ });
    await row.getByText('Not yet').waitFor();
    assert.equal(await page.getByRole('link', { name: 'HOBBS, Diana' }).getAttribute('href'), `/patients/${patientId}`);
    await screenshot(page, 'cohorts-4-worklist');

    await page.getByLabel('Status of HOBBS, Diana').selectOption('contacted');
    await page.getByLabel('Note about HOBBS, Diana').fill('Rang: booked for a blood test');
    await row.getByRole('button', { name: /Save/ }).click();
    await page.getByText('Contacted: 1').waitFor();
    await screenshot(page, 'cohorts-5-contacted');

    await fhirPost(running.server.url, 'Observation', {
      status: 'final',
      code: { coding: [{ system: SNOMED, code: HBA1C, display: 'Haemoglobin A1c level (monitoring ranges) - IFCC standardised' }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: new Date().toISOString().slice(0, 10),
      valueQuantity: { value: 48, unit: 'mmol/mol', system: 'http://unitsofmeasure.org', code: 'mmol/mol' },
    });
    // The follower re-scores within seconds; the worklist reads the scores whenever it is shown.
    await eventually(
      async () => {
        await page.reload();
        await page.getByRole('heading', { level: 1, name: 'HbA1c recalls' }).waitFor();
        return (await page.getByRole('row', { name: /HOBBS, Diana/ }).textContent()) ?? '';
      },
      (text) => text.includes('Gap closed'),
      'the worklist shows the gap closed',
      30_000,
    );
    await page.getByText('Done on the record: 1 of 1').waitFor();
    assert.equal(await page.getByLabel('Status of HOBBS, Diana').inputValue(), 'contacted', 'the status the coordinator set stays');
    await screenshot(page, 'cohorts-6-gap-closed');
  } finally {
    await context.close();
  }
});
