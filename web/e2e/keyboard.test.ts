/**
 * The keyboard-only journey: sign in, move through the area page and past the map, sort and open a PCN,
 * find a patient and open their record, with Tab, Shift+Tab, Enter, Space and the map's own keys only.
 * At every stop the focus must be visible, and it must land where a keyboard user expects.
 * Screenshots go to test-results/keyboard-*.png (each also checked by axe-core, see harness.ts).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/keyboard.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { createPatient, eventually, journeyServer, openPage, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const NHS_NUMBER = '9990000018'; // a valid test-range NHS number

const running = journeyServer(ADMIN.password, async (server) => {
  await createPatient(server.url, ADMIN, { nhsNumber: NHS_NUMBER, family: 'Keyes', given: 'Kim', birthDate: '1961-07-14', practiceOds: 'Z90101', problem: 'Asthma' });
});

/** What has keyboard focus, and whether a sighted keyboard user can see where it is. */
function focused(page: Page): Promise<{ what: string; visible: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return { what: 'nothing', visible: false };
    const label = element.getAttribute('aria-label') ?? (element.textContent ?? '').trim().slice(0, 40);
    const what = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} “${label}”`;
    const style = getComputedStyle(element);
    const outlined = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0 && !/rgba\(0, 0, 0, 0\)|transparent/.test(style.outlineColor);
    const box = element.getBoundingClientRect();
    // NHS.UK styles show focus as a yellow highlight with a dark edge, on the element or (summaries, header logo) on its text.
    const highlighted = [element, ...element.querySelectorAll('*')].some((e) => getComputedStyle(e).backgroundColor === 'rgb(255, 235, 59)');
    return { what, visible: box.width > 1 && box.height > 1 && (outlined || style.boxShadow !== 'none' || highlighted) };
  });
}

/**
 * Presses Tab (or Shift+Tab) until `target` has focus, failing if it takes more than `max` presses or if
 * any stop on the way shows no focus. Returns the stops passed, for assertions about the order.
 */
async function tabTo(page: Page, target: Locator, { backwards = false, max = 40 } = {}): Promise<string[]> {
  const stops: string[] = [];
  for (let press = 0; press < max; press++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    stops.push(now.what);
    assert.ok(now.visible, `focus on ${now.what} cannot be seen (stops: ${stops.join(' → ')})`);
    if (await target.evaluate((element) => element === document.activeElement)) return stops;
  }
  assert.fail(`${max} presses of ${backwards ? 'Shift+Tab' : 'Tab'} never reached the target: ${stops.join(' → ')}`);
}

const hasFocus = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

test('keyboard only: sign in, skip the map to the table, sort and open a PCN, find a patient and open the record', async () => {
  const { server, browser } = running;
  const { context, page, errors } = await openPage(browser, server.url);
  try {
    // Sign in. The first Tab reaches the skip link, shown once it has focus.
    await page.goto(`${server.url}/signin`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to PCN Hub' }).waitFor();
    await page.keyboard.press('Tab');
    const skipToContent = page.getByRole('link', { name: 'Skip to main content' });
    assert.ok(await hasFocus(skipToContent), `the first stop is the skip link, not ${(await focused(page)).what}`);
    assert.ok((await focused(page)).visible);
    await tabTo(page, page.getByLabel('Email address'));
    await page.keyboard.type(ADMIN.email);
    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(page.getByLabel('Password')), 'Tab moves from the email address to the password');
    await page.keyboard.type(ADMIN.password);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Account' }).waitFor();

    // The area page: the skip link before the map, then the map as one stop.
    await page.goto(`${server.url}/areas/Q99`);
    await page.getByRole('heading', { level: 1, name: 'Norfolk and Waveney (demo)' }).waitFor();
    const map = page.getByRole('region', { name: 'Map of PCN catchments, member practices and partners' });
    await map.locator('path.pcn-catchment').first().waitFor();
    const skipMap = page.getByRole('link', { name: 'Skip the map to the table of PCNs' });
    assert.equal(await skipMap.boundingBox().then((box) => (box?.width ?? 0) > 1), false, 'the skip link is hidden until it has focus');
    await tabTo(page, skipMap);
    assert.ok(((await skipMap.boundingBox())?.width ?? 0) > 100, 'with focus, the skip link shows');
    await screenshot(page, 'keyboard-skip-map-link');

    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(map), `after the skip link comes the map, not ${(await focused(page)).what}`);
    assert.ok((await focused(page)).visible, 'the focused map is outlined');
    await screenshot(page, 'keyboard-map-focused');
    // The focused map answers its keys: + zooms in, an arrow moves it.
    const catchment = map.locator('path.pcn-catchment').first();
    const before = (await catchment.boundingBox())!;
    await page.keyboard.press('+');
    await eventually(
      async () => (await catchment.boundingBox())?.width ?? 0,
      (width) => width > before.width * 1.2,
      'the catchment after + (zoomed in)',
    );
    // Leaflet reads the arrow keys only once its zoom has settled: wait until the catchment stops changing.
    let zoomed = (await catchment.boundingBox())!;
    for (let settled = false, tries = 0; !settled && tries < 40; tries++) {
      await page.waitForTimeout(250);
      const now = (await catchment.boundingBox())!;
      settled = now.x === zoomed.x && now.width === zoomed.width;
      zoomed = now;
    }
    await page.keyboard.press('ArrowRight');
    await eventually(
      async () => (await catchment.boundingBox())?.x ?? 0,
      (x) => Math.abs(x - zoomed.x) > 20,
      'the catchment after the right arrow (map moved)',
    );

    // One stop: the next Tab leaves the map for the table (no catchment, marker or zoom button between).
    const table = page.getByRole('table', { name: /PCNs in Norfolk and Waveney/ });
    const codeButton = table.getByRole('button', { name: 'Code' });
    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(codeButton), `after the map comes the table's first column, not ${(await focused(page)).what}`);
    await page.keyboard.press('Shift+Tab');
    assert.ok(await hasFocus(map), 'Shift+Tab goes back to the map');
    await page.keyboard.press('Shift+Tab');
    assert.ok(await hasFocus(skipMap), 'and back again to the skip link');

    // The skip link moves focus to the table, past the map.
    await page.keyboard.press('Enter');
    const region = page.getByRole('region', { name: /PCNs in Norfolk and Waveney/ });
    assert.ok(await hasFocus(region), `the skip link moved focus to the table, not ${(await focused(page)).what}`);
    assert.ok((await focused(page)).visible, 'the table region shows it has focus');
    await screenshot(page, 'keyboard-skipped-to-table');

    // Sort with Enter and Space.
    await page.keyboard.press('Tab');
    assert.ok(await hasFocus(codeButton));
    const codeHeader = table.getByRole('columnheader', { name: 'Code' });
    assert.equal(await codeHeader.getAttribute('aria-sort'), 'ascending');
    await page.keyboard.press('Enter');
    assert.equal(await codeHeader.getAttribute('aria-sort'), 'descending');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    assert.equal(await table.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort'), 'ascending');
    assert.equal(await codeHeader.getAttribute('aria-sort'), null);
    await screenshot(page, 'keyboard-sorted-by-name');

    // Open a PCN; focus starts at the new page's content.
    await tabTo(page, table.getByRole('link', { name: 'Norwich City PCN' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();
    assert.ok(await hasFocus(page.locator('main')), 'after opening a page, focus is at its content');

    // Back up to the header's Patients link, and find a patient by NHS number.
    await tabTo(page, page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Patients' }), { backwards: true });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Find a patient' }).waitFor();
    await tabTo(page, page.getByRole('textbox', { name: 'NHS number' }));
    await page.keyboard.type(NHS_NUMBER);
    await page.keyboard.press('Enter');
    const results = page.getByRole('table', { name: /Patients found for NHS number/ });
    await results.waitFor();
    await screenshot(page, 'keyboard-search-results');
    await tabTo(page, results.getByRole('link', { name: 'KEYES, Kim' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'KEYES, Kim' }).waitFor();
    // Through the record to its agency filter, every stop visible.
    await tabTo(page, page.getByLabel('Show entries from'));
    await screenshot(page, 'keyboard-record');
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
  } finally {
    await context.close();
  }
});
