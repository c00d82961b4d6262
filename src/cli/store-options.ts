import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import type { Db } from '../storage/db.ts';
import { openStore } from '../storage/open.ts';
import { signTokensWithKeyFile } from '../modules/access/index.ts';

export interface StoreFlags {
  data?: string;
}

/**
 * Every command that touches the store takes --data (PGlite folder); DATABASE_URL selects PostgreSQL instead.
 * A PGlite folder that another process holds (a running server) is refused with that process named.
 */
export const withStoreOption = (command: Command) => command.option('--data <dir>', 'PGlite data folder (default $PCN_DATA_DIR or ./pcn-data); ignored when DATABASE_URL is set');

export async function openCliStore(flags: StoreFlags): Promise<Db> {
  const config = loadConfig(process.env, { dataDir: flags.data });
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, statementTimeoutMs: config.statementTimeoutMs });
  signTokensWithKeyFile(db, config.tokenKeyFile); // the same key file as `pcn serve` on this store
  return db;
}

/** Runs work on the store and always closes it. */
export async function usingStore<T>(flags: StoreFlags, work: (db: Db) => Promise<T>): Promise<T> {
  const db = await openCliStore(flags);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
