/**
 * A first start in a real browser: while the demo population is still being added the pages work and say how
 * far it has got; the note goes once the population is in.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/seeding.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/server.ts';
import { testDb } from '../../test/db.ts';
import { ensureWebBuild, launchChromium, openPage, screenshot, signIn } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const AREA_NAME = 'Norfolk and Waveney (demo)';

let server: RunningServer;
let browser: Browser;

before(async () => {
  ensureWebBuild();
  [server, browser] = await Promise.all([startServer({ port: 0, db: await testDb(), seedDemo: true, demoPatients: 1500, adminPassword: ADMIN.password }), launchChromium()]);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await server?.db.close();
});

test('while the demo population seeds, sign-in and the area page work and show the progress; the note goes when it is done', async () => {
  const { context, page, errors } = await openPage(browser, server.url);
  try {
    await signIn(page, server.url, ADMIN, AREA_NAME);
    const note = page.getByRole('status').filter({ hasText: 'The demo population is still being added' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /[\d,]+ of 1,500 patients so far/);
    await screenshot(page, 'seeding-progress');
    await server.patientsSeeded;
    await note.waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
