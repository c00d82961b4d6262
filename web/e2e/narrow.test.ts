/**
 * The main pages on a phone, 390 CSS pixels wide (WCAG 1.4.10, reflow): no page scrolls sideways, a table
 * too wide for the screen scrolls inside its own named region that a keyboard can reach, and the header's
 * navigation fits and works. Screenshots go to test-results/narrow-*.png; like every screenshot they also
 * check no sideways scroll and axe-core (harness.ts).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/narrow.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { createPatient, DESKTOP, eventually, journeyServer, openPage, PHONE, screenshot, signIn } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const AREA_NAME = 'Norfolk and Waveney (demo)';

let patientId = '';
const running = journeyServer(ADMIN.password, async (server) => {
  patientId = await createPatient(server.url, ADMIN, {
    nhsNumber: '9990000026',
    family: 'Narrowdale',
    given: 'Nia',
    birthDate: '1948-01-30',
    practiceOds: 'Z90101',
    problem: 'Chronic obstructive pulmonary disease',
  });
});

interface RegionState {
  name: string | null;
  role: string | null;
  tabIndex: string | null;
  scrolls: boolean;
}

/** Every table's region on the page: its name, whether it scrolls sideways, and whether it is a tab stop. */
const tableRegions = (page: Page): Promise<RegionState[]> =>
  page
    .locator('.pcn-table-region')
    .evaluateAll((regions) => regions.map((r) => ({ name: r.getAttribute('aria-label'), role: r.getAttribute('role'), tabIndex: r.getAttribute('tabindex'), scrolls: r.scrollWidth > r.clientWidth })));

test('at 390 px wide every main page reflows: no sideways scroll, wide tables scroll in a focusable region, the header menu works', async () => {
  const { server, browser } = running;
  const { context, page, errors } = await openPage(browser, server.url, { viewport: PHONE });
  try {
    await signIn(page, server.url, ADMIN, AREA_NAME);
    const pcnTable = page.getByRole('region', { name: /PCNs in Norfolk and Waveney/ });
    await pcnTable.getByRole('table').waitFor();
    await page.getByTestId('map').locator('path.pcn-catchment').first().waitFor();
    await screenshot(page, 'narrow-area');

    // The header: every item of the menu and the account fits across the screen, big enough to tap.
    const header = page.locator('header');
    for (const item of await header.locator('a, button').all()) {
      const box = (await item.boundingBox())!;
      const name = (await item.textContent())?.trim() || (await item.getAttribute('aria-label'));
      assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${name} is on the screen (x ${box.x}, width ${box.width})`);
      assert.ok(box.height >= 24, `${name} is at least 24px tall to tap (WCAG 2.5.8): ${box.height}`);
    }

    // The PCN table is wider than the phone: it scrolls inside its region, which a keyboard can reach and scroll.
    const states = await tableRegions(page);
    const pcns = states.find((s) => s.name?.includes('PCNs in Norfolk and Waveney'));
    assert.deepEqual(pcns, { name: '20 PCNs in Norfolk and Waveney (demo)', role: 'region', tabIndex: '0', scrolls: true });
    await pcnTable.focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await eventually(
      () => pcnTable.evaluate((r) => r.scrollLeft),
      (left) => left > 0,
      'the table scrolled by the arrow keys',
    );
    assert.equal(await page.evaluate(() => window.scrollX), 0, 'the page itself did not move sideways');
    await screenshot(page, 'narrow-area-table-scrolled');

    // Where the money came from: a five-column table in a details element, also within its region.
    await page.getByText('Where the money came from').click();
    await page.getByRole('table', { name: /Money given to/ }).waitFor();
    await screenshot(page, 'narrow-area-money');

    // On a desktop the same table fits, so its region is no tab stop (but a skip link can still focus it).
    await page.setViewportSize(DESKTOP);
    await eventually(
      () => tableRegions(page).then((all) => all.find((s) => s.name === pcns.name)),
      (state) => state?.scrolls === false && state.tabIndex === '-1',
      'the PCN table’s region on a desktop',
    );
    await page.setViewportSize(PHONE);

    // The other pages, reached through the header menu and links as a phone user would.
    const checkRegions = async (where: string) => {
      for (const state of await tableRegions(page)) {
        assert.equal(state.role, 'region', `${where}: ${state.name}`);
        assert.ok(state.name, `${where}: every table region is named`);
        assert.equal(state.tabIndex, state.scrolls ? '0' : '-1', `${where}: ${state.name} is a tab stop exactly when it scrolls`);
      }
    };
    // Back on the phone, the regions are re-measured when the page has laid itself out again (a resize observer).
    await eventually(
      () => tableRegions(page),
      (all) => all.every((s) => s.tabIndex === (s.scrolls ? '0' : '-1')),
      'the area page’s table regions after the return to a phone',
    );
    await checkRegions('area page');
    await pcnTable.getByRole('link', { name: 'Norwich City PCN' }).click();
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();
    await checkRegions('PCN page');
    await screenshot(page, 'narrow-pcn');

    await page
      .getByRole('table', { name: /Member practices of Norwich City PCN/ })
      .getByRole('link')
      .first()
      .click();
    await page.getByRole('heading', { level: 1, name: /Health Centre|Surgery|Practice|Medical/ }).waitFor();
    await checkRegions('practice page');
    await screenshot(page, 'narrow-practice');

    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Patients' }).click();
    await page.getByRole('heading', { level: 1, name: 'Find a patient' }).waitFor();
    await screenshot(page, 'narrow-patient-search');
    await page.getByRole('textbox', { name: 'NHS number' }).fill('999 000 0026');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table', { name: /Patients found for NHS number/ }).waitFor();
    await checkRegions('search results');
    await screenshot(page, 'narrow-patient-found');

    await page.getByRole('link', { name: 'NARROWDALE, Nia' }).click();
    await page.waitForURL(new RegExp(`/patients/${patientId}$`));
    await page.getByRole('heading', { level: 1, name: 'NARROWDALE, Nia' }).waitFor();
    await page.getByRole('table', { name: 'Problems, active first' }).waitFor();
    await checkRegions('patient record');
    await screenshot(page, 'narrow-record');

    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Audit review' }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await checkRegions('audit review');
    await screenshot(page, 'narrow-audit-review');

    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'People' }).click();
    await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
    await checkRegions('people');
    await screenshot(page, 'narrow-people');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to PCN Hub' }).waitFor();
    await screenshot(page, 'narrow-sign-in');
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
  } finally {
    await context.close();
  }
});
