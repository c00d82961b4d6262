/**
 * Registry read throughput next to a bare Fastify route, on PGlite and on PostgreSQL, plus first-start
 * time (install excluded, seeding included). Run: `npm run bench:registry` (PostgreSQL at BENCH_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres; a scratch database pcn_bench is made and dropped).
 * Prints a Markdown table to paste into docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { httpLoad } from './load.ts';

const CONNECTIONS = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ADMIN_PASSWORD = 'bench password that is long';
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Row {
  engine: string;
  target: string;
  reqPerSec: number;
  p95: number;
  errors: number;
}

function startProcess(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, url: match[1]!, ms: performance.now() - started });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${output}`)));
  });
}

async function waitHealthy(url: string, started: number): Promise<number> {
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `pcn serve` and measures first start (fresh data, seeding included) to a healthy /healthz. */
async function startPcn(env: Record<string, string>, port: number) {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--port', String(port)], {
    env: { ...process.env, LOG_LEVEL: 'warn', PCN_RATE_LIMIT_PER_MINUTE: '0', PCN_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const firstStartMs = await waitHealthy(url, started);
  return { child, url, firstStartMs };
}

async function load(url: string, headers: Record<string, string> = {}): Promise<{ reqPerSec: number; p95: number; errors: number }> {
  const { origin, pathname, search } = new URL(url);
  const result = await httpLoad({ url: origin, connections: CONNECTIONS, seconds: SECONDS, headers, paths: [pathname + search] });
  return { reqPerSec: result.rate, p95: result.p95, errors: result.non2xx };
}

async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD }),
  });
  return ((await response.json()) as { token: string }).token;
}

async function benchEngine(engine: 'pglite' | 'postgres', bareUrl: string, port: number): Promise<{ rows: Row[]; firstStartMs: number }> {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'pcn-bench-'));
    env = { PCN_DATA_DIR: dir, DATABASE_URL: '' };
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS pcn_bench');
    await admin.query('CREATE DATABASE pcn_bench');
    env = { DATABASE_URL: serverUrl.replace(/\/[^/]*$/, '/pcn_bench') };
    cleanup = async () => {
      await admin.query('DROP DATABASE IF EXISTS pcn_bench WITH (FORCE)');
      await admin.end();
    };
  }
  const server = await startPcn(env, port);
  try {
    const auth = { authorization: `Bearer ${await signIn(server.url)}` };
    const rows: Row[] = [];
    const bare = await load(`${bareUrl}/bare`);
    rows.push({ engine, target: 'bare Fastify route', ...bare });
    rows.push({ engine, target: 'GET /api/pcns', ...(await load(`${server.url}/api/pcns?area=Q99`, auth)) });
    rows.push({ engine, target: 'GET /api/pcns/U90001', ...(await load(`${server.url}/api/pcns/U90001`, auth)) });
    return { rows, firstStartMs: server.firstStartMs };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await cleanup();
  }
}

const bare = await startProcess(['bench/bare-server.ts'], {});
const results: Row[] = [];
const starts: Record<string, number> = {};
try {
  for (const [i, engine] of (['pglite', 'postgres'] as const).entries()) {
    const { rows, firstStartMs } = await benchEngine(engine, bare.url, 3900 + i);
    results.push(...rows);
    starts[engine] = firstStartMs;
  }
} finally {
  bare.child.kill('SIGTERM');
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`\nRegistry reads, ${CONNECTIONS} connections, ${SECONDS} s each — ${new Date().toISOString().slice(0, 10)} — ${machine}\n`);
console.log('| engine | target | req/s | p95 ms | × bare | errors |');
console.log('|---|---|---:|---:|---:|---:|');
for (const row of results) {
  const bareRate = results.find((r) => r.engine === row.engine && r.target === 'bare Fastify route')!.reqPerSec;
  console.log(`| ${row.engine} | ${row.target} | ${Math.round(row.reqPerSec)} | ${row.p95.toFixed(1)} | ${(row.reqPerSec / bareRate).toFixed(2)} | ${row.errors} |`);
}
console.log(`\nFirst start (fresh data, migrations + demo seeding, to a healthy /healthz): PGlite ${(starts.pglite! / 1000).toFixed(1)} s, PostgreSQL ${(starts.postgres! / 1000).toFixed(1)} s`);
