/** Every statement has a time budget, and a statement whose caller has gone is cancelled. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AppError } from '../shared/errors.ts';
import type { Db } from './db.ts';
import { openPostgres } from './pg.ts';
import { testDb, testDatabaseUrl, testEngine } from '../../test/db.ts';

const onPostgres = { skip: testEngine !== 'postgres' && 'PostgreSQL only: PGlite can neither time out nor interrupt a running statement' };
let db: Db;
before(async () => (db = await testDb()));
after(() => db.close());

const elapsedMs = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};
const isAbort = (error: unknown) => (error as Error).name === 'AbortError';

test(`a signal that has already aborted stops a query before it runs; without one the query runs (${testEngine})`, async () => {
  await assert.rejects(db.query("INSERT INTO area (code, name, size_min, size_max) VALUES ('QAB', 'Never', 1, 2)", [], { signal: AbortSignal.abort() }), isAbort);
  assert.deepEqual(await db.query("SELECT code FROM area WHERE code = 'QAB'"), []);
  const live = new AbortController();
  assert.deepEqual(await db.query('SELECT 1 AS n', [], { signal: live.signal }), [{ n: 1 }]);
});

test('a statement over its time budget fails fast as unavailable, not a 500; one within it succeeds (postgres)', onPostgres, async () => {
  const budgeted = await openPostgres(testDatabaseUrl, { statementTimeoutMs: 200, max: 2 });
  try {
    const took = await elapsedMs(() =>
      assert.rejects(budgeted.query('SELECT pg_sleep(5)'), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'unavailable');
        assert.match(error.message, /took longer than its time budget and was cancelled/);
        return true;
      }),
    );
    assert.ok(took < 1500, `gave up after ${Math.round(took)} ms`);
    await assert.rejects(
      budgeted.transaction((tx) => tx.query('SELECT pg_sleep(5)')),
      (error: unknown) => error instanceof AppError && error.code === 'unavailable',
    );
    assert.deepEqual(await budgeted.query('SELECT pg_sleep(0.05), 1 AS n').then((rows) => rows.map((r) => r.n)), [1]);
  } finally {
    await budgeted.close();
  }
});

test('an aborted statement is cancelled on the server within moments and its connection serves again (postgres)', onPostgres, async () => {
  const pool = await openPostgres(testDatabaseUrl, { max: 2 });
  try {
    const running = async (marker: string) =>
      (await db.query<{ n: number }>("SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%${marker}%`]))[0]!.n;
    for (const where of ['pool', 'transaction'] as const) {
      const marker = `abort_${randomBytes(4).toString('hex')}`;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const sql = `SELECT pg_sleep(5) /* ${marker} */`;
      const took = await elapsedMs(() =>
        assert.rejects(where === 'pool' ? pool.query(sql, [], { signal: controller.signal }) : pool.transaction((tx) => tx.query(sql, [], { signal: controller.signal })), isAbort),
      );
      assert.ok(took < 600, `${where}: returned after ${Math.round(took)} ms`);
      assert.equal(await running(marker), 0, `${where}: no statement left running`);
    }
    // Waiting for a connection ends too: with both busy, an aborted wait returns at once.
    const busy = [pool.query('SELECT pg_sleep(0.8)'), pool.query('SELECT pg_sleep(0.8)')];
    const waiting = new AbortController();
    setTimeout(() => waiting.abort(), 100);
    const waited = await elapsedMs(() => assert.rejects(pool.query('SELECT 1', [], { signal: waiting.signal }), isAbort));
    assert.ok(waited < 500, `waited ${Math.round(waited)} ms for a connection`);
    await Promise.all(busy);
    // Both connections are back: two statements at once still run.
    assert.deepEqual(await Promise.all([pool.query('SELECT 1 AS n'), pool.query('SELECT 2 AS n')]), [[{ n: 1 }], [{ n: 2 }]]);
    const untouched = new AbortController();
    assert.deepEqual(await pool.query('SELECT pg_sleep(0.05), 3 AS n', [], { signal: untouched.signal }).then((rows) => rows.map((r) => r.n)), [3]);
  } finally {
    await pool.close();
  }
});
