/**
 * Re-importing lands nothing twice, whatever the bundles' shape: plain POST transaction Bundles with
 * urn:uuid references (the usual Synthea output) and NDJSON lines without ids, imported again, racing,
 * or re-run after `pcn import fhir` was killed mid-way. A changed bundle is new data, and lands.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import { openStore } from '../storage/open.ts';
import { testDb, testEngine } from '../../test/db.ts';
import { freshStore } from '../../test/cli.ts';
import { systemContext } from '../modules/record/index.ts';
import { demoArea } from '../demo/demo-area.ts';
import { syntheticPopulation } from '../demo/synthetic-population.ts';
import { fhirFilesIn, importFhir, readFhirFiles, type ImportCounts } from './index.ts';

let db: Db;
let work: string;
before(async () => {
  db = await testDb();
  work = await mkdtemp(join(tmpdir(), 'pcn-import-resume-'));
});
after(async () => {
  await db.close();
  await rm(work, { recursive: true, force: true });
});

const TABLES = ['fhir_resource', 'fhir_token', 'fhir_string', 'fhir_date', 'fhir_reference', 'fhir_number'];

/** Rows of every store table, to compare before and after. */
async function rowCounts(store: Db): Promise<{ fhir_resource: number } & Record<string, number>> {
  const counts: { fhir_resource: number } & Record<string, number> = { fhir_resource: 0 };
  for (const table of TABLES) counts[table] = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
  return counts;
}

/** Patients stored more than once under one NHS number (an import that duplicated). */
async function duplicatedPatients(store: Db): Promise<number> {
  const [row] = await store.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM (SELECT value FROM fhir_token WHERE resource_type = 'Patient' AND code = 'identifier' GROUP BY value HAVING count(*) > 1) d",
  );
  return row!.n;
}

/** Synthetic patients as plain POST transaction Bundles (no ifNoneExist, urn:uuid references), `perFile` patients a file. */
async function plainBundleFolder(name: string, patients: number, perFile: number, from = 0): Promise<{ dir: string; resources: number }> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  let entries: NonNullable<Bundle['entry']> = [];
  let resources = 0;
  let file = 0;
  const flush = async () => {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
    await writeFile(join(dir, `bundle-${String(file++).padStart(4, '0')}.json`), JSON.stringify(bundle, null, 1));
    entries = [];
  };
  let n = 0;
  for (const bundle of syntheticPopulation({ ...demoArea(1), patients: from + patients, from })) {
    for (const entry of bundle.entry ?? []) {
      delete entry.request!.ifNoneExist;
      assert.match(entry.fullUrl ?? '', /^urn:uuid:/);
      entries.push(entry);
      resources++;
    }
    if (++n % perFile === 0) await flush();
  }
  if (entries.length > 0) await flush();
  return { dir, resources };
}

const importFolder = async (store: Db, dir: string): Promise<ImportCounts> => importFhir(store, await systemContext(store, `test import ${dir}`), readFhirFiles(await fhirFilesIn(dir)));

test(`a folder of plain POST / urn:uuid transaction bundles imported twice lands nothing new the second time (${testEngine})`, async () => {
  const { dir, resources } = await plainBundleFolder('plain', 40, 4);
  const before = await rowCounts(db);
  const first = await importFolder(db, dir);
  assert.deepEqual(first, { bundles: 10, resources, skipped: 0 });
  const landed = await rowCounts(db);
  assert.equal(landed.fhir_resource - before.fhir_resource, resources);
  const again = await importFolder(db, dir);
  assert.deepEqual(again, { bundles: 0, resources: 0, skipped: 10 });
  assert.deepEqual(await rowCounts(db), landed);
  assert.equal(await duplicatedPatients(db), 0);
});

test(`bundles made in memory (no file text), imported twice, land once (${testEngine})`, async () => {
  const bundles = () =>
    [...syntheticPopulation({ ...demoArea(1), patients: 45, from: 40 })].map((bundle, i) => {
      for (const entry of bundle.entry ?? []) delete entry.request!.ifNoneExist;
      return { label: `generated ${i}`, bundle };
    });
  const first = await importFhir(db, await systemContext(db, 'test'), bundles());
  const landed = await rowCounts(db);
  assert.deepEqual(await importFhir(db, await systemContext(db, 'test'), bundles()), { bundles: 0, resources: 0, skipped: first.bundles });
  assert.deepEqual(await rowCounts(db), landed);
});

test('a changed bundle is new data and lands; its unchanged neighbour does not land again', async () => {
  const dir = join(work, 'changed');
  await mkdir(dir);
  const staff = (n: number, family: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${n}`, resource: { resourceType: 'Practitioner', name: [{ family }] }, request: { method: 'POST', url: 'Practitioner' } },
      {
        fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000001${n}`,
        resource: { resourceType: 'PractitionerRole', practitioner: { reference: `urn:uuid:00000000-0000-4000-8000-00000000000${n}` } },
        request: { method: 'POST', url: 'PractitionerRole' },
      },
    ],
  });
  await writeFile(join(dir, 'a.json'), JSON.stringify(staff(1, 'Aster')));
  await writeFile(join(dir, 'b.json'), JSON.stringify(staff(2, 'Birch')));
  assert.deepEqual(await importFolder(db, dir), { bundles: 2, resources: 4, skipped: 0 });
  await writeFile(join(dir, 'b.json'), JSON.stringify(staff(2, 'Birch-Cole')));
  assert.deepEqual(await importFolder(db, dir), { bundles: 1, resources: 2, skipped: 1 });
  const names = await db.query<{ family: string }>(
    "SELECT content->'name'->0->>'family' AS family FROM fhir_resource WHERE resource_type = 'Practitioner' AND content->'name'->0->>'family' IN ('Aster', 'Birch', 'Birch-Cole') ORDER BY 1",
  );
  assert.deepEqual(
    names.map((n) => n.family),
    ['Aster', 'Birch', 'Birch-Cole'],
  );
});

test(`NDJSON lines without ids land once, however often the file is imported (${testEngine})`, async () => {
  const file = join(work, 'Observation.ndjson');
  const line = (n: number) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: `Reading ${n}` }, valueQuantity: { value: n, unit: 'kg' } });
  await writeFile(file, `${line(1)}\n${line(2)}\n\n${line(3)}\n`);
  const before = await rowCounts(db);
  assert.deepEqual(await importFolder(db, file), { bundles: 3, resources: 3, skipped: 0 });
  assert.deepEqual(await importFolder(db, file), { bundles: 0, resources: 0, skipped: 3 });
  assert.equal((await rowCounts(db)).fhir_resource, before.fhir_resource + 3);
  // A new line in the file is new data.
  await writeFile(file, `${line(1)}\n${line(2)}\n\n${line(3)}\n${line(4)}\n`);
  assert.deepEqual(await importFolder(db, file), { bundles: 1, resources: 1, skipped: 3 });
});

test(`two imports of one folder racing each other land every resource once (${testEngine})`, async () => {
  const { dir, resources } = await plainBundleFolder('racing', 60, 2, 200);
  const before = await rowCounts(db);
  const duplicated = await duplicatedPatients(db);
  const [a, b] = await Promise.all([importFolder(db, dir), importFolder(db, dir)]);
  assert.equal(a.resources + b.resources, resources);
  assert.equal(a.bundles + b.bundles, 30);
  assert.equal(a.skipped + b.skipped, 30);
  assert.equal((await rowCounts(db)).fhir_resource, before.fhir_resource + resources);
  assert.equal(await duplicatedPatients(db), duplicated);
});

const PCN_BIN = fileURLToPath(new URL('../../bin/pcn.js', import.meta.url));

test(`pcn import fhir killed mid-way and run again lands every resource exactly once (${testEngine})`, { timeout: 300_000 }, async () => {
  const { dir, resources } = await plainBundleFolder('killed', 1000, 10, 400);
  let store = await freshStore(work);
  const open = () => openStore({ databaseUrl: store.databaseUrl, dataDir: store.dataDir ?? '' });
  const landed = async () => {
    const target = await open();
    try {
      return (await target.query<{ n: number }>('SELECT coalesce(sum(resources), 0)::int AS n FROM fhir_import_item'))[0]!.n;
    } finally {
      await target.close();
    }
  };
  const run = (killAfterMs?: number) =>
    new Promise<number | null>((resolve) => {
      const args = [PCN_BIN, 'import', 'fhir', dir, ...(store.dataDir ? ['--data', store.dataDir] : [])];
      const child = spawn(process.execPath, args, { env: { ...process.env, ...store.env }, stdio: 'ignore' });
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      // On PostgreSQL the ledger can be watched while the import runs: kill it once the first group has landed.
      const watch =
        killAfterMs === undefined || !store.databaseUrl
          ? undefined
          : setInterval(
              () =>
                void landed().then(
                  (n) => n > 0 && child.kill('SIGKILL'),
                  () => undefined,
                ),
              100,
            );
      child.on('exit', (code) => {
        clearTimeout(timer);
        clearInterval(watch);
        resolve(code);
      });
    });
  try {
    // Find a kill that falls between the first group landing and the last: later after a kill that
    // landed nothing; earlier, on a fresh store, after one that came too late (a busy machine varies).
    let partial = 0;
    let early = 0;
    let late = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 14 && partial === 0; attempt++) {
      const delay = Number.isFinite(late) ? (early + late) / 2 : Math.max(2000, early * 1.4);
      await run(delay);
      const n = await landed();
      if (n === 0) early = delay;
      else if (n < resources) partial = n;
      else {
        late = delay;
        await store.drop();
        store = await freshStore(work);
      }
    }
    assert.ok(partial > 0 && partial < resources, `a kill fell mid-import (${partial} of ${resources} landed)`);
    assert.equal(await run(), 0);
    assert.equal(await run(), 0, 'and once more, with everything landed');
    const target = await open();
    try {
      const [row] = await target.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource');
      assert.equal(row!.n, resources);
      assert.equal(await duplicatedPatients(target), 0);
      const [patients] = await target.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Patient'");
      assert.equal(patients!.n, 1000);
    } finally {
      await target.close();
    }
  } finally {
    await store.drop();
  }
});
