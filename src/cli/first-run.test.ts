/**
 * First run, as an operator meets it: a mistyped --data never makes an empty database (only serve and demo create
 * a folder, and say so), the server listens on this machine only unless told otherwise, and its log is JSON lines
 * when stdout is not a terminal.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEngine } from '../../test/db.ts';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';

const PCN_BIN = fileURLToPath(new URL('../../bin/pcn.js', import.meta.url));
const PGLITE_ONLY = { skip: testEngine !== 'pglite' && 'PGlite data folders only' };
const POSTGRES_ONLY = { skip: testEngine !== 'postgres' && 'DATABASE_URL only' };
let work: string;
let store: Store;

/** On PGlite nothing but the flags says where the store is: no PCN_DATA_DIR, no DATABASE_URL. */
const bare = { PCN_DATA_DIR: '', DATABASE_URL: '' };
const pcn = (args: string[], env: Record<string, string> = bare) => runPcn(args, { cwd: work, env });

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-first-run-'));
  store = await freshStore(work);
});
after(async () => {
  await store.drop();
  await rm(work, { recursive: true, force: true });
});

/** Starts `pcn serve` with stdout a pipe; resolves with its URL once it is ready. */
function serve(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [PCN_BIN, 'serve', '--port', '0', '--no-demo', ...args], { cwd: work, env: { ...process.env, LOG_LEVEL: 'info', ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      const match = /ready on (http:\/\/[^"\s]+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stdout}${stderr}`)));
  });
  return {
    url,
    output: () => ({ stdout, stderr }),
    async stop() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const reachable = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.status,
    () => 'refused' as const,
  );

test('a --data folder that does not exist is refused in one line by every command but serve and demo, and is not created', PGLITE_ONLY, async () => {
  const typo = join(work, 'pcn-dtaa');
  for (const args of [
    ['user', 'add', '--email', 'a@example.org', '--name', 'A', '--role', 'admin'],
    ['user', 'disable', '--email', 'a@example.org'],
    ['token', '--user', 'a@example.org'],
    ['client', 'list'],
    ['export', 'registry', join(work, 'out')],
    ['import', 'registry', join(work, 'out')],
    ['audit', 'verify'],
  ]) {
    const result = await pcn([...args, '--data', typo]);
    assert.equal(result.code, 1, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.equal(result.stderr.trim(), `pcn: no data folder at ${typo} (a typo?): create one with \`pcn demo --data ${typo}\` or \`pcn serve --data ${typo}\``, args.join(' '));
    assert.equal(existsSync(typo), false, `${args.join(' ')} must not create the folder`);
  }
  // The same command on a folder that is there (made empty by the operator) runs.
  const made = join(work, 'made-by-hand');
  await mkdir(made);
  const listed = await pcn(['client', 'list', '--data', made]);
  assert.equal(listed.code, 0, listed.stderr);
  // PCN_DATA_DIR and the default ./pcn-data follow the same rule.
  const viaEnv = await pcn(['client', 'list'], { ...bare, PCN_DATA_DIR: typo });
  assert.match(viaEnv.stderr, /^pcn: no data folder at .*pcn-dtaa \(a typo\?\)/);
  const byDefault = await pcn(['client', 'list']);
  assert.match(byDefault.stderr, /^pcn: no data folder at \.\/pcn-data \(a typo\?\)/);
  assert.equal(existsSync(join(work, 'pcn-data')), false);
});

test('a folder that holds other files and no store is refused by every command, serve and demo too, and nothing is written into it', PGLITE_ONLY, async () => {
  const project = join(work, 'some-project');
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'package.json'), '{}');
  for (const args of [
    ['client', 'list'],
    ['user', 'list'],
    ['demo', '--patients', '0'],
  ]) {
    const result = await pcn([...args, '--data', project]);
    assert.equal(result.code, 1, args.join(' '));
    assert.equal(result.stderr.trim(), `pcn: the folder ${project} is not a PCN Hub data folder: it holds other files (package.json, src) and no store`);
  }
  const served = serve(['--data', project], bare);
  await assert.rejects(served.url, /is not a PCN Hub data folder/);
  assert.deepEqual((await readdir(project)).sort(), ['package.json', 'src'], 'nothing was written into the folder');
});

test('demo creates a missing data folder and says so; a second run finds it and says nothing of creating', PGLITE_ONLY, async () => {
  const dir = join(work, 'new-demo');
  const first = await pcn(['demo', '--data', dir, '--patients', '0']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^Creating the data folder ${dir}\\.\\n`));
  assert.match(first.stdout, /Seeded the demo area/);
  assert.ok(existsSync(dir));
  const again = await pcn(['demo', '--data', dir, '--patients', '0']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /Creating/);
  // Now the folder holds a store, the other commands use it.
  assert.equal((await pcn(['client', 'list', '--data', dir])).code, 0);
});

test('serve creates a missing data folder, says so in its log, and logs JSON lines when stdout is not a terminal', PGLITE_ONLY, async () => {
  const dir = join(work, 'new-serve');
  const server = serve(['--data', dir], bare);
  await server.url;
  assert.equal(await server.stop(), 0);
  const lines = server.output().stdout.trim().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; dataDir?: string });
  assert.deepEqual(entries[0], { ...entries[0], level: 30, msg: `Creating the data folder ${dir}`, dataDir: dir });
  assert.ok(entries.some((e) => e.msg.startsWith('PCN Hub is ready on')));
  assert.ok(existsSync(dir));
  // A second start finds the folder and creates nothing.
  const again = serve(['--data', dir], bare);
  await again.url;
  assert.equal(await again.stop(), 0);
  assert.doesNotMatch(again.output().stdout, /Creating the data folder/);
});

test('with DATABASE_URL set, an explicit --data is not used and says so in one line; nothing is created', POSTGRES_ONLY, async () => {
  const dir = join(work, 'ignored-folder');
  for (const args of [
    ['client', 'list'],
    ['demo', '--patients', '0'],
  ]) {
    const result = await pcn([...args, '--data', dir], store.env);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^pcn: --data ${dir} is not used: DATABASE_URL is set, so the store is that PostgreSQL database$`, 'm'));
    assert.equal(existsSync(dir), false);
  }
  const listed = await pcn(['client', 'list'], { ...store.env, PCN_DATA_DIR: dir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(existsSync(dir), false, 'PCN_DATA_DIR is not used with DATABASE_URL, so nothing is made');
});

test(`serve listens on this machine only by default; --host 0.0.0.0 opens it to other machines (${testEngine})`, async () => {
  const server = serve([...(store.dataDir ? ['--data', store.dataDir] : [])], { ...store.env, HOST: '' });
  const url = await server.url;
  const port = new URL(url).port;
  try {
    assert.equal(url, `http://127.0.0.1:${port}`);
    assert.equal(await reachable(`http://localhost:${port}/healthz`), 200);
    const outside = externalAddress();
    if (outside) assert.equal(await reachable(`http://${outside}:${port}/healthz`), 'refused', 'not reachable on the network address');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const open = serve(['--host', '0.0.0.0', ...(store.dataDir ? ['--data', store.dataDir] : [])], store.env);
  const openUrl = await open.url;
  try {
    const openPort = new URL(openUrl).port;
    assert.equal(await reachable(`http://localhost:${openPort}/healthz`), 200);
    const outside = externalAddress();
    if (outside) assert.equal(await reachable(`http://${outside}:${openPort}/healthz`), 200);
  } finally {
    assert.equal(await open.stop(), 0);
  }
});
