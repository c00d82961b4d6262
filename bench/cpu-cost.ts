/**
 * CPU per request, which a shared or throttled machine disturbs far less than a rate: the CPU time of this
 * process and (on PostgreSQL) of every PostgreSQL server process, divided by the requests served, for a GP's
 * FHIR read (in-process through Fastify's inject, 20 concurrent loops) and for the raw primary-key SELECT of
 * the same rows through the same Db. Use it to compare two commits; bench/fhir.ts gives the figures.
 *   PCN_TEST_ENGINE=postgres node --max-semi-space-size=64 --import tsx bench/cpu-cost.ts
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Condition, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../test/db.ts';
import { create, fhirHarness, nhsNumber, patient } from '../test/fhir.ts';
import { concurrentRate } from './rate.ts';
import { postgresTicks } from './server-process.ts';

const SECONDS = Number(process.env.SECONDS ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PATIENTS = 300;

const databaseTicks = () => (testEngine === 'postgres' ? postgresTicks() : 0);

/** µs of CPU (this process + PostgreSQL) per operation, and the rate, over SECONDS of 20 concurrent loops. */
async function cost(work: (i: number) => Promise<unknown>): Promise<{ usPerOp: number; nodeUs: number; rate: number }> {
  const cpu0 = process.cpuUsage();
  const pg0 = databaseTicks();
  const rate = await concurrentRate(work, SECONDS, 20);
  const cpu = process.cpuUsage(cpu0);
  const pgUs = (databaseTicks() - pg0) * 10_000;
  const ops = rate * SECONDS;
  return { usPerOp: (cpu.user + cpu.system + pgUs) / ops, nodeUs: (cpu.user + cpu.system) / ops, rate };
}

const h = await fhirHarness();
const gp = await h.addUser({ email: 'bench.gp@z90101.example', name: 'Bench GP', role: 'clinician', org: 'Z90101' });
const conditions: string[] = [];
for (let i = 0; i < PATIENTS; i++) {
  const p = await create<Patient>(h.fhir, patient(nhsNumber(20_000 + i), 'Z90101'));
  const c = await create<Condition>(h.fhir, { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` }, code: { text: 'Asthma' } });
  conditions.push(c.id);
}
const read = (i: number) =>
  h.app.inject({ method: 'GET', url: `/fhir/Condition/${conditions[i % PATIENTS]}`, headers: { authorization: gp } }).then((reply) => {
    if (reply.statusCode !== 200) throw new Error(`${reply.statusCode} ${reply.body}`);
  });
const raw = (i: number) => h.db.query('SELECT content FROM fhir_resource WHERE id = $1', [conditions[i % PATIENTS]]);

await cost(read); // warm-up
if (process.env.PROFILE) {
  // PROFILE=file.cpuprofile: a CPU profile of the GP's reads alone (after warm-up), for the Chrome DevTools.
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  await cost(read);
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.PROFILE, JSON.stringify(profile));
}
for (let round = 1; round <= ROUNDS; round++) {
  const r = await cost(raw);
  const f = await cost(read);
  process.stdout.write(
    `${testEngine} round ${round}: raw PK SELECT ${Math.round(r.usPerOp)} µs (Node ${Math.round(r.nodeUs)}; ${Math.round(r.rate)}/s) | GP read ${Math.round(f.usPerOp)} µs (Node ${Math.round(f.nodeUs)}; ${Math.round(f.rate)}/s) | CPU ratio ${(r.usPerOp / f.usPerOp).toFixed(2)}×\n`,
  );
}
await h.close();
