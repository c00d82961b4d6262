import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from './db.ts';
import { loadMigrations, migrate, migrationSha256, type Migration } from './migrate.ts';
import { testDb, testEngine } from '../../test/db.ts';

let db: Db;
let files: Migration[];
before(async () => {
  db = await testDb();
  files = await loadMigrations();
});
after(() => db.close());

const recorded = async (id: number) => (await db.query<{ name: string; sha256: string | null }>('SELECT name, sha256 FROM schema_migrations WHERE id = $1', [id]))[0];

test(`each applied migration is recorded with its file's sha256, and an unchanged database migrates again with nothing to do (${testEngine})`, async () => {
  const fhirStore = files.find((m) => m.id === 5)!;
  assert.deepEqual(await recorded(5), { name: fhirStore.name, sha256: migrationSha256(fhirStore.sql) });
  assert.match(fhirStore.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(await migrate(db), []);
});

test(`a database whose record of a migration differs from the file is refused, naming the file (${testEngine})`, async () => {
  const original = (await recorded(5))!.sha256;
  await db.query('UPDATE schema_migrations SET sha256 = $1 WHERE id = 5', ['0'.repeat(64)]);
  try {
    await assert.rejects(
      migrate(db),
      /^Error: migration fhir-store\/005_fhir_store\.sql was changed after it was applied to this database \(sha256 000000000000…≠[0-9a-f]{12}…\); landed migrations are never edited: add a new one$/,
    );
    // The same refusal when the file is what changed.
    const edited = files.map((m) => (m.id === 6 ? { ...m, sql: `${m.sql}\n-- edited`, sha256: migrationSha256(`${m.sql}\n-- edited`) } : m));
    await db.query('UPDATE schema_migrations SET sha256 = $1 WHERE id = 5', [original]);
    await assert.rejects(migrate(db, edited), /migration fhir-store\/006_fhir_write_path\.sql was changed after it was applied/);
  } finally {
    await db.query('UPDATE schema_migrations SET sha256 = $1 WHERE id = 5', [original]);
  }
  assert.deepEqual(await migrate(db), [], 'restored, it migrates again');
});

test(`a migration moved to another folder with the same number and content is the same migration; its record follows it (${testEngine})`, async () => {
  const moved = files.map((m) => (m.id === 5 ? { ...m, name: 'record/005_fhir_store.sql' } : m));
  assert.deepEqual(await migrate(db, moved), []);
  assert.equal((await recorded(5))!.name, 'record/005_fhir_store.sql');
  assert.deepEqual(await migrate(db), []);
  assert.equal((await recorded(5))!.name, 'fhir-store/005_fhir_store.sql');
});

test(`a database migrated before checksums were recorded takes each file's hash once; a CRLF checkout hashes the same (${testEngine})`, async () => {
  await db.exec('ALTER TABLE schema_migrations DROP COLUMN sha256');
  assert.deepEqual(await migrate(db), []);
  const rows = await db.query<{ id: number; sha256: string | null }>('SELECT id, sha256 FROM schema_migrations ORDER BY id');
  assert.deepEqual(
    rows,
    files.map((m) => ({ id: m.id, sha256: m.sha256 })),
  );
  assert.equal(migrationSha256('SELECT 1;\r\nSELECT 2;\r\n'), migrationSha256('SELECT 1;\nSELECT 2;\n'));
  assert.notEqual(migrationSha256('SELECT 1;\nSELECT 2;\n'), migrationSha256('SELECT 1;\nSELECT 3;\n'));
});

test(`a database holding a migration this version does not have is refused (${testEngine})`, async () => {
  const withoutLast = files.slice(0, -1);
  const last = files.at(-1)!;
  await assert.rejects(migrate(db, withoutLast), new RegExp(`this database has migration ${last.name.replace('.', '\\.')}, which this version of PCN Hub does not have`));
  assert.deepEqual(await migrate(db), []);
});

test('migrations are found in src/modules/*/migrations/ and src/*/migrations/, numbered globally', async () => {
  const src = await mkdtemp(join(tmpdir(), 'pcn-migrations-'));
  try {
    await mkdir(join(src, 'modules', 'network', 'migrations'), { recursive: true });
    await mkdir(join(src, 'fhir-store', 'migrations'), { recursive: true });
    await mkdir(join(src, 'shared'), { recursive: true });
    await writeFile(join(src, 'modules', 'network', 'migrations', '002_network.sql'), 'SELECT 2;');
    await writeFile(join(src, 'fhir-store', 'migrations', '001_store.sql'), 'SELECT 1;');
    await writeFile(join(src, 'fhir-store', 'migrations', 'README.md'), 'not a migration');
    const found = await loadMigrations(src);
    assert.deepEqual(
      found.map((m) => [m.id, m.name]),
      [
        [1, 'fhir-store/001_store.sql'],
        [2, 'network/002_network.sql'],
      ],
    );

    await writeFile(join(src, 'modules', 'network', 'migrations', '001_again.sql'), 'SELECT 1;');
    await assert.rejects(loadMigrations(src), /two migrations are numbered 001: (fhir-store\/001_store\.sql and network\/001_again\.sql|network\/001_again\.sql and fhir-store\/001_store\.sql)/);
    await rm(join(src, 'modules', 'network', 'migrations', '001_again.sql'));
    await writeFile(join(src, 'fhir-store', 'migrations', '3_short.sql'), 'SELECT 3;');
    await assert.rejects(loadMigrations(src), /fhir-store\/migrations\/3_short\.sql is not named NNN_what\.sql/);
  } finally {
    await rm(src, { recursive: true, force: true });
  }
});
