/**
 * What access checks and the audit of looks cost a clinician's reads and searches (issue 10: "at most a quarter
 * of read throughput"), over HTTP, on one PostgreSQL store. The product has no switch that turns them off, so the
 * yardstick is another build: this checkout (with any uncommitted changes) copied to a temporary git worktree
 * with bench/without-access-and-audit.patch applied — the policy's SQL and the audit of looks removed, nothing
 * else. The two servers take turns on the same store, ROUNDS times, so that drift on a shared machine falls on
 * both; the medians and the server's CPU per 1,000 requests (the machine's, but the load generator's) are reported, with the
 * raw primary-key SELECT of the same rows in the same run.
 *   npm run bench:access
 * BENCH_PATIENTS_1M (default 1,000,000) minimal Patients beside BENCH_IMPORT_PATIENTS (default 1,000) synthetic
 * ones; BENCH_SECONDS (default 8) per measurement; BENCH_ROUNDS (default 5); BENCH_ENGINE=pglite for PGlite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { importFhir } from '../src/fhir-store/index.ts';
import { systemContext } from '../src/modules/record/index.ts';
import { concurrentRate } from './rate.ts';
import { httpLoad } from './load.ts';
import { freshStore, machineTicks, serve, settled, signIn, stop } from './server-process.ts';
import { benchArea, identifierSearches, minimalPatientIds, parsed, patientsOnly, registeredPatientIds, settleAfterImport, transactionFiles } from './fhir-population.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IMPORT_PATIENTS = Number(process.env.BENCH_IMPORT_PATIENTS ?? 1000);
const CONNECTIONS = 20;
const PASSWORD = 'bench password that is long';
const CLINICIAN = 'bench.gp@pcn-hub.example';

const log = (line: string) => console.error(line);
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** This checkout, uncommitted changes included, in a temporary worktree with the patch applied. */
function buildWithout(): string {
  const here = resolve('.');
  const dir = mkdtempSync(join(tmpdir(), 'pcn-without-access-'));
  git(here, 'worktree', 'add', '--detach', dir, 'HEAD');
  const changes = git(here, 'diff', 'HEAD');
  if (changes) execFileSync('git', ['apply'], { cwd: dir, input: changes });
  try {
    git(dir, 'apply', join(here, 'bench/without-access-and-audit.patch'));
  } catch {
    throw new Error('bench/without-access-and-audit.patch no longer applies to this checkout: make it again against the policy and audit code as they are now');
  }
  symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** BENCH_ENGINE=pglite measures the one-process engine too (synthetic patients only: the 1M part is PostgreSQL's). */
const ENGINE = process.env.BENCH_ENGINE === 'pglite' ? 'pglite' : 'postgres';
const BIG = ENGINE === 'postgres' ? Number(process.env.BENCH_PATIENTS_1M ?? 1_000_000) : 0;
const store = await freshStore(ENGINE, 'pcn_bench_access');
const without = buildWithout();
try {
  const db = await store.open();
  const { registry, practices, mine } = await benchArea(db, CLINICIAN, PASSWORD);
  const system = await systemContext(db, 'bench import');
  await importFhir(db, system, parsed(transactionFiles(registry, IMPORT_PATIENTS)));
  if (BIG > 0) await importFhir(db, system, patientsOnly(IMPORT_PATIENTS, IMPORT_PATIENTS + BIG, practices));
  await settleAfterImport(db);
  const total = IMPORT_PATIENTS + BIG;
  // The clinician's own patients (registered in their PCN): reads by id, searches by NHS number.
  const ids = BIG > 0 ? minimalPatientIds(IMPORT_PATIENTS, total, practices, mine) : await registeredPatientIds(db, mine, 10_000);
  const searches = BIG > 0 ? identifierSearches(IMPORT_PATIENTS, total, practices, mine) : [];

  const builds = { product: undefined, 'without access and audit': without } as const;
  type Build = keyof typeof builds;
  type Measure = 'read' | 'search';
  const results: Record<string, Array<{ rate: number; cpu: number }>> = {};
  const raw: number[] = [];
  let port = 3980;
  for (let round = 1; round <= ROUNDS; round++) {
    // PGlite is one process: its raw rate is measured once, before the servers open the folder.
    if (ENGINE === 'postgres' || round === 1)
      raw.push(await concurrentRate((i) => db.query("SELECT content FROM fhir_resource WHERE resource_type = 'Patient' AND id = $1", [ids[i % ids.length]]), SECONDS, CONNECTIONS));
    if (ENGINE === 'pglite' && round === 1) await db.close();
    for (const build of Object.keys(builds) as Build[]) {
      const server = await serve(store, port++, builds[build]);
      try {
        await settled(server.child, ENGINE);
        const headers = { authorization: `Bearer ${await signIn(server.url, CLINICIAN, PASSWORD)}` };
        const loads: Array<[Measure, string[]]> = [['read', ids.map((id) => `/fhir/Patient/${id}`)], ...(searches.length ? [['search', searches] as [Measure, string[]]] : [])];
        for (const [measure, paths] of loads) {
          const before = machineTicks();
          const result = await httpLoad({ url: server.url, connections: CONNECTIONS, seconds: SECONDS, headers, paths });
          if (result.non2xx) throw new Error(`${build} ${measure}: ${result.non2xx} requests failed`);
          // The machine's CPU but the load generator's: the server and PostgreSQL.
          const cpu = ((machineTicks() - before) / 100 / (result.rate * SECONDS)) * 1000 - result.generatorCpuPer1000;
          (results[`${build}|${measure}`] ??= []).push({ rate: result.rate, cpu });
          log(`round ${round}, ${build}, ${measure}: ${Math.round(result.rate)}/s, server ${cpu.toFixed(3)} CPU-s per 1,000`);
        }
      } finally {
        await stop(server.child);
      }
    }
  }
  if (ENGINE === 'postgres') await db.close();

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const lines = [
    `Access checks and audit, what they cost — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} — ${machine}; ${ENGINE === 'postgres' ? 'PostgreSQL' : 'PGlite'}, ${total.toLocaleString('en-GB')} patients; ${ROUNDS} rounds of ${SECONDS} s, medians; ${CONNECTIONS} concurrent`,
    '',
    '| measure | product | without access and audit | product ÷ without (goal ≥ 0.75) | server CPU-s per 1,000, product / without | product ÷ raw PK SELECT |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const rawRate = median(raw);
  for (const measure of ['read', 'search'] as Measure[]) {
    const product = results[`product|${measure}`];
    const other = results[`without access and audit|${measure}`];
    if (!product || !other) continue;
    const [p, o] = [median(product.map((r) => r.rate)), median(other.map((r) => r.rate))];
    const [pc, oc] = [median(product.map((r) => r.cpu)), median(other.map((r) => r.cpu))];
    lines.push(
      `| ${measure} as the clinician | ${Math.round(p)}/s | ${Math.round(o)}/s | **${(p / o).toFixed(2)}** | ${pc.toFixed(3)} / ${oc.toFixed(3)} | ${measure === 'read' ? `${(p / rawRate).toFixed(2)} × (raw ${Math.round(rawRate)}/s)` : ''} |`,
    );
  }
  console.log(lines.join('\n'));
} finally {
  await store.drop({ keep: process.env.BENCH_KEEP === '1' });
  git(resolve('.'), 'worktree', 'remove', '--force', without);
  rmSync(without, { recursive: true, force: true });
}
