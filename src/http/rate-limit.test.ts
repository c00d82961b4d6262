/** Limits on request rates: each signed-in user (or address) has their own allowance a minute; past it, 429 + Retry-After. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { buildApp, type ZodApp } from './app.ts';
import { addUser } from '../modules/access/index.ts';
import { seedDemoIfEmpty } from '../demo/seed-demo.ts';
import type { Db } from '../storage/db.ts';
import { loadConfig } from '../config.ts';
import { testDb, testEngine } from '../../test/db.ts';

const PASSWORD = 'correct horse battery staple';
const LIMIT = 6;
let db: Db;
let app: ZodApp;
let admin: string;
let adminAgain: string;
let clinician: string;

before(async () => {
  db = await testDb();
  await seedDemoIfEmpty(db, { adminPassword: PASSWORD });
  await addUser(db, { email: 'limited.gp@pcn-hub.example', name: 'Limited GP', role: 'clinician', org: 'Z90101', password: PASSWORD });
  app = await buildApp({ db, logger: false, rateLimitPerMinute: LIMIT });
  const signIn = async (email: string) => `Bearer ${(await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } })).json<{ token: string }>().token}`;
  admin = await signIn('admin@pcn-hub.example'); // one request from this address before sign-in…
  clinician = await signIn('limited.gp@pcn-hub.example'); // …and two
  adminAgain = await signIn('admin@pcn-hub.example'); // …and three: a second session of the same user
});
after(async () => {
  await app.close();
  await db.close();
});

test(`past a user's allowance /fhir answers 429 throttled with Retry-After; another user and /healthz are unaffected (${testEngine})`, async () => {
  const get = (url: string, auth?: string) => app.inject({ method: 'GET', url, headers: auth ? { authorization: auth } : {} });
  for (let i = 0; i < LIMIT; i++) assert.equal((await get('/fhir/Patient?_count=1', admin)).statusCode, 200, `request ${i + 1} of ${LIMIT}`);
  const over = await get('/fhir/Patient?_count=1', admin);
  assert.equal(over.statusCode, 429, over.body);
  assert.ok(Number(over.headers['retry-after']) > 0, 'Retry-After says when');
  const outcome = over.json<OperationOutcome>();
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.equal(outcome.issue?.[0]?.code, 'throttled');
  assert.equal((await get('/fhir/Patient?_count=1', adminAgain)).statusCode, 429, 'the count is the user’s, not the token’s: a second sign-in does not reset it');
  const api = await get('/api/pcns', admin);
  assert.equal(api.statusCode, 429);
  assert.equal(api.json<{ error: { code: string } }>().error.code, 'rate-limited');
  assert.equal((await get('/fhir/metadata', clinician)).statusCode, 200, 'another user has their own allowance');
  for (let i = 0; i < 3 * LIMIT; i++) assert.equal((await get('/healthz')).statusCode, 200, '/healthz is never limited');
});

test('requests without a signed-in actor are counted per address: one address is held, another is not', async () => {
  const config = (address: string) => app.inject({ method: 'GET', url: '/api/config', remoteAddress: address });
  for (let i = 0; i < LIMIT; i++) assert.equal((await config('192.0.2.50')).statusCode, 200, `request ${i + 1}`);
  const over = await config('192.0.2.50');
  assert.equal(over.statusCode, 429);
  assert.ok(Number(over.headers['retry-after']) > 0);
  assert.equal((await config('192.0.2.51')).statusCode, 200);
});

test('the allowance comes from PCN_RATE_LIMIT_PER_MINUTE (default 6,000 a minute; 0 is none)', () => {
  assert.equal(loadConfig({}).rateLimitPerMinute, 6000);
  assert.equal(loadConfig({ PCN_RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute, 0);
  assert.throws(() => loadConfig({ PCN_RATE_LIMIT_PER_MINUTE: 'lots' }), /PCN_RATE_LIMIT_PER_MINUTE must be a whole number/);
});
