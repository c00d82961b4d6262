/**
 * Behind a reverse proxy every request comes from the proxy's address. Sign-in back-off and rate limits count
 * by the client's address, so the proxies named in PCN_TRUST_PROXY are believed about it (X-Forwarded-For);
 * without that setting the header is ignored, so no client can choose the address it is counted by.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ADMIN_PASSWORD } from '../../test/api.ts';
import { testDb, testEngine } from '../../test/db.ts';
import { seedDemoIfEmpty } from '../demo/seed-demo.ts';
import { SIGN_IN_THROTTLE } from '../modules/access/index.ts';
import { loadConfig } from '../config.ts';
import { buildApp } from './app.ts';

const db = await testDb();
await seedDemoIfEmpty(db, { adminPassword: ADMIN_PASSWORD });
after(() => db.close());

const PROXY = '10.1.2.3';

/** Wrong passwords for one account from a client behind the proxy, until it is held; then who else is held. */
async function sprayBehindProxy(trustProxy: string[] | false) {
  const app = await buildApp({ db, logger: false, trustProxy });
  try {
    const attempt = (client: string, password: string) =>
      app.inject({ method: 'POST', url: '/api/login', payload: { email: 'admin@pcn-hub.example', password }, remoteAddress: PROXY, headers: { 'x-forwarded-for': client } });
    const guesser = trustProxy ? '203.0.113.50' : '203.0.113.60';
    for (let i = 0; i < SIGN_IN_THROTTLE.freeFailuresPerAccount; i++) assert.equal((await attempt(guesser, `guess ${i}`)).statusCode, 401);
    return { guesser: (await attempt(guesser, ADMIN_PASSWORD)).statusCode, colleague: (await attempt(trustProxy ? '198.51.100.50' : '198.51.100.60', ADMIN_PASSWORD)).statusCode };
  } finally {
    await app.close();
  }
}

test(`with the proxy trusted, the guesser behind it is held and a colleague behind the same proxy signs in (${testEngine})`, async () => {
  assert.deepEqual(await sprayBehindProxy([PROXY]), { guesser: 429, colleague: 200 });
});

test('without it, X-Forwarded-For is ignored: everyone behind the proxy is one address, held together', async () => {
  await db.query('DELETE FROM sign_in_failure');
  assert.deepEqual(await sprayBehindProxy(false), { guesser: 429, colleague: 429 });
});

test('PCN_TRUST_PROXY: none by default; true, a number of hops, or addresses and CIDR ranges; anything else is refused by name', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ PCN_TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ PCN_TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ PCN_TRUST_PROXY: '10.1.2.3, 10.0.0.0/8,::1' }).trustProxy, ['10.1.2.3', '10.0.0.0/8', '::1']);
  assert.throws(() => loadConfig({ PCN_TRUST_PROXY: 'my-proxy.example' }), /PCN_TRUST_PROXY .* 'my-proxy\.example' is none of these/);
});
