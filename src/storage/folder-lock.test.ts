import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../shared/errors.ts';
import { describeThisProcess, LOCK_FILE, lockFolder } from './folder-lock.ts';

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'pcn-lock-'))));
after(() => rm(dir, { recursive: true, force: true }));

const lockPath = () => join(dir, LOCK_FILE);
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const writeLock = (holder: object) => writeFile(lockPath(), JSON.stringify(holder));

test('a held folder is refused with its holder named; once released it can be taken again', async () => {
  const lock = lockFolder(dir, 'pcn serve');
  assert.deepEqual(JSON.parse(await readFile(lockPath(), 'utf8')), lock.holder);
  const since = new Date(lock.holder.startedAt).toTimeString().slice(0, 5);
  assert.throws(
    () => lockFolder(dir, 'pcn token'),
    (error: unknown) => error instanceof AppError && error.message === `${dir} is in use by pcn serve (pid ${process.pid}, since ${since}); stop it first, or use DATABASE_URL`,
  );
  lock.release();
  lock.release();
  assert.equal(existsSync(lockPath()), false);
  lockFolder(dir, 'pcn token').release();
});

test('a lock left by a process that has gone is taken over; one held on another host is not', async () => {
  await writeLock({ pid: deadPid(), command: 'pcn import fhir', startedAt: new Date().toISOString(), hostname: hostname() });
  const lock = lockFolder(dir, 'pcn token');
  assert.equal(JSON.parse(await readFile(lockPath(), 'utf8')).pid, process.pid);
  lock.release();

  await writeLock({ pid: deadPid(), command: 'pcn serve', startedAt: '2025-03-01T16:40:00Z', hostname: 'elsewhere.example' });
  assert.throws(() => lockFolder(dir), /is in use by pcn serve \(pid \d+ on elsewhere\.example, since 2025-03-01 \d\d:\d\d\); stop it first/);
  await rm(lockPath());
});

test('a lock file cut short by a crash is taken over, unless it was made a moment ago', async () => {
  await writeFile(lockPath(), '');
  assert.throws(() => lockFolder(dir), /is being locked by another process at this very moment/);
  const old = new Date(Date.now() - 60_000);
  await utimes(lockPath(), old, old);
  lockFolder(dir).release();
});

test('the holder is named by its command: pcn and its subcommand, or the script', () => {
  assert.equal(describeThisProcess(['/usr/bin/node', '/app/bin/pcn.js', 'serve', '--port', '0']), 'pcn serve');
  assert.equal(describeThisProcess(['/usr/bin/node', '/app/src/main.ts', 'import', 'fhir', 'x.json']), 'pcn import fhir');
  assert.equal(describeThisProcess(['/usr/bin/node', '/app/bench/fhir.ts']), 'node fhir.ts');
});
