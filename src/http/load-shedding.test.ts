/**
 * Past capacity the server answers 503 + Retry-After at once (/api as {error}, /fhir as an
 * OperationOutcome) instead of queueing, and answers normally again by itself once the pressure is gone.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { testDb, testEngine } from '../../test/db.ts';
import { ADMIN_PASSWORD } from '../../test/api.ts';
import { seedDemoIfEmpty } from '../demo/seed-demo.ts';
import type { Db } from '../storage/db.ts';
import { DEFAULT_LOAD_SHEDDING, defaultLoadShedding, loadConfig } from '../config.ts';
import { buildApp, type ZodApp } from './app.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function appWith(loadShedding: typeof DEFAULT_LOAD_SHEDDING): Promise<{ db: Db; app: ZodApp; auth: string }> {
  const db = await testDb();
  await seedDemoIfEmpty(db, { adminPassword: ADMIN_PASSWORD });
  const app = await buildApp({ db, logger: false, loadShedding });
  closers.push(
    () => db.close(),
    () => app.close(),
  );
  let login = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD } });
  // With a low limit, the start-up work itself may have lagged the loop a moment ago.
  for (let i = 0; i < 100 && login.statusCode === 503; i++) {
    await sleep(20);
    login = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD } });
  }
  assert.equal(login.statusCode, 200, login.body);
  return { db, app, auth: `Bearer ${login.json<{ token: string }>().token}` };
}

/** Asks until the answer has the status (the plugin samples pressure on a timer), or fails after a while. */
async function eventually(app: ZodApp, auth: string, url: string, status: number) {
  let last = 0;
  for (let i = 0; i < 100; i++) {
    const reply = await app.inject({ method: 'GET', url, headers: { authorization: auth } });
    if (reply.statusCode === status) return reply;
    last = reply.statusCode;
    await sleep(20);
  }
  assert.fail(`${url} never answered ${status} (last ${last})`);
}

test(`a saturated database pool sheds load with 503 + Retry-After, and the server recovers (${testEngine})`, async () => {
  const { db, app, auth } = await appWith({ maxEventLoopDelayMs: 0, maxEventLoopUtilisation: 0, maxDbWaiting: 2, sampleMs: 20, retryAfterSeconds: 7 });
  assert.equal((await app.inject({ method: 'GET', url: '/api/pcns', headers: { authorization: auth } })).statusCode, 200);

  // Hold every connection (PGlite has one) in an open transaction until released; more queue behind.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held: Array<Promise<unknown>> = [];
  for (let i = 0; i < 40 && (db.pressure?.().waiting ?? 0) < 4; i++) {
    held.push(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await gate;
      }),
    );
    await sleep(5);
  }
  assert.ok((db.pressure?.().waiting ?? 0) >= 3, `the pool is saturated: ${JSON.stringify(db.pressure?.())}`);

  const api = await eventually(app, auth, '/api/pcns', 503);
  assert.equal(api.headers['retry-after'], '7');
  assert.equal(api.json<{ error: { code: string } }>().error.code, 'unavailable');
  const fhir = await app.inject({ method: 'GET', url: '/fhir/Patient', headers: { authorization: auth } });
  assert.equal(fhir.statusCode, 503);
  assert.equal(fhir.headers['retry-after'], '7');
  const outcome = fhir.json<OperationOutcome>();
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.equal(outcome.issue?.[0]?.code, 'transient');
  // /healthz stays cheap: answered at once, without waiting for the database.
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 503);

  release();
  await Promise.all(held);
  const recovered = await eventually(app, auth, '/api/pcns', 200);
  assert.ok(recovered.json<{ items: unknown[] }>().items.length > 0);
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

test('a lagging event loop sheds load with 503 + Retry-After, and the server recovers', async () => {
  const { app, auth } = await appWith({ maxEventLoopDelayMs: 100, maxEventLoopUtilisation: 0, maxDbWaiting: 0, sampleMs: 20, retryAfterSeconds: 3 });
  await eventually(app, auth, '/api/pcns', 200);
  let shed: Awaited<ReturnType<ZodApp['inject']>> | undefined;
  for (let i = 0; i < 10 && !shed; i++) {
    const until = Date.now() + 600;
    while (Date.now() < until); // the loop is stuck, as under a flood of work
    await sleep(25); // the plugin takes its sample
    const reply = await app.inject({ method: 'GET', url: '/api/pcns', headers: { authorization: auth } });
    if (reply.statusCode === 503) shed = reply;
  }
  assert.ok(shed, 'a stuck event loop was never shed');
  assert.equal(shed.headers['retry-after'], '3');
  assert.equal(shed.json<{ error: { code: string } }>().error.code, 'unavailable');
  await eventually(app, auth, '/api/pcns', 200);
});

test('the limits come from the environment, with defaults that only real saturation trips', () => {
  assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://db/pcn' }).loadShedding, DEFAULT_LOAD_SHEDDING);
  // PGlite runs the database on the event loop: a long statement is no overload, so only the queue tells.
  assert.deepEqual(loadConfig({}).loadShedding, { ...DEFAULT_LOAD_SHEDDING, maxEventLoopDelayMs: 0 });
  assert.deepEqual(defaultLoadShedding('pglite'), loadConfig({}).loadShedding);
  assert.ok(DEFAULT_LOAD_SHEDDING.maxEventLoopDelayMs >= 1000 && DEFAULT_LOAD_SHEDDING.maxDbWaiting >= 50);
  const set = loadConfig({
    DATABASE_URL: 'postgres://db/pcn',
    PCN_SHED_EVENT_LOOP_DELAY_MS: '250',
    PCN_SHED_DB_WAITING: '0',
    PCN_SHED_EVENT_LOOP_UTILISATION: '0.95',
    PCN_SHED_RETRY_AFTER_S: '2',
  }).loadShedding;
  assert.deepEqual(set, { ...DEFAULT_LOAD_SHEDDING, maxEventLoopDelayMs: 250, maxDbWaiting: 0, maxEventLoopUtilisation: 0.95, retryAfterSeconds: 2 });
  assert.throws(() => loadConfig({ PCN_SHED_EVENT_LOOP_UTILISATION: '2' }), /PCN_SHED_EVENT_LOOP_UTILISATION/);
});
