/**
 * The change feed as a consuming module sees it: every write over FHIR REST and bulk import appears
 * once, in order, with its version and patient; a consumer stopped and started again resumes where it
 * committed; positions that commit out of order on PostgreSQL are not skipped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { testEngine } from '../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';
import { systemContext } from '../modules/record/index.ts';
import { demoArea } from '../demo/demo-area.ts';
import { syntheticPopulation } from '../demo/synthetic-population.ts';
import type { Db } from '../storage/db.ts';
import { followChanges, readChanges, settledFeedPosition, type Change } from './changes.ts';
import { importFhir } from './import.ts';
import { insertNewResource, prepareVersion } from './versions.ts';

let h: FhirHarness;
let db: Db;
const PRACTICE = 'Z90101';

before(async () => {
  h = await fhirHarness();
  db = h.db;
  await db.exec('CREATE TABLE feed_seen (consumer text NOT NULL, position bigint NOT NULL, resource_type text NOT NULL, id text NOT NULL, version_id bigint NOT NULL)');
});
after(() => h.close());

const lastPosition = async () => (await db.query<{ n: number }>('SELECT coalesce(max(position), 0) AS n FROM fhir_change'))[0]!.n;
const summary = (changes: Change[]) => changes.map((c) => `${c.kind} ${c.resourceType}/${c.id} v${c.versionId} patient=${c.patientId}`);
const observation = (patientId: string, text: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: `Patient/${patientId}` } });

test(`creates, updates and deletes over FHIR REST each appear once, in order, with version and patient (${testEngine})`, async () => {
  const start = await lastPosition();
  const p = await create(h.fhir, patient(nhsNumber(1), PRACTICE));
  const updated = await h.fhir('PUT', `/fhir/Patient/${p.id}`, { body: { ...p, gender: 'female' } });
  assert.equal(updated.status, 200, updated.text);
  const o = await create(h.fhir, observation(p.id, 'Blood pressure'));
  assert.equal((await h.fhir('DELETE', `/fhir/Observation/${o.id}`)).status, 200);
  // Writes that did not happen leave nothing: an invalid create, an update against a stale version, a
  // transaction Bundle whose second entry fails.
  assert.notEqual((await h.fhir('POST', '/fhir/Observation', { body: { ...observation(p.id, 'x'), status: 'nonsense' } })).status, 201);
  const stale = await h.fhir('PUT', `/fhir/Patient/${p.id}`, { body: { ...p, gender: 'male' }, headers: { 'if-match': 'W/"1"' } });
  assert.equal(stale.status, 412, stale.text);
  const failing: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'POST', url: 'Observation' }, resource: observation(p.id, 'Pulse') },
      { request: { method: 'POST', url: 'Observation' }, resource: { ...observation(p.id, 'x'), status: 'nonsense' } as unknown as Observation },
    ],
  };
  assert.notEqual((await h.fhir('POST', '/fhir', { body: failing })).status, 200);

  const changes = await readChanges(db, { after: start });
  assert.deepEqual(summary(changes), [
    `create Patient/${p.id} v1 patient=${p.id}`,
    `update Patient/${p.id} v2 patient=${p.id}`,
    `create Observation/${o.id} v1 patient=${p.id}`,
    `delete Observation/${o.id} v2 patient=${p.id}`,
  ]);
  assert.ok(
    changes.every((c, i) => i === 0 || c.position > changes[i - 1]!.position),
    'positions increase',
  );
  assert.equal(changes[0]!.changedAt, p.meta!.lastUpdated);
  // A type filter and a limit: the Patient's changes are not Observation changes; pages join up.
  assert.deepEqual(summary(await readChanges(db, { after: start, types: ['Observation'] })), summary(changes.slice(2)));
  const firstPage = await readChanges(db, { after: start, limit: 3 });
  assert.deepEqual(summary(firstPage), summary(changes.slice(0, 3)));
  assert.deepEqual(summary(await readChanges(db, { after: firstPage.at(-1)!.position })), summary(changes.slice(3)));
  assert.deepEqual(await readChanges(db, { after: changes.at(-1)!.position }), []);
  // Inside a transaction the read would wait for itself: refused, where the same read outside answers.
  await assert.rejects(
    db.transaction((tx) => readChanges(tx, { after: start })),
    /cannot be read inside a transaction/,
  );
});

test('a bulk import writes one create per resource in the same transaction, and a re-import writes none', async () => {
  const start = await lastPosition();
  const bundles = () => [...syntheticPopulation({ ...demoArea(1), patients: 4 })].map((bundle, i) => ({ label: `bundle ${i}`, bundle }));
  const imported = await importFhir(db, await systemContext(db, 'test'), bundles());
  const changes = await readChanges(db, { after: start, limit: 10_000 });
  assert.equal(changes.length, imported.resources);
  assert.ok(changes.every((c) => c.kind === 'create' && c.versionId === 1));
  const stored = await db.query<{ resource_type: string; id: string; patient_id: string | null }>(
    'SELECT resource_type, id, patient_id FROM fhir_resource WHERE (resource_type, id) IN (SELECT resource_type, id FROM fhir_change WHERE position > $1)',
    [start],
  );
  assert.deepEqual(changes.map((c) => `${c.resourceType}/${c.id} ${c.patientId}`).sort(), stored.map((r) => `${r.resource_type}/${r.id} ${r.patient_id}`).sort());
  assert.ok(
    changes.filter((c) => c.resourceType === 'Observation').every((c) => c.patientId !== null),
    'clinical resources carry their patient',
  );
  const again = await importFhir(db, await systemContext(db, 'test'), bundles());
  assert.equal(again.skipped, 4);
  assert.equal(await lastPosition(), changes.at(-1)!.position);
});

/** Follows the feed as `name`, recording each change in feed_seen in the handler's transaction, until `stopWhen` says so. */
async function follow(name: string, stopWhen: (seen: Change[]) => boolean | Promise<boolean>, options: { from?: 'beginning' | 'now' } = {}): Promise<Change[]> {
  const controller = new AbortController();
  const seen: Change[] = [];
  const stopper = setInterval(async () => {
    if (await stopWhen(seen)) controller.abort();
  }, 5);
  try {
    await followChanges(
      db,
      name,
      async (changes, tx) => {
        for (const c of changes) await tx.query('INSERT INTO feed_seen VALUES ($1, $2, $3, $4, $5)', [name, c.position, c.resourceType, c.id, c.versionId]);
        seen.push(...changes);
        if (await stopWhen(seen)) controller.abort(); // this batch still commits; the next is not read
      },
      { signal: controller.signal, batchSize: 3, pollMs: 10, ...options },
    );
  } finally {
    clearInterval(stopper);
  }
  return seen;
}

const seenBy = async (name: string) => (await db.query<{ position: number }>('SELECT position FROM feed_seen WHERE consumer = $1 ORDER BY position', [name])).map((r) => r.position);
const allPositions = async () => (await db.query<{ position: number }>('SELECT position FROM fhir_change ORDER BY position')).map((r) => r.position);

test('a consumer stopped mid-stream and started again resumes after its last position and sees every change exactly once', async () => {
  for (let i = 0; i < 4; i++) await create(h.fhir, patient(nhsNumber(100 + i), PRACTICE));
  const total = (await allPositions()).length;
  const first = await follow('scores', (seen) => seen.length >= 6);
  assert.ok(first.length >= 6 && first.length < total, `stopped mid-stream (${first.length} of ${total})`);
  const [stored] = await db.query<{ position: number }>("SELECT position FROM fhir_change_consumer WHERE name = 'scores'");
  assert.equal(stored!.position, first.at(-1)!.position, 'the stored position is the last change handled');

  // The record moves on while the consumer is away; a consumer started 'now' sees only what follows.
  const later = await follow('alerts', () => true, { from: 'now' });
  assert.deepEqual(later, []);
  const p = await create(h.fhir, patient(nhsNumber(200), PRACTICE));
  await create(h.fhir, observation(p.id, 'Weight'));
  const end = await lastPosition();
  const second = await follow('scores', (seen) => seen.at(-1)?.position === end);
  assert.equal(second[0]!.position, (await allPositions())[first.length], 'resumed right after the last position handled');
  assert.deepEqual(await seenBy('scores'), await allPositions(), 'every change once, none twice');
  const alerts = await follow('alerts', (seen) => seen.at(-1)?.position === end);
  assert.deepEqual(
    alerts.map((c) => `${c.kind} ${c.resourceType}`),
    ['create Patient', 'create Observation'],
  );
  assert.equal(alerts[0]!.id, p.id);
});

test('a handler that throws rolls back its writes and the position; the next start handles the same changes', async () => {
  const start = await lastPosition();
  await create(h.fhir, patient(nhsNumber(300), PRACTICE));
  await db.query("INSERT INTO fhir_change_consumer (name, position) VALUES ('failing', $1)", [start]);
  const failing = followChanges(
    db,
    'failing',
    async (changes, tx) => {
      await tx.query("INSERT INTO feed_seen VALUES ('failing', $1, 'x', 'x', 1)", [changes[0]!.position]);
      throw new Error('scores service down');
    },
    { signal: new AbortController().signal, pollMs: 10 },
  );
  await assert.rejects(failing, /scores service down/);
  assert.deepEqual(await seenBy('failing'), []);
  const [stored] = await db.query<{ position: number }>("SELECT position FROM fhir_change_consumer WHERE name = 'failing'");
  assert.equal(stored!.position, start);
  const retried = await follow('failing', (seen) => seen.length > 0);
  assert.equal(retried[0]!.position, start + 1);
});

test('a position that commits after a higher one is not skipped (PostgreSQL: concurrent transactions)', {
  skip: testEngine === 'pglite' && 'PGlite has one connection: transactions never overlap',
}, async () => {
  const start = await lastPosition();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let drew!: () => void;
  const drawn = new Promise<void>((resolve) => (drew = resolve));
  // T1 writes first (drawing the lower position) and stays open; T2 writes and commits.
  const t1 = db.transaction(async (tx) => {
    await insertNewResource(tx, prepareVersion({ resourceType: 'Patient', id: 'slow-commit' }, 1, new Date().toISOString()));
    drew();
    await held;
  });
  await drawn;
  await insertNewResource(db, prepareVersion({ resourceType: 'Patient', id: 'fast-commit' }, 1, new Date().toISOString()));
  const naive = await db.query<{ id: string }>('SELECT id FROM fhir_change WHERE position > $1 ORDER BY position', [start]);
  assert.deepEqual(
    naive.map((r) => r.id),
    ['fast-commit'],
    'a plain "position > last" read sees only the higher position now',
  );
  // The feed waits for T1 instead of handing out fast-commit and moving past slow-commit.
  let answered = false;
  const read = readChanges(db, { after: start }).then((changes) => {
    answered = true;
    return changes;
  });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(answered, false, 'the read waits while a lower position is in flight');
  release();
  await t1;
  assert.deepEqual(
    (await read).map((c) => c.id),
    ['slow-commit', 'fast-commit'],
  );
});

test(`a consumer seen for the first time may start after a settled position, missing nothing after it (${testEngine})`, async () => {
  const p = await create(h.fhir, patient(nhsNumber(9001), PRACTICE));
  const position = await settledFeedPosition(db);
  assert.equal(position, await lastPosition(), 'every change up to the position is final');
  const o = await create(h.fhir, observation(p.id, 'After the position'));
  const seen: Change[] = [];
  const stop = new AbortController();
  await followChanges(
    db,
    'from-a-position',
    async (changes) => {
      seen.push(...changes);
      stop.abort();
    },
    { signal: stop.signal, from: position, pollMs: 10 },
  );
  assert.deepEqual(summary(seen), [`create Observation/${o.id} v1 patient=${p.id}`]);
});

test(`a consumer behind a position it may skip to moves on to it, and one already past it is never moved back (${testEngine})`, async () => {
  const p = await create(h.fhir, patient(nhsNumber(9002), PRACTICE));
  const follow = async (name: string, skipTo: number) => {
    const seen: Change[] = [];
    const stop = new AbortController();
    await followChanges(
      db,
      name,
      async (changes) => {
        seen.push(...changes);
        stop.abort();
      },
      { signal: stop.signal, skipTo, pollMs: 10 },
    );
    return summary(seen);
  };
  // Both consumers start at the beginning of the feed (seen for the first time, no `from`).
  await db.query("INSERT INTO fhir_change_consumer (name, position) VALUES ('behind', 0), ('ahead', 0)");
  await create(h.fhir, observation(p.id, 'Accounted for by the skip'));
  const skipTo = await settledFeedPosition(db);
  const after = await create(h.fhir, observation(p.id, 'After the skip'));
  assert.deepEqual(await follow('behind', skipTo), [`create Observation/${after.id} v1 patient=${p.id}`], 'a consumer behind moves on: what came before the position is not handed over');

  const last = await lastPosition();
  await db.query("UPDATE fhir_change_consumer SET position = $1 WHERE name = 'ahead'", [last]);
  const later = await create(h.fhir, observation(p.id, 'After the consumer'));
  assert.deepEqual(await follow('ahead', skipTo), [`create Observation/${later.id} v1 patient=${p.id}`], 'a consumer past the position keeps its own, and sees nothing twice');
});
