import { mkdir } from 'node:fs/promises';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './pg.ts';

export interface StoreLocation {
  /** postgres://… selects a PostgreSQL server; otherwise PGlite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
}

/** Opens the configured engine and brings its schema up to date. */
export async function openStore(location: StoreLocation): Promise<Db> {
  let db: Db;
  if (location.databaseUrl) {
    db = await openPostgres(location.databaseUrl);
  } else {
    await mkdir(location.dataDir, { recursive: true });
    db = await openPglite(location.dataDir);
  }
  await migrate(db);
  return db;
}
