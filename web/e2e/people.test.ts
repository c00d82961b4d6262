/**
 * Joiners, movers and leavers in a real browser against a real server: the admin finds a GP on People,
 * moves them to another role and organisation, sets a new password (their session ends, the new password
 * works) and disables them (they cannot sign in). A clinician is not offered the page. Screenshots go to
 * test-results/people-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/people.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { eventually, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'dr.mover@u90001.example', password: 'a long gp password here', name: 'Dr Mover' };

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { ...GP, role: 'clinician', org: 'U90001' });
});

const { openPage, signIn } = running;

async function me(password: string): Promise<number> {
  const response = await fetch(`${running.server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: GP.email, password }) });
  return response.status;
}

test('an admin moves a GP to a nurse at another practice, sets a new password that ends their session, then disables them', async () => {
  const gp = await openPage();
  const admin = await openPage();
  try {
    await signIn(gp.page, GP);
    assert.equal(await gp.page.getByRole('link', { name: 'People' }).count(), 0, 'a clinician is not offered People');

    await signIn(admin.page, ADMIN);
    await admin.page.getByRole('link', { name: 'People' }).click();
    await admin.page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
    const row = admin.page.getByRole('row').filter({ hasText: GP.email });
    assert.match((await row.textContent()) ?? '', /Clinician \(GP\).*U90001.*Active/);
    await screenshot(admin.page, 'people-list');
    await row.getByRole('link', { name: GP.name }).click();
    await admin.page.getByRole('heading', { level: 1, name: GP.name }).waitFor();

    // A mistake first: an organisation no one knows is refused, beside the field, and nothing changes.
    await admin.page.getByLabel('Organisation code').fill('Z99999');
    await admin.page.getByRole('button', { name: 'Save changes' }).click();
    await admin.page
      .getByRole('alert')
      .getByText(/Z99999/)
      .waitFor();
    await admin.page.getByLabel('Role').selectOption('nurse');
    await admin.page.getByLabel('Organisation code').fill('Z90102');
    await admin.page.getByRole('button', { name: 'Save changes' }).click();
    await admin.page
      .getByRole('status')
      .getByText(/is now Nurse at/)
      .waitFor();
    await screenshot(admin.page, 'people-changed');
    const role = await eventually(
      async () =>
        (await fetch(`${running.server.url}/api/me`, { headers: { authorization: `Bearer ${await gp.page.evaluate(() => localStorage.getItem('pcn.token'))}` } })).json() as Promise<{ role?: string }>,
      (body) => body.role === 'nurse',
      'the GP’s own session carries the new role',
    );
    assert.equal(role.role, 'nurse');

    await admin.page.getByLabel('New password').fill('a brand new password here');
    await admin.page.getByRole('button', { name: 'Set the new password' }).click();
    await admin.page
      .getByRole('status')
      .getByText(/signed out everywhere/)
      .waitFor();
    assert.equal(await me(GP.password), 401, 'the old password no longer works');
    assert.equal(await me('a brand new password here'), 200, 'the new one does');

    await admin.page.getByRole('button', { name: `Disable ${GP.name}` }).click();
    await admin.page
      .getByRole('alert')
      .getByText(/Confirm that/)
      .waitFor();
    await admin.page.getByLabel(`Disable ${GP.name} now`).check();
    await admin.page.getByRole('button', { name: `Disable ${GP.name}` }).click();
    await admin.page.getByText(/^Disabled /).waitFor();
    assert.equal(await me('a brand new password here'), 401, 'a disabled person cannot sign in');
    await screenshot(admin.page, 'people-disabled');
    assert.deepEqual(admin.errors, []);
  } finally {
    await gp.context.close();
    await admin.context.close();
  }
});
