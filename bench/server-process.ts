/**
 * What the HTTP benches share: a fresh store on either engine (a PGlite folder, or a database of its own on the
 * PostgreSQL server), the product's server run as a separate process on it (as `npm start` runs it, rate limits
 * off: a bench drives one user far past a person's rate), and sign-in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Db } from '../src/storage/db.ts';
import { openStore } from '../src/storage/open.ts';

export type Engine = 'pglite' | 'postgres';

export interface BenchStore {
  engine: Engine;
  /** The environment that points the server process at this store. */
  env: Record<string, string>;
  open(): Promise<Db>;
  /** Removes the store; `keep` leaves a PostgreSQL database in place (to look at plans) and only lets go of it. */
  drop(options?: { keep?: boolean }): Promise<void>;
}

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh store: a new PGlite folder, or the PostgreSQL database `name` dropped and made again. */
export async function freshStore(engine: Engine, name: string): Promise<BenchStore> {
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), `${name.replaceAll('_', '-')}-`));
    return { engine, env: { PCN_DATA_DIR: dir, DATABASE_URL: '' }, open: () => openStore({ dataDir: dir }), drop: () => rm(dir, { recursive: true, force: true }) };
  }
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bench database name ${name}: lower-case letters and underscores`);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    engine,
    env: { DATABASE_URL: url },
    open: () => openStore({ databaseUrl: url, dataDir: '' }),
    drop: async ({ keep = false } = {}) => {
      if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * `pcn serve --no-demo` on the store, as a child process; resolves once /healthz answers. `cwd`: the checkout whose
 * server runs (another build of the product, e.g. bench/access-cost.ts's); this one by default.
 */
export async function serve(store: BenchStore, port: number, cwd?: string): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the server (to profile it).
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...startFlags(cwd), ...nodeArgs, '--import', 'tsx', 'src/main.ts', 'serve', '--no-demo', '--port', String(port)], {
    env: { ...process.env, LOG_LEVEL: 'warn', PCN_RATE_LIMIT_PER_MINUTE: '0', ...store.env },
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(cwd ? { cwd } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The node flags `npm start` runs the server with (package.json's start script, e.g. its young-generation size). */
function startFlags(cwd = '.'): string[] {
  const { scripts } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('--import')).filter((w) => w.startsWith('--'));
}

/** A process's command name and its user + system time in clock ticks (1/100 s); null once it has gone. */
function processStat(pid: number | string): { name: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** Clock ticks (1/100 s) of user + system time of every process whose command is `postgres`. */
export function postgresTicks(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = processStat(pid);
    if (stat?.name === 'postgres') ticks += stat.ticks;
  }
  return ticks;
}

/**
 * Busy clock ticks (1/100 s) of the whole machine (/proc/stat: every state but idle and iowait). Over a measure
 * the server and the database are nearly all of it; unlike the sum over processes, it keeps the time of a
 * process that exits meanwhile (an autovacuum worker, a backend).
 */
export function machineTicks(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

/**
 * Waits until the server (and, on PostgreSQL, the database) has been nearly idle — under a tenth of a core — for
 * two seconds in a row: a server started on a freshly loaded store first catches up (planner statistics, the
 * change-feed followers' first pass, sealing the audit records the load wrote), and a steady-state figure is
 * measured after that. Returns the seconds it took (at most `maxSeconds`).
 */
export async function settled(child: ChildProcess, engine: Engine, maxSeconds = 900): Promise<number> {
  const started = performance.now();
  // The server process and, on PostgreSQL, every PostgreSQL process: the server's whole CPU.
  const ticks = () => (processStat(child.pid!)?.ticks ?? 0) + (engine === 'postgres' ? postgresTicks() : 0);
  let quiet = 0;
  let last = ticks();
  while (quiet < 2 && performance.now() - started < maxSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = ticks();
    quiet = now - last < 10 ? quiet + 1 : 0;
    last = now;
  }
  return (performance.now() - started) / 1000;
}

export async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** A bearer token for a person, by signing in. */
export async function signIn(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!response.ok) throw new Error(`sign-in of ${email}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
