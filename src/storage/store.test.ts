import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { testDb, testEngine } from '../../test/db.ts';

let db: Db;
before(async () => (db = await testDb()));
after(() => db.close());

test(`migrations are recorded and a second run applies nothing (${testEngine})`, async () => {
  const applied = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY id');
  assert.ok(applied.length >= 4);
  assert.deepEqual(await migrate(db), []);
});

test(`a failed transaction leaves nothing behind (${testEngine})`, async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query("INSERT INTO area (code, name, size_min, size_max) VALUES ('QAA', 'Kept?', 1, 2)");
      await tx.query("INSERT INTO area (code, name, size_min, size_max) VALUES ('QAA', 'Duplicate', 1, 2)");
    }),
  );
  assert.deepEqual(await db.query("SELECT code FROM area WHERE code = 'QAA'"), []);
});

test(`dates come back as yyyy-mm-dd text and bigint as numbers on every engine (${testEngine})`, async () => {
  const [row] = await db.query<{ d: unknown; n: unknown }>("SELECT DATE '2019-07-01' AS d, 53500000::bigint AS n");
  assert.equal(row?.d, '2019-07-01');
  assert.equal(row?.n, 53_500_000);
});
