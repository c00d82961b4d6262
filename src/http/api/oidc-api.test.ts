/**
 * Single sign-on end to end against a real OpenID Connect provider (oidc-provider, started here): start →
 * the provider's sign-in pages → callback → the one-time code swapped for a session token. Matching by
 * identity, by verified email (which links), creation from CIS2-style claims when allowed, and every
 * refusal — each audited — on both engines.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildApp, type ZodApp } from '../app.ts';
import { addUser, disableUser, SYSTEM_ACTOR, type OidcSettings } from '../../modules/access/index.ts';
import { seedDemoIfEmpty } from '../../demo/seed-demo.ts';
import type { Db } from '../../storage/db.ts';
import { testDb } from '../../../test/db.ts';
import { CIS2_SCOPES, CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, signInAtProvider, startOidcProvider, type TestProvider } from '../../../test/oidc-provider.ts';

const REDIRECT = 'https://pcn-hub.example/api/auth/oidc/callback';
const ADMIN_PASSWORD = 'correct horse battery staple';

let db: Db;
let idp: TestProvider;
const apps: ZodApp[] = [];

before(async () => {
  db = await testDb();
  await seedDemoIfEmpty(db, { adminPassword: ADMIN_PASSWORD });
  idp = await startOidcProvider({ redirectUri: REDIRECT });
});

after(async () => {
  for (const app of apps) await app.close();
  await idp?.close();
  await db?.close();
});

const settings = (overrides: Partial<OidcSettings> = {}): OidcSettings => ({
  issuer: idp.issuer,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUrl: REDIRECT,
  scopes: CIS2_SCOPES,
  label: 'Sign in with NHS Care Identity',
  createUsers: false,
  trustEmail: false,
  roleClaim: 'nhsid_nrbac_roles',
  roleMap: { R8000: 'gp', R8001: 'nurse', R8008: 'care-coordinator' },
  ...overrides,
});

async function appWith(overrides: Partial<OidcSettings> = {}): Promise<ZodApp> {
  const app = await buildApp({ db, logger: false, oidc: settings(overrides) });
  apps.push(app);
  return app;
}

/** CIS2's shape: one entry per role profile, its organisation with it. */
const cis2Role = (roleId: string, jobRole: string, org: string) => ({
  person_roleid: roleId,
  role_code: `S8000:G8000:${jobRole}`,
  org_code: org,
  role_name: '"Clinical":"Clinical Provision":"Access Role"',
});

interface Flow {
  /** Where the callback sent the browser. */
  location: string;
  cookie: string;
  callback: string;
}

/** Start → the provider's pages as `login` → the callback, as a browser would. */
async function ssoFlow(app: ZodApp, login: string, options: { beforeCallback?: () => Promise<void>; cookie?: string } = {}): Promise<Flow> {
  const start = await app.inject({ method: 'GET', url: '/api/auth/oidc/start?next=/pcns/U90001' });
  assert.equal(start.statusCode, 302, start.body);
  const cookie = String(start.headers['set-cookie']).split(';')[0]!;
  assert.match(String(start.headers['set-cookie']), /HttpOnly; SameSite=Lax/);
  const authorise = new URL(start.headers.location!);
  assert.equal(authorise.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(authorise.searchParams.get('nonce') && authorise.searchParams.get('state'));
  const back = await signInAtProvider(idp, authorise.href, login);
  assert.ok(back.startsWith(REDIRECT), back);
  await options.beforeCallback?.();
  const callback = new URL(back);
  const answer = await app.inject({ method: 'GET', url: callback.pathname + callback.search, headers: { cookie: options.cookie ?? cookie } });
  assert.equal(answer.statusCode, 302, answer.body);
  return { location: answer.headers.location!, cookie, callback: callback.pathname + callback.search };
}

/** The one-time code in the fragment swapped for a session, as the sign-in page does. */
async function session(app: ZodApp, flow: Flow) {
  const code = /^\/signin#sso=([\w-]+)$/.exec(flow.location)?.[1];
  assert.ok(code, `signed in: ${flow.location}`);
  const response = await app.inject({ method: 'POST', url: '/api/auth/oidc/session', payload: { code } });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ token: string; user: { email: string; role: string; org: string | null }; next: string }>();
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${body.token}` } });
  assert.equal(me.statusCode, 200);
  return { ...body, code };
}

const refusal = (flow: Flow) => new URL(flow.location, 'https://x').searchParams.get('sso-error');

const signIns = (who: string) =>
  db.query<{ outcome: string; summary: string; detail: { matchedBy?: string; reason?: string } }>(
    `SELECT outcome, summary, detail FROM audit_event WHERE action = 'user.sign-in' AND entity_id = $1 ORDER BY id`,
    [who],
  );

test('a first sign-in links the account by its verified email; later ones match the identity even when the email changes', async () => {
  const app = await appWith();
  await addUser(db, { email: 'dr.link@u90001.example', name: 'Dr Link', role: 'gp', org: 'U90001', password: ADMIN_PASSWORD });
  idp.people.set('cis2-link', { email: 'dr.link@u90001.example', email_verified: true, name: 'Dr Link' });

  const first = await session(app, await ssoFlow(app, 'cis2-link'));
  assert.equal(first.user.email, 'dr.link@u90001.example');
  assert.equal(first.next, '/pcns/U90001', 'back to the page they were going to');
  assert.doesNotMatch(first.code, /\./, 'the URL carries a one-time code, never the token');

  idp.people.set('cis2-link', { email: 'dr.link.renamed@nhs.example', email_verified: true, name: 'Dr Link' });
  const again = await session(app, await ssoFlow(app, 'cis2-link'));
  assert.equal(again.user.email, 'dr.link@u90001.example', 'matched by the provider’s subject, not the new email');

  const audit = await signIns('dr.link@u90001.example');
  assert.deepEqual(
    audit.map((a) => [a.outcome, a.detail.matchedBy]),
    [
      ['success', 'email'],
      ['success', 'identity'],
    ],
  );
});

test('an email the provider does not call verified links nothing: not set up, refused and audited', async () => {
  const app = await appWith();
  await addUser(db, { email: 'nurse.unverified@u90001.example', name: 'Nurse Unverified', role: 'nurse', org: 'U90001' });
  idp.people.set('cis2-unverified', { email: 'nurse.unverified@u90001.example', email_verified: false, name: 'Nurse Unverified' });
  const flow = await ssoFlow(app, 'cis2-unverified');
  assert.equal(refusal(flow), 'not-set-up');
  const [audit] = await db.query<{ outcome: string; summary: string }>(`SELECT outcome, summary FROM audit_event WHERE action = 'user.sign-in' AND entity_id LIKE $1`, [`% cis2-unverified`]);
  assert.equal(audit?.outcome, 'denied');
  assert.match(audit!.summary, /not set up in PCN Hub.*ask your administrator/);
  // A provider trusted for its emails (CIS2 sends no email_verified) links the same person.
  const trusting = await appWith({ trustEmail: true });
  assert.equal((await session(trusting, await ssoFlow(trusting, 'cis2-unverified'))).user.email, 'nurse.unverified@u90001.example');
});

test('someone PCN Hub does not know is refused while creation is off, and added from CIS2 claims when it is on', async () => {
  idp.people.set('cis2-new', {
    email: 'New.Nurse@nhs.example',
    email_verified: true,
    name: 'New Nurse',
    // Two role profiles: the one chosen at sign-in (selected_roleid) is taken, with its organisation.
    nhsid_nrbac_roles: [cis2Role('111', 'R8000', 'U90002'), cis2Role('222', 'R8001', 'U90001')],
    selected_roleid: '222',
  });
  const off = await ssoFlow(await appWith(), 'cis2-new');
  assert.equal(refusal(off), 'not-set-up');
  assert.equal((await db.query('SELECT 1 FROM app_user WHERE email = $1', ['new.nurse@nhs.example'])).length, 0);

  const on = await appWith({ createUsers: true });
  const created = await session(on, await ssoFlow(on, 'cis2-new'));
  assert.deepEqual([created.user.email, created.user.role, created.user.org], ['new.nurse@nhs.example', 'nurse', 'U90001']);
  const [added] = await db.query<{ actor: string; summary: string }>(`SELECT actor, summary FROM audit_event WHERE action = 'user.add' AND entity_id = $1`, ['new.nurse@nhs.example']);
  assert.equal(added?.actor, 'single-sign-on');
  assert.deepEqual(
    (await signIns('new.nurse@nhs.example')).map((a) => [a.outcome, a.detail.matchedBy ?? a.detail.reason]),
    [
      ['denied', 'not-set-up'],
      ['success', 'created'],
    ],
  );
});

test('creation refuses an organisation PCN Hub does not know, or a role the map does not know, and adds no one', async () => {
  const on = await appWith({ createUsers: true });
  idp.people.set('cis2-elsewhere', { email: 'far@nhs.example', email_verified: true, name: 'Far Away', nhsid_nrbac_roles: [cis2Role('333', 'R8000', 'RXX99')] });
  const elsewhere = await ssoFlow(on, 'cis2-elsewhere');
  assert.equal(refusal(elsewhere), 'unknown-organisation');
  const [audit] = await signIns('far@nhs.example');
  assert.match(audit!.summary, /organisation RXX99 is not an organisation PCN Hub knows/);

  idp.people.set('cis2-porter', { email: 'porter@nhs.example', email_verified: true, name: 'A Porter', nhsid_nrbac_roles: [cis2Role('444', 'R9999', 'U90001')] });
  assert.equal(refusal(await ssoFlow(on, 'cis2-porter')), 'no-role');
  assert.equal((await db.query(`SELECT 1 FROM app_user WHERE email IN ('far@nhs.example', 'porter@nhs.example')`)).length, 0);
});

test("the provider's role and organisation move an existing user, audited as a change; a role the map does not know leaves theirs", async () => {
  const app = await appWith();
  await addUser(db, { email: 'mover@u90001.example', name: 'A Mover', role: 'gp', org: 'U90001' });
  idp.people.set('cis2-mover', { email: 'mover@u90001.example', email_verified: true, nhsid_nrbac_roles: [cis2Role('555', 'R8008', 'Z90102')] });
  const moved = await session(app, await ssoFlow(app, 'cis2-mover'));
  assert.deepEqual([moved.user.role, moved.user.org], ['care-coordinator', 'Z90102']);
  const [change] = await db.query<{ actor: string; summary: string }>(`SELECT actor, summary FROM audit_event WHERE action = 'user.change' AND entity_id = $1`, ['mover@u90001.example']);
  assert.equal(change?.actor, 'single-sign-on');
  assert.match(change!.summary, /role gp → care-coordinator, org U90001 → Z90102/);

  idp.people.set('cis2-mover', { email: 'mover@u90001.example', email_verified: true, nhsid_nrbac_roles: [{ role_code: 'S0000:G0000:R0001' }] });
  const kept = await session(app, await ssoFlow(app, 'cis2-mover'));
  assert.deepEqual([kept.user.role, kept.user.org], ['care-coordinator', 'Z90102']);
});

test('a disabled user is refused, and so is a second identity claiming an account already linked', async () => {
  const app = await appWith();
  await addUser(db, { email: 'leaver@u90001.example', name: 'A Leaver', role: 'nurse', org: 'U90001' });
  await disableUser(db, SYSTEM_ACTOR, 'leaver@u90001.example');
  idp.people.set('cis2-leaver', { email: 'leaver@u90001.example', email_verified: true });
  assert.equal(refusal(await ssoFlow(app, 'cis2-leaver')), 'disabled');
  assert.equal((await signIns('leaver@u90001.example')).at(-1)?.outcome, 'denied');

  idp.people.set('cis2-twin', { email: 'dr.link@u90001.example', email_verified: true });
  assert.equal(refusal(await ssoFlow(app, 'cis2-twin')), 'identity-conflict');
});

test('a callback from another browser, a replayed one, a wrong nonce and a replayed handover code are all refused', async () => {
  const app = await appWith();
  idp.people.set('cis2-link', { email: 'dr.link@u90001.example', email_verified: true });

  const otherBrowser = await ssoFlow(app, 'cis2-link', { cookie: 'pcn_oidc_state=someone-elses' });
  assert.equal(refusal(otherBrowser), 'failed');

  const good = await ssoFlow(app, 'cis2-link');
  const replay = await app.inject({ method: 'GET', url: good.callback, headers: { cookie: good.cookie } });
  assert.equal(new URL(replay.headers.location!, 'https://x').searchParams.get('sso-error'), 'failed', 'the state is used once');

  const nonce = await ssoFlow(app, 'cis2-link', { beforeCallback: () => db.query(`UPDATE oidc_sign_in SET nonce = 'not-the-nonce-sent'`).then(() => undefined) });
  assert.equal(refusal(nonce), 'failed');
  const audit = await signIns('unknown');
  assert.ok(
    audit.some((a) => /nonce/i.test(a.summary)),
    JSON.stringify(audit.map((a) => a.summary)),
  );

  const { code } = await session(app, good);
  const again = await app.inject({ method: 'POST', url: '/api/auth/oidc/session', payload: { code } });
  assert.equal(again.statusCode, 401);
  assert.match(again.json<{ error: { message: string } }>().error.message, /already been used or has expired/);
});

test('a public client (no secret) signs in with PKCE alone', async () => {
  const app = await appWith({ clientId: PUBLIC_CLIENT_ID, clientSecret: undefined });
  idp.people.set('cis2-link', { email: 'dr.link@u90001.example', email_verified: true });
  assert.equal((await session(app, await ssoFlow(app, 'cis2-link'))).user.email, 'dr.link@u90001.example');
});

test('password sign-in stays; /api/config tells the web app about single sign-on only when it is configured', async () => {
  const app = await appWith();
  const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD } });
  assert.equal(login.statusCode, 200);
  assert.deepEqual((await app.inject('/api/config')).json<{ singleSignOn: unknown }>().singleSignOn, { label: 'Sign in with NHS Care Identity' });

  const plain = await buildApp({ db, logger: false });
  apps.push(plain);
  assert.equal((await plain.inject('/api/config')).json<{ singleSignOn: unknown }>().singleSignOn, null);
  assert.equal((await plain.inject('/api/auth/oidc/start')).statusCode, 404);
  assert.equal((await plain.inject({ method: 'POST', url: '/api/auth/oidc/session', payload: { code: 'x' } })).statusCode, 404);
  await assert.rejects(buildApp({ db, logger: false, oidc: { ...settings(), roleMap: { R8000: 'doctor' } } }), /maps R8000 to 'doctor', which is not a PCN Hub role/);
});
