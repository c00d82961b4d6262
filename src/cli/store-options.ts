import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import type { Db } from '../storage/db.ts';
import { openStore } from '../storage/open.ts';
import { signTokensWithKeyFile } from '../modules/access/index.ts';
import { AppError } from '../shared/errors.ts';
import { LOCK_FILE } from '../storage/folder-lock.ts';

export interface StoreFlags {
  data?: string;
}

/**
 * Every command that touches the store takes --data (PGlite folder); DATABASE_URL selects PostgreSQL instead,
 * and then --data is not used (a note on stderr says so). A PGlite folder that another process holds (a running server)
 * is refused with that process named.
 */
export const withStoreOption = (command: Command) =>
  command.option('--data <dir>', 'PGlite data folder (default $PCN_DATA_DIR or ./pcn-data); must exist except for serve and demo; not used when DATABASE_URL is set');

/** What a command may do about a data folder that is not there: only `serve` and `demo` make one. */
export type MissingFolder = 'refuse' | 'create';

/**
 * Checks the store location before anything opens it, so a typo never silently creates an empty database.
 * Returns the PGlite folder about to be created (the caller says so), or undefined when there is nothing to create.
 * On PostgreSQL (DATABASE_URL) --data names nothing the command would use: an explicit one gets a one-line
 * note on stderr (the user may have meant another store) and nothing is created.
 */
export function checkDataFolder(config: Pick<Config, 'databaseUrl' | 'dataDir'>, flags: StoreFlags, missing: MissingFolder): string | undefined {
  if (config.databaseUrl) {
    // Said, not refused: scripts written for the stable `--data DIR` interface keep working on PostgreSQL.
    if (flags.data !== undefined) process.stderr.write(`pcn: --data ${flags.data} is not used: DATABASE_URL is set, so the store is that PostgreSQL database\n`);
    return undefined;
  }
  const dir = config.dataDir;
  const found = statSync(dir, { throwIfNoEntry: false });
  if (found?.isDirectory()) {
    assertStoreOrEmpty(dir);
    return undefined;
  }
  if (found) throw new AppError('invalid', `the data folder ${dir} is a file, not a folder`, '--data');
  if (missing === 'create') return dir;
  throw new AppError('not-found', `no data folder at ${dir} (a typo?): create one with \`pcn demo --data ${dir}\` or \`pcn serve --data ${dir}\``, '--data');
}

/**
 * A folder that holds other files and no store (`--data ./src`, say) is not made into a database: only a PGlite
 * store (its PG_VERSION), an empty folder or one holding nothing but our lock file (and hidden files) is used.
 */
function assertStoreOrEmpty(dir: string): void {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const other = readdirSync(dir).filter((name) => name !== LOCK_FILE && !name.startsWith('.'));
  if (other.length === 0) return;
  throw new AppError('invalid', `the folder ${dir} is not a PCN Hub data folder: it holds other files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}) and no store`, '--data');
}

export async function openCliStore(flags: StoreFlags, missing: MissingFolder = 'refuse'): Promise<Db> {
  const config = loadConfig(process.env, { dataDir: flags.data });
  const creating = checkDataFolder(config, flags, missing);
  if (creating) process.stdout.write(`Creating the data folder ${creating}.\n`);
  const db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, statementTimeoutMs: config.statementTimeoutMs });
  signTokensWithKeyFile(db, config.tokenKeyFile); // the same key file as `pcn serve` on this store
  return db;
}

/** Runs work on the store and always closes it. Only `demo` passes 'create'. */
export async function usingStore<T>(flags: StoreFlags, work: (db: Db) => Promise<T>, missing: MissingFolder = 'refuse'): Promise<T> {
  const db = await openCliStore(flags, missing);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
