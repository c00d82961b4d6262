/**
 * What the service directory's figures cost (issue 12): N referrals (ServiceRequest + workflow Task, half accepted,
 * half open) to ONE service, imported into the store; the `directory` change-feed consumer catches up; then the
 * figures from its projection (migration 084) against what the store's own search would cost for the same answer
 * (a count, and reading the accepted Tasks a median needs), and the directory search itself. Results: docs/benchmarks.md.
 *   N=10000 PCN_TEST_ENGINE=postgres node --import tsx bench/directory-figures.ts
 */
import type { Bundle } from '@medplum/fhirtypes';
import { testDb } from '../test/db.ts';
import { seedDemoIfEmpty } from '../src/demo/seed-demo.ts';
import { FhirStoreRepository, importFhir, parseSearch } from '../src/fhir-store/index.ts';
import { systemContext } from '../src/modules/record/index.ts';
import { keepDirectoryFiguresCurrent, serviceFigures } from '../src/modules/directory/index.ts';
import { sequentialTimes } from './rate.ts';

const db = await testDb();
await seedDemoIfEmpty(db, { adminPassword: 'x'.repeat(20) });
const N = Number(process.env.N ?? 10_000);
const SERVICE = 'service-falls-prevention-rz5';
const ctx = await systemContext(db, 'bench');
const T0 = Date.parse('2026-01-01T00:00:00Z');
function* bundles(): Generator<{ label: string; bundle: Bundle }> {
  const patient = { resourceType: 'Patient', id: 'bench-patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }] };
  yield { label: 'p', bundle: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient as never, request: { method: 'PUT', url: 'Patient/bench-patient' } }] } };
  for (let i = 0; i < N; i++) {
    const accepted = i % 2 === 0;
    yield {
      label: `r${i}`,
      bundle: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'ServiceRequest',
              id: `sr-${i}`,
              status: 'active',
              intent: 'order',
              subject: { reference: 'Patient/bench-patient' },
              performer: [{ reference: `HealthcareService/${SERVICE}` }],
            },
            request: { method: 'PUT', url: `ServiceRequest/sr-${i}` },
          },
          {
            resource: {
              resourceType: 'Task',
              id: `t-${i}`,
              status: accepted ? 'accepted' : 'requested',
              intent: 'order',
              code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
              focus: { reference: `ServiceRequest/sr-${i}` },
              for: { reference: 'Patient/bench-patient' },
              authoredOn: new Date(T0 + i * 60_000).toISOString(),
              ...(accepted ? { executionPeriod: { start: new Date(T0 + i * 60_000 + (i % 48) * 3_600_000).toISOString() } } : {}),
            },
            request: { method: 'PUT', url: `Task/t-${i}` },
          },
        ],
      } as Bundle,
    };
  }
}
let t = performance.now();
await importFhir(db, ctx, bundles());
console.log(db.engine, `imported ${N} referrals`, Math.round(performance.now() - t), 'ms');
t = performance.now();
const controller = new AbortController();
const following = keepDirectoryFiguresCurrent(db, { signal: controller.signal, pollMs: 20 });
for (;;) {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_referral');
  if (row!.n >= N) break;
  await new Promise((r) => setTimeout(r, 50));
}
controller.abort();
await following;
console.log('projection caught up', Math.round(performance.now() - t), 'ms');
const time = async (what: string, fn: () => Promise<unknown>) => {
  const runs = await sequentialTimes(fn, 20);
  console.log(what, 'median', runs[10]!.toFixed(1), 'ms p95', runs[18]!.toFixed(1), 'ms');
};
const ids = (await db.query<{ id: string }>("SELECT id FROM fhir_resource WHERE resource_type = 'HealthcareService'")).map((r) => r.id);
await time('serviceFigures(1 service)', () => serviceFigures(db, [SERVICE]));
await time(`serviceFigures(all ${ids.length} services)`, () => serviceFigures(db, ids));
const repo = new FhirStoreRepository(db, ctx);
await time('store: ServiceRequest?performer=…&_summary=count', () =>
  repo.search(parseSearch('ServiceRequest', new URLSearchParams({ performer: `HealthcareService/${SERVICE}`, _summary: 'count' })) as never),
);
await time('store: read the accepted Tasks (1,000 of them) for a median', () => repo.searchResources(parseSearch('Task', new URLSearchParams({ status: 'accepted', _count: '1000' })) as never));
const { searchServices } = await import('../src/modules/directory/index.ts');
const { SYSTEM_ACTOR } = await import('../src/modules/access/index.ts');
await time('searchServices (all, with figures)', () => searchServices(db, SYSTEM_ACTOR, {}, { method: 'GET', url: '/api/services' }));
await time('searchServices (need + pcn + near)', () => searchServices(db, SYSTEM_ACTOR, { need: 'pharmacy-first', pcn: 'U90004', near: 'Great Yarmouth' }, { method: 'GET', url: '/api/services' }));
await db.close();
