/**
 * The audit log over /api as people use it: a patient's "who looked at my record" (for whoever may see
 * the record, and reviewers), and the IG lead's review of break-glass uses and unusual access, as JSON
 * and CSV. Admin stands in for the IG lead (`mayReviewAudit`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { create, type FhirHarness, fhirHarness, nhsNumber, patient } from '../../../test/fhir.ts';
import { testEngine } from '../../../test/db.ts';
import { UNUSUAL_PATIENTS_PER_DAY } from '../../modules/audit/index.ts';

let h: FhirHarness;
let gp: string;
let otherGp: string;
let browser: string;
const GP = 'dr.log@u90001.example';
const BROWSER = 'dr.browse@u90001.example';
let mine: Patient & { id: string };
let elsewhere: Patient & { id: string };

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: GP, name: 'Dr Log', role: 'clinician', org: 'U90001' });
  otherGp = await h.addUser({ email: 'dr.other@u90002.example', name: 'Dr Other', role: 'clinician', org: 'U90002' });
  browser = await h.addUser({ email: BROWSER, name: 'Dr Browse', role: 'clinician', org: 'U90001' });
  mine = await create(h.fhir, patient(nhsNumber(800), 'Z90101', { name: [{ family: 'Logtest', given: ['Mine'] }] }));
  elsewhere = await create(h.fhir, patient(nhsNumber(801), 'Z90201', { name: [{ family: 'Logtest', given: ['Elsewhere'] }] }));
});
after(async () => {
  await h.close();
});

const get = (url: string, auth: string) => h.app.inject({ method: 'GET', url, headers: { authorization: auth } });

test(`the patient's access log: organisation, role, when and why, newest first and paged (${testEngine})`, async () => {
  await h.fhir('GET', `/fhir/Patient/${mine.id}`, { auth: gp });
  await h.fhir('GET', `/fhir/Patient/${mine.id}`, { auth: otherGp, headers: { 'x-break-glass-reason': 'Collapsed at the surgery' } });
  await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gp }); // refused: not this patient's log
  const reply = await get(`/api/patients/${mine.id}/access-log?pageSize=2`, gp);
  assert.equal(reply.statusCode, 200, reply.body);
  const log = reply.json<{ entries: Array<Record<string, unknown>>; hasMore: boolean }>();
  assert.deepEqual(
    log.entries.map(({ organisation, organisationName, role, action, outcome, purpose, breakGlassReason }) => ({ organisation, organisationName, role, action, outcome, purpose, breakGlassReason })),
    [
      { organisation: 'U90002', organisationName: 'Norwich North PCN', role: 'clinician', action: 'read', outcome: 'success', purpose: 'direct-care', breakGlassReason: 'Collapsed at the surgery' },
      { organisation: 'U90001', organisationName: 'Norwich City PCN', role: 'clinician', action: 'read', outcome: 'success', purpose: 'direct-care', breakGlassReason: null },
    ],
  );
  assert.match(String(log.entries[0]!.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(log.hasMore, true, 'the admin’s create of the patient is on the next page');
  assert.ok(!JSON.stringify(log).includes(GP), 'the patient sees organisations and roles, not the staff member’s email');
  // Seeing the log is itself on the log, from the next view on; the view before it is not.
  const again = (await get(`/api/patients/${mine.id}/access-log?pageSize=3`, gp)).json<{ entries: Array<Record<string, unknown>> }>();
  assert.deepEqual(
    again.entries.map(({ organisation, role, action, purpose }) => ({ organisation, role, action, purpose })),
    [
      { organisation: 'U90001', role: 'clinician', action: 'viewed the access log', purpose: 'direct-care' },
      { organisation: 'U90002', role: 'clinician', action: 'read', purpose: 'direct-care' },
      { organisation: 'U90001', role: 'clinician', action: 'read', purpose: 'direct-care' },
    ],
  );
  const next = (await get(`/api/patients/${mine.id}/access-log?pageSize=3&page=2`, gp)).json<{ entries: Array<{ action: string }> }>();
  assert.deepEqual(
    next.entries.map((e) => e.action),
    ['read', 'create'],
    'two views, the break-glass read and a read on page 1; the GP’s read and the admin’s create on page 2',
  );
  const [elsewhereViews] = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event WHERE action = 'audit.access-log' AND entity_id = $1", [elsewhere.id]);
  assert.equal(elsewhereViews!.n, 0, 'no other patient’s log was viewed');
});

test('only whoever may see the record, or a reviewer, sees its access log', async () => {
  const refused = await get(`/api/patients/${elsewhere.id}/access-log`, gp);
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal(refused.json<{ error: { code: string } }>().error.code, 'forbidden');
  const admin = await get(`/api/patients/${elsewhere.id}/access-log`, h.admin);
  assert.equal(admin.statusCode, 200);
  const entries = admin.json<{ entries: Array<{ outcome: string }> }>().entries;
  assert.equal(entries[0]?.outcome, 'denied', 'the GP’s refused attempt is in it');
});

test('the review lists break-glass uses and a user over the unusual-access threshold, not ordinary access; clinicians may not see it', async () => {
  for (let i = 0; i <= UNUSUAL_PATIENTS_PER_DAY; i++) await create(h.fhir, patient(nhsNumber(900 + i), 'Z90102', { name: [{ family: 'Crowd', given: [`N${i}`] }] }));
  const crowd = await h.fhir('GET', '/fhir/Patient?family=Crowd&_count=200', { auth: browser });
  assert.equal(crowd.status, 200);
  const reply = await get('/api/audit/review', h.admin);
  assert.equal(reply.statusCode, 200, reply.body);
  const review = reply.json<{
    threshold: number;
    breakGlass: Array<{ actor: string; organisationName: string | null; reason: string; patients: string[] }>;
    unusual: Array<{ actor: string; patients: number }>;
  }>();
  assert.equal(review.threshold, UNUSUAL_PATIENTS_PER_DAY);
  assert.deepEqual(
    review.breakGlass.map((b) => ({ actor: b.actor, organisationName: b.organisationName, reason: b.reason, patients: b.patients })),
    [{ actor: 'dr.other@u90002.example', organisationName: 'Norwich North PCN', reason: 'Collapsed at the surgery', patients: [mine.id] }],
  );
  assert.deepEqual(
    review.unusual.filter((u) => u.actor !== 'admin@pcn-hub.example').map((u) => ({ actor: u.actor, patients: u.patients })),
    [{ actor: BROWSER, patients: UNUSUAL_PATIENTS_PER_DAY + 1 }],
    'the GP who read two records is not unusual',
  );
  assert.equal((await get('/api/audit/review', gp)).statusCode, 403);
  const reviews = await h.db.query<{ actor: string; purpose: string; patient_ids: string[] }>("SELECT actor, purpose, patient_ids FROM audit_event WHERE action = 'audit.review' ORDER BY id");
  assert.deepEqual(
    reviews,
    [{ actor: 'admin@pcn-hub.example', purpose: 'audit-review', patient_ids: [] }],
    'the review is recorded once, without putting the reviewer on the patients’ logs; the refused one is not a review',
  );
});

test('the review as CSV: a header, a row per use, and a reason that looks like a formula stays text', async () => {
  await h.fhir('GET', `/fhir/Patient/${mine.id}`, { auth: otherGp, headers: { 'x-break-glass-reason': '=HYPERLINK("http://evil.example")' } });
  const reply = await get('/api/audit/review?format=csv', h.admin);
  assert.equal(reply.statusCode, 200);
  assert.match(String(reply.headers['content-type']), /^text\/csv/);
  const lines = reply.body.trim().split('\n');
  assert.equal(lines[0], 'kind,when,user,organisation,role,patients,reason,action');
  assert.ok(lines.some((l) => l.startsWith('break-glass,') && l.includes('Collapsed at the surgery')));
  assert.ok(lines.some((l) => l.startsWith('unusual access,') && l.includes(BROWSER)));
  assert.ok(
    lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil.example"")"`)),
    reply.body,
  );
  assert.ok(!lines.some((l) => /,=HYPERLINK/.test(l)));
});

test('a plain read leaves ONE record naming the patient whose entry was read; a read outside any record and a refused read are recorded too', async () => {
  const observation = await create(h.fhir, { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `Patient/${mine.id}` } });
  const organisation = await create(h.fhir, { resourceType: 'Organization', name: 'Audit Test Surgery' });
  const refusedObservation = await create(h.fhir, { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `Patient/${elsewhere.id}` } });
  assert.equal((await h.fhir('GET', `/fhir/Observation/${observation.id}`, { auth: gp })).status, 200);
  assert.equal((await h.fhir('GET', `/fhir/Organization/${organisation.id}`, { auth: gp })).status, 200);
  assert.equal((await h.fhir('GET', `/fhir/Observation/${refusedObservation.id}`, { auth: gp })).status, 403);
  const records = await h.db.query<{ entity_type: string; entity_id: string; summary: string; outcome: string; patient_ids: string[]; detail: { patients: string[]; resources: string[] } }>(
    "SELECT entity_type, entity_id, summary, outcome, patient_ids, detail FROM audit_event WHERE actor = $1 AND detail ->> 'request' LIKE 'GET /fhir/O%' ORDER BY id",
    [GP],
  );
  assert.deepEqual(
    records.map(({ entity_type, entity_id, summary, outcome, patient_ids, detail }) => ({
      entity_type,
      entity_id,
      summary,
      outcome,
      patient_ids,
      patients: detail.patients,
      resources: detail.resources,
    })),
    [
      {
        entity_type: 'Patient',
        entity_id: mine.id,
        summary: `read Observation/${observation.id} in 1 patient record(s)`,
        outcome: 'success',
        patient_ids: [mine.id],
        patients: [mine.id],
        resources: [`read Observation/${observation.id}`],
      },
      {
        entity_type: 'Organization',
        entity_id: organisation.id,
        summary: `read Organization/${organisation.id}`,
        outcome: 'success',
        patient_ids: [],
        patients: [],
        resources: [`read Organization/${organisation.id}`],
      },
      {
        entity_type: 'Patient',
        entity_id: elsewhere.id,
        summary: `denied Observation/${refusedObservation.id} in 1 patient record(s)`,
        outcome: 'denied',
        patient_ids: [elsewhere.id],
        patients: [elsewhere.id],
        resources: [`denied Observation/${refusedObservation.id}`],
      },
    ],
  );
});
