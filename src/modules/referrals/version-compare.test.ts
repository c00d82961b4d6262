/**
 * What the accept race rests on: the store's update with If-Match compares the version and writes in one locked
 * step. A second writer naming the same version while the first's transaction is still open waits for it, then is
 * refused (412), never writing over it — on PostgreSQL with two real connections, and on PGlite.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OperationOutcomeError } from '@medplum/core';
import type { Task } from '@medplum/fhirtypes';
import { FhirStoreRepository } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { testDb, testEngine } from '../../../test/db.ts';
import { systemContext } from '../record/index.ts';

let db: Db;
before(async () => {
  db = await testDb();
});
after(() => db.close());

const repo = async () => new FhirStoreRepository(db, await systemContext(db, 'version-compare test'));

test(`two updates naming the same version: the second waits for the first and is refused, not written over it (${testEngine})`, async () => {
  const first = await repo();
  const patient = await first.createResource({ resourceType: 'Patient', name: [{ family: 'Race' }] });
  const task = await first.createResource<Task>({ resourceType: 'Task', status: 'received', intent: 'order', for: { reference: `Patient/${patient.id}` } });
  const version = task.meta?.versionId;
  assert.ok(version);

  let firstWritten!: () => void;
  const written = new Promise<void>((resolve) => {
    firstWritten = resolve;
  });
  // The first holds its transaction open after writing, so the second's compare meets an uncommitted change.
  const holder = first.withTransaction(async () => {
    await first.updateResource<Task>({ ...task, status: 'accepted' }, { ifMatch: version });
    firstWritten();
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  await written;
  const second = await repo();
  const attempt = second.updateResource<Task>({ ...task, status: 'rejected' }, { ifMatch: version }).then(
    () => 'written',
    (error: unknown) => (error instanceof OperationOutcomeError ? error.outcome.id : String(error)),
  );
  await holder;
  assert.equal(await attempt, 'precondition-failed');
  const stored = await (await repo()).readResource<Task>('Task', task.id!);
  assert.equal(stored.status, 'accepted');
  assert.equal(stored.meta?.versionId, String(Number(version) + 1));
  // The must-match case: naming the version now current goes through.
  const next = await (await repo()).updateResource<Task>({ ...stored, status: 'in-progress' }, { ifMatch: stored.meta?.versionId });
  assert.equal(next.status, 'in-progress');
});
