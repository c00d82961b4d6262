/**
 * The populations the record benches load (bench/fhir.ts, bench/access-cost.ts): the synthetic population as
 * transaction Bundles, minimal Patients by the million, and the settling an operator does after a bulk import.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { ImportItem } from '../src/fhir-store/index.ts';
import { runPopulation } from '../src/modules/population/index.ts';
import { loadRegistry, type RegistrySnapshot } from '../src/modules/network/index.ts';
import { addUser } from '../src/modules/access/index.ts';
import { seedDemoIfEmpty } from '../src/demo/seed-demo.ts';
import { registryToday } from '../src/shared/dates.ts';
import { MAX_SYNTHETIC_PATIENTS, nhsNumberFor, syntheticPopulation } from '../src/demo/synthetic-population.ts';
import type { Db } from '../src/storage/db.ts';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const PATIENTS_PER_BUNDLE = 40;

/** The demo area and the clinician the figures are about: its registry, every practice (sorted), their PCN and its practices. */
export interface BenchArea {
  registry: RegistrySnapshot;
  practices: string[];
  pcn: string;
  /** The practices of the clinician's PCN: its patients are theirs (a legitimate relationship). */
  mine: Set<string>;
}

/**
 * Seeds the demo area (the admin signs in with `password`) and adds the clinician `email`: a GP at a practice of
 * the first PCN, who sees that PCN's registered patients.
 */
export async function benchArea(db: Db, email: string, password: string): Promise<BenchArea> {
  await seedDemoIfEmpty(db, { adminPassword: password });
  const registry = await loadRegistry(db);
  const practices = registry.practices.map((p) => p.ods).sort();
  const pcn = registry.pcns[0]!.code;
  const mine = new Set(registry.memberships.filter((m) => m.pcnCode === pcn && !m.endDate).map((m) => m.practiceOds));
  await addUser(db, { email, name: 'Bench GP', role: 'clinician', org: [...mine][0]!, password });
  return { registry, practices, pcn, mine };
}

/** Ids of up to `limit` stored Patients registered at the practices `mine`, in id order. */
export async function registeredPatientIds(db: Db, mine: Set<string>, limit: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    "SELECT id FROM fhir_token WHERE resource_type = 'Patient' AND code = 'general-practitioner:identifier' AND value = ANY($1::text[]) ORDER BY id LIMIT $2",
    [[...mine], limit],
  );
  return rows.map((r) => r.id);
}

/** `patients` synthetic patients as JSON text of transaction Bundles of 40 patients each (made before timing). */
export function transactionFiles(registry: RegistrySnapshot, patients: number): string[] {
  const files: string[] = [];
  const entries: NonNullable<Bundle['entry']> = [];
  let made = 0;
  for (const bundle of syntheticPopulation({ ...registry, patients, seed: 1, asOf: new Date().toISOString().slice(0, 10) })) {
    entries.push(...(bundle.entry ?? []));
    if (++made % PATIENTS_PER_BUNDLE === 0) files.push(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries.splice(0) }));
  }
  if (entries.length) files.push(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }));
  return files;
}

/** Each file parsed as it is read, as the CLI's import does. */
export function* parsed(files: string[]): Generator<ImportItem> {
  for (const [i, text] of files.entries()) yield { label: `bundle-${i}.json`, bundle: JSON.parse(text) as Bundle, text };
}

/**
 * Minimal Patients (what identifier search and the access rule need), from index `from`, as NDJSON-like
 * items, registered round-robin at `practices`, ids `bench-<index>`. NHS numbers continue after the synthetic
 * population's.
 */
export function* patientsOnly(from: number, to: number, practices: string[]): Generator<ImportItem> {
  for (let i = from; i < to; i++) {
    const identifier = i < MAX_SYNTHETIC_PATIENTS ? { system: NHS, value: nhsNumberFor(i) } : { system: 'https://pcn-hub.example/Id/synthetic-record', value: `patient-${i}` };
    const generalPractitioner = [{ identifier: { system: ODS, value: practices[i % practices.length]! } }];
    yield {
      label: `patient ${i}`,
      resource: {
        resourceType: 'Patient',
        id: `bench-${i}`,
        identifier: [identifier],
        generalPractitioner,
        gender: i % 2 ? 'female' : 'male',
        birthDate: `19${String(30 + (i % 70)).padStart(2, '0')}-01-01`,
      },
    };
  }
}

/**
 * Identifier searches for the NHS numbers of minimal Patients `from`…`to` registered at the clinician's PCN
 * (`mine`), at most 10,000, in a shuffled order.
 */
export function identifierSearches(from: number, to: number, practices: string[], mine: Set<string>): string[] {
  const numbers: string[] = [];
  for (let i = from; i < Math.min(to, MAX_SYNTHETIC_PATIENTS) && numbers.length < 10_000; i++) if (mine.has(practices[i % practices.length]!)) numbers.push(nhsNumberFor(i));
  return numbers
    .map((nhs) => ({ nhs, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ nhs }) => `/fhir/Patient?identifier=${encodeURIComponent(`${NHS}|${nhs}`)}`);
}

/** Ids of minimal Patients `from`…`to` registered at the clinician's PCN (`mine`), at most 10,000. */
export function minimalPatientIds(from: number, to: number, practices: string[], mine: Set<string>): string[] {
  const ids: string[] = [];
  for (let i = from; i < to && ids.length < 10_000; i++) if (mine.has(practices[i % practices.length]!)) ids.push(`bench-${i}`);
  return ids;
}

/**
 * What an operator does after a bulk import (docs/operations.md): `pcn population run`, so that the server's
 * population follower starts after the run instead of re-scoring every imported patient from the change feed,
 * then `VACUUM ANALYZE`, so that autovacuum is not catching up on the new rows (the run's RiskAssessments
 * included) on one of the two cores while requests are measured, and on PostgreSQL a CHECKPOINT. Returns the run's
 * patients and seconds.
 */
export async function settleAfterImport(db: Db): Promise<{ patients: number; seconds: number }> {
  const started = performance.now();
  const run = await runPopulation(db, { asOf: registryToday() });
  const seconds = (performance.now() - started) / 1000;
  await db.exec('VACUUM ANALYZE');
  // PostgreSQL: the import's and the run's dirty pages written out now, not by a checkpoint spread over the
  // measures (2026-12-06: reads at 1M had a p95 of 427-977 ms while one ran, 16-31 ms on the same store after it).
  if (db.engine === 'postgres') await db.exec('CHECKPOINT');
  return { patients: run.patients, seconds };
}
