/**
 * Idle sign-out in a real browser: a person who keeps working stays signed in past the limit; one who
 * leaves the screen is signed out after it, told why, and their token is refused by the server too.
 * The limit is 3 seconds here (PCN_IDLE_SIGN_OUT_MINUTES, 30 minutes by default).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/idle.test.ts
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const LIMIT_MINUTES = 0.05;

const running = journeyServer({ adminPassword: ADMIN.password, idleSignOutMinutes: LIMIT_MINUTES });
const { openPage, signIn } = running;

test('someone working stays signed in past the limit; left alone, the page signs out, says why, and the token is refused', async () => {
  const { context, page, errors } = await openPage();
  try {
    // Working from the moment of signing in: a key pressed every half second, so a slow first page (a busy
    // machine) is not mistaken for someone who left; then for twice the limit on the home page.
    let working = true;
    const keepWorking = (async () => {
      while (working) {
        await page.keyboard.press('Shift').catch(() => undefined);
        await sleep(500);
      }
    })();
    await signIn(page, ADMIN);
    const token = await page.evaluate(() => localStorage.getItem('pcn.token'));
    assert.ok(token);
    await sleep(6_000);
    working = false;
    await keepWorking;
    assert.equal(new URL(page.url()).pathname, '/', 'still on the page while working');

    // Left alone.
    await page
      .getByRole('status')
      .getByText(/You were signed out because PCN Hub was not used/)
      .waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, '/signin');
    await screenshot(page, 'idle-signed-out');
    const me = await fetch(`${running.server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 401, 'the server refuses the idle session’s token too');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
