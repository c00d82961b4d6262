import { mkdir } from 'node:fs/promises';
import type { Db } from './db.ts';
import { lockFolder } from './folder-lock.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './pg.ts';

export interface StoreLocation {
  /** postgres://… selects a PostgreSQL server; otherwise PGlite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** The time budget of each statement on PostgreSQL (PGlite cannot enforce one); none when unset. */
  statementTimeoutMs?: number;
}

/**
 * Opens the configured engine and brings its schema up to date. A PGlite folder is held by one process
 * at a time (folder-lock.ts): while another process has it open this throws, naming that process, and
 * the lock goes when the store closes. PostgreSQL serves many processes and needs no lock.
 */
export async function openStore(location: StoreLocation): Promise<Db> {
  let db: Db;
  if (location.databaseUrl) {
    db = await openPostgres(location.databaseUrl, { statementTimeoutMs: location.statementTimeoutMs });
  } else {
    await mkdir(location.dataDir, { recursive: true });
    const lock = lockFolder(location.dataDir);
    try {
      db = await openPglite(location.dataDir, { afterClose: async () => lock.release() });
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
