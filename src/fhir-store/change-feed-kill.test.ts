/**
 * The change feed survives kills: a real `pcn serve` takes FHIR writes over HTTP, a consumer runs as its
 * own process (test/change-consumer.ts) recording what it handles in the database, and both are
 * SIGKILLed mid-stream and started again. Afterwards every change was handled exactly once: no gap, no
 * repeat, and every write the server acknowledged is among them.
 * On PostgreSQL the consumer runs while the writes go on. PGlite is one process per folder, so there the
 * server and the consumer take turns on it: the server killed while writing, then the consumer killed
 * mid-batch, then more writes, then the consumer resumes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { testEngine } from '../../test/db.ts';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';
import type { Db } from '../storage/db.ts';
import { openPglite } from '../storage/pglite.ts';
import { openPostgres } from '../storage/pg.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let work: string;
let store: Store;
let bearer: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-feed-kill-'));
  store = await freshStore(work);
  const added = await runPcn(['user', 'add', '--email', 'feed@example.org', '--name', 'Feed Writer', '--role', 'admin'], { cwd: work, env: store.env });
  assert.equal(added.code, 0, added.stderr);
  const token = await runPcn(['token', '--user', 'feed@example.org'], { cwd: work, env: store.env });
  assert.equal(token.code, 0, token.stderr);
  bearer = `Bearer ${token.stdout.trim().split('\n').at(-1)}`;
});
after(async () => {
  await store.drop();
  await rm(work, { recursive: true, force: true });
});

/** `pcn serve` on a free port; resolves with its URL once it is ready. */
async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/pcn.js'), 'serve', '--port', '0', '--no-demo'], { cwd: work, env: { ...process.env, ...store.env, LOG_LEVEL: 'info' } });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d;
      const match = /ready on (http:\/\/[^"\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => (output += d));
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
  return { child, url };
}

function consumer(env: Record<string, string>): { child: ChildProcess; handled: () => number; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/change-consumer.ts')], { cwd: ROOT, env: { ...process.env, ...store.env, ...env } });
  let batches = 0;
  let errors = '';
  child.stdout!.on('data', (d: Buffer) => (batches += String(d).split('handled').length - 1));
  child.stderr!.on('data', (d: Buffer) => (errors += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => code !== 0 && code !== null && console.error(errors));
  return { child, handled: () => batches, exited };
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(20);
  }
}

/**
 * Three loops creating, updating and now and then deleting Patients through `target().url` until stopped.
 * Each version the server acknowledged is kept; a refused connection (the server being killed) is retried.
 */
function writers(target: () => string) {
  const acknowledged: string[] = [];
  let stopped = false;
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(`${target()}${path}`, {
        method,
        headers: { authorization: bearer, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!response.ok) return undefined;
      const text = await response.text();
      return (text ? JSON.parse(text) : { resourceType: 'OperationOutcome' }) as { id: string; meta: { versionId: string }; resourceType: string } | { resourceType: 'OperationOutcome' };
    } catch {
      await delay(50);
      return undefined;
    }
  };
  const loop = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      const created = await call('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: `Feed${n}`, given: [`G${i}`] }] });
      if (!created || !('id' in created)) continue;
      acknowledged.push(`Patient/${created.id}/1`);
      const updated = await call('PUT', `/fhir/Patient/${created.id}`, { ...created, gender: 'female' });
      if (updated && 'id' in updated) acknowledged.push(`Patient/${created.id}/${updated.meta.versionId}`);
      if (i % 3 === 0 && updated && 'id' in updated && (await call('DELETE', `/fhir/Patient/${created.id}`))) acknowledged.push(`Patient/${created.id}/3`);
    }
  };
  const running = Promise.all([0, 1, 2].map(loop));
  return {
    acknowledged,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

async function openTestStore(): Promise<Db> {
  return store.databaseUrl ? openPostgres(store.databaseUrl, { max: 2 }) : openPglite(store.dataDir);
}

const count = async (db: Db, sql: string) => (await db.query<{ n: number }>(sql))[0]!.n;
const seenCount = (db: Db) => count(db, 'SELECT count(*)::int AS n FROM feed_seen').catch(() => 0);
const lastPosition = (db: Db) => count(db, 'SELECT coalesce(max(position), 0)::int AS n FROM fhir_change');

async function assertExactlyOnce(db: Db, acknowledged: string[]): Promise<void> {
  const seen = (await db.query<{ position: number }>('SELECT position FROM feed_seen ORDER BY position')).map((r) => r.position);
  const changes = (await db.query<{ position: number }>('SELECT position FROM fhir_change ORDER BY position')).map((r) => r.position);
  assert.ok(changes.length >= 60, `enough changes to mean something (${changes.length})`);
  assert.equal(new Set(seen).size, seen.length, 'no change handled twice');
  assert.deepEqual(seen, changes, 'every change handled: no gap');
  const seenVersions = new Set((await db.query<{ v: string }>("SELECT resource_type || '/' || id || '/' || version_id AS v FROM feed_seen")).map((r) => r.v));
  const missing = acknowledged.filter((v) => !seenVersions.has(v));
  assert.deepEqual(missing, [], 'every acknowledged write reached the consumer');
  assert.equal(await count(db, 'SELECT count(*)::int AS n FROM fhir_version'), changes.length, 'one change per stored version');
}

test(`a consumer and the server SIGKILLed mid-stream: every change is handled exactly once (${testEngine})`, { timeout: 240_000 }, async () => {
  if (testEngine === 'postgres') {
    let server = await serve();
    const writes = writers(() => server.url);
    const db = await openTestStore();
    try {
      let seen = 0;
      for (const round of [1, 2]) {
        const running = consumer({ FEED_HANDLER_MS: '30' });
        await until(`consumer ${round} handled some batches`, async () => (await seenCount(db)) >= seen + 20);
        await kill(running.child);
        seen = await seenCount(db);
        assert.ok(seen < (await lastPosition(db)), 'killed with changes still to handle');
        const acknowledged = writes.acknowledged.length;
        await until('writes go on without the consumer', () => writes.acknowledged.length >= acknowledged + 10);
        if (round === 1) {
          await kill(server.child);
          server = await serve();
          const after = writes.acknowledged.length;
          await until('writes go on after the server restarted', () => writes.acknowledged.length >= after + 10);
        }
      }
      const last = consumer({ FEED_HANDLER_MS: '0' });
      await until('the restarted consumer handles new changes', async () => (await seenCount(db)) > seen);
      await writes.stop();
      const end = await lastPosition(db);
      await until('the consumer caught up', async () => (await count(db, "SELECT position::int AS n FROM fhir_change_consumer WHERE name = 'kill-test'")) === end);
      last.child.kill('SIGTERM');
      assert.equal(await last.exited, 0);
      await assertExactlyOnce(db, writes.acknowledged);
    } finally {
      server.child.kill('SIGTERM');
      await db.close();
    }
    return;
  }

  // PGlite: one process at a time on the folder.
  const acknowledged: string[] = [];
  const lastOnDisk = async () => {
    const db = await openTestStore();
    try {
      return await lastPosition(db);
    } finally {
      await db.close();
    }
  };
  const writeThenKill = async () => {
    const server = await serve();
    const writes = writers(() => server.url);
    await until('the server acknowledged writes', () => writes.acknowledged.length >= 40);
    await kill(server.child);
    await writes.stop();
    acknowledged.push(...writes.acknowledged);
  };
  await writeThenKill();
  const interrupted = consumer({ FEED_HANDLER_MS: '30', FEED_STOP_AT: String(await lastOnDisk()) });
  await until('the consumer handled some batches', () => interrupted.handled() >= 4);
  await kill(interrupted.child);
  await writeThenKill();
  const resumed = consumer({ FEED_STOP_AT: String(await lastOnDisk()) });
  assert.equal(await resumed.exited, 0);
  const db = await openTestStore();
  try {
    assert.ok((await seenCount(db)) > 0);
    await assertExactlyOnce(db, acknowledged);
  } finally {
    await db.close();
  }
});
