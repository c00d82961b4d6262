/**
 * `npm test` makes sure of what it needs (scripts/test.sh): the test database on the PostgreSQL server it is
 * pointed at, and Debian's Chromium — or it stops at once with the one command to run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureTestDatabase } from '../scripts/ensure-test-database.ts';
import { testDatabaseUrl, testEngine } from './db.ts';

const POSTGRES_ONLY = { skip: testEngine !== 'postgres' && 'needs the PostgreSQL server' };
const ENSURE_CHROMIUM = fileURLToPath(new URL('../scripts/ensure-chromium.sh', import.meta.url));

const withDatabase = (name: string) => {
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

test('a missing test database is created on the server, once; an existing one is left alone', POSTGRES_ONLY, async () => {
  const name = `pcn_ensure_${randomBytes(4).toString('hex')}`;
  try {
    assert.deepEqual(await ensureTestDatabase(withDatabase(name)), { created: true, database: name });
    const client = new pg.Client({ connectionString: withDatabase(name) });
    await client.connect();
    assert.equal((await client.query('SELECT current_database() AS db')).rows[0].db, name, 'the new database takes connections');
    await client.end();
    assert.deepEqual(await ensureTestDatabase(withDatabase(name)), { created: false, database: name });
  } finally {
    const admin = new pg.Client({ connectionString: withDatabase('postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.end();
  }
});

test('a database name that is not a plain identifier, or a server that does not answer, stops with what to do', async () => {
  await assert.rejects(ensureTestDatabase('postgres://postgres@127.0.0.1:5432/test;drop'), /letters, digits and underscores only/);
  await assert.rejects(ensureTestDatabase('postgres://postgres@127.0.0.1:1/test'), /no PostgreSQL server answers at 127\.0\.0\.1:1 .*set TEST_DATABASE_URL/);
});

test('without Chromium, and unable to install it, the test command stops at once with the one command to run', () => {
  const missing = spawnSync('bash', [ENSURE_CHROMIUM], { env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium', PCN_NO_INSTALL: '1' }, encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /need Debian's Chromium at \/nonexistent\/chromium; run: (sudo )?apt-get install -y chromium fonts-liberation\n$/);
  const present = spawnSync('bash', [ENSURE_CHROMIUM], { env: { ...process.env, CHROMIUM_PATH: process.execPath, PCN_NO_INSTALL: '1' }, encoding: 'utf8' });
  assert.equal(present.status, 0, 'an installed browser passes silently');
  assert.equal(present.stdout + present.stderr, '');
});
