/**
 * A short in-process measurement of what the access rules cost a read: 20 concurrent loops of
 * GET /fhir/Patient/:id and GET /fhir/Condition/:id as a GP with a legitimate relationship (patients
 * registered in their PCN), for SECONDS each, through Fastify's inject on the engine PCN_TEST_ENGINE
 * names. Not the full bench (bench/fhir.ts): a before/after check of one change.
 *   PCN_TEST_ENGINE=postgres node --import tsx bench/access-read.ts
 */
import type { Condition, Patient } from '@medplum/fhirtypes';
import { create, fhirHarness, nhsNumber, patient } from '../test/fhir.ts';
import { testEngine } from '../test/db.ts';
import { concurrentRate } from './rate.ts';

const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 20;
const PATIENTS = 300;

const h = await fhirHarness();
const gp = await h.addUser({ email: 'bench.gp@z90101.example', name: 'Bench GP', role: 'clinician', org: 'Z90101' });
const patients: string[] = [];
const conditions: string[] = [];
for (let i = 0; i < PATIENTS; i++) {
  const p = await create<Patient>(h.fhir, patient(nhsNumber(10_000 + i), i % 2 ? 'Z90101' : 'Z90201'));
  const c = await create<Condition>(h.fhir, { resourceType: 'Condition', subject: { reference: `Patient/${p.id}` }, code: { text: 'Asthma' } });
  if (i % 2) {
    patients.push(p.id);
    conditions.push(c.id);
  }
}

const rate = (path: (i: number) => string) =>
  concurrentRate(
    async (i) => {
      const reply = await h.app.inject({ method: 'GET', url: path(i), headers: { authorization: gp } });
      if (reply.statusCode !== 200) throw new Error(`${reply.statusCode} ${reply.body}`);
    },
    SECONDS,
    CONNECTIONS,
  );

const read = await rate((i) => `/fhir/Patient/${patients[i % patients.length]}`);
const entry = await rate((i) => `/fhir/Condition/${conditions[i % conditions.length]}`);
process.stdout.write(`${testEngine}: Patient read ${Math.round(read)}/s, Condition read ${Math.round(entry)}/s (${CONNECTIONS} concurrent, ${SECONDS} s each, as a GP with a relationship)\n`);
await h.close();
