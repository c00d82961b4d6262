/**
 * What access checks and the audit cost (issue 10): a short in-process loop (Fastify's inject, no
 * sockets) of 20 concurrent clinician reads (GET /fhir/Patient/:id) and creates (POST /fhir/Observation),
 * next to the raw primary-key SELECT on the same database in the same run. Small on purpose (the machine
 * is shared): BENCH_SECONDS (default 5) per measurement, BENCH_PATIENTS (default 200) patients.
 * Run: `PCN_TEST_ENGINE=pglite node --import tsx bench/audit-cost.ts` (or postgres with TEST_DATABASE_URL).
 */
import { apiHarness } from '../test/api.ts';
import { nhsNumber, patient } from '../test/fhir.ts';
import { loadRegistry } from '../src/modules/network/index.ts';
import { testEngine } from '../test/db.ts';
import { startAuditSealer } from '../src/modules/audit/index.ts';
import { concurrentRate } from './rate.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 200);
const CONNECTIONS = 20;

const rate = (work: (i: number) => Promise<unknown>) => concurrentRate(work, SECONDS, CONNECTIONS);

const h = await apiHarness();
// As the server runs it: the chain is sealed every second while the requests run.
const sealer = startAuditSealer(h.db);
try {
  const registry = await loadRegistry(h.db);
  const practice = registry.memberships.find((m) => m.endDate === null)!.practiceOds;
  const clinician = await h.addUser({ email: 'bench.gp@pcn-hub.example', name: 'Bench GP', role: 'clinician', org: practice });
  const admin = await h.signIn('admin@pcn-hub.example');
  const ids: string[] = [];
  for (let i = 0; i < PATIENTS; i++) {
    const reply = await h.app.inject({
      method: 'POST',
      url: '/fhir/Patient',
      headers: { authorization: admin, 'content-type': 'application/fhir+json' },
      payload: patient(nhsNumber(50_000 + i), practice),
    });
    ids.push(reply.json<{ id: string }>().id);
  }
  const read = (i: number) =>
    h.app.inject({ method: 'GET', url: `/fhir/Patient/${ids[i % ids.length]}`, headers: { authorization: clinician } }).then((r) => {
      if (r.statusCode !== 200) throw new Error(`read ${r.statusCode} ${r.body}`);
    });
  const observation = (i: number) => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] },
    subject: { reference: `Patient/${ids[i % ids.length]}` },
    valueQuantity: { value: 120, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  });
  const create = (i: number) =>
    h.app.inject({ method: 'POST', url: '/fhir/Observation', headers: { authorization: clinician, 'content-type': 'application/fhir+json' }, payload: observation(i) }).then((r) => {
      if (r.statusCode !== 201) throw new Error(`create ${r.statusCode} ${r.body}`);
    });
  await rate(read); // warm-up
  const raw = await rate((i) => h.db.query('SELECT content FROM fhir_resource WHERE resource_type = $1 AND id = $2', ['Patient', ids[i % ids.length]]));
  const reads = await rate(read);
  const creates = await rate(create);
  console.log(`| ${testEngine} | raw SELECT ${Math.round(raw)}/s | clinician read ${Math.round(reads)}/s (${(reads / raw).toFixed(2)}× raw) | clinician create ${Math.round(creates)}/s |`);
} finally {
  await sealer.stop();
  await h.close();
}
