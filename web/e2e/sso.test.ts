/**
 * Single sign-on in a real browser against a real OpenID Connect provider (oidc-provider, started here, with
 * its development sign-in pages): a GP going to a PCN's page is sent to sign in, chooses "Sign in with NHS
 * Care Identity", signs in at the provider and lands back on that page, signed in, with no code left in the
 * address. Someone the provider knows but PCN Hub does not is told so in plain words. Screenshots go to
 * test-results/sso-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/sso.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addUser } from '../../src/modules/access/index.ts';
import { startServer } from '../../src/server.ts';
import type { Db } from '../../src/storage/db.ts';
import { testDb } from '../../test/db.ts';
import { CIS2_SCOPES, CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from '../../test/oidc-provider.ts';
import { ensureWebBuild, launchChromium, openPage as openBrowserPage, screenshot } from './harness.ts';

const LABEL = 'Sign in with NHS Care Identity';
const GP = { email: 'dr.sso@u90001.example', name: 'Dr Single Sign-On' };

let server: { url: string; db: Db; close(): Promise<void> };
let idp: TestProvider;
let browser: Browser;

before(async () => {
  ensureWebBuild();
  const db = await testDb();
  idp = await startOidcProvider();
  [server, browser] = await Promise.all([
    startServer({
      port: 0,
      db,
      seedDemo: true,
      adminPassword: 'correct horse battery staple',
      // No redirect URL: the callback is the request's own origin's, as on a default deployment.
      oidc: {
        issuer: idp.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        scopes: CIS2_SCOPES,
        label: LABEL,
        createUsers: false,
        trustEmail: false,
        roleClaim: 'nhsid_nrbac_roles',
        roleMap: { R8000: 'gp' },
      },
    }),
    launchChromium(),
  ]);
  idp.allowRedirect(`${server.url}/api/auth/oidc/callback`);
  await addUser(server.db, { ...GP, role: 'gp', org: 'U90001' });
  idp.people.set('cis2-gp', { email: GP.email, email_verified: true, name: GP.name, nhsid_nrbac_roles: [{ person_roleid: '1', role_code: 'S8000:G8000:R8000', org_code: 'U90001' }] });
  idp.people.set('cis2-stranger', { email: 'stranger@nhs.example', email_verified: true, name: 'A Stranger' });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await server?.db.close();
  await idp?.close();
});

const openPage = () => openBrowserPage(browser, server.url, { also: [idp.issuer] });

/** At the provider's development pages: the login is the person's id there; any password; then consent. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

test('a GP signs in with NHS Care Identity and lands back on the page they asked for', async () => {
  const { context, page, errors } = await openPage();
  try {
    await page.goto(`${server.url}/pcns/U90001`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to PCN Hub' }).waitFor();
    const button = page.getByRole('link', { name: LABEL });
    await button.waitFor();
    assert.equal(await page.getByLabel('Password').count(), 1, 'password sign-in stays beside it');
    await screenshot(page, 'sso-sign-in');

    await button.click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await signInAtProvider(page, 'cis2-gp');

    await page.getByText(GP.name).first().waitFor();
    const here = new URL(page.url());
    assert.equal(here.pathname, '/pcns/U90001');
    assert.equal(here.hash, '', 'the one-time code does not stay in the address');
    assert.ok(await page.evaluate(() => localStorage.getItem('pcn.token')), 'a session like a password sign-in’s');
    await screenshot(page, 'sso-signed-in');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('someone PCN Hub does not know is sent back to sign in with a plain reason, and is not signed in', async () => {
  const { context, page, errors } = await openPage();
  try {
    await page.goto(`${server.url}/signin`);
    await page.getByRole('link', { name: LABEL }).click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await signInAtProvider(page, 'cis2-stranger');

    await page.getByRole('alert').getByText('Your NHS Care Identity account is not set up in PCN Hub. Ask your PCN Hub administrator.').waitFor();
    assert.equal(new URL(page.url()).pathname, '/signin');
    assert.equal(await page.evaluate(() => localStorage.getItem('pcn.token')), null);
    await screenshot(page, 'sso-refused');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
