/**
 * Referrals (issue 12) in Chromium against a real server on a fresh demo-seeded database:
 * 1. A GP of Oak Street (Norwich City PCN) refers a patient to social prescribing (Norwich Community Connectors);
 *    the link worker sees it in their inbox, accepts, starts and completes it with an outcome; the GP sees the
 *    outcome on the referral and on the patient's record (its timeline).
 * 2. The practice refers to its community pharmacy for an urgent repeat medicine; the pharmacist completes it and
 *    the outcome comes back to the practice.
 * Screenshots go to test-results/referrals-*.png (each also checked by axe).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/referrals.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { addUser } from '../../src/modules/access/index.ts';
import { nhsNumberFor } from '../../src/demo/synthetic-population.ts';
import { createPatient, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'gp.referrals@pcn-hub.example', password: 'a long referrals gp password', name: 'Dr Rhea Ferral' };
const LINK_WORKER = { email: 'link.referrals@pcn-hub.example', password: 'a long link worker password', name: 'Lee Linkworker' };
const PHARMACIST = { email: 'pharmacist.referrals@pcn-hub.example', password: 'a long pharmacist password', name: 'Phil Pharmacist' };

let patientId: string;

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: GP.email, name: GP.name, role: 'gp', org: 'Z90101', password: GP.password });
  await addUser(server.db, { email: LINK_WORKER.email, name: LINK_WORKER.name, role: 'social-prescribing-link-worker', org: 'VCS-NORWICH', password: LINK_WORKER.password });
  await addUser(server.db, { email: PHARMACIST.email, name: PHARMACIST.name, role: 'clinical-pharmacist', org: 'FZ011', password: PHARMACIST.password });
  patientId = await createPatient(server.url, ADMIN, { nhsNumber: nhsNumberFor(800_001), family: 'Lonsdale', given: 'Edith', birthDate: '1941-07-12', practiceOds: 'Z90101', problem: 'Loneliness' });
});

/** Signs in as `who` in a fresh browser context; returns the page and a way to close it. */
async function as(who: { email: string; password: string }): Promise<{ page: Page; close: () => Promise<void> }> {
  const { page, context } = await running.openPage();
  await running.signIn(page, who);
  return { page, close: () => context.close() };
}

/** The GP refers Edith from her record; answers the new referral's id. */
async function refer(page: Page, to: string, reason: string, urgency: string, shot: string): Promise<string> {
  await page.goto(`${running.server.url}/patients/${patientId}`);
  await page.getByRole('link', { name: 'Refer', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /Refer Edith/ }).waitFor();
  await page.getByLabel('Refer to').selectOption({ label: to });
  await page.getByLabel('Reason for referral').fill(reason);
  await page.getByLabel(urgency).check();
  await page.getByLabel('Loneliness').check();
  await screenshot(page, `${shot}-form`);
  // Without consent the referral is not sent, and the form says why.
  await page.getByRole('button', { name: 'Send referral' }).click();
  await page
    .getByRole('alert')
    .getByText(/consent to share/i)
    .waitFor();
  await page.getByLabel(/agrees to their information being shared/).check();
  await page.getByRole('button', { name: 'Send referral' }).click();
  await page.waitForURL(/\/referrals\/[^/]+$/);
  await page.getByRole('heading', { level: 1 }).getByText('Sent').waitFor();
  await screenshot(page, `${shot}-sent`);
  return new URL(page.url()).pathname.split('/').pop()!;
}

/** The receiving person finds it in their inbox, accepts, starts and completes it with the outcome. */
async function work(page: Page, referralId: string, outcome: string, shot: string): Promise<void> {
  await page.getByRole('link', { name: 'Referrals', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor();
  const row = page.locator('.pcn-referrals-inbox tr', { hasText: 'LONSDALE, Edith' });
  await row.first().waitFor();
  await screenshot(page, `${shot}-inbox`);
  await page.locator(`.pcn-referrals-inbox a[href="/referrals/${referralId}"]`).click();
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await page.getByRole('heading', { level: 1 }).getByText('Accepted').waitFor();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.getByRole('heading', { level: 1 }).getByText('In progress').waitFor();
  await page.getByRole('button', { name: 'Complete', exact: true }).click();
  await page.getByLabel('Outcome').fill(outcome);
  await screenshot(page, `${shot}-completing`);
  await page.getByRole('button', { name: 'Complete', exact: true }).click();
  await page.getByRole('heading', { level: 1 }).getByText('Completed').waitFor();
  await screenshot(page, `${shot}-completed`);
}

test('a GP refers to social prescribing; the link worker accepts and completes it; the outcome is on the referral and the record', async () => {
  const gp = await as(GP);
  let referralId: string;
  try {
    referralId = await refer(gp.page, 'Norwich Community Connectors (voluntary)', 'Lonely since her husband died; would like company', 'Routine', 'referrals-1');
  } finally {
    await gp.close();
  }
  const linkWorker = await as(LINK_WORKER);
  const outcome = 'Met Edith at home. Joined the Tuesday lunch club and a walking group; befriender visits weekly.';
  try {
    await work(linkWorker.page, referralId, outcome, 'referrals-2');
  } finally {
    await linkWorker.close();
  }
  const back = await as(GP);
  try {
    const { page } = back;
    await page.goto(`${running.server.url}/referrals/${referralId}`);
    await page.locator('.pcn-referral-outcome').getByText(outcome).waitFor();
    assert.match((await page.locator('.nhsuk-summary-list').textContent()) ?? '', /Attached from the recordLoneliness/, 'the attached problem by name, not its reference');
    const history = (await page.locator('.pcn-referral-history').textContent()) ?? '';
    assert.match(history, /Lee Linkworker/);
    assert.match(history, /Dr Rhea Ferral/);
    await screenshot(page, 'referrals-3-outcome-on-referral');
    await page.goto(`${running.server.url}/patients/${patientId}`);
    const entry = page.locator('.pcn-timeline__item', { hasText: 'Referral outcome' });
    await entry.getByText(/Tuesday lunch club/).waitFor();
    await entry.scrollIntoViewIfNeeded();
    await screenshot(page, 'referrals-4-outcome-on-record');
  } finally {
    await back.close();
  }
});

test('the practice refers to its community pharmacy for an urgent repeat medicine; the pharmacist’s outcome comes back', async () => {
  const gp = await as(GP);
  let referralId: string;
  try {
    referralId = await refer(gp.page, 'Norwich Pharmacy (community pharmacy)', 'Urgent repeat medicine: ran out of amlodipine 5 mg, away from home until Monday', 'Urgent', 'referrals-5');
  } finally {
    await gp.close();
  }
  const pharmacist = await as(PHARMACIST);
  try {
    await work(pharmacist.page, referralId, 'Supplied 7 days of amlodipine 5 mg under the urgent supply service; practice to issue the next repeat.', 'referrals-6');
  } finally {
    await pharmacist.close();
  }
  const back = await as(GP);
  try {
    const { page } = back;
    await page.getByRole('link', { name: 'Referrals', exact: true }).click();
    const sent = page.locator('.pcn-referrals-sent tr', { hasText: 'Norwich Pharmacy' });
    await sent.getByText('Completed').waitFor();
    await screenshot(page, 'referrals-7-sent-list');
    await page.goto(`${running.server.url}/referrals/${referralId}`);
    await page
      .locator('.pcn-referral-outcome')
      .getByText(/Supplied 7 days of amlodipine/)
      .waitFor();
    await screenshot(page, 'referrals-8-pharmacy-outcome');
  } finally {
    await back.close();
  }
});

test('the pharmacy redirects a referral that belongs elsewhere: it closes as redirected and reaches the other service’s inbox', async () => {
  const gp = await as(GP);
  let referralId: string;
  try {
    referralId = await refer(gp.page, 'Norwich Pharmacy (community pharmacy)', 'Low mood and isolation; asked the pharmacist about local groups', 'Routine', 'referrals-9');
  } finally {
    await gp.close();
  }
  const pharmacist = await as(PHARMACIST);
  try {
    const { page } = pharmacist;
    await page.goto(`${running.server.url}/referrals/${referralId}`);
    await page.getByRole('button', { name: 'Redirect to another service' }).click();
    await page.getByRole('button', { name: 'Redirect referral' }).click();
    await page.getByRole('alert').getByText('Choose the service to redirect the referral to').waitFor();
    const service = page.getByLabel('Service', { exact: true });
    await service.locator('option', { hasText: 'Norwich Community Connectors' }).first().waitFor({ state: 'attached' });
    const connectors = await service.locator('option', { hasText: 'Norwich Community Connectors' }).first().getAttribute('value');
    await service.selectOption(connectors!);
    await page.getByLabel('Why it goes there').fill('Social prescribing fits better than a pharmacy service');
    await screenshot(page, 'referrals-10-redirecting');
    await page.getByRole('button', { name: 'Redirect referral' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('Rejected').waitFor();
    await page
      .locator('.pcn-referral-reason')
      .getByText(/Redirected to .*Social prescribing fits better/)
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Redirect to another service' }).count(), 0, 'a closed referral is not redirected again');
  } finally {
    await pharmacist.close();
  }
  const linkWorker = await as(LINK_WORKER);
  try {
    const { page } = linkWorker;
    await page.getByRole('link', { name: 'Referrals', exact: true }).click();
    // The new referral is in the connectors' inbox, still from the practice (the pharmacy only passed it on).
    const row = page.locator('.pcn-referrals-inbox tr', { hasText: 'LONSDALE, Edith' }).filter({ hasText: 'Sent' });
    await row.first().waitFor();
    assert.match((await row.first().textContent()) ?? '', /Dr Rhea Ferral, GP, Oak Street Health Centre/);
    await screenshot(page, 'referrals-11-redirected-inbox');
    await row.first().getByRole('link').first().click();
    await page.getByText('Low mood and isolation; asked the pharmacist about local groups').waitFor();
    assert.notEqual(new URL(page.url()).pathname, `/referrals/${referralId}`, 'a new referral, not the rejected one');
  } finally {
    await linkWorker.close();
  }
});
