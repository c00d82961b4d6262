/** First-start seeding: the synthetic Norfolk & Waveney area, a demo admin and a synthetic population. */
import { randomBytes } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import { importFhir, type ImportCounts } from '../fhir-store/index.ts';
import { SYSTEM_ACTOR, addUser, findActor } from '../modules/access/index.ts';
import { listAreas, loadRegistry, registryFhirBundle, saveRegistry, type SaveProgress } from '../modules/network/index.ts';
import { systemContext } from '../modules/record/index.ts';
import { demoArea } from './demo-area.ts';
import { syntheticPopulation } from './synthetic-population.ts';

export const DEMO_ADMIN_EMAIL = 'admin@pcn-hub.example';
/** `npm start`'s population: big enough to work lists, small enough to seed in seconds. */
export const DEFAULT_DEMO_PATIENTS = 2000;

export interface SeedResult {
  seeded: boolean;
  /** Only on the start that seeded: the admin's sign-in, to be shown once. */
  admin?: { email: string; password: string };
}

/** The registry, published as FHIR too, and the demo admin — once per database. */
export async function seedDemoIfEmpty(db: Db, options: { seed?: number; adminPassword?: string; progress?: SaveProgress } = {}): Promise<SeedResult> {
  if ((await listAreas(db)).length > 0) return { seeded: false };
  const snapshot = demoArea(options.seed ?? 1);
  await saveRegistry(db, SYSTEM_ACTOR, snapshot, options.progress);
  await importFhir(db, await systemContext(db, 'demo registry'), [{ label: 'registry', bundle: registryFhirBundle(snapshot) }]);
  if (await findActor(db, DEMO_ADMIN_EMAIL)) return { seeded: true };
  const password = options.adminPassword ?? randomBytes(12).toString('base64url');
  await addUser(db, { email: DEMO_ADMIN_EMAIL, name: 'Demo Administrator', role: 'admin', password });
  return { seeded: true, admin: { email: DEMO_ADMIN_EMAIL, password } };
}

/**
 * A reproducible synthetic population for the registry in the database. Re-running with the same
 * seed adds nothing twice (each patient bundle is conditional on its identifier), so it resumes.
 */
export async function seedDemoPatients(db: Db, options: { patients: number; seed?: number; onProgress?: (counts: ImportCounts) => void }): Promise<ImportCounts> {
  const registry = await loadRegistry(db);
  const asOf = new Date().toISOString().slice(0, 10);
  return importFhir(db, await systemContext(db, 'demo population'), labelled(syntheticPopulation({ ...registry, patients: options.patients, seed: options.seed ?? 1, asOf })), options.onProgress);
}

/**
 * Each patient is made between turns of the event loop: a server seeding behind its requests reads them as they
 * come (PGlite runs in this thread, and a whole group would otherwise be made and written without a pause).
 */
async function* labelled(bundles: Iterable<Bundle>) {
  let n = 0;
  for (const bundle of bundles) {
    await new Promise((resolve) => setImmediate(resolve));
    yield { label: `synthetic patient ${n++}`, bundle };
  }
}
