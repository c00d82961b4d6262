/**
 * A server remembers the tokens it has checked, and the store tells it at once when one stops being good:
 * a user disabled or given another role, a token signed out — by anyone, in any process, even by hand in
 * SQL. While those notifications cannot arrive (PostgreSQL: the listening connection dropped), every
 * request asks the database again, so nothing stale is ever let through.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testDatabaseUrl, testDb, testEngine } from '../../../test/db.ts';
import { openPostgres } from '../../storage/pg.ts';
import type { Db } from '../../storage/db.ts';
import { actorFromToken, addUser, issueToken } from './index.ts';

const db = await testDb();
/** Another process on the same store: a second PostgreSQL client, or on PGlite (one process only) the store itself, used behind the server's back. */
const schema = (await db.query<{ schema: string }>('SELECT current_schema() AS schema'))[0]!.schema;
const elsewhere: Db = testEngine === 'postgres' ? await openPostgres(testDatabaseUrl, { schema, max: 1 }) : db;
after(async () => {
  if (elsewhere !== db) await elsewhere.close();
  await db.close();
});

let n = 0;
async function signedIn(role: 'clinician' | 'analyst' = 'clinician') {
  const actor = await addUser(db, { email: `user${++n}@pcn-hub.example`, name: `User ${n}`, role });
  const token = await issueToken(db, actor);
  assert.equal((await actorFromToken(db, token)).id, actor.id, 'the token works (and is now remembered)');
  return { actor, token };
}

/** The refusal, within the time a notification takes to arrive (PGlite: before the statement answers). */
async function refusedSoon(token: string, reason: RegExp) {
  for (let i = 0; i < 50; i++) {
    const refused = await actorFromToken(db, token).then(
      () => undefined,
      (error: Error) => error,
    );
    if (refused) return assert.match(refused.message, reason);
    await sleep(10);
  }
  assert.fail('the change never reached the server');
}

test(`disabling a user or signing out a token by hand, from another process, reaches the server at once; others keep working (${testEngine})`, async () => {
  const gone = await signedIn();
  const stays = await signedIn();
  await elsewhere.query('UPDATE app_user SET disabled_at = now() WHERE id = $1', [gone.actor.id]);
  await refusedSoon(gone.token, /disabled/);
  assert.equal((await actorFromToken(db, stays.token)).id, stays.actor.id, 'another user is unaffected');

  const second = await issueToken(db, stays.actor);
  await actorFromToken(db, second);
  const claims = JSON.parse(Buffer.from(second.split('.')[1]!, 'base64url').toString()) as { jti: string };
  await elsewhere.query("INSERT INTO revoked_token (jti, expires_at) VALUES ($1, now() + interval '1 hour')", [claims.jti]);
  await refusedSoon(second, /signed out/);
  assert.equal((await actorFromToken(db, stays.token)).id, stays.actor.id, 'the same user’s other session keeps working');
});

test(`a role changed from another process is the role of the next request (${testEngine})`, async () => {
  const { actor, token } = await signedIn('clinician');
  await elsewhere.query("UPDATE app_user SET role = 'analyst' WHERE id = $1", [actor.id]);
  for (let i = 0; i < 50 && (await actorFromToken(db, token)).role !== 'analyst'; i++) await sleep(10);
  assert.equal((await actorFromToken(db, token)).role, 'analyst');
});

test('PostgreSQL: while the listening connection is down, every request asks the database; once it is back, changes are heard again', { skip: testEngine !== 'postgres' }, async () => {
  const a = await signedIn();
  const b = await signedIn();
  const cut = await elsewhere.query<{ cut: boolean }>('SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [
    `pcn-hub listener ${schema}`,
  ]);
  assert.deepEqual(
    cut.map((r) => r.cut),
    [true],
    'this server’s listener was found and cut',
  );
  await sleep(100); // the server sees its connection end
  // Nothing is heard now: the refusal can only come from asking the database.
  await elsewhere.query('UPDATE app_user SET disabled_at = now() WHERE id = $1', [a.actor.id]);
  await assert.rejects(actorFromToken(db, a.token), /disabled/);
  assert.equal((await actorFromToken(db, b.token)).id, b.actor.id);
  await sleep(1500); // listening again
  await actorFromToken(db, b.token);
  await elsewhere.query('UPDATE app_user SET disabled_at = now() WHERE id = $1', [b.actor.id]);
  await refusedSoon(b.token, /disabled/);
});
