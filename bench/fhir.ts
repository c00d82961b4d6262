import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { importFhir } from '../src/fhir-store/index.ts';
import { concurrentRate } from './rate.ts';
import { httpLoad, type LoadOptions, loadGenerator, type LoadResult } from './load.ts';
import { freshStore, machineTicks, serve, settled, signIn, stop } from './server-process.ts';
import { benchArea, identifierSearches, minimalPatientIds, parsed, patientsOnly, registeredPatientIds, settleAfterImport, transactionFiles } from './fhir-population.ts';
import { systemContext } from '../src/modules/record/index.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const IMPORT_PATIENTS = Number(process.env.BENCH_IMPORT_PATIENTS ?? 3000);
const BIG = Number(process.env.BENCH_PATIENTS_1M ?? 1_000_000);
const PASSWORD = 'bench password that is long';

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.error(line);
};

/** `work` run by 20 concurrent loops for SECONDS: operations per second. */
const rawRate = (work: (i: number) => Promise<unknown>) => concurrentRate(work, SECONDS, CONNECTIONS);

/** The clinician the figures are about: a GP at a practice of the first PCN, who sees that PCN's registered patients. */
const CLINICIAN = 'bench.gp@pcn-hub.example';
/** BENCH_AS=admin@pcn-hub.example measures as the admin instead, to see what the access rules cost. */
const BENCH_AS = process.env.BENCH_AS ?? CLINICIAN;

/** Which load generator drove a measure, and its own CPU (it shares the machine's cores with the server). */
const token = (url: string, email = BENCH_AS): Promise<string> => signIn(url, email, PASSWORD);

const settledAfter = (engine: string, what: string, run: { patients: number; seconds: number }) =>
  say(`| ${engine} | population run after the import (${what}; ${run.patients.toLocaleString('en-GB')} patients scored) | | | ${run.seconds.toFixed(1)} s |`);

const generated = (result: LoadResult) => `${result.generator} ${result.generatorCpuPer1000.toFixed(2)} CPU-s per 1,000 requests`;

async function benchEngine(engine: 'pglite' | 'postgres', port: number) {
  const store = await freshStore(engine, 'pcn_bench_fhir');
  try {
    let db = await store.open();
    const { registry, practices, pcn, mine: pcnPractices } = await benchArea(db, CLINICIAN, PASSWORD);
    const files = transactionFiles(registry, IMPORT_PATIENTS);
    const started = performance.now();
    const imported = await importFhir(db, await systemContext(db, 'bench import'), parsed(files));
    const importRate = imported.resources / ((performance.now() - started) / 1000);
    const entries = Math.round(imported.resources / files.length);
    say(`| ${engine} | bulk import (${IMPORT_PATIENTS} synthetic patients, ${imported.resources} resources, transactions of ~${entries} entries) | ${Math.round(importRate)} resources/s | | |`);
    // The clinician's own patients: registered at a practice of their PCN (a legitimate relationship).
    const ids = await registeredPatientIds(db, pcnPractices, 1000);
    settledAfter(engine, `${IMPORT_PATIENTS} synthetic patients`, await settleAfterImport(db));
    say(`| ${engine} | (the clinician's PCN ${pcn} holds ${ids.length === 1000 ? '1,000+' : ids.length} of the imported patients) | | | |`);

    // The same database used raw, before the server opens it (PGlite is single-process). The raw create
    // writes the product's own row shape: a table like fhir_resource (json content, the same indexes).
    await db.exec('CREATE TABLE IF NOT EXISTS raw_bench (LIKE fhir_resource INCLUDING ALL)');
    const rawSelect = await rawRate((i) => db.query("SELECT content FROM fhir_resource WHERE resource_type = 'Patient' AND id = $1", [ids[i % ids.length]]));
    const sample = { resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, subject: { reference: `Patient/${ids[0]}` } };
    const rawInsert = await rawRate(() =>
      db.query("INSERT INTO raw_bench (resource_type, id, version_id, last_updated, patient_id, content) VALUES ('Observation', $1, 1, now(), $2, $3::json)", [
        randomUUID(),
        ids[0],
        JSON.stringify(sample),
      ]),
    );
    await db.close();

    const server = await serve(store, port);
    try {
      say(`| ${engine} | (the server's start-up catch-up, waited for before measuring: ${(await settled(server.child, engine)).toFixed(0)} s) | | | |`);
      const auth = { authorization: `Bearer ${await token(server.url)}`, 'content-type': 'application/fhir+json' };
      // The server's CPU (the machine's, but the load generator's) per 1,000 requests: steadier than a rate on a shared machine.
      const costed = async (options: LoadOptions) => {
        const before = machineTicks();
        const result = await httpLoad(options);
        return { ...result, cpu: ((machineTicks() - before) / 100 / (result.rate * options.seconds)) * 1000 - result.generatorCpuPer1000 };
      };
      const read = await costed({ url: server.url, connections: CONNECTIONS, seconds: MEASURES.includes('read') ? SECONDS : 1, headers: auth, paths: ids.map((id) => `/fhir/Patient/${id}`) });
      const create = await costed({
        url: server.url,
        method: 'POST',
        connections: CONNECTIONS,
        seconds: MEASURES.includes('create') ? SECONDS : 1,
        headers: auth,
        paths: ['/fhir/Observation'],
        // The clinician's patients in turn, as their reads are: all on one patient, every change-feed follower
        // (population health re-scores the patient) would read an ever longer record.
        bodies: ids.map((id) => JSON.stringify({ ...sample, subject: { reference: `Patient/${id}` } })),
      });
      say(`| ${engine} | raw PK SELECT | ${Math.round(rawSelect)}/s | | |`);
      say(
        `| ${engine} | FHIR read | ${Math.round(read.rate)}/s | ${read.p95.toFixed(1)} | ${(read.rate / rawSelect).toFixed(2)} × raw (goal ≥ 0.15); server ${read.cpu.toFixed(2)} CPU-s per 1,000; ${generated(read)} |`,
      );
      say(`| ${engine} | raw INSERT (fhir_resource's shape: json, same indexes) | ${Math.round(rawInsert)}/s | | |`);
      say(
        `| ${engine} | FHIR create | ${Math.round(create.rate)}/s | ${create.p95.toFixed(1)} | ${(create.rate / rawInsert).toFixed(2)} × raw (goal ≥ 0.2); server ${create.cpu.toFixed(2)} CPU-s per 1,000; ${generated(create)} |`,
      );
      if (read.non2xx || create.non2xx) say(`| ${engine} | errors | read ${read.non2xx}, create ${create.non2xx} | | |`);
    } finally {
      await stop(server.child);
    }

    if (engine === 'postgres' && BIG > 0) {
      db = await store.open();
      const bigStart = performance.now();
      const big = await importFhir(db, await systemContext(db, 'bench import'), patientsOnly(IMPORT_PATIENTS, IMPORT_PATIENTS + BIG, practices));
      const bigSeconds = (performance.now() - bigStart) / 1000;
      say(`| postgres | bulk import of ${BIG.toLocaleString('en-GB')} minimal Patients | ${Math.round(big.resources / bigSeconds)} resources/s | | ${bigSeconds.toFixed(0)} s |`);
      settledAfter('postgres', `${BIG.toLocaleString('en-GB')} minimal Patients`, await settleAfterImport(db));
      // The clinician's own patients among the minimal ones (registered at their PCN's practices), for reads at 1M.
      const bigIds = minimalPatientIds(IMPORT_PATIENTS, IMPORT_PATIENTS + BIG, practices, pcnPractices);
      const rawSelectBig = await rawRate((i) => db.query("SELECT content FROM fhir_resource WHERE resource_type = 'Patient' AND id = $1", [bigIds[i % bigIds.length]]));
      await db.close();
      const server2 = await serve(store, port + 10);
      try {
        say(
          `| postgres | (the server's start-up catch-up at ${BIG.toLocaleString('en-GB')} more patients, waited for before measuring: ${(await settled(server2.child, engine)).toFixed(0)} s) | | | |`,
        );
        const auth = { authorization: `Bearer ${await token(server2.url)}` };
        const admin = { authorization: `Bearer ${await token(server2.url, 'admin@pcn-hub.example')}` };
        // Identifier searches for the clinician's own patients among the minimal ones (registered at their PCN's practices).
        const searches = identifierSearches(IMPORT_PATIENTS, IMPORT_PATIENTS + BIG, practices, pcnPractices);
        const search = await httpLoad({
          url: server2.url,
          connections: CONNECTIONS,
          seconds: SECONDS,
          headers: auth,
          paths: searches,
        });
        const found = (await (await fetch(`${server2.url}${searches[0]}`, { headers: auth })).json()) as { entry?: unknown[] };
        if (found.entry?.length !== 1) say(`| postgres | ERROR: the clinician's identifier search found ${found.entry?.length ?? 0} patients, not 1 | | | |`);
        const [{ n: patients }] = (await (await fetch(`${server2.url}/fhir/Patient?_summary=count`, { headers: admin })).json().then((b: { total: number }) => [{ n: b.total }])) as [{ n: number }];
        say(
          `| postgres | search by identifier as the clinician, ${patients.toLocaleString('en-GB')} patients | ${Math.round(search.rate)}/s | ${search.p95.toFixed(1)} | goal p95 ≤ 20 ms; ${generated(search)} |`,
        );
        const readBig = await httpLoad({ url: server2.url, connections: CONNECTIONS, seconds: SECONDS, headers: auth, paths: bigIds.map((id) => `/fhir/Patient/${id}`) });
        say(`| postgres | raw PK SELECT, ${patients.toLocaleString('en-GB')} patients | ${Math.round(rawSelectBig)}/s | | |`);
        say(
          `| postgres | FHIR read as the clinician, ${patients.toLocaleString('en-GB')} patients | ${Math.round(readBig.rate)}/s | ${readBig.p95.toFixed(1)} | ${(readBig.rate / rawSelectBig).toFixed(2)} × raw (goal ≥ 0.15); ${generated(readBig)}${readBig.non2xx ? `; ${readBig.non2xx} errors` : ''} |`,
        );
        const exportStart = performance.now();
        // Bulk export is for admins (secondary use), so it is measured as one.
        const kickOff = await fetch(`${server2.url}/fhir/$export?_type=Patient`, { headers: { ...admin, prefer: 'respond-async' } });
        const status = kickOff.headers.get('content-location')!;
        let manifest: { output: Array<{ count: number }> } | undefined;
        while (!manifest) {
          const poll = await fetch(status, { headers: admin });
          if (poll.status === 200) manifest = (await poll.json()) as { output: Array<{ count: number }> };
          else await new Promise((r) => setTimeout(r, 250));
        }
        const exported = manifest.output.reduce((sum, o) => sum + o.count, 0);
        say(
          `| postgres | $export of ${exported.toLocaleString('en-GB')} resources | ${Math.round(exported / ((performance.now() - exportStart) / 1000))} resources/s | | ${((performance.now() - exportStart) / 1000).toFixed(1)} s (goal ≤ 60 s for 1M) |`,
        );
      } finally {
        await stop(server2.child);
      }
    }
  } finally {
    // BENCH_KEEP=1 leaves the PostgreSQL database in place, to look at plans or run the server on it again.
    await store.drop({ keep: process.env.BENCH_KEEP === '1' });
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
say(`Shared care record — ${new Date().toISOString().slice(0, 10)} — ${machine}; ${CONNECTIONS} concurrent, ${SECONDS} s per measurement, load by ${loadGenerator()}\n`);
say('| engine | measure | rate | p95 ms | notes |');
say('|---|---|---:|---:|---|');
const ENGINES = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',');
/** BENCH_MEASURES=read (or create) gives the other a one-second run only, e.g. to profile one path. */
const MEASURES = (process.env.BENCH_MEASURES ?? 'read,create').split(',');
if (ENGINES.includes('pglite')) await benchEngine('pglite', 3950);
if (ENGINES.includes('postgres')) await benchEngine('postgres', 3960);
console.log(lines.join('\n'));
