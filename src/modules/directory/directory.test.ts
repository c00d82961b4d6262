/**
 * The service directory: the demo's services, search by need, PCN and place, editing rights, the figures from
 * each service's own referrals (ServiceRequest + workflow Task, as FHIR), and HealthcareService over /fhir.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Bundle, HealthcareService, ServiceRequest, Task } from '@medplum/fhirtypes';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { seedDemoServices } from '../../demo/seed-demo.ts';
import { FhirStoreRepository, importFhir } from '../../fhir-store/index.ts';
import { systemContext } from '../record/index.ts';
import { keepDirectoryFiguresCurrent, type DirectoryService, type ServiceInput } from './index.ts';

let h: FhirHarness;
before(async () => {
  h = await fhirHarness();
});
after(() => h.close());

const FALLS = 'service-falls-prevention-rz5';
const api = async <T>(method: 'GET' | 'POST' | 'PUT', url: string, options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
  const response = await h.app.inject({ method, url, headers: { authorization: options.auth ?? h.admin, ...options.headers }, ...(options.body ? { payload: options.body as object } : {}) });
  return { status: response.statusCode, json: response.json<T>() };
};
const search = async (query: string, auth?: string) => {
  const reply = await api<{ items: DirectoryService[]; near: { label: string } | null }>('GET', `/api/services?${query}`, { auth });
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  return reply.json;
};

test('the demo directory: every community pharmacy offers Pharmacy First; seeding again adds nothing', async () => {
  const { items } = await search('need=pharmacy-first');
  const [pharmacies] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM partner WHERE type = 'community-pharmacy'");
  assert.equal(items.length, pharmacies!.n);
  assert.ok(items.every((s) => s.types.some((t) => t.code === 'pharmacy-first') && s.openingTimes.length > 0 && s.eligibility.length > 0 && s.howToRefer.length > 0));
  assert.equal(await seedDemoServices(h.db), 0);
});

test('search by need and PCN: the falls prevention service covering a PCN, and social prescribing from the PCN’s own partner only', async () => {
  const falls = await search('need=falls-prevention&pcn=U90004');
  assert.deepEqual(
    falls.items.map((s) => s.id),
    [FALLS],
  );
  assert.ok(falls.items[0]!.pcns.some((p) => p.code === 'U90004' && p.name === 'Great Yarmouth and Northern Villages PCN'));
  assert.equal(falls.items[0]!.figures.capacity, 120);
  // Words of a need find it too; words no service has find nothing.
  assert.deepEqual(
    (await search('need=falls')).items.map((s) => s.id),
    [FALLS],
  );
  assert.equal((await search('need=hydrotherapy')).items.length, 0);
  // Great Yarmouth's social prescribing is East Coast Community Links; Norwich Community Connectors do not cover it.
  const social = await search('need=social-prescribing&pcn=U90004');
  assert.deepEqual(
    social.items.map((s) => s.provider.code),
    ['VCS-EAST'],
  );
  assert.ok((await search('need=social-prescribing&pcn=U90001')).items.every((s) => s.provider.code === 'VCS-NORWICH'));
});

test('free text over name, type and eligibility; near a town orders by distance', async () => {
  const memory = await search('q=dementia 6CIT');
  assert.deepEqual(
    memory.items.map((s) => s.id),
    ['service-memory-clinic-rz4'],
  );
  const near = await search('need=pharmacy-first&near=Great%20Yarmouth');
  assert.equal(near.near?.label, 'Great Yarmouth');
  const distances = near.items.map((s) => s.distanceKm!);
  assert.deepEqual(
    distances,
    [...distances].sort((a, b) => a - b),
  );
  assert.ok(distances[0]! < 10, `nearest is ${distances[0]} km away`);
  const lynn = await search('need=pharmacy-first&near=PE30');
  assert.notEqual(lynn.items[0]!.id, near.items[0]!.id);
  const unknown = await api<{ error: { field: string } }>('GET', '/api/services?near=Atlantis');
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.error.field, 'near');
});

const serviceBody = (service: DirectoryService, change: Partial<ServiceInput> = {}): ServiceInput => ({
  name: service.name,
  types: service.types.map((t) => t.code),
  providerCode: service.provider.code,
  pcns: service.pcns.map((p) => p.code),
  eligibility: service.eligibility,
  howToRefer: service.howToRefer,
  referralMethods: service.referralMethods as ServiceInput['referralMethods'],
  openingTimes: service.openingTimes,
  capacity: service.figures.capacity,
  comment: service.comment,
  phone: service.phone,
  ...change,
});

test('editing: a PCN manager edits their partners’ services, a pharmacist their own pharmacy’s, nobody else’s; If-Match catches a change made since', async () => {
  const manager = await h.addUser({ email: 'manager.u90001@example.nhs.uk', name: 'Pat Manager', role: 'pcn-manager', org: 'U90001' });
  const pharmacist = await h.addUser({ email: 'pharmacist.fz011@example.nhs.uk', name: 'Priya Pharmacist', role: 'clinical-pharmacist', org: 'FZ011' });
  const read = async (id: string) => (await api<DirectoryService>('GET', `/api/services/${id}`)).json;

  const falls = await read(FALLS);
  const changed = await api<DirectoryService>('PUT', `/api/services/${FALLS}`, { auth: manager, body: serviceBody(falls, { capacity: 150 }), headers: { 'if-match': falls.versionId! } });
  assert.equal(changed.status, 200, JSON.stringify(changed.json));
  assert.equal(changed.json.figures.capacity, 150);
  const stale = await api<{ error: { code: string } }>('PUT', `/api/services/${FALLS}`, { auth: manager, body: serviceBody(falls, { capacity: 90 }), headers: { 'if-match': falls.versionId! } });
  assert.equal(stale.status, 412);

  const own = await read('service-pharmacy-first-fz011');
  assert.equal((await api('PUT', `/api/services/${own.id}`, { auth: pharmacist, body: serviceBody(own, { capacity: 10 }) })).status, 200);
  const elsewhere = await read('service-pharmacy-first-fz041');
  assert.equal((await api('PUT', `/api/services/${elsewhere.id}`, { auth: pharmacist, body: serviceBody(elsewhere, { capacity: 10 }) })).status, 403);
  assert.equal((await api('PUT', `/api/services/${elsewhere.id}`, { auth: manager, body: serviceBody(elsewhere, { capacity: 10 }) })).status, 403);
  assert.equal((await read(elsewhere.id)).figures.capacity, elsewhere.figures.capacity);

  const added = await api<DirectoryService>('POST', '/api/services', {
    auth: pharmacist,
    body: serviceBody(own, { slug: 'blood-pressure-check-fz011', name: 'Blood pressure check', types: ['blood-pressure-check'] }),
  });
  assert.equal(added.status, 201, JSON.stringify(added.json));
  assert.equal(added.json.id, 'service-blood-pressure-check-fz011');
  assert.equal((await api('POST', '/api/services', { auth: pharmacist, body: serviceBody(own, { slug: 'blood-pressure-check-fz011' }) })).status, 409);
  const nowhere = await api<{ error: { field: string } }>('POST', '/api/services', { body: serviceBody(own, { slug: 'x-1', providerCode: 'NOWHERE1' }) });
  assert.equal(nowhere.status, 422);
  assert.equal(nowhere.json.error.field, 'providerCode');
});

test('HealthcareService reads and searches on /fhir by service type', async () => {
  const reply = await h.fhir<Bundle<HealthcareService>>('GET', '/fhir/HealthcareService?service-type=https://pcn-hub.example/CodeSystem/service-type|falls-prevention');
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(
    reply.json.entry?.map((e) => e.resource?.id),
    [FALLS],
  );
  const one = await h.fhir<HealthcareService>('GET', `/fhir/HealthcareService/${FALLS}`);
  assert.equal(one.json.providedBy?.identifier?.value, 'RZ5');
});

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-02T09:00:00Z');
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();

async function referral(patientId: string, serviceId: string, status: Task['status'], acceptedAfterHours?: number, code = 'fulfill') {
  const request = await create<ServiceRequest>(h.fhir, {
    resourceType: 'ServiceRequest',
    status: status === 'completed' ? 'completed' : 'active',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    authoredOn: at(0),
    performer: [{ reference: `HealthcareService/${serviceId}` }, { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RZ5' } }],
  });
  const task = await create<Task>(h.fhir, {
    resourceType: 'Task',
    status,
    intent: 'order',
    code: { coding: [{ system: code === 'fulfill' ? 'http://hl7.org/fhir/CodeSystem/task-code' : 'https://pcn-hub.example/CodeSystem/task-kind', code }] },
    focus: { reference: `ServiceRequest/${request.id}` },
    basedOn: [{ reference: `ServiceRequest/${request.id}` }],
    for: { reference: `Patient/${patientId}` },
    authoredOn: at(0),
    ...(acceptedAfterHours !== undefined ? { executionPeriod: { start: at(acceptedAfterHours), ...(status === 'completed' ? { end: at(acceptedAfterHours + 24) } : {}) } } : {}),
    ...(status === 'rejected' ? { executionPeriod: { end: at(1) }, statusReason: { text: 'not eligible' } } : {}),
  });
  return task;
}

/** Follows the change feed until the service's figures pass `done` (or 20 s). */
async function figuresWhen(id: string, done: (f: DirectoryService['figures']) => boolean): Promise<DirectoryService['figures']> {
  const controller = new AbortController();
  const following = keepDirectoryFiguresCurrent(h.db, { signal: controller.signal, pollMs: 20 });
  try {
    for (let waited = 0; waited < 20_000; waited += 50) {
      const { figures } = (await api<DirectoryService>('GET', `/api/services/${id}`)).json;
      if (done(figures)) return figures;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return (await api<DirectoryService>('GET', `/api/services/${id}`)).json.figures;
  } finally {
    controller.abort();
    await following;
  }
}

test('figures from the service’s own referrals: median time to accept, share accepted (rejected counted against), open against capacity', async () => {
  const patientId = (await create(h.fhir, patient(nhsNumber(7001), 'Z90101'))).id;
  await referral(patientId, FALLS, 'accepted', 2);
  await referral(patientId, FALLS, 'in-progress', 4);
  await referral(patientId, FALLS, 'completed', 10);
  await referral(patientId, FALLS, 'rejected');
  const waiting = await referral(patientId, FALLS, 'requested');
  // Not this service's: another service's referral, and a colleague task about a falls referral.
  await referral(patientId, 'service-memory-clinic-rz4', 'accepted', 100);
  await referral(patientId, FALLS, 'accepted', 200, 'colleague-task');

  const figures = await figuresWhen(FALLS, (f) => f.accepted + f.rejected >= 4);
  assert.deepEqual(figures, { medianHoursToAccept: 4, shareAccepted: 0.75, accepted: 3, rejected: 1, openReferrals: 3, capacity: 150 });
  const memory = (await api<DirectoryService>('GET', '/api/services/service-memory-clinic-rz4')).json.figures;
  assert.equal(memory.medianHoursToAccept, 100);
  assert.equal(memory.openReferrals, 1);

  // The waiting referral is accepted 6 hours after it was sent: the figures follow. (Written as the system, with the
  // acceptance time the test needs: /fhir refuses a bare status change of a referral's Task, and the use case stamps now.)
  const system = new FhirStoreRepository(h.db, await systemContext(h.db, 'directory test: accept'));
  await system.updateResource<Task>({ ...waiting, status: 'accepted', executionPeriod: { start: at(6) } });
  const later = await figuresWhen(FALLS, (f) => f.accepted === 4);
  assert.deepEqual(later, { medianHoursToAccept: 5, shareAccepted: 0.8, accepted: 4, rejected: 1, openReferrals: 3, capacity: 150 });

  // The list shows the same figures as the one service.
  const listed = (await search('need=falls-prevention')).items[0]!;
  assert.deepEqual(listed.figures, later);
});

test('a batch of more referral changes than one search takes (150 referrals landing at once) is counted whole', async () => {
  const CARERS = 'service-carers-support-la-suffolk';
  const patientId = (await create(h.fhir, patient(nhsNumber(7002), 'Z90601'))).id;
  const resources = Array.from({ length: 150 }, (_, i) => [
    {
      resourceType: 'ServiceRequest' as const,
      id: `carers-sr-${i}`,
      status: 'active' as const,
      intent: 'order' as const,
      subject: { reference: `Patient/${patientId}` },
      performer: [{ reference: `HealthcareService/${CARERS}` }],
    },
    {
      resourceType: 'Task' as const,
      id: `carers-task-${i}`,
      status: 'requested' as const,
      intent: 'order' as const,
      code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
      focus: { reference: `ServiceRequest/carers-sr-${i}` },
      for: { reference: `Patient/${patientId}` },
      authoredOn: at(0),
    },
  ]).flat();
  await importFhir(
    h.db,
    await systemContext(h.db, 'test'),
    resources.map((resource) => ({ label: resource.id, resource })),
  );
  const figures = await figuresWhen(CARERS, (f) => f.openReferrals >= 150);
  assert.equal(figures.openReferrals, 150);
  assert.equal(figures.shareAccepted, null);
});
