/**
 * The planner's statistics follow the store: analysed when the server starts, and again only once the change
 * feed has moved by enough — a handful of writes does not set off an ANALYZE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { testDb } from '../../test/db.ts';
import { systemContext } from '../modules/record/index.ts';
import { importFhir, type ImportItem } from './import.ts';
import { keepStatisticsCurrent } from './statistics.ts';

function* patients(from: number, to: number): Generator<ImportItem> {
  for (let i = from; i < to; i++) {
    const resource: Patient = { resourceType: 'Patient', id: `stats-${i}`, gender: 'female', birthDate: '1950-01-01' };
    yield { label: `patient ${i}`, resource };
  }
}

test('the store is analysed at start, and not again after a few writes', async () => {
  const db = await testDb();
  try {
    const estimate = async () => Number((await db.query<{ rows: number }>("SELECT reltuples::bigint AS rows FROM pg_class WHERE oid = 'fhir_resource'::regclass"))[0]!.rows);
    const context = await systemContext(db, 'statistics test');
    await importFhir(db, context, patients(0, 120));
    assert.ok((await estimate()) <= 0, 'before any ANALYZE the planner knows nothing of the 120 rows');

    const stop = new AbortController();
    const kept = keepStatisticsCurrent(db, { signal: stop.signal, everyMs: 50 });
    const deadline = Date.now() + 10_000;
    while ((await estimate()) !== 120 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await estimate(), 120, 'analysed at start: the planner counts the rows');

    await importFhir(db, context, patients(120, 130));
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await estimate(), 120, 'ten writes are under the threshold: no second ANALYZE');
    stop.abort();
    await kept;
  } finally {
    await db.close();
  }
});
