/** The token signing key lives in a file only its owner can read, not in the database's tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDb, testEngine } from '../../../test/db.ts';
import { tokenKeyFileFor } from '../../config.ts';
import { actorFromToken, addUser, issueToken } from './index.ts';
import { loadTokenKey, tokenKeyFor, signTokensWithKeyFile } from './token-key.ts';

test(`the key file is made once with mode 0600, shared by two stores on it, and the database holds no key (${testEngine})`, async () => {
  const work = await mkdtemp(join(tmpdir(), 'pcn-key-'));
  const db = await testDb();
  try {
    const file = join(work, 'keys', 'token.key');
    signTokensWithKeyFile(db, file);
    const user = await addUser(db, { email: 'key.test@pcn-hub.example', name: 'Key Test', role: 'admin' });
    const token = await issueToken(db, user);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(work, 'keys'))).mode & 0o077, 0, 'the keys folder is the owner’s only');
    assert.deepEqual(await db.query("SELECT key FROM app_setting WHERE key = 'token_key'"), [], 'no key in the tables');
    assert.deepEqual(loadTokenKey(file), tokenKeyFor(db), 'a second reader (another process) gets the same key');
    assert.equal((await actorFromToken(db, token)).email, 'key.test@pcn-hub.example');

    signTokensWithKeyFile(db, join(work, 'another.key'));
    await assert.rejects(actorFromToken(db, token), /not valid/, 'a token signed with another key file is refused');
  } finally {
    await db.close();
    await rm(work, { recursive: true, force: true });
  }
});

test('a key file others can read is closed to its owner again; an empty one is refused', async () => {
  const work = await mkdtemp(join(tmpdir(), 'pcn-key-'));
  try {
    const open = join(work, 'open.key');
    await writeFile(open, `${Buffer.alloc(32, 1).toString('base64')}\n`, { mode: 0o644 });
    loadTokenKey(open);
    assert.equal((await stat(open)).mode & 0o777, 0o600);
    const empty = join(work, 'empty.key');
    await writeFile(empty, '', { mode: 0o600 });
    assert.throws(() => loadTokenKey(empty), /holds no usable key/);
    assert.match(await readFile(open, 'utf8'), /^[A-Za-z0-9+/=]+\n$/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('the default key file: beside a PGlite folder; per database under the config folder for PostgreSQL', () => {
  assert.equal(tokenKeyFileFor({ dataDir: '/srv/pcn-data' }), '/srv/pcn-data/keys/token.key');
  const a = tokenKeyFileFor({ dataDir: 'x', databaseUrl: 'postgres://u:p@db.example:5432/pcn' }, { XDG_CONFIG_HOME: '/etc/xdg-test' });
  const b = tokenKeyFileFor({ dataDir: 'y', databaseUrl: 'postgres://other@db.example/pcn' }, { XDG_CONFIG_HOME: '/etc/xdg-test' });
  const c = tokenKeyFileFor({ dataDir: 'x', databaseUrl: 'postgres://u:p@db.example:5432/other' }, { XDG_CONFIG_HOME: '/etc/xdg-test' });
  assert.match(a, /^\/etc\/xdg-test\/pcn-hub\/keys\/token-[0-9a-f]{16}\.key$/);
  assert.equal(a, b, 'the same database whoever logs in to it');
  assert.notEqual(a, c, 'another database, another key');
});
