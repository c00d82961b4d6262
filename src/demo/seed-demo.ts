/** First-start seeding: the synthetic Norfolk & Waveney area, a demo admin, demo members and a synthetic population. */
import { randomBytes } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import { importFhir, type ImportCounts } from '../fhir-store/index.ts';
import { SYSTEM_ACTOR, addUser, findActor, hashPassword, type Role } from '../modules/access/index.ts';
import { listAreas, loadRegistry, registryFhirBundle, saveRegistry, type RegistrySnapshot, type SaveProgress } from '../modules/network/index.ts';
import { systemContext } from '../modules/record/index.ts';
import { demoArea } from './demo-area.ts';
import { demoServices } from './demo-services.ts';
import { careTeamPartnersFor, syntheticPopulation } from './synthetic-population.ts';

export const DEMO_ADMIN_EMAIL = 'admin@pcn-hub.example';
/** `npm start`'s population: big enough to work lists, small enough to seed in seconds. */
export const DEFAULT_DEMO_PATIENTS = 2000;

export interface SeedResult {
  seeded: boolean;
  /** Only on the start that seeded: the admin's sign-in, to be shown once. */
  admin?: { email: string; password: string };
  /** Only when demo members were added: their sign-ins (one password), to be shown once. */
  members?: DemoMembers;
}

export interface SeedOptions {
  seed?: number;
  adminPassword?: string;
  /** Also add the demo members (a GP, a pharmacist, a social worker …), sharing `demoPassword` (random when unset). */
  members?: boolean;
  demoPassword?: string;
  progress?: SaveProgress;
}

/** The registry, published as FHIR too, the demo admin and (when asked) the demo members — once per database. */
export async function seedDemoIfEmpty(db: Db, options: SeedOptions = {}): Promise<SeedResult> {
  if ((await listAreas(db)).length > 0) return { seeded: false };
  const snapshot = demoArea(options.seed ?? 1);
  await saveRegistry(db, SYSTEM_ACTOR, snapshot, options.progress);
  await importFhir(db, await systemContext(db, 'demo registry'), [{ label: 'registry', bundle: registryFhirBundle(snapshot) }]);
  await seedDemoServices(db, snapshot);
  const members = options.members ? await seedDemoMembers(db, { password: options.demoPassword }) : undefined;
  if (await findActor(db, DEMO_ADMIN_EMAIL)) return { seeded: true, ...(members ? { members } : {}) };
  const password = options.adminPassword ?? randomBytes(12).toString('base64url');
  await addUser(db, { email: DEMO_ADMIN_EMAIL, name: 'Demo Administrator', role: 'admin', password });
  return { seeded: true, admin: { email: DEMO_ADMIN_EMAIL, password }, ...(members ? { members } : {}) };
}

export interface DemoMember {
  email: string;
  name: string;
  role: Role;
  org: string | null;
  /** Where they work, in words (for the printed list and the README). */
  where: string;
}

export interface DemoMembers {
  password: string;
  added: DemoMember[];
}

/**
 * The demo's members, one per kind of home: a GP at a practice of the first PCN the council's social care
 * serves, the clinical pharmacist of that PCN's lead community pharmacy, a social worker of the council, the
 * social prescribing link worker of the voluntary partner that does the PCN's social prescribing, the PCN's manager, an analyst and an IG lead. The pharmacy and the council are on the care teams of that
 * practice's frail and older patients (synthetic-population.ts), so their journeys find patients at once.
 */
export function demoMembers(registry: Pick<RegistrySnapshot, 'pcns' | 'practices' | 'memberships' | 'partners' | 'pcnPartners'>): DemoMember[] {
  const council = 'LA-NORFOLK';
  const pcn = registry.pcnPartners
    .filter((l) => l.partnerCode === council)
    .map((l) => l.pcnCode)
    .sort()[0];
  const practiceOds = registry.memberships
    .filter((m) => m.pcnCode === pcn && m.endDate === null)
    .map((m) => m.practiceOds)
    .sort()[0];
  const practice = registry.practices.find((p) => p.ods === practiceOds);
  if (!pcn || !practice) return [];
  const [pharmacy, socialCare] = careTeamPartnersFor(practice, registry);
  const pcnName = registry.pcns.find((p) => p.code === pcn)?.name ?? pcn;
  // The voluntary partner that does social prescribing for the PCN: its link worker receives the GP's referrals.
  const socialPrescribingCode = registry.pcnPartners.find((l) => l.pcnCode === pcn && l.role === 'Social prescribing')?.partnerCode;
  const socialPrescribing = registry.partners.find((p) => p.code === socialPrescribingCode);
  const members: DemoMember[] = [
    { email: 'gp.demo@pcn-hub.example', name: 'Dr Grace Whitmore', role: 'gp', org: practice.ods, where: practice.name },
    ...(pharmacy ? [{ email: 'pharmacist.demo@pcn-hub.example', name: 'Priya Shah', role: 'clinical-pharmacist' as const, org: pharmacy.code, where: pharmacy.name }] : []),
    ...(socialCare ? [{ email: 'social.worker.demo@pcn-hub.example', name: 'Sam Okafor', role: 'social-worker' as const, org: socialCare.code, where: socialCare.name }] : []),
    ...(socialPrescribing
      ? [{ email: 'link.worker.demo@pcn-hub.example', name: 'Lee Marsh', role: 'social-prescribing-link-worker' as const, org: socialPrescribing.code, where: socialPrescribing.name }]
      : []),
    { email: 'pcn.manager.demo@pcn-hub.example', name: 'Morgan Ellis', role: 'pcn-manager', org: pcn, where: pcnName },
    { email: 'analyst.demo@pcn-hub.example', name: 'Alex Reid', role: 'analyst', org: null, where: 'the area' },
    { email: 'ig.lead.demo@pcn-hub.example', name: 'Imogen Lake', role: 'ig-lead', org: null, where: 'the area' },
  ];
  return members;
}

/** Adds the demo members not there yet (re-running adds nothing twice), all with one password: hashed once. */
export async function seedDemoMembers(db: Db, options: { password?: string } = {}): Promise<DemoMembers | undefined> {
  const wanted = demoMembers(await loadRegistry(db));
  const missing: DemoMember[] = [];
  for (const member of wanted) if (!(await findActor(db, member.email))) missing.push(member);
  if (missing.length === 0) return undefined;
  const password = options.password ?? randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(password);
  for (const { email, name, role, org } of missing) await addUser(db, { email, name, role, ...(org ? { org } : {}) }, { passwordHash });
  return { password, added: missing };
}

/**
 * The demo's service directory (data/services.json offered by the registry's partners), as HealthcareService
 * resources with ids from their slugs: a service already stored (perhaps edited since) is left as it is, so
 * re-running adds only the missing ones. Returns how many were added.
 */
export async function seedDemoServices(db: Db, registry?: RegistrySnapshot): Promise<number> {
  const services = demoServices(registry ?? (await loadRegistry(db)));
  const counts = await importFhir(
    db,
    await systemContext(db, 'demo service directory'),
    services.map((resource) => ({ label: `service ${resource.id}`, resource })),
  );
  return counts.resources;
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
