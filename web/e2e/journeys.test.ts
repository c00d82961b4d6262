/**
 * The web app's user journeys in a real browser against a real server on a fresh, seeded database
 * (the engine chosen by PCN_TEST_ENGINE). One server and one browser serve the whole file; every
 * journey gets its own browser context, so its own sign-in. Journey 5 changes the registry, so it
 * runs last. Screenshots go to test-results/journey-N-<name>.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/journeys.test.ts
 *
 * Journey 6 (import and export through the command line, seen in the browser) is in import-export.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { addUser } from '../../src/modules/access/index.ts';
import { registryToday } from '../../src/shared/dates.ts';
import { eventually, journeyServer, screenshot, shotsDir } from './harness.ts';
import { join } from 'node:path';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple', name: 'Demo Administrator' };
const MANAGER = { email: 'manager.u90001@pcn-hub.example', password: 'a long manager password', name: 'Priya Manager' };

const running = journeyServer(ADMIN.password);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const { openPage, signIn } = running;

const toNumber = (text: string) => Number(text.replace(/[^\d]/g, ''));

const pcnTable = (page: Page) => page.getByRole('table', { name: /PCNs in Norfolk and Waveney/ });

/** The values of one column of a table, by its header's position. */
async function column(table: Locator, header: string): Promise<string[]> {
  const headers = await table.locator('thead th').allTextContents();
  const index = headers.findIndex((h) => h.trim() === header);
  assert.notEqual(index, -1, `no column ${header} in ${headers.join(', ')}`);
  return table.locator(`tbody tr > :nth-child(${index + 1})`).allTextContents();
}

/** A summary-list row's value, by its key. */
const summaryValue = (page: Page, key: string) => page.locator('.nhsuk-summary-list__row', { has: page.locator('dt', { hasText: new RegExp(`^${key}$`) }) }).locator('dd');

async function apiAs(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${localStorage.getItem('pcn.token') ?? ''}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    { method, path, body },
  );
}

// ---------------------------------------------------------------------------------------------
// Journeys
// ---------------------------------------------------------------------------------------------

test('1. a freshly seeded server shows the area and its 20 PCNs after sign-in', async () => {
  const { context, page, errors } = await openPage();
  try {
    await page.goto(running.server.url);
    await page.waitForURL(/\/signin\?next=%2F$/); // signed out: sent to sign in, and back afterwards
    await signIn(page, ADMIN);
    assert.equal(new URL(page.url()).pathname, '/');

    assert.equal(await summaryValue(page, 'PCN size rule').textContent(), '25,000–70,000 registered patients');
    assert.equal(await summaryValue(page, 'Money given').textContent(), '£535,000.00');
    assert.equal(await summaryValue(page, 'Primary care networks').textContent(), '20');
    const total = toNumber((await summaryValue(page, 'Total list size').textContent()) ?? '');

    const table = pcnTable(page);
    await table.locator('tbody tr').first().waitFor();
    assert.equal(await table.locator('tbody tr').count(), 20);
    const codes = (await column(table, 'Code')).map((c) => c.trim());
    assert.deepEqual(
      codes,
      Array.from({ length: 20 }, (_, i) => `U900${String(i + 1).padStart(2, '0')}`),
    );
    const listSizes = (await column(table, 'List size')).map(toNumber);
    assert.equal(
      listSizes.reduce((a, b) => a + b, 0),
      total,
      'the PCNs’ list sizes add up to the area’s',
    );
    // The demo has deliberate breaches: the status tags say so in NHS colours.
    assert.ok((await table.locator('.nhsuk-tag--green').count()) >= 15);
    assert.ok((await table.locator('.nhsuk-tag--orange, .nhsuk-tag--red').count()) >= 1);

    await screenshot(page, 'journey-1-area-overview');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('2. sign in: a wrong password and a locked account say why; the right one shows the user', async () => {
  await addUser(running.server.db, { email: MANAGER.email, name: MANAGER.name, role: 'pcn-manager', org: 'U90001', password: MANAGER.password });
  const { context, page, errors } = await openPage();
  try {
    await page.goto(`${running.server.url}/signin`);
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    assert.match((await summary.getByRole('alert').textContent()) ?? '', /There is a problem.*email or password is not right/);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('nhsuk-error-summary')), true);
    assert.equal(await page.getByRole('navigation', { name: 'Account' }).count(), 0);
    await screenshot(page, 'journey-2-sign-in-error');

    // An empty form: the server names the field, and the message sits beside it.
    await page.getByLabel('Email address').fill('');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#email-error').waitFor();
    const besideField = ((await page.locator('#email-error').textContent()) ?? '').replace(/^Error: /, '');
    assert.ok(besideField.length > 0);
    assert.equal(await page.locator('.nhsuk-error-summary a[href="#email"]').textContent(), besideField);
    assert.equal(await page.getByLabel('Email address').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'journey-2-field-error');

    // Wrong passwords back off (five from one address, by the API): the page then says so instead of "wrong password".
    const locked = { email: 'locked.out@pcn-hub.example', password: 'the real password 1' };
    await addUser(running.server.db, { ...locked, name: 'Lee Locked', role: 'admin' });
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { status } = await apiAs(page, 'POST', '/api/login', { email: locked.email, password: `wrong guess ${attempt}` });
      assert.equal(status, 401);
    }
    await page.getByLabel('Email address').fill(locked.email);
    await page.getByLabel('Password').fill(locked.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(
      () => summary.textContent(),
      (t) => /too many failed sign-ins/i.test(t ?? ''),
      'the locked-account message',
    );
    await screenshot(page, 'journey-2-locked');

    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const account = page.getByRole('navigation', { name: 'Account' });
    await account.waitFor();
    assert.match((await account.textContent()) ?? '', new RegExp(ADMIN.name));
    assert.equal(await page.locator('.nhsuk-error-summary').count(), 0);
    await screenshot(page, 'journey-2-signed-in');

    await account.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to PCN Hub' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('pcn.token')), null);
    await page.goto(`${running.server.url}/pcns/U90001`);
    await page.waitForURL(/\/signin\?next=%2Fpcns%2FU90001$/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('3. the map draws catchments and markers offline, and the PCN table sorts', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    const map = page.getByTestId('map');
    await map.locator('path.pcn-catchment').first().waitFor();

    const geo = (await apiAs(page, 'GET', '/api/areas/Q99/map')).body as { features: { properties: { kind: string } }[] };
    const expected = (kind: string) => geo.features.filter((f) => f.properties.kind === kind).length;
    assert.equal(expected('catchment'), 20);
    assert.equal(await map.locator('path.pcn-catchment').count(), expected('catchment'));
    assert.equal(await map.locator('path.pcn-practice').count(), expected('practice'));
    assert.ok(expected('practice') >= 90);
    assert.equal(await map.locator('path.pcn-partner').count(), expected('partner'));
    assert.equal(await map.locator('.leaflet-tile').count(), 0, 'no tiles unless the server configures them');
    // Coloured by status: Norwich City (U90001) is above the range, so red.
    assert.equal(await map.locator('path.pcn-catchment--above').first().getAttribute('fill'), '#d5281b');
    assert.ok((await map.locator('path.pcn-catchment--within').count()) >= 15);
    assert.equal(await page.getByRole('list', { name: 'Map legend' }).getByRole('listitem').count(), 5);

    const table = pcnTable(page);
    const listSizeHeader = table.getByRole('columnheader', { name: 'List size' });
    assert.equal(await listSizeHeader.getAttribute('aria-sort'), null);
    assert.equal(await table.getByRole('columnheader', { name: 'Code' }).getAttribute('aria-sort'), 'ascending');

    await listSizeHeader.getByRole('button').click();
    assert.equal(await listSizeHeader.getAttribute('aria-sort'), 'ascending');
    assert.equal(await table.getByRole('columnheader', { name: 'Code' }).getAttribute('aria-sort'), null);
    const ascending = (await column(table, 'List size')).map(toNumber);
    assert.deepEqual(
      ascending,
      [...ascending].sort((a, b) => a - b),
    );
    assert.equal(ascending.length, 20);

    await listSizeHeader.getByRole('button').click();
    assert.equal(await listSizeHeader.getAttribute('aria-sort'), 'descending');
    const descending = (await column(table, 'List size')).map(toNumber);
    assert.deepEqual(descending, [...ascending].reverse());
    const biggest = (await column(table, 'Code'))[0]?.trim();
    await screenshot(page, 'journey-3-map-and-table');
    await map.screenshot({ path: join(shotsDir, 'journey-3-map.png') });

    // Selecting a practice opens a popup about it (checked like every screenshot).
    await map.locator('path.pcn-practice').first().dispatchEvent('click');
    await map.locator('.leaflet-popup').getByRole('link', { name: 'Open the practice' }).waitFor();
    await screenshot(page, 'journey-3-practice-popup');

    // Selecting a catchment opens its PCN.
    const catchment = map.locator('path.pcn-catchment--above').first();
    await catchment.dispatchEvent('click');
    await page.waitForURL(/\/pcns\/U\d{5}$/);
    assert.equal(new URL(page.url()).pathname, `/pcns/${biggest}`, 'the one PCN above the range is the biggest');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('4. from the overview, open a PCN and then one of its practices', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    await pcnTable(page).getByRole('link', { name: 'Norwich City PCN' }).click();
    await page.waitForURL(/\/pcns\/U90001$/);
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();

    assert.equal(await page.locator('.pcn-status-line .nhsuk-tag').textContent(), 'Above range');
    assert.match((await page.locator('.pcn-status-line').textContent()) ?? '', /is above the area's maximum of 70,000/);
    assert.equal(await summaryValue(page, 'Clinical director').textContent(), 'Dr Amelia Okafor');

    const practices = page.getByRole('table', { name: /Member practices of Norwich City PCN/ });
    assert.equal(await practices.locator('tbody tr').count(), 8);
    const sizes = (await column(practices, 'List size')).map(toNumber);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      toNumber((await summaryValue(page, 'List size').textContent()) ?? ''),
    );

    const partnerGroups = await page.locator('h3[id^="partners-"]').allTextContents();
    assert.ok(partnerGroups.includes('Community pharmacy'), `partner groups: ${partnerGroups.join(', ')}`);
    assert.ok(partnerGroups.length >= 3);
    assert.ok(
      (await page
        .getByRole('table', { name: /Practices that have belonged to/ })
        .locator('tbody tr')
        .count()) >= 8,
    );
    await screenshot(page, 'journey-4-pcn');

    const practiceLink = practices.getByRole('link').first();
    const practiceName = ((await practiceLink.textContent()) ?? '').trim();
    await practiceLink.click();
    await page.waitForURL(/\/practices\/Z\d{5}$/);
    await page.getByRole('heading', { level: 1, name: practiceName }).waitFor();
    assert.equal(await summaryValue(page, 'PCN').textContent(), 'Norwich City PCN (U90001)');
    const history = page.getByRole('table', { name: /PCNs .* has belonged to/ });
    assert.deepEqual(
      (await history.locator('tbody tr').allTextContents()).map((t) => t.replace(/\s+/g, ' ')),
      ['Norwich City PCN (U90001)1 July 2019Current'],
    );
    await screenshot(page, 'journey-4-practice');

    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('5. changes: an admin creates a PCN, sets its director, adds a partner and moves a practice in; a manager cannot change another PCN', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    const table = pcnTable(page);
    await table.locator('tbody tr').first().waitFor();
    const cityBefore = toNumber(
      (await table
        .getByRole('row', { name: /U90001/ })
        .locator('td')
        .nth(1)
        .textContent()) ?? '',
    );

    // A bad code: the 422 names the field, shown in the summary and beside the field.
    const create = page.getByRole('region', { name: 'Create a PCN' });
    await create.getByLabel('PCN code').fill('X123');
    await create.getByLabel('PCN name').fill('Norwich Riverside PCN');
    await create.getByRole('button', { name: 'Create PCN' }).click();
    await create.locator('#new-pcn-code-error').waitFor();
    assert.equal(await create.locator('#new-pcn-code-error').textContent(), 'Error: Enter a PCN code that is U followed by 5 digits, like U12345');
    assert.equal(await create.locator('.nhsuk-error-summary a').getAttribute('href'), '#new-pcn-code');
    await screenshot(page, 'journey-5-create-pcn-error');

    await create.getByLabel('PCN code').fill('U90021');
    await create.getByRole('button', { name: 'Create PCN' }).click();
    await page.waitForURL(/\/pcns\/U90021$/);
    await page.getByRole('heading', { level: 1, name: 'Norwich Riverside PCN' }).waitFor();
    assert.equal(await page.locator('.pcn-status-line .nhsuk-tag').textContent(), 'Below range');
    assert.equal(await summaryValue(page, 'List size').textContent(), '0 patients');

    await page.getByLabel('Clinical director', { exact: true }).fill('Dr Jane Example');
    await page.getByRole('button', { name: 'Set clinical director' }).click();
    await eventually(
      () => summaryValue(page, 'Clinical director').textContent(),
      (t) => t === 'Dr Jane Example',
      'the new clinical director',
    );

    await page.getByLabel('Partner name').fill('Riverside Pharmacy');
    await page.getByLabel('Type of partner').selectOption('community-pharmacy');
    await page.getByLabel('Organisation code (optional)').fill('FZ991');
    await page.getByLabel('Postcode (optional)').fill('nr1 3sr');
    await page.getByLabel('Role in the PCN (optional)').fill('Community pharmacy lead');
    await page.getByRole('button', { name: 'Add partner' }).click();
    const pharmacies = page.getByRole('region', { name: 'Community pharmacy' });
    await pharmacies.waitFor();
    assert.match((await pharmacies.textContent()) ?? '', /Riverside Pharmacy \(FZ991\) – Community pharmacy lead, NR1 3SR/);

    // Move a Norwich City practice into the new PCN.
    await page.goto(`${running.server.url}/practices/Z90101`);
    await page.getByRole('heading', { level: 1, name: 'Oak Street Health Centre' }).waitFor();
    const practiceSize = toNumber((await summaryValue(page, 'List size').textContent()) ?? '');
    const move = page.getByRole('region', { name: 'Move to another PCN' });
    await move.getByLabel('New PCN').selectOption('U90021');
    // The NHS date input: a date that does not exist is refused beside the fieldset.
    await move.getByLabel('Day').fill('31');
    await move.getByLabel('Month').fill('2');
    await move.getByLabel('Year').fill('2025');
    await move.getByRole('button', { name: 'Continue' }).click();
    await move.locator('#move-date-error').waitFor();
    assert.match((await move.locator('#move-date-error').textContent()) ?? '', /must be a real date/);
    await screenshot(page, 'journey-5-move-date-error');
    // Today, then confirm what it changes (registry.test.ts journeys through the confirmation in detail).
    const [year, month, day] = registryToday().split('-');
    await move.getByLabel('Day').fill(String(Number(day)));
    await move.getByLabel('Month').fill(String(Number(month)));
    await move.getByLabel('Year').fill(year ?? '');
    await move.getByRole('button', { name: 'Continue' }).click();
    await move.getByRole('button', { name: 'Confirm move' }).click();
    await eventually(
      () => summaryValue(page, 'PCN').textContent(),
      (t) => t === 'Norwich Riverside PCN (U90021)',
      'the practice’s new PCN',
    );
    const history = await page
      .getByRole('table', { name: /has belonged to/ })
      .locator('tbody tr')
      .allTextContents();
    assert.equal(history.length, 2);
    assert.match(history[0] ?? '', /^Norwich Riverside PCN \(U90021\).*Current$/);
    assert.match(history[1] ?? '', /^Norwich City PCN \(U90001\)1 July 2019\d{1,2} \w+ \d{4}$/);
    await screenshot(page, 'journey-5-practice-moved');

    await page.getByRole('link', { name: 'Norwich Riverside PCN (U90021)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Norwich Riverside PCN' }).waitFor();
    assert.equal(toNumber((await summaryValue(page, 'List size').textContent()) ?? ''), practiceSize);
    const membership = await page
      .getByRole('table', { name: /Practices that have belonged to/ })
      .locator('tbody tr')
      .allTextContents();
    assert.deepEqual(
      membership.map((t) => /Oak Street Health Centre \(Z90101\).*Current member/.test(t)),
      [true],
    );
    const changes = await page
      .getByRole('table', { name: /Recent changes/ })
      .locator('tbody tr')
      .allTextContents();
    assert.equal(changes.length, 4, changes.join('\n')); // created, director, partner, move
    assert.ok(changes.every((c) => c.includes(ADMIN.email)));
    assert.match(changes[0] ?? '', /moved from U90001 to U90021/);
    await screenshot(page, 'journey-5-new-pcn');

    await page.goto(running.server.url);
    await table.locator('tbody tr').first().waitFor();
    assert.equal(await table.locator('tbody tr').count(), 21);
    const cityAfter = toNumber(
      (await table
        .getByRole('row', { name: /U90001/ })
        .locator('td')
        .nth(1)
        .textContent()) ?? '',
    );
    assert.equal(cityAfter, cityBefore - practiceSize);
  } finally {
    await context.close();
  }

  // A PCN manager of U90001 may change their own PCN, and is offered nothing on another.
  const manager = await openPage();
  try {
    const { page } = manager;
    await signIn(page, MANAGER);
    assert.match((await page.getByRole('navigation', { name: 'Account' }).textContent()) ?? '', new RegExp(MANAGER.name));

    await page.goto(`${running.server.url}/pcns/U90001`);
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Set clinical director' }).count(), 1);

    await page.goto(`${running.server.url}/pcns/U90002`);
    await page.getByRole('heading', { level: 1, name: 'Norwich North PCN' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Make a change' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Set clinical director' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Add partner' }).count(), 0);
    await screenshot(page, 'journey-5-manager-other-pcn');

    await page.goto(`${running.server.url}/practices/Z90201`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Continue' }).count(), 0);

    // …and the server refuses even when asked directly.
    const refused = await apiAs(page, 'PATCH', '/api/pcns/U90002', { clinicalDirector: 'Dr Not Allowed' });
    assert.equal(refused.status, 403);
    assert.match(JSON.stringify(refused.body), /you manage U90001, not U90002/);
    assert.deepEqual(manager.errors, []);
  } finally {
    await manager.context.close();
  }
  assert.deepEqual(errors, []);
});
