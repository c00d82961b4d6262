/**
 * Population health's figures (issue 11), on PostgreSQL and PGlite, each next to a raw read of the same
 * entries in the same run:
 *   - one raw sequential scan (a cursor, pages of 10,000) of the entries a run reads, parsed as the run's are;
 *   - `runPopulation` over BENCH_POP_PATIENTS synthetic patients (the demo generator), as wall time, patients/s,
 *     resources/s and CPU seconds per 1,000 patients (this process, and on PostgreSQL the server's backends serving
 *     this database): on a fresh store the first run reads every record and builds the facts it keeps (then a raw
 *     scan of those facts), then a run as of the next day (a nightly run: from the facts kept, writing only the
 *     results that say something new), then the same day again;
 *   - the re-score latency: a Condition written as a GP of the patient's practice → the follower (as the
 *     server runs it) has the patient's new result in population_patient;
 *   - the dashboards' API p95 as the people they are for, beside a raw read of the snapshot rows they read.
 * Run: `npm run bench:population` (BENCH_POP_PATIENTS, default 2,000; BENCH_POP_ENGINES=postgres for one engine;
 * on PostgreSQL the database pcn_bench_pop (BENCH_POP_DATABASE) is kept and reused when it already holds the patients, so a
 * second run skips the import; BENCH_POP_FRESH=1 drops it first).
 * Prints Markdown for docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Condition } from '@medplum/fhirtypes';
import pg from 'pg';
import { seedDemoIfEmpty, seedDemoPatients } from '../src/demo/seed-demo.ts';
import { FhirStoreRepository } from '../src/fhir-store/index.ts';
import { buildApp } from '../src/http/app.ts';
import { addUser, findActor, issueToken } from '../src/modules/access/index.ts';
import { careGapNames, FACT_TYPES, keepPopulationCurrent, POPULATION_CONSUMER, runPopulation } from '../src/modules/population/index.ts';
import { recordContext } from '../src/modules/record/index.ts';
import { registryToday } from '../src/shared/dates.ts';
import type { Db } from '../src/storage/db.ts';
import { openStore } from '../src/storage/open.ts';
import { sequentialTimes } from './rate.ts';

const PATIENTS = Number(process.env.BENCH_POP_PATIENTS ?? 2000);
const ENGINES = (process.env.BENCH_POP_ENGINES ?? 'postgres,pglite').split(',') as Array<'postgres' | 'pglite'>;
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = process.env.BENCH_POP_DATABASE ?? 'pcn_bench_pop';
/** What a run reads: the Patients, the entries the rules read, and the RiskAssessments it keeps. */
const READ_TYPES = ['Patient', ...FACT_TYPES, 'RiskAssessment'];

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.error(line);
};
const n = (x: number) => Math.round(x).toLocaleString('en-GB');

interface Store {
  db: Db;
  /** CPU seconds the database server has spent for this store so far (PostgreSQL: its backends; PGlite runs in this process). */
  serverCpu(): Promise<number>;
  drop(): Promise<void>;
}

async function makeStore(engine: 'pglite' | 'postgres'): Promise<Store> {
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'pcn-bench-pop-'));
    const db = await openStore({ dataDir: dir });
    return {
      db,
      serverCpu: async () => 0,
      drop: async () => {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  if (process.env.BENCH_POP_FRESH) await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  const [exists] = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME])).rows;
  if (!exists) await admin.query(`CREATE DATABASE ${DB_NAME}`);
  const db = await openStore({ databaseUrl: serverUrl.replace(/\/[^/]*$/, `/${DB_NAME}`), dataDir: '' });
  // The backends serving this database when asked (the pool keeps its connections through a run).
  const tick = 1 / 100; // USER_HZ
  const cpuOf = (pid: number) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      return undefined;
    }
  };
  return {
    db,
    serverCpu: async () => {
      const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [DB_NAME]);
      let total = 0;
      for (const { pid } of rows) {
        const cpu = cpuOf(pid);
        if (cpu !== undefined) total += cpu;
      }
      return total;
    },
    drop: async () => {
      await db.close();
      await admin.end();
    },
  };
}

async function patientCount(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Patient' AND NOT deleted AND content->>'birthDate' IS NOT NULL");
  return row?.n ?? 0;
}

/** The entries a run reads, read raw through the same Db: one sequential scan by a cursor, every row parsed. */
async function rawScan(db: Db): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  let rows = 0;
  await db.transaction(async (tx) => {
    await tx.query(`DECLARE raw_scan NO SCROLL CURSOR FOR SELECT patient_id, content FROM fhir_resource WHERE resource_type = ANY($1::text[]) AND NOT deleted`, [READ_TYPES]);
    for (;;) {
      const page = await tx.query<{ patient_id: string; content: unknown }>('FETCH 10000 FROM raw_scan');
      for (const row of page) if (typeof row.content === 'string') JSON.parse(row.content);
      rows += page.length;
      if (page.length < 10000) break;
    }
  });
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** The facts a run reads once they are kept: one sequential scan by a cursor, every row parsed. */
async function rawFactsScan(db: Db): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  let rows = 0;
  await db.transaction(async (tx) => {
    await tx.query('DECLARE raw_facts NO SCROLL CURSOR FOR SELECT patient_id, facts, held FROM population_facts');
    for (;;) {
      const page = await tx.query<{ patient_id: string; facts: string; held: string }>('FETCH 10000 FROM raw_facts');
      for (const row of page) JSON.parse(row.facts);
      rows += page.length;
      if (page.length < 10000) break;
    }
  });
  return { rows, seconds: (performance.now() - started) / 1000 };
}

async function entriesRead(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = ANY($1::text[]) AND NOT deleted', [READ_TYPES]);
  return row?.n ?? 0;
}

async function timedRun(store: Store, label: string, engine: string, entries: number, asOf: string) {
  const cpu0 = process.cpuUsage();
  const server0 = await store.serverCpu();
  const started = performance.now();
  const run = await runPopulation(store.db, { asOf });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const serverCpu = (await store.serverCpu()) - server0;
  const per1000 = (x: number) => (x / run.patients) * 1000;
  const how = run.builtFacts ? 'every record read, facts built' : 'from the facts kept';
  const [{ written }] = (await store.db.query<{ written: number }>(
    'SELECT count(*)::int AS written FROM population_result WHERE computed_at >= (SELECT started_at FROM population_run WHERE id = $1)',
    [run.runId],
  )) as [{ written: number }];
  say(
    `| ${engine} | ${label}: ${how}; ${n(written)} results written (${n(run.patients)} patients, ${n(entries)} resources) | ${seconds.toFixed(1)} s | ${n(run.patients / seconds)} | ${n(entries / seconds)} | ` +
      `${per1000(nodeCpu).toFixed(2)} s${engine === 'postgres' ? ` + ${per1000(serverCpu).toFixed(2)} s server` : ''} |`,
  );
  return { seconds, nodeCpu, serverCpu, patients: run.patients, builtFacts: run.builtFacts };
}

/** A Condition written as a GP of the patient's practice, until the follower has the patient's new result. */
async function rescoreLatency(db: Db): Promise<number[]> {
  // As a server started after the run: the follower begins where the run began reading (a consumer left by an
  // earlier bench on this database would first re-score everything imported since).
  await db.query('DELETE FROM fhir_change_consumer WHERE name = $1', [POPULATION_CONSUMER]);
  const follower = new AbortController();
  const following = keepPopulationCurrent(db, { signal: follower.signal });
  try {
    const [row] = await db.query<{ patient_id: string; practice_ods: string }>(
      "SELECT patient_id, practice_ods FROM population_patient WHERE practice_ods IS NOT NULL AND birth_date < now() - interval '70 years' ORDER BY patient_id LIMIT 1",
    );
    if (!row) throw new Error('no scored patient over 70 with a practice');
    const email = `bench.gp.${row.practice_ods.toLowerCase()}@pcn-hub.example`;
    const actor = (await findActor(db, email)) ?? (await addUser(db, { email, name: 'Bench GP', role: 'gp', org: row.practice_ods }));
    const context = await recordContext(db, actor, { request: { method: 'POST', url: '/fhir/Condition' } });
    const latencies: number[] = [];
    // The first change waits for the follower to start; the next five are timed.
    for (const code of ['84114007', '44054006', '13645005', '709044004', '49049000', '38341003']) {
      const [before] = await db.query<{ computed_at: string }>('SELECT computed_at::text FROM population_patient WHERE patient_id = $1', [row.patient_id]);
      const condition: Condition = {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        code: { coding: [{ system: 'http://snomed.info/sct', code }] },
        subject: { reference: `Patient/${row.patient_id}` },
        onsetDateTime: '2024-01-01',
      };
      await new FhirStoreRepository(db, context).createResource(condition);
      const written = performance.now();
      // The follower re-scores the patient whatever the Condition says: computed_at moves when their new result is stored.
      for (;;) {
        const [after] = await db.query<{ computed_at: string }>('SELECT computed_at::text FROM population_patient WHERE patient_id = $1', [row.patient_id]);
        if (after && after.computed_at !== before?.computed_at) break;
        if (performance.now() - written > 60_000) throw new Error('the change was not re-scored within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      latencies.push((performance.now() - written) / 1000);
    }
    return latencies.slice(1);
  } finally {
    follower.abort();
    await following;
  }
}

/**
 * The dashboards as the people they are for ask for them (a GP of the PCN: direct care; an analyst: the area,
 * secondary use, suppressed; a PCN manager: trends), each request as the server answers it (Fastify's inject: routing,
 * the token check, the access rules, the audit record), one at a time; p95 of 200 after 20 to warm. The raw baseline:
 * the snapshot rows the area dashboard reads, by the same Db.
 */
async function dashboardLatency(db: Db, engine: string) {
  const app = await buildApp({ db, logger: false });
  const [area] = await db.query<{ code: string }>('SELECT code FROM area ORDER BY code LIMIT 1');
  // The demo area's first PCN (its practices hold a share of the generated patients).
  const pcnCode = 'U90001';
  const auth = async (email: string, role: string, org?: string) => {
    const actor = (await findActor(db, email)) ?? (await addUser(db, { email, name: `Bench ${role}`, role, ...(org ? { org } : {}) } as Parameters<typeof addUser>[1]));
    return `Bearer ${await issueToken(db, actor)}`;
  };
  const gp = await auth(`bench.dash.gp@${pcnCode.toLowerCase()}.example`, 'gp', pcnCode);
  const analyst = await auth('bench.dash.analyst@icb.example', 'analyst');
  const manager = await auth(`bench.dash.manager@${pcnCode.toLowerCase()}.example`, 'pcn-manager', pcnCode);
  const gap = careGapNames()[0]!.id;
  const p95 = async (ask: () => Promise<void>) => {
    const times = await sequentialTimes(ask, 200, 20);
    return times[Math.ceil(times.length * 0.95) - 1]!;
  };
  const targets: [string, string, string][] = [
    [`PCN dashboard, a GP of the PCN`, `/api/population/dashboard?pcn=${pcnCode}`, gp],
    ['area dashboard ranked by frailty, an analyst (suppressed)', `/api/population/dashboard?area=${area!.code}&rank=frailty:severe`, analyst],
    [`funnel of ${gap} over the area, an analyst`, `/api/population/dashboard/funnel?area=${area!.code}&gap=${gap}`, analyst],
    ['PCN trends, its manager', `/api/population/dashboard/trends?pcn=${pcnCode}`, manager],
  ];
  for (const [label, url, authorization] of targets) {
    const first = await app.inject({ method: 'GET', url, headers: { authorization } });
    if (first.statusCode !== 200) throw new Error(`${url}: ${first.statusCode} ${first.body.slice(0, 300)}`);
    const ms = await p95(async () => {
      await app.inject({ method: 'GET', url, headers: { authorization } });
    });
    say(`| ${engine} | dashboard API p95: ${label} | ${ms.toFixed(1)} ms | | | |`);
  }
  const raw = await p95(async () => {
    await db.query("SELECT practice_ods, measure, count FROM population_dashboard_month WHERE purpose = 'secondary-use' AND month = (SELECT max(month) FROM population_dashboard_month)");
  });
  say(`| ${engine} | raw read of the area's snapshot rows, p95 | ${raw.toFixed(1)} ms | | | |`);
  await app.close();
}

async function benchEngine(engine: 'pglite' | 'postgres') {
  const store = await makeStore(engine);
  const { db } = store;
  try {
    await seedDemoIfEmpty(db, { adminPassword: 'bench password that is long' });
    const held = await patientCount(db);
    if (held < PATIENTS) {
      const started = performance.now();
      const counts = await seedDemoPatients(db, { patients: PATIENTS });
      say(`| ${engine} | (generated and imported ${n(counts.bundles)} patients, ${n(counts.resources)} resources in ${((performance.now() - started) / 1000).toFixed(0)} s) | | | | |`);
    }
    const entries = await entriesRead(db);
    const raw = await rawScan(db);
    say(`| ${engine} | raw sequential scan of the same entries (cursor, parsed) | ${raw.seconds.toFixed(1)} s | | ${n(raw.rows / raw.seconds)} | |`);
    // The first run on a store reads every record whole and builds each patient's facts; later runs score from the
    // facts kept. Each as of a day no earlier run used (a nightly run), then the same day again.
    const day = (offset: number) => registryToday(new Date(Date.now() - 86_400_000 * offset));
    const start = 2 + Math.floor(Math.random() * 300);
    await timedRun(store, `population run as of ${day(start)}`, engine, entries, day(start));
    const facts = await rawFactsScan(db);
    say(`| ${engine} | raw sequential scan of the facts kept (cursor, parsed) | ${facts.seconds.toFixed(1)} s | ${n(facts.rows / facts.seconds)} | | |`);
    await timedRun(store, `population run as of ${day(start - 1)}, the next day`, engine, entries, day(start - 1));
    await timedRun(store, 'population run again the same day', engine, entries, day(start - 1));
    const latencies = await rescoreLatency(db);
    say(`| ${engine} | one changed record re-scored and visible (follower polling every 1 s; ${latencies.length} changes) | max ${Math.max(...latencies).toFixed(2)} s | | | |`);
    await dashboardLatency(db, engine);
  } finally {
    await store.drop();
  }
}

say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average at start ${loadavg()[0]!.toFixed(1)}; ${new Date().toISOString().slice(0, 10)}`);
say('');
say('| engine | what | time | patients/s | resources/s | CPU per 1,000 patients |');
say('|---|---|---|---|---|---|');
for (const engine of ENGINES) await benchEngine(engine);
console.log(lines.join('\n'));
