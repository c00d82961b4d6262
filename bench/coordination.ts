/**
 * Working as one care community (issue 12): the referral figures, as the people they are about.
 *   - A service's inbox with BENCH_REFERRALS (default 10,000) open referrals, loaded by a link worker of the
 *     receiving organisation (GET /api/referrals?box=received&service=…, the first page of 100, oldest first
 *     with the SLA clock), p95 (goal ≤ 150 ms), next to the same page read from the database raw in the same run.
 *   - PostgreSQL: BENCH_USERS (default 50) people — GPs sending referrals and link workers receiving them — for
 *     BENCH_SECONDS (default 60): every referral is handed to TWO link workers at once, who both try to accept
 *     it; the winner starts and completes it. Then the database is checked: every request accounted for (each
 *     answered 201, 200, or 409 to the loser of an accept; a 503 under load is retried after its Retry-After), no
 *     referral accepted twice, none in two states (its ServiceRequest and Task agree), every 201 a referral
 *     in the store and every referral in the store a 201.
 * The referrals are made through the module's own use case (createReferral as the GP) before the server starts.
 * Run: `npm run bench:coordination` (BENCH_REFERRALS, BENCH_USERS, BENCH_SECONDS, BENCH_ENGINES=postgres,pglite, BENCH_KEEP).
 * Prints Markdown for docs/benchmarks.md.
 */
import { cpus, totalmem } from 'node:os';
import type { HealthcareService, Organization, Patient, Reference } from '@medplum/fhirtypes';
import { importFhir, type ImportItem } from '../src/fhir-store/index.ts';
import { addUser, findActor } from '../src/modules/access/index.ts';
import { loadRegistry } from '../src/modules/network/index.ts';
import { systemContext } from '../src/modules/record/index.ts';
import { createReferral, orgReference } from '../src/modules/referrals/index.ts';
import { seedDemoIfEmpty } from '../src/demo/seed-demo.ts';
import { nhsNumberFor } from '../src/demo/synthetic-population.ts';
import type { Db } from '../src/storage/db.ts';
import { concurrentRate } from './rate.ts';
import { httpLoad } from './load.ts';
import { type Engine, freshStore, serve, signIn, stop } from './server-process.ts';

const REFERRALS = Number(process.env.BENCH_REFERRALS ?? 10_000);
const USERS = Number(process.env.BENCH_USERS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const INBOX_SECONDS = Number(process.env.BENCH_INBOX_SECONDS ?? 10);
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,pglite').split(',') as Engine[];
const PASSWORD = 'bench password that is long';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SERVICE_ID = 'bench-social-prescribing';
const REASON = 'Lonely since moving house; would like to meet people (bench)';

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.error(line);
};
const n = (x: number) => Math.round(x).toLocaleString('en-GB');

interface Cast {
  pcn: string;
  practices: string[];
  /** The voluntary organisation that runs the PCN's social prescribing service. */
  provider: string;
  gps: string[];
  linkWorkers: string[];
  patients: string[];
}

/** The demo registry, the service, the people and REFERRALS patients registered at the PCN's practices. */
async function castAndService(db: Db): Promise<Cast> {
  await seedDemoIfEmpty(db, { adminPassword: PASSWORD });
  const registry = await loadRegistry(db);
  const pcn = registry.pcns[0]!.code;
  const practices = registry.memberships.filter((m) => m.pcnCode === pcn && !m.endDate).map((m) => m.practiceOds);
  const served = new Set(registry.pcnPartners.filter((l) => l.pcnCode === pcn).map((l) => l.partnerCode));
  const provider = registry.partners.find((p) => p.type === 'voluntary' && served.has(p.code))?.code ?? registry.partners.find((p) => served.has(p.code))!.code;
  const half = Math.max(1, Math.floor(USERS / 2));
  const gps = Array.from({ length: half }, (_, i) => `bench.gp.${i}@pcn-hub.example`);
  const linkWorkers = Array.from({ length: USERS - half }, (_, i) => `bench.link.worker.${i}@pcn-hub.example`);
  for (const [i, email] of gps.entries()) await addUser(db, { email, name: `Bench GP ${i}`, role: 'gp', org: practices[i % practices.length]!, password: PASSWORD });
  for (const [i, email] of linkWorkers.entries()) await addUser(db, { email, name: `Bench link worker ${i}`, role: 'social-prescribing-link-worker', org: provider, password: PASSWORD });

  const context = await systemContext(db, 'bench coordination');
  const service: HealthcareService = {
    resourceType: 'HealthcareService',
    id: SERVICE_ID,
    active: true,
    name: 'Social prescribing (bench)',
    providedBy: orgReference(provider, 'Bench voluntary organisation') as Reference<Organization>,
  };
  const patients = Array.from({ length: REFERRALS }, (_, i) => `bench-coord-${i}`);
  function* items(): Generator<ImportItem> {
    yield { label: 'service', resource: service };
    for (const [i, id] of patients.entries()) {
      const patient: Patient = {
        resourceType: 'Patient',
        id,
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumberFor(i) }],
        name: [{ family: `Bench${i}`, given: ['Pat'] }],
        birthDate: `19${String(30 + (i % 60)).padStart(2, '0')}-05-01`,
        gender: i % 2 ? 'female' : 'male',
        generalPractitioner: [{ identifier: { system: ODS, value: practices[i % practices.length]! } }],
      };
      yield { label: `patient ${i}`, resource: patient };
    }
  }
  await importFhir(db, context, items());
  return { pcn, practices, provider, gps, linkWorkers, patients };
}

/** REFERRALS open referrals to the service, one per patient, made by the GPs through the use case. */
async function referEveryone(db: Db, cast: Cast): Promise<number> {
  const senders = await Promise.all(cast.gps.slice(0, 4).map(async (email) => (await findActor(db, email))!));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    senders.map(async (gp) => {
      for (let i = next++; i < cast.patients.length; i = next++) {
        const priority = i % 10 === 0 ? 'asap' : i % 4 === 0 ? 'urgent' : 'routine';
        await createReferral(db, gp, { patientId: cast.patients[i]!, serviceId: SERVICE_ID, reason: REASON, priority, consentToShare: true }, { method: 'BENCH', url: 'referEveryone' });
        if (i % 1000 === 999) console.error(`  ${n(i + 1)} referrals made`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** The inbox's first page, raw: the provider's open workflow Tasks, oldest first, with their ServiceRequests and Patients. */
async function rawInboxPage(db: Db, provider: string): Promise<number> {
  const tasks = await db.query<{ id: string; content: { focus?: { reference?: string }; for?: { reference?: string } } }>(
    `SELECT r.id, r.content FROM fhir_resource r
      JOIN fhir_token o ON o.resource_type = 'Task' AND o.id = r.id AND o.code = 'owner:identifier' AND o.value = $1
     WHERE r.resource_type = 'Task' AND NOT r.deleted AND r.content->>'status' = ANY($2::text[])
     ORDER BY r.content->>'authoredOn' LIMIT 100`,
    [provider, ['requested', 'received', 'accepted', 'in-progress', 'on-hold']],
  );
  const ids = (prefix: string, pick: (t: (typeof tasks)[number]) => string | undefined) => tasks.flatMap((t) => (pick(t)?.startsWith(prefix) ? [pick(t)!.slice(prefix.length)] : []));
  await db.query("SELECT id, content FROM fhir_resource WHERE resource_type = 'ServiceRequest' AND id = ANY($1::text[])", [ids('ServiceRequest/', (t) => t.content.focus?.reference)]);
  await db.query("SELECT id, content FROM fhir_resource WHERE resource_type = 'Patient' AND id = ANY($1::text[])", [ids('Patient/', (t) => t.content.for?.reference)]);
  return tasks.length;
}

interface Tally {
  requests: number;
  byStatus: Map<string, number>;
  sent: Set<string>;
  completed: Set<string>;
  acceptsWon: number;
  acceptsLost: number;
  unexpected: string[];
}

/** USERS people sending, accepting (two at once per referral) and completing for SECONDS. */
async function workTogether(url: string, cast: Cast): Promise<Tally> {
  const tally: Tally = { requests: 0, byStatus: new Map(), sent: new Set(), completed: new Set(), acceptsWon: 0, acceptsLost: 0, unexpected: [] };
  const tokens = new Map<string, string>();
  for (const email of [...cast.gps, ...cast.linkWorkers]) tokens.set(email, await signIn(url, email, PASSWORD));
  const until = performance.now() + SECONDS * 1000;
  // Each sent referral is queued twice: two link workers take it at about the same time and both try to accept it.
  const queue: string[] = [];
  async function call(email: string, method: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
    for (;;) {
      let status = 0;
      let json: unknown = null;
      try {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${tokens.get(email)}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        status = response.status;
        json = await response.json().catch(() => null);
        tally.requests++;
        tally.byStatus.set(String(status), (tally.byStatus.get(String(status)) ?? 0) + 1);
        if (status === 503) {
          await new Promise((r) => setTimeout(r, 1000 * Number(response.headers.get('retry-after') ?? 1)));
          continue;
        }
      } catch (error) {
        tally.requests++;
        tally.byStatus.set('network error', (tally.byStatus.get('network error') ?? 0) + 1);
        tally.unexpected.push(`${method} ${path}: ${(error as Error).message}`);
      }
      return { status, json };
    }
  }
  let patient = 0;
  const sender = async (email: string) => {
    while (performance.now() < until) {
      const patientId = cast.patients[patient++ % cast.patients.length]!;
      const { status, json } = await call(email, 'POST', '/api/referrals', { patientId, serviceId: SERVICE_ID, reason: REASON, priority: 'urgent', consentToShare: true });
      if (status !== 201) {
        tally.unexpected.push(`send: ${status} ${JSON.stringify(json).slice(0, 200)}`);
        continue;
      }
      const id = (json as { id: string }).id;
      tally.sent.add(id);
      queue.push(id, id);
    }
  };
  const receiver = async (email: string) => {
    while (performance.now() < until) {
      const id = queue.shift();
      if (!id) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const move = (to: string, extra: Record<string, string> = {}) => call(email, 'POST', `/api/referrals/${id}/transition`, { to, ...extra });
      const accepted = await move('accepted');
      if (accepted.status === 409) {
        tally.acceptsLost++;
        continue;
      }
      if (accepted.status !== 200) {
        tally.unexpected.push(`accept ${id}: ${accepted.status} ${JSON.stringify(accepted.json).slice(0, 200)}`);
        continue;
      }
      tally.acceptsWon++;
      const started = await move('in-progress');
      const done = started.status === 200 ? await move('completed', { outcome: 'Joined the Tuesday walking group (bench)' }) : started;
      if (done.status === 200) tally.completed.add(id);
      else tally.unexpected.push(`finish ${id}: ${done.status} ${JSON.stringify(done.json).slice(0, 200)}`);
    }
  };
  await Promise.all([...cast.gps.map(sender), ...cast.linkWorkers.map(receiver)]);
  return tally;
}

interface Audit {
  referrals: number;
  fromBench: number;
  missing: number;
  notSent: number;
  acceptedTwice: number;
  twoStates: number;
  notCompleted: number;
}

/** What the database holds after the run, against what the people were told. */
async function checkStore(db: Db, tally: Tally, before: Set<string>): Promise<Audit> {
  const rows = await db.query<{ id: string; sr_status: string; task_status: string | null; tasks: number }>(
    `SELECT s.id, s.content->>'status' AS sr_status, min(t.content->>'status') AS task_status, count(t.id)::int AS tasks
       FROM fhir_resource s
       LEFT JOIN fhir_resource t ON t.resource_type = 'Task' AND NOT t.deleted AND t.content->'focus'->>'reference' = 'ServiceRequest/' || s.id
      WHERE s.resource_type = 'ServiceRequest' AND NOT s.deleted
      GROUP BY s.id, s.content->>'status'`,
  );
  const made = rows.filter((r) => !before.has(r.id));
  const agrees = (sr: string, task: string | null) =>
    task !== null && (task === 'completed' ? sr === 'completed' : task === 'cancelled' ? sr === 'revoked' : ['rejected', 'failed'].includes(task) ? true : sr === 'active');
  const accepts = await db.query<{ id: string; accepted: number }>(
    `SELECT id, count(*)::int AS accepted FROM (
       SELECT id, version_id, content->>'status' AS status FROM fhir_history WHERE resource_type = 'Task'
       UNION SELECT id, version_id, content->>'status' FROM fhir_resource WHERE resource_type = 'Task') v
      WHERE status = 'accepted' GROUP BY id`,
  );
  const byId = new Map(made.map((r) => [r.id, r]));
  return {
    referrals: rows.length,
    fromBench: made.length,
    missing: [...tally.sent].filter((id) => !byId.has(id)).length,
    notSent: made.filter((r) => !tally.sent.has(r.id)).length,
    acceptedTwice: accepts.filter((a) => a.accepted > 1).length,
    twoStates: made.filter((r) => r.tasks !== 1 || !agrees(r.sr_status, r.task_status)).length,
    notCompleted: [...tally.completed].filter((id) => byId.get(id)?.sr_status !== 'completed').length,
  };
}

async function benchEngine(engine: Engine, port: number) {
  const store = await freshStore(engine, 'pcn_bench_coordination');
  try {
    let db = await store.open();
    const cast = await castAndService(db);
    const making = await referEveryone(db, cast);
    say(`| ${engine} | ${n(REFERRALS)} referrals made through createReferral (4 GPs at once, in-process) | ${n(REFERRALS / making)}/s | | |`);
    const rows = await rawInboxPage(db, cast.provider);
    if (rows !== 100) throw new Error(`the raw inbox page read ${rows} Tasks, not 100`);
    const raw = await concurrentRate(() => rawInboxPage(db, cast.provider), INBOX_SECONDS, 1);
    await db.close();

    const server = await serve(store, port);
    try {
      const linkWorker = await signIn(server.url, cast.linkWorkers[0]!, PASSWORD);
      const path = `/api/referrals?box=received&service=${SERVICE_ID}`;
      const firstStarted = performance.now();
      const first = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${linkWorker}` } });
      console.error(`  the inbox's first load: ${(performance.now() - firstStarted).toFixed(0)} ms`);
      const page = (await first.json()) as { items: unknown[]; next: string | null };
      if (first.status !== 200 || page.items.length !== 100 || !page.next) throw new Error(`the inbox answered ${first.status} with ${page.items?.length} referrals`);
      // Warm-up, not measured: the server's first ANALYZE (fhir-store/statistics.ts), its caches and prepared statements.
      await httpLoad({ url: server.url, connections: 2, seconds: 3, headers: { authorization: `Bearer ${linkWorker}` }, paths: [path] });
      for (const connections of [1, 10]) {
        const inbox = await httpLoad({ url: server.url, connections, seconds: INBOX_SECONDS, headers: { authorization: `Bearer ${linkWorker}` }, paths: [path] });
        const errors = inbox.non2xx;
        say(
          `| ${engine} | service inbox, ${n(REFERRALS)} open referrals, first page of 100, as a link worker of the service, ${connections} at once | ${Math.round(inbox.rate)}/s | ${inbox.p95.toFixed(1)} | goal p95 ≤ 150 ms; raw page ${raw.toFixed(0)}/s (one at a time)${errors ? `; ${errors} errors` : ''} |`,
        );
      }
      if (engine === 'postgres') {
        const check = await store.open();
        const before = new Set((await check.query<{ id: string }>("SELECT id FROM fhir_resource WHERE resource_type = 'ServiceRequest'")).map((r) => r.id));
        const tally = await workTogether(server.url, cast);
        const audit = await checkStore(check, tally, before);
        await check.close();
        const statuses = [...tally.byStatus].map(([status, count]) => `${status}: ${n(count)}`).join(', ');
        say(
          `| postgres | ${USERS} people for ${SECONDS} s: ${cast.gps.length} GPs sending, ${cast.linkWorkers.length} link workers, two accepting each referral at once | ${n(tally.requests / SECONDS)} requests/s | | ${n(tally.sent.size)} sent, ${n(tally.acceptsWon)} accepts won and ${n(tally.acceptsLost)} lost (409), ${n(tally.completed.size)} completed; answers ${statuses} |`,
        );
        const lost = audit.missing + audit.notSent + audit.acceptedTwice + audit.twoStates + audit.notCompleted + tally.unexpected.length;
        say(
          `| postgres | …then the database: ${n(audit.fromBench)} referrals made in the run | | | ${lost === 0 ? 'nothing lost' : 'LOST'}: ${audit.missing} sent but not stored, ${audit.notSent} stored but never answered 201, ${audit.acceptedTwice} accepted twice, ${audit.twoStates} in two states, ${audit.notCompleted} completed but not stored so, ${tally.unexpected.length} unexpected answers |`,
        );
        for (const line of tally.unexpected.slice(0, 10)) console.error(`  unexpected: ${line}`);
      }
    } finally {
      await stop(server.child);
    }
    db = undefined as unknown as Db;
  } finally {
    // BENCH_KEEP=1 keeps the database (PostgreSQL) to look at a plan afterwards.
    await store.drop({ keep: !!process.env.BENCH_KEEP });
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
say(`\n### Coordination (issue 12), ${new Date().toISOString().slice(0, 10)}, ${machine}\n`);
say('| engine | what | rate | p95 ms | figure |');
say('|---|---|---|---|---|');
let port = 3300;
for (const engine of ENGINES) await benchEngine(engine, port++);
console.log(lines.join('\n'));
