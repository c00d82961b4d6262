import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

/**
 * Each capability keeps its schema beside its logic: src/modules/<name>/migrations/NNN_what.sql.
 * The numbers are global, so the files apply in one order across modules. Applied under an
 * advisory lock (two servers starting together migrate once), recorded in schema_migrations.
 */
const SRC_DIR = fileURLToPath(new URL('../', import.meta.url));
const MODULES_DIR = join(SRC_DIR, 'modules');
const MIGRATION_LOCK = 727_101;

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export async function loadMigrations(): Promise<Migration[]> {
  const migrations: Migration[] = [];
  // Platform pieces (src/fhir-store/migrations) and capabilities (src/modules/<name>/migrations).
  const folders = [
    ...(await readdir(SRC_DIR, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name !== 'modules').map((d) => ({ label: d.name, dir: join(SRC_DIR, d.name) })),
    ...(await readdir(MODULES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => ({ label: d.name, dir: join(MODULES_DIR, d.name) })),
  ];
  for (const folder of folders) {
    const dir = join(folder.dir, 'migrations');
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files) {
      const match = /^(\d{3})_[a-z0-9_]+\.sql$/.exec(file);
      if (!match) continue;
      migrations.push({ id: Number(match[1]), name: `${folder.label}/${file}`, sql: await readFile(join(dir, file), 'utf8') });
    }
  }
  migrations.sort((a, b) => a.id - b.id);
  const ids = migrations.map((m) => m.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new Error(`two migrations are numbered ${duplicate}`);
  return migrations;
}

/** Applies the pending migrations; returns the names applied. */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Set((await tx.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    const pending = migrations.filter((m) => !applied.has(m.id));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
    }
    return pending.map((m) => m.name);
  });
}
