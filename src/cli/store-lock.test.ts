/** Two processes on one store: a PGlite folder is held by one process at a time; PostgreSQL serves both. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEngine } from '../../test/db.ts';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';
import { LOCK_FILE } from '../storage/folder-lock.ts';

const PCN_BIN = fileURLToPath(new URL('../../bin/pcn.js', import.meta.url));
const USER = 'lock-test@example.org';
const PASSWORD = 'a long enough password';
let work: string;
let store: Store;
/** --data DIR on PGlite; on PostgreSQL the store comes from DATABASE_URL and --data is ignored. */
let data: string[];

const pcn = (args: string[], stdin?: string) => runPcn([...args, ...data], { cwd: work, env: store.env, stdin });

function startServe() {
  const child = spawn(process.execPath, [PCN_BIN, 'serve', '--port', '0', '--no-demo', ...data], { cwd: work, env: { ...process.env, ...store.env, LOG_LEVEL: 'info' } });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d;
      const match = /ready on (http:\/\/[^"\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
  const stop = async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  };
  return { pid: child.pid!, url, stop };
}

const signIn = (url: string) => fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: USER, password: PASSWORD }) });

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-lock-cli-'));
  store = await freshStore(work);
  data = store.dataDir ? ['--data', store.dataDir] : [];
  const added = await pcn(['user', 'add', '--email', USER, '--name', 'Lock Test', '--role', 'admin', '--password-stdin'], PASSWORD);
  assert.equal(added.code, 0, added.stderr);
});
after(async () => {
  await store.drop();
  await rm(work, { recursive: true, force: true });
});

test(`a command beside a running server is refused on a PGlite folder, naming the server; the server still signs in; once it stops the command runs (${testEngine})`, async () => {
  const serve = startServe();
  let stopped = false;
  try {
    const url = await serve.url;
    const token = await pcn(['token', '--user', USER]);
    if (testEngine === 'pglite') {
      assert.equal(token.code, 1);
      assert.equal(token.stdout, '');
      assert.match(token.stderr, new RegExp(`^pcn: ${store.dataDir} is in use by pcn serve \\(pid ${serve.pid}, since \\d\\d:\\d\\d\\); stop it first, or use DATABASE_URL\\n$`));
    } else {
      assert.equal(token.code, 0, `PostgreSQL needs no lock: ${token.stderr}`);
    }
    assert.equal((await signIn(url)).status, 200);
    assert.equal(await serve.stop(), 0);
    stopped = true;
    if (store.dataDir) assert.equal(existsSync(join(store.dataDir, LOCK_FILE)), false, 'the server removes its lock on the way out');
    const after = await pcn(['token', '--user', USER]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
  } finally {
    if (!stopped) await serve.stop();
  }
});

test('a lock left by a process that has gone does not block (pglite)', { skip: testEngine !== 'pglite' && 'PGlite folders only' }, async () => {
  const gone = spawnSync(process.execPath, ['-e', '']).pid!;
  await writeFile(join(store.dataDir!, LOCK_FILE), JSON.stringify({ pid: gone, command: 'pcn serve', startedAt: new Date().toISOString(), hostname: hostname() }));
  const token = await pcn(['token', '--user', USER]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(existsSync(join(store.dataDir!, LOCK_FILE)), false);
});
