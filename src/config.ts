/** Settings come from the environment (and CLI flags that override it); nothing else reads process.env. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Bulk Data $export files go unless PCN_EXPORT_DIR says otherwise. */
export const DEFAULT_EXPORT_DIR = join(tmpdir(), 'pcn-hub-exports');

export interface Config {
  port: number;
  host: string;
  /** PGlite data directory, used when no databaseUrl is given. */
  dataDir: string;
  /** postgres://… selects a PostgreSQL server. */
  databaseUrl?: string;
  logLevel: string;
  /** Optional map tile URL template; without it the map draws offline with no tiles. */
  mapTiles?: string;
  /** The demo admin's password on first start; a random one is made and printed when unset. */
  adminPassword?: string;
  /** Synthetic patients seeded in the background on the first start (PCN_DEMO_PATIENTS, default 2000). */
  demoPatients: number;
  /** Where Bulk Data $export writes its NDJSON files (PCN_EXPORT_DIR, default under the system temp). */
  exportDir: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, not '${env.PORT}'`);
  const config: Config = {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: env.PCN_DATA_DIR ?? './pcn-data',
    databaseUrl: env.DATABASE_URL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    mapTiles: env.PCN_MAP_TILES || undefined,
    adminPassword: env.PCN_ADMIN_PASSWORD || undefined,
    demoPatients: wholeNumber('PCN_DEMO_PATIENTS', env.PCN_DEMO_PATIENTS ?? '2000'),
    exportDir: env.PCN_EXPORT_DIR || DEFAULT_EXPORT_DIR,
  };
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...config, ...given };
}

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not '${value}'`);
  return n;
}
