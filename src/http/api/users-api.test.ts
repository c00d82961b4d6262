/**
 * Joiners, movers and leavers over /api (admins only): a changed role or organisation is the role of the
 * user's very next request with the token they already hold; a password reset ends their sessions but a
 * new sign-in works; every change is audited, and a refused change writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';

const h = apiSuite();

const NEW_PASSWORD = 'a brand new passphrase';
type Method = 'GET' | 'POST' | 'PATCH';
const call = (method: Method, url: string, auth: string, payload?: object) => h.app.inject({ method, url, headers: { authorization: auth }, ...(payload === undefined ? {} : { payload }) });
const me = (auth: string) => call('GET', '/api/me', auth);
const login = (email: string, password: string) => h.app.inject({ method: 'POST', url: '/api/login', payload: { email, password } });
const errorOf = (reply: { json<T>(): T }) => reply.json<{ error: { code: string; message: string; field?: string } }>().error;
/** What was done to a user's account (their own sign-ins aside). */
const auditOf = (email: string) =>
  h.db.query<{ actor: string; action: string; summary: string; detail: unknown }>(
    `SELECT actor, action, summary, detail FROM audit_event WHERE entity_type = $1 AND entity_id = $2 AND action <> 'user.sign-in' ORDER BY id`,
    ['user', email],
  );
const rowOf = async (email: string) =>
  (await h.db.query<{ role: string; org: string | null; name: string; hash: string }>('SELECT role, org_code AS org, name, password_hash AS hash FROM app_user WHERE email = $1', [email]))[0]!;

test(`an admin lists everyone with their organisation's name and never a password hash; others are refused (${testEngine})`, async () => {
  const gp = await h.addUser({ email: 'list.gp@pcn-hub.example', name: 'Dr List', role: 'gp', org: 'Z90101' });
  const listed = await call('GET', '/api/users', h.admin);
  assert.equal(listed.statusCode, 200, listed.body);
  const items = listed.json<{ items: Array<Record<string, unknown>> }>().items;
  const row = items.find((u) => u.email === 'list.gp@pcn-hub.example');
  assert.ok(row, 'the new GP is listed');
  assert.equal(row.role, 'gp');
  assert.equal(row.org, 'Z90101');
  assert.equal(typeof row.orgName, 'string', 'the practice is named, not only its code');
  assert.equal(row.pcnCode, 'U90001');
  assert.equal(row.disabledAt, null);
  assert.ok(items.some((u) => u.email === 'admin@pcn-hub.example'));
  assert.doesNotMatch(listed.body, /argon2|password_hash|passwordHash/);

  const refused = await call('GET', '/api/users', gp);
  assert.equal(refused.statusCode, 403);
  assert.equal(errorOf(refused).code, 'forbidden');
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/users' })).statusCode, 401);
});

test('a changed role and organisation are the role and PCN of the very next request with the token already held; audited with before and after', async () => {
  const mover = await h.addUser({ email: 'mover@pcn-hub.example', name: 'Mo Ver', role: 'nurse', org: 'Z90101' });
  const colleague = await h.addUser({ email: 'stays.put@pcn-hub.example', name: 'Stays Put', role: 'nurse', org: 'Z90101' });
  assert.equal((await me(mover)).json<{ role: string }>().role, 'nurse', 'remembered as a nurse');

  const changed = await call('PATCH', '/api/users/mover%40pcn-hub.example', h.admin, { role: 'practice-manager', org: 'Z90201' });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.equal(changed.json<{ role: string; org: string; pcnCode: string }>().pcnCode, 'U90002');
  const next = (await me(mover)).json<{ role: string; org: string; pcnCode: string }>();
  assert.deepEqual([next.role, next.org, next.pcnCode], ['practice-manager', 'Z90201', 'U90002'], 'the very next request');
  assert.equal((await me(colleague)).json<{ role: string }>().role, 'nurse', 'a colleague is unaffected');

  const renamed = await call('PATCH', '/api/users/mover@pcn-hub.example', h.admin, { name: 'Mo Moved' });
  assert.equal(renamed.json<{ name: string; role: string }>().name, 'Mo Moved');
  assert.equal(renamed.json<{ role: string }>().role, 'practice-manager', 'what was not named is kept');
  const audit = await auditOf('mover@pcn-hub.example');
  assert.deepEqual(
    audit.map((a) => [a.actor, a.action]),
    [
      ['system', 'user.add'],
      ['admin@pcn-hub.example', 'user.change'],
      ['admin@pcn-hub.example', 'user.change'],
    ],
  );
  assert.match(audit[1]!.summary, /role nurse → practice-manager, org Z90101 → Z90201/);
  assert.deepEqual(audit[1]!.detail, { before: { role: 'nurse', org: 'Z90101' }, after: { role: 'practice-manager', org: 'Z90201' } });
});

test('a refused change writes nothing: an unknown organisation (named), a bad role, no change at all, an unknown user, a non-admin, an admin demoting themselves', async () => {
  const gp = await h.addUser({ email: 'steady@pcn-hub.example', name: 'Dr Steady', role: 'gp', org: 'Z90101' });
  const before = await rowOf('steady@pcn-hub.example');
  const url = '/api/users/steady@pcn-hub.example';

  const unknownOrg = await call('PATCH', url, h.admin, { role: 'nurse', org: 'Z99999' });
  assert.equal(unknownOrg.statusCode, 422);
  assert.deepEqual(errorOf(unknownOrg), { code: 'invalid', field: 'org', message: 'org: no PCN, practice or partner organisation has the code Z99999' });
  const badRole = await call('PATCH', url, h.admin, { role: 'wizard' });
  assert.equal(badRole.statusCode, 422);
  assert.equal(errorOf(badRole).field, 'role');
  const nothing = await call('PATCH', url, h.admin, {});
  assert.equal(nothing.statusCode, 422);
  assert.match(errorOf(nothing).message, /at least one change/);
  const managerWithoutOrg = await call('PATCH', url, h.admin, { role: 'pcn-manager', org: null });
  assert.equal(managerWithoutOrg.statusCode, 422);
  assert.equal(errorOf(managerWithoutOrg).field, 'org');
  assert.equal((await call('PATCH', '/api/users/nobody@pcn-hub.example', h.admin, { name: 'No One' })).statusCode, 404);

  for (const [method, path, body] of [
    ['PATCH', url, { role: 'admin' }],
    ['POST', `${url}/password`, { password: NEW_PASSWORD }],
    ['POST', `${url}/disable`, undefined],
  ] as const) {
    const refused = await call(method, path, gp, body);
    assert.equal(refused.statusCode, 403, `${method} ${path}`);
    assert.equal(errorOf(refused).message, 'only an admin may manage users');
  }
  const selfDemotion = await call('PATCH', '/api/users/admin@pcn-hub.example', h.admin, { role: 'analyst' });
  assert.equal(selfDemotion.statusCode, 403);
  assert.match(errorOf(selfDemotion).message, /your own role/);
  assert.equal((await call('POST', '/api/users/admin@pcn-hub.example/disable', h.admin)).statusCode, 403, 'nor disable themselves');

  assert.deepEqual(await rowOf('steady@pcn-hub.example'), before, 'the row is as it was');
  assert.deepEqual(
    (await auditOf('steady@pcn-hub.example')).map((a) => a.action),
    ['user.add'],
    'and nothing was audited but their joining',
  );
  assert.equal((await me(gp)).statusCode, 200, 'their session goes on');
  assert.equal((await me(h.admin)).json<{ role: string }>().role, 'admin');
});

test('a password reset ends the sessions the user holds; the new password signs in (the old one does not), and the old token stays refused after', async () => {
  const first = await h.addUser({ email: 'forgetful@pcn-hub.example', name: 'Fay Forgetful', role: 'gp', org: 'Z90101' });
  const second = await h.signIn('forgetful@pcn-hub.example');
  const other = await h.addUser({ email: 'unaffected@pcn-hub.example', name: 'Una Affected', role: 'gp', org: 'Z90101' });
  for (const auth of [first, second, other]) assert.equal((await me(auth)).statusCode, 200, 'remembered as good');

  const short = await call('POST', '/api/users/forgetful@pcn-hub.example/password', h.admin, { password: 'short' });
  assert.equal(short.statusCode, 422);
  assert.equal(errorOf(short).field, 'password');
  assert.equal((await me(first)).statusCode, 200, 'a refused reset ends nothing');
  assert.equal((await login('forgetful@pcn-hub.example', ADMIN_PASSWORD)).statusCode, 200, 'and keeps the password');

  const reset = await call('POST', '/api/users/forgetful@pcn-hub.example/password', h.admin, { password: NEW_PASSWORD });
  assert.equal(reset.statusCode, 204, reset.body);
  for (const auth of [first, second]) {
    const refused = await me(auth);
    assert.equal(refused.statusCode, 401);
    assert.match(errorOf(refused).message, /password was reset/);
  }
  assert.equal((await me(other)).statusCode, 200, 'another user is unaffected');
  assert.equal((await login('forgetful@pcn-hub.example', ADMIN_PASSWORD)).statusCode, 401, 'the old password no longer works');
  const again = await login('forgetful@pcn-hub.example', NEW_PASSWORD);
  assert.equal(again.statusCode, 200, 'a new sign-in, straight after the reset, works');
  const fresh = `Bearer ${again.json<{ token: string }>().token}`;
  assert.equal((await me(fresh)).statusCode, 200);
  assert.equal((await me(first)).statusCode, 401, 'the old token stays refused once the user is remembered afresh');

  const audit = await auditOf('forgetful@pcn-hub.example');
  assert.deepEqual(
    audit.map((a) => a.action),
    ['user.add', 'user.password-reset'],
  );
  assert.doesNotMatch(JSON.stringify(audit), /passphrase/, 'the password is never in the audit');
  assert.equal((await call('POST', '/api/users/nobody@pcn-hub.example/password', h.admin, { password: NEW_PASSWORD })).statusCode, 404);
});

test('disabling over the API stops the user at once and is audited', async () => {
  const leaver = await h.addUser({ email: 'api.leaver@pcn-hub.example', name: 'Lee Ver', role: 'gp', org: 'Z90101' });
  assert.equal((await me(leaver)).statusCode, 200);
  const disabled = await call('POST', '/api/users/api.leaver@pcn-hub.example/disable', h.admin);
  assert.equal(disabled.statusCode, 200, disabled.body);
  assert.match(disabled.json<{ disabledAt: string }>().disabledAt, /^\d{4}-\d\d-\d\dT/);
  assert.equal((await me(leaver)).statusCode, 401);
  assert.deepEqual(
    (await auditOf('api.leaver@pcn-hub.example')).map((a) => a.action),
    ['user.add', 'user.disable'],
  );
});

test('every password sign-in to an account is audited, refused ones as denied; an attempt on an unknown email is not', async () => {
  await h.addUser({ email: 'signs-in@pcn-hub.example', name: 'Sam Signs', role: 'gp', org: 'Z90101' });
  assert.equal((await login('signs-in@pcn-hub.example', 'not the password')).statusCode, 401);
  assert.equal((await login('signs-in@pcn-hub.example', ADMIN_PASSWORD)).statusCode, 200);
  assert.equal((await login('nobody-here@pcn-hub.example', 'hunter2 typed in the wrong box')).statusCode, 401);
  const signIns = await h.db.query<{ actor: string; summary: string; outcome: string | null; role: string; org: string; detail: { method: string } }>(
    `SELECT actor, summary, outcome, role, org_code AS org, detail FROM audit_event WHERE action = 'user.sign-in' AND entity_id = $1 ORDER BY id`,
    ['signs-in@pcn-hub.example'],
  );
  assert.deepEqual(
    signIns.map((r) => [r.actor, r.summary, r.outcome, r.role, r.org, r.detail.method]),
    [
      ['signs-in@pcn-hub.example', 'Signed in with a password', 'success', 'gp', 'Z90101', 'password'], // the harness signs the new user in
      ['signs-in@pcn-hub.example', 'Refused a password sign-in: a wrong password', 'denied', 'gp', 'Z90101', 'password'],
      ['signs-in@pcn-hub.example', 'Signed in with a password', 'success', 'gp', 'Z90101', 'password'],
    ],
  );
  const unknown = await h.db.query(`SELECT 1 FROM audit_event WHERE action = 'user.sign-in' AND (entity_id LIKE 'nobody-here%' OR detail::text LIKE '%hunter2%')`);
  assert.equal(unknown.length, 0, 'nothing typed for an unknown email is kept');
});
