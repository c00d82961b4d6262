import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

/**
 * Each capability keeps its schema beside its logic: src/modules/<name>/migrations/NNN_what.sql, or
 * src/<layer>/migrations/ for a layer below the modules (src/fhir-store/migrations/). The numbers are
 * global, so the files apply in one order wherever they live. Applied under an advisory lock (two servers
 * starting together migrate once), recorded in schema_migrations with each file's sha256.
 *
 * A migration is known by its NUMBER: a file moved to another folder (or renamed) with the same content is
 * the same migration, and its recorded name follows it. A changed content is refused: a landed migration is
 * never edited (scripts/check-migrations.ts holds the same rule against git history).
 */
const SRC_DIR = fileURLToPath(new URL('../', import.meta.url));
const MIGRATION_LOCK = 727_101;
const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  id: number;
  /** `<folder>/<file>`, e.g. `record/005_fhir_store.sql`. */
  name: string;
  sql: string;
  sha256: string;
}

/** Line endings normalised, so that a checkout with CRLF (git autocrlf) hashes as the file that landed. */
export function migrationSha256(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex');
}

/** The migration folders: src/modules/<name>/migrations/ and src/<name>/migrations/. */
async function migrationDirs(srcDir: string): Promise<{ folder: string; dir: string }[]> {
  const dirs: { folder: string; dir: string }[] = [];
  for (const parent of [join(srcDir, 'modules'), srcDir]) {
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory()) dirs.push({ folder: entry.name, dir: join(parent, entry.name, 'migrations') });
    }
  }
  return dirs;
}

export async function loadMigrations(srcDir = SRC_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const { folder, dir } of await migrationDirs(srcDir)) {
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files) {
      if (!file.endsWith('.sql')) continue;
      const match = MIGRATION_FILE.exec(file);
      if (!match) throw new Error(`${folder}/migrations/${file} is not named NNN_what.sql (three digits, lower case): it would never be applied`);
      const sql = await readFile(join(dir, file), 'utf8');
      migrations.push({ id: Number(match[1]), name: `${folder}/${file}`, sql, sha256: migrationSha256(sql) });
    }
  }
  migrations.sort((a, b) => a.id - b.id);
  for (let i = 1; i < migrations.length; i++) {
    const [a, b] = [migrations[i - 1]!, migrations[i]!];
    if (a.id === b.id) throw new Error(`two migrations are numbered ${String(a.id).padStart(3, '0')}: ${a.name} and ${b.name}`);
  }
  return migrations;
}

interface AppliedMigration {
  id: number;
  name: string;
  sha256: string | null;
}

/** Applies the pending migrations (by default, the files under src/); returns the names applied. */
export async function migrate(db: Db, migrations?: Migration[]): Promise<string[]> {
  const known = migrations ?? (await loadMigrations());
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // A migration may rewrite a large table: no statement time budget here (SET LOCAL ends with the transaction).
    await tx.exec('SET LOCAL statement_timeout = 0');
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    // The checksum column came after the table; this file made the table, so it adds the column too.
    await tx.exec('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS sha256 text');
    const applied = await tx.query<AppliedMigration>('SELECT id, name, sha256 FROM schema_migrations ORDER BY id');
    const byId = new Map(known.map((m) => [m.id, m]));
    for (const row of applied) {
      const file = byId.get(row.id);
      if (!file) {
        throw new Error(`this database has migration ${row.name}, which this version of PCN Hub does not have: it was made by a newer or another version`);
      }
      if (row.sha256 === null) {
        // Applied before checksums were recorded: the file as it is now is taken as what was applied, once.
        await tx.query('UPDATE schema_migrations SET sha256 = $2 WHERE id = $1', [row.id, file.sha256]);
      } else if (row.sha256 !== file.sha256) {
        throw new Error(
          `migration ${file.name} was changed after it was applied to this database (sha256 ${row.sha256.slice(0, 12)}…≠${file.sha256.slice(0, 12)}…); landed migrations are never edited: add a new one`,
        );
      }
      // Same number, same content, another folder or name: the file moved; the record follows it.
      if (row.name !== file.name) await tx.query('UPDATE schema_migrations SET name = $2 WHERE id = $1', [row.id, file.name]);
    }
    const done = new Set(applied.map((r) => r.id));
    const pending = known.filter((m) => !done.has(m.id));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id, name, sha256) VALUES ($1, $2, $3)', [migration.id, migration.name, migration.sha256]);
    }
    return pending.map((m) => m.name);
  });
}
