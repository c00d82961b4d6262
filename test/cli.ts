/** Runs the real `pcn` command, and gives each test its own store on the engine under test. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { testDatabaseUrl, testEngine } from './db.ts';

const PCN_BIN = fileURLToPath(new URL('../bin/pcn.js', import.meta.url));

export interface PcnResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPcn(args: string[], options: { cwd: string; env: Record<string, string>; stdin?: string }): Promise<PcnResult> {
  const child = spawn(process.execPath, [PCN_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export interface Store {
  /** PCN_DATA_DIR or DATABASE_URL for the command line. */
  env: Record<string, string>;
  dataDir?: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

/**
 * An empty store: a new, empty PGlite folder under `work` (made here, as an operator would with mkdir: only
 * `serve` and `demo` create a missing one), or a scratch PostgreSQL database.
 */
export async function freshStore(work: string): Promise<Store> {
  if (testEngine === 'pglite') {
    const dataDir = join(work, `data-${randomBytes(3).toString('hex')}`);
    await mkdir(dataDir, { recursive: true });
    return { env: { PCN_DATA_DIR: dataDir, DATABASE_URL: '' }, dataDir, drop: async () => {} };
  }
  const name = `pcn_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const databaseUrl = testDatabaseUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    env: { DATABASE_URL: databaseUrl },
    databaseUrl,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
