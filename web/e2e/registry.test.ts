/**
 * Moving a practice in the browser (issue 13): errors in the NHS style, a confirmation step that says what
 * the move changes, a scheduled move shown on the practice and both PCNs, cancelling it, and the nominated
 * payee's successor chosen in the same step. Screenshots go to test-results/registry-N-<name>.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/registry.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { registryToday } from '../../src/shared/dates.ts';
import { eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const NEXT_YEAR = String(Number(registryToday().slice(0, 4)) + 1);
const FIRST_APRIL = `1 April ${NEXT_YEAR}`;

const running = journeyServer(ADMIN.password);

/** Each test's frame: a fresh page signed in as the administrator, no fault by its end, and the page closed whatever happens. */
async function asAdmin(journey: (page: Page) => Promise<void>): Promise<void> {
  const { context, page, errors } = await running.openPage();
  try {
    await running.signIn(page, ADMIN);
    await journey(page);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

const summaryValue = (page: Page, key: string) => page.locator('.nhsuk-summary-list__row', { has: page.locator('dt', { hasText: new RegExp(`^${key}$`) }) }).locator('dd');
const toNumbers = (text: string) => [...text.matchAll(/[\d,]+(?= →|\s\()/g)].map((m) => Number(m[0].replaceAll(',', '')));

async function chooseMove(page: Page, pcnCode: string) {
  const move = page.getByRole('region', { name: 'Move to another PCN' });
  await move.getByLabel('New PCN').selectOption(pcnCode);
  await move.getByLabel('Day').fill('1');
  await move.getByLabel('Month').fill('4');
  await move.getByLabel('Year').fill(NEXT_YEAR);
  await move.getByRole('button', { name: 'Continue' }).click();
  const check = page.getByRole('region', { name: 'Check the move before confirming it' });
  await check.waitFor();
  return check;
}

test('a move: plain-English errors, a confirmation of what changes, then scheduled on the practice and both PCNs, and cancelled', () =>
  asAdmin(async (page) => {
    await page.goto(`${running.server.url}/practices/Z90201`);
    await page.getByRole('heading', { level: 1, name: 'Market Street Surgery' }).waitFor();
    const move = page.getByRole('region', { name: 'Move to another PCN' });

    // Nothing chosen: both problems listed in the summary, each beside its field, in words a person uses.
    await move.getByRole('button', { name: 'Continue' }).click();
    const summary = move.locator('.nhsuk-error-summary');
    await summary.waitFor();
    assert.deepEqual(await summary.locator('li').allTextContents(), ['Select the PCN the practice is moving to', 'Enter the date the move takes effect']);
    assert.deepEqual(await summary.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))), ['#move-pcn', '#move-date-day']);
    assert.equal(await move.locator('#move-pcn-error').textContent(), 'Error: Select the PCN the practice is moving to');
    assert.equal(await move.getByLabel('New PCN').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('nhsuk-error-summary')), true);
    assert.doesNotMatch((await summary.textContent()) ?? '', /pcnCode|''|invalid|expected/);
    await screenshot(page, 'registry-1-move-errors');

    // The confirmation says what changes: both list sizes before → after against the rule, and the day.
    const practiceSize = Number(((await summaryValue(page, 'List size').textContent()) ?? '').replace(/\D/g, ''));
    let check = await chooseMove(page, 'U90003');
    const leaves = (await summaryValue(page, 'Leaves Norwich North PCN').textContent()) ?? '';
    const joins = (await summaryValue(page, 'Joins Norwich South and West PCN').textContent()) ?? '';
    const [leavesBefore, leavesAfter] = toNumbers(leaves);
    const [joinsBefore, joinsAfter] = toNumbers(joins);
    assert.equal(leavesAfter, leavesBefore! - practiceSize, leaves);
    assert.equal(joinsAfter, joinsBefore! + practiceSize, joins);
    assert.match(leaves, /within range → within range; the area's range is 25,000–70,000/);
    assert.equal(await summaryValue(page, 'Takes effect').textContent(), `${FIRST_APRIL} (until then it stays in Norwich North PCN)`);
    await screenshot(page, 'registry-1-confirm-move');

    // Change goes back to the form as it was filled in; Continue and Confirm make the move.
    await check.getByRole('button', { name: 'Change' }).click();
    assert.equal(await move.getByLabel('New PCN').inputValue(), 'U90003');
    check = await chooseMove(page, 'U90003');
    await check.getByRole('button', { name: 'Confirm move' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Market Street Surgery will move to Norwich South and West PCN on ${FIRST_APRIL}.` })
      .waitFor();
    await page.getByRole('heading', { name: `Important: Moving to Norwich South and West PCN on ${FIRST_APRIL}` }).waitFor();
    assert.equal(await summaryValue(page, 'PCN').textContent(), 'Norwich North PCN (U90002)', 'still in its PCN until then');
    assert.equal(await summaryValue(page, 'Moving to').textContent(), `Norwich South and West PCN (U90003) on ${FIRST_APRIL}`);
    const history = await page
      .getByRole('table', { name: /has belonged to/ })
      .locator('tbody tr')
      .allTextContents();
    assert.match(history[0] ?? '', new RegExp(`^Norwich South and West PCN \\(U90003\\)${FIRST_APRIL}Scheduled$`));
    assert.equal(await page.getByRole('button', { name: 'Continue' }).count(), 0, 'no second move while one is scheduled');
    await screenshot(page, 'registry-1-scheduled-move');

    // Both PCNs say so; the practice is still counted where it is.
    await page.getByRole('link', { name: 'Norwich North PCN (U90002)' }).click();
    const leaving = page.getByRole('region', { name: 'Scheduled moves' });
    await leaving.waitFor();
    assert.equal((await leaving.locator('li').textContent())?.replace(/\s+/g, ' '), `Market Street Surgery (Z90201): moving to Norwich South and West PCN on ${FIRST_APRIL}`);
    assert.equal(
      await page
        .getByRole('table', { name: /Member practices/ })
        .getByRole('link', { name: 'Market Street Surgery' })
        .count(),
      1,
    );
    await screenshot(page, 'registry-1-pcn-leaving');
    await page.goto(`${running.server.url}/pcns/U90003`);
    const joining = page.getByRole('region', { name: 'Scheduled moves' });
    await joining.waitFor();
    assert.equal((await joining.locator('li').textContent())?.replace(/\s+/g, ' '), `Market Street Surgery (Z90201): joining from ${FIRST_APRIL} (leaving Norwich North PCN)`);
    await screenshot(page, 'registry-1-pcn-joining');

    // Changed: the same form, filled in with the move, checked and confirmed; recorded as it should have been.
    await page.goto(`${running.server.url}/practices/Z90201`);
    await page.getByRole('button', { name: 'Change this move' }).click();
    const change = page.getByRole('region', { name: 'Change the move' });
    await eventually(
      () => change.getByLabel('New PCN').inputValue(),
      (value) => value === 'U90003',
      'the move being changed, filled in once the PCNs have loaded',
    );
    assert.equal(await change.getByLabel('Year').inputValue(), NEXT_YEAR);
    await change.getByLabel('New PCN').selectOption('U90004');
    await change.getByRole('button', { name: 'Continue' }).click();
    await change.getByRole('region', { name: 'Check the move before confirming it' }).getByRole('button', { name: 'Confirm move' }).click();
    await page.getByRole('heading', { name: `Important: Moving to Great Yarmouth and Northern Villages PCN on ${FIRST_APRIL}` }).waitFor();
    const changed = await page
      .getByRole('table', { name: /has belonged to/ })
      .locator('tbody tr')
      .allTextContents();
    assert.equal(changed.length, 2);
    assert.match(changed[0] ?? '', /^Great Yarmouth and Northern Villages PCN \(U90004\)/);
    assert.ok(!changed.some((row) => row.includes('U90003')), 'no membership of the PCN it was first sent to');
    await screenshot(page, 'registry-1-move-changed');

    // Cancelled: as if it had never been scheduled.
    await page.getByRole('button', { name: 'Cancel this move' }).click();
    await page.getByRole('status').filter({ hasText: 'The move was cancelled: Market Street Surgery stays in Norwich North PCN.' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: /Moving to/ }).count(), 0);
    assert.equal(
      await page
        .getByRole('table', { name: /has belonged to/ })
        .locator('tbody tr')
        .count(),
      1,
    );
    await move.getByRole('button', { name: 'Continue' }).waitFor();
  }));

test('moving the nominated payee asks for its successor in the confirmation step', () =>
  asAdmin(async (page) => {
    await page.goto(`${running.server.url}/practices/Z90204`);
    await page.getByRole('heading', { level: 1, name: 'Riverside Medical Practice' }).waitFor();
    const check = await chooseMove(page, 'U90003');
    const payee = check.getByLabel('Choose the new nominated payee for Norwich North PCN');
    // Confirming without one is refused by the server, and the answer sits beside the field.
    await check.getByRole('button', { name: 'Confirm move' }).click();
    await check.locator('#move-payee-error').waitFor();
    assert.match((await check.locator('#move-payee-error').textContent()) ?? '', /^Error: Riverside Medical Practice is the nominated payee of Norwich North PCN: choose the practice/);
    assert.equal(await check.locator('.nhsuk-error-summary a').getAttribute('href'), '#move-payee');
    await screenshot(page, 'registry-2-payee-needed');

    await payee.selectOption('Z90206');
    await check.getByRole('button', { name: 'Confirm move' }).click();
    const underway = page.getByRole('region', { name: `Important: Moving to Norwich South and West PCN on ${FIRST_APRIL}` });
    await underway.waitFor();
    assert.match((await underway.textContent()) ?? '', /Station Road Medical Practice becomes the nominated payee of Norwich North PCN that day/);
    await screenshot(page, 'registry-2-payee-handed-over');

    await page.goto(`${running.server.url}/pcns/U90002`);
    await eventually(
      () => summaryValue(page, 'Nominated payee').textContent(),
      (text) => text === 'Riverside Medical Practice (Z90204)',
      'the payee until it leaves',
    );
  }));

test('creating a PCN with nothing filled in lists every problem, each beside its field', () =>
  asAdmin(async (page) => {
    const create = page.getByRole('region', { name: 'Create a PCN' });
    await create.getByRole('button', { name: 'Create PCN' }).click();
    const summary = create.locator('.nhsuk-error-summary');
    await summary.waitFor();
    assert.deepEqual(await summary.locator('li').allTextContents(), ['Enter the PCN code', 'Enter the PCN name']);
    assert.equal(await create.locator('#new-pcn-code-error').textContent(), 'Error: Enter the PCN code');
    assert.equal(await create.locator('#new-pcn-name-error').textContent(), 'Error: Enter the PCN name');
    await screenshot(page, 'registry-3-create-pcn-errors');
  }));
