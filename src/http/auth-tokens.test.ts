/**
 * Bearer tokens at the edge: only a token this server signed, for this audience, unexpired and not signed
 * out, of an enabled user, is accepted — everything else is a 401 next to the valid token that works.
 * Sign-in failures back off instead of locking; the edge sends security headers and no-store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT } from 'jose';
import { apiHarness, ADMIN_PASSWORD, type ApiHarness } from '../../test/api.ts';
import { testEngine } from '../../test/db.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIENCE, ISSUER, SIGN_IN_THROTTLE, SYSTEM_ACTOR, disableUser, findActor, signTokensWithKeyFile } from '../modules/access/index.ts';
import { contentSecurityPolicy } from './app.ts';

let h: ApiHarness;
let auth: string;
let adminId: string;
let work: string;
/** The server's own key, read from its key file as a thief of the file (not of the tables) could. */
let serverKey: Uint8Array;

before(async () => {
  h = await apiHarness();
  work = await mkdtemp(join(tmpdir(), 'pcn-auth-'));
  const keyFile = join(work, 'token.key');
  signTokensWithKeyFile(h.db, keyFile);
  auth = await h.signIn('admin@pcn-hub.example');
  serverKey = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64');
  adminId = (await findActor(h.db, 'admin@pcn-hub.example'))!.id;
});
after(async () => {
  await h.close();
  await rm(work, { recursive: true, force: true });
});

const me = (authorization: string) => h.app.inject({ method: 'GET', url: '/api/me', headers: { authorization } });

/** A token shaped like the server's, with the given changes. */
function forged(change: { key?: Uint8Array; aud?: string; iss?: string; exp?: string | null; alg?: string } = {}) {
  let jwt = new SignJWT({ email: 'admin@pcn-hub.example' })
    .setProtectedHeader({ alg: change.alg ?? 'HS256' })
    .setSubject(adminId)
    .setIssuer(change.iss ?? ISSUER)
    .setAudience(change.aud ?? AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt();
  if (change.exp !== null) jwt = jwt.setExpirationTime(change.exp ?? '1h');
  return jwt.sign(change.key ?? serverKey);
}

test(`a token the server signed works; alg none, a wrong key, audience or issuer, expired, no exp, or a tampered payload are each 401 (${testEngine})`, async () => {
  assert.equal((await me(auth)).statusCode, 200, 'the signed-in token works');
  assert.equal((await me(`Bearer ${await forged()}`)).statusCode, 200, 'a well-formed token with the server’s key works (the forger below changes one thing each)');
  const unsigned = new UnsecuredJWT({ email: 'admin@pcn-hub.example' }).setSubject(adminId).setIssuer(ISSUER).setAudience(AUDIENCE).setJti('x').setIssuedAt().setExpirationTime('1h').encode();
  const [head, body, sig] = auth.slice(7).split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-0000-0000-000000000001' })).toString('base64url')}.${sig}`;
  const attacks: Record<string, string> = {
    'alg none': unsigned,
    'a wrong key': await forged({ key: new Uint8Array(32).fill(7) }),
    'a wrong audience': await forged({ aud: 'some-other-api' }),
    'a wrong issuer': await forged({ iss: 'someone-else' }),
    expired: await forged({ exp: '-1m' }),
    'no exp': await forged({ exp: null }),
    'a tampered payload': tampered,
    'another algorithm': await forged({ alg: 'HS512', key: serverKey }),
  };
  for (const [what, token] of Object.entries(attacks)) {
    const reply = await me(`Bearer ${token}`);
    assert.equal(reply.statusCode, 401, `${what}: ${reply.body}`);
    assert.equal(reply.json<{ error: { code: string } }>().error.code, 'unauthenticated', what);
    const fhir = await h.app.inject({ method: 'GET', url: '/fhir/Patient?_count=1', headers: { authorization: `Bearer ${token}` } });
    assert.equal(fhir.statusCode, 401, `${what} on /fhir`);
  }
  assert.match((await me(`Bearer ${attacks.expired}`)).json<{ error: { message: string } }>().error.message, /expired/);
});

test('signing out revokes that token at once, on /api and /fhir; another session of the same user keeps working', async () => {
  const session = await h.signIn('admin@pcn-hub.example');
  const other = await h.signIn('admin@pcn-hub.example');
  assert.equal((await me(session)).statusCode, 200);
  const out = await h.app.inject({ method: 'POST', url: '/api/logout', headers: { authorization: session } });
  assert.equal(out.statusCode, 204, out.body);
  const after = await me(session);
  assert.equal(after.statusCode, 401);
  assert.match(after.json<{ error: { message: string } }>().error.message, /signed out/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/fhir/Patient?_count=1', headers: { authorization: session } })).statusCode, 401);
  assert.equal((await me(other)).statusCode, 200, 'only the signed-out token is refused');
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/logout' })).statusCode, 401, 'signing out needs a token');
});

test('a disabled user loses access at once (no minute of grace) and cannot sign in again; others are unaffected', async () => {
  const gp = await h.addUser({ email: 'soon.gone@pcn-hub.example', name: 'Soon Gone', role: 'clinician', org: 'Z90101' });
  const colleague = await h.addUser({ email: 'stays@pcn-hub.example', name: 'Stays Here', role: 'clinician', org: 'Z90101' });
  assert.equal((await me(gp)).statusCode, 200, 'a first request remembers the user');
  await disableUser(h.db, SYSTEM_ACTOR, 'Soon.Gone@pcn-hub.example');
  const refused = await me(gp);
  assert.equal(refused.statusCode, 401);
  assert.match(refused.json<{ error: { message: string } }>().error.message, /disabled/);
  const signIn = await h.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'soon.gone@pcn-hub.example', password: ADMIN_PASSWORD } });
  assert.equal(signIn.statusCode, 401);
  assert.match(signIn.json<{ error: { message: string } }>().error.message, /disabled/);
  assert.equal((await me(colleague)).statusCode, 200);
  await assert.rejects(disableUser(h.db, SYSTEM_ACTOR, 'nobody@pcn-hub.example'), /was not found/);
});

test('wrong passwords back off (429 + Retry-After) at that address, never lock: the owner signs in from another address, and the right password works once the wait is over', async () => {
  await h.addUser({ email: 'target@pcn-hub.example', name: 'Target Admin', role: 'admin' });
  const attempt = (password: string, address: string) => h.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'target@pcn-hub.example', password }, remoteAddress: address });
  const attacker = '203.0.113.9';
  for (let i = 0; i < SIGN_IN_THROTTLE.freeFailuresPerAccount; i++) assert.equal((await attempt(`guess ${i}`, attacker)).statusCode, 401, `guess ${i + 1}`);
  const held = await attempt(ADMIN_PASSWORD, attacker);
  assert.equal(held.statusCode, 429, held.body);
  assert.equal(held.json<{ error: { code: string } }>().error.code, 'locked');
  const wait = Number(held.headers['retry-after']);
  assert.ok(wait > 0 && wait <= SIGN_IN_THROTTLE.baseWaitSeconds, `Retry-After ${held.headers['retry-after']}`);
  for (let i = 0; i < 10; i++) assert.equal((await attempt(`more ${i}`, attacker)).statusCode, 429, 'tries while backing off are refused without counting');
  assert.equal((await attempt(ADMIN_PASSWORD, '198.51.100.20')).statusCode, 200, 'the owner, elsewhere, is not held up');

  // The wait passes (moved back in time): one more wrong guess doubles it; the right password then works after that wait.
  const key = `account:target@pcn-hub.example address:${attacker}`;
  const rewind = (seconds: number) => h.db.query(`UPDATE sign_in_failure SET last_failed_at = now() - make_interval(secs => $2) WHERE key = $1`, [key, seconds]);
  await rewind(SIGN_IN_THROTTLE.baseWaitSeconds + 1);
  assert.equal((await attempt('one more guess', attacker)).statusCode, 401);
  const doubled = await attempt(ADMIN_PASSWORD, attacker);
  assert.equal(doubled.statusCode, 429);
  assert.ok(Number(doubled.headers['retry-after']) > SIGN_IN_THROTTLE.baseWaitSeconds, `doubled: ${doubled.headers['retry-after']}`);
  await rewind(2 * SIGN_IN_THROTTLE.baseWaitSeconds + 1);
  assert.equal((await attempt(ADMIN_PASSWORD, attacker)).statusCode, 200, 'never a lock: the right password works after the wait');
  assert.equal((await attempt('a fresh typo', attacker)).statusCode, 401, 'and success resets the account’s count at that address');
});

test('security headers on the web app and the APIs; no-store on /api and /fhir answers', async () => {
  for (const url of ['/api/me', '/fhir/Patient?_count=1', '/api/config', '/fhir/metadata']) {
    const reply = await h.app.inject({ method: 'GET', url, headers: { authorization: auth } });
    assert.equal(reply.statusCode, 200, url);
    assert.equal(reply.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(reply.headers['x-frame-options'], 'DENY', url);
    assert.equal(reply.headers['referrer-policy'], 'no-referrer', url);
    assert.equal(reply.headers['cache-control'], 'no-store', url);
    assert.match(String(reply.headers['content-security-policy']), /default-src 'none'; frame-ancestors 'none'/, url);
  }
  const denied = await h.app.inject({ method: 'GET', url: '/fhir/Patient?_count=1' });
  assert.equal(denied.headers['cache-control'], 'no-store', 'errors too');
  const page = await h.app.inject({ method: 'GET', url: '/patients' });
  assert.equal(page.statusCode, 200, 'the web app’s page');
  assert.match(String(page.headers['content-security-policy']), /^default-src 'self'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'$/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  const policy = contentSecurityPolicy('https://{s}.tile.example.org/{z}/{x}/{y}.png');
  assert.match(policy, /script-src 'self';/);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
  assert.match(policy, /img-src 'self' data: https:\/\/\*\.tile\.example\.org;/);
  assert.match(contentSecurityPolicy(), /img-src 'self' data:;/);
  // Without map tiles the web app may reach no other server, not even for a font.
  assert.match(contentSecurityPolicy(), /font-src 'self';/);
  assert.doesNotMatch(contentSecurityPolicy(), /https?:|\*/);
  assert.doesNotMatch(policy, /font-src[^;]*https?:/, 'tiles widen images only');
});

test('one address guessing across many accounts backs off as a whole; other addresses do not', async () => {
  const sprayer = '203.0.113.77';
  const login = (email: string, password: string, address: string) => h.app.inject({ method: 'POST', url: '/api/login', payload: { email, password }, remoteAddress: address });
  for (let i = 0; i < SIGN_IN_THROTTLE.freeFailuresPerAddress; i++) assert.equal((await login(`spray${i}@pcn-hub.example`, 'Winter2026!', sprayer)).statusCode, 401);
  const held = await login('admin@pcn-hub.example', ADMIN_PASSWORD, sprayer);
  assert.equal(held.statusCode, 429);
  assert.ok(Number(held.headers['retry-after']) > 0);
  assert.equal((await login('admin@pcn-hub.example', ADMIN_PASSWORD, '198.51.100.21')).statusCode, 200);
});
