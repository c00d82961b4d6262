/**
 * Idle sign-out in a real browser: a person who keeps working stays signed in past the limit; one who
 * leaves the screen is signed out after it, told why, and their token is refused by the server too.
 * The limit is 3 seconds here (PCN_IDLE_SIGN_OUT_MINUTES, 30 minutes by default).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/idle.test.ts
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startServer } from '../../src/server.ts';
import type { Db } from '../../src/storage/db.ts';
import { testDb } from '../../test/db.ts';
import { ensureWebBuild, launchChromium, openPage, screenshot, signIn } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const AREA_NAME = 'Norfolk and Waveney (demo)';
const LIMIT_MINUTES = 0.05;

let server: { url: string; db: Db; close(): Promise<void> };
let browser: Browser;

before(async () => {
  ensureWebBuild();
  const db = await testDb();
  [server, browser] = await Promise.all([startServer({ port: 0, db, seedDemo: true, adminPassword: ADMIN.password, idleSignOutMinutes: LIMIT_MINUTES }), launchChromium()]);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await server?.db.close();
});

test('someone working stays signed in past the limit; left alone, the page signs out, says why, and the token is refused', async () => {
  const { context, page, errors } = await openPage(browser, server.url);
  try {
    await signIn(page, server.url, ADMIN, AREA_NAME);
    const token = await page.evaluate(() => localStorage.getItem('pcn.token'));
    assert.ok(token);
    // Working: a key pressed every half second for twice the limit.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Shift');
      await sleep(500);
    }
    assert.equal(new URL(page.url()).pathname, '/', 'still on the page while working');

    // Left alone.
    await page
      .getByRole('status')
      .getByText(/You were signed out because PCN Hub was not used/)
      .waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, '/signin');
    await screenshot(page, 'idle-signed-out');
    const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 401, 'the server refuses the idle session’s token too');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
