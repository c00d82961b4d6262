/**
 * Referrals through /api as the people who use them: a GP at a practice of U90001 refers; the council's social
 * worker (whose role reaches only patients they have a relationship with) receives. The state machine is
 * checked pair by pair against docs/coordination.md's table (written out here, not read from the code).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceRequest, Bundle, Communication, Resource, Task } from '@medplum/fhirtypes';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';
import type { Referral } from './types.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const RECEIVER_ORG = 'LA-NORFOLK';
let gp: string;
let socialWorker: string;
let otherCouncil: string;
let patientId: string;
let otherPatientId: string;
let serviceId: string;

const h = apiSuite(async () => {
  gp = await h.addUser({ email: 'gp@z90101.example', name: 'Dr Gee', role: 'gp', org: 'Z90101' });
  socialWorker = await h.addUser({ email: 'sw@norfolk.example', name: 'Sam Worker', role: 'social-worker', org: RECEIVER_ORG });
  otherCouncil = await h.addUser({ email: 'sw@suffolk.example', name: 'Sue Folk', role: 'social-worker', org: 'LA-SUFFOLK' });
  const patient = async (family: string) =>
    (
      await h.app.inject({
        method: 'POST',
        url: '/fhir/Patient',
        headers: { authorization: h.admin },
        payload: { resourceType: 'Patient', name: [{ family, given: ['Rita'] }], generalPractitioner: [{ identifier: { system: ODS, value: 'Z90101' } }] },
      })
    ).json<{ id: string }>().id;
  patientId = await patient('Referred');
  otherPatientId = await patient('Otherone');
  const service = await h.app.inject({
    method: 'POST',
    url: '/fhir/HealthcareService',
    headers: { authorization: h.admin },
    payload: {
      resourceType: 'HealthcareService',
      name: 'Adult social care assessment',
      providedBy: { identifier: { system: 'https://pcn-hub.example/Id/partner', value: RECEIVER_ORG }, display: 'Norfolk County Council Adult Social Services' },
    },
  });
  assert.equal(service.statusCode, 201, service.body);
  serviceId = service.json<{ id: string }>().id;
});

const refer = (body: Record<string, unknown> = {}, auth = gp) =>
  h.app.inject({
    method: 'POST',
    url: '/api/referrals',
    headers: { authorization: auth },
    payload: { patientId, serviceId, reason: 'Struggling at home after a fall', priority: 'routine', consentToShare: true, whatMatters: 'Staying in my own home', ...body },
  });

async function newReferral(body: Record<string, unknown> = {}): Promise<Referral> {
  const reply = await refer(body);
  assert.equal(reply.statusCode, 201, reply.body);
  return reply.json<Referral>();
}

const move = (id: string, to: string, auth: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `/api/referrals/${id}/transition`, headers: { authorization: auth, ...headers }, payload: { to, ...extra } });

const REFERRER = new Set(['requested', 'cancelled']);
const actorFor = (to: string) => (REFERRER.has(to) ? gp : socialWorker);
const extraFor = (to: string) => (to === 'rejected' ? { reason: 'Not eligible' } : to === 'completed' ? { outcome: 'Care needs assessed; package of care started' } : {});

async function moveOk(id: string, to: string): Promise<Referral> {
  const reply = await move(id, to, actorFor(to), extraFor(to));
  assert.equal(reply.statusCode, 200, `${to}: ${reply.body}`);
  return reply.json<Referral>();
}

/** How to bring a new referral to each state (docs/coordination.md's path). */
const PATH: Record<string, string[]> = {
  draft: [],
  requested: [],
  received: ['received'],
  accepted: ['accepted'],
  rejected: ['rejected'],
  'in-progress': ['accepted', 'in-progress'],
  'on-hold': ['received', 'on-hold'],
  completed: ['accepted', 'in-progress', 'completed'],
  failed: ['accepted', 'in-progress', 'failed'],
  cancelled: ['cancelled'],
};

async function referralIn(state: string): Promise<Referral> {
  let referral = await newReferral(state === 'draft' ? { draft: true } : {});
  for (const to of PATH[state]!) referral = await moveOk(referral.id, to);
  assert.equal(referral.status, state);
  return referral;
}

/** docs/coordination.md's state machine, written out (on-hold was entered from `received`, so it goes back only there). */
const LEGAL: Record<string, string[]> = {
  draft: ['requested', 'cancelled'],
  requested: ['received', 'accepted', 'rejected', 'on-hold', 'cancelled'],
  received: ['accepted', 'rejected', 'on-hold', 'cancelled'],
  accepted: ['in-progress', 'on-hold', 'cancelled'],
  'in-progress': ['completed', 'failed', 'on-hold', 'cancelled'],
  'on-hold': ['received', 'cancelled'],
  rejected: [],
  completed: [],
  failed: [],
  cancelled: [],
};
const STATES = Object.keys(LEGAL);

test(`every legal move is made, and the referral is then in that state with who and when (${testEngine})`, async () => {
  for (const from of STATES) {
    for (const to of LEGAL[from]!) {
      const referral = await referralIn(from);
      const moved = await moveOk(referral.id, to);
      assert.equal(moved.status, to, `${from} → ${to}`);
      const read = (await h.app.inject({ url: `/api/referrals/${referral.id}`, headers: { authorization: gp } })).json<Referral>();
      assert.equal(read.status, to);
      const last = read.history.at(-1)!;
      assert.equal(last.status, to);
      assert.match(last.by ?? '', to === 'requested' || to === 'cancelled' ? /Dr Gee/ : /Sam Worker/);
      assert.ok(Date.parse(last.at) > 0);
    }
  }
});

test(`every illegal move is a 409 naming the state the referral is in (${testEngine})`, async () => {
  let checked = 0;
  for (const from of STATES) {
    const referral = await referralIn(from);
    for (const to of STATES.filter((s) => !LEGAL[from]!.includes(s))) {
      const reply = await move(referral.id, to, actorFor(to), extraFor(to));
      assert.equal(reply.statusCode, 409, `${from} → ${to}: ${reply.body}`);
      assert.equal(reply.json<{ error: { message: string } }>().error.message, `the referral is ${from}; it cannot go to ${to}`);
      checked++;
    }
    // Still where it was.
    const read = (await h.app.inject({ url: `/api/referrals/${referral.id}`, headers: { authorization: gp } })).json<Referral>();
    assert.equal(read.status, from);
  }
  assert.equal(checked, STATES.length * STATES.length - Object.values(LEGAL).flat().length);
});

test('only the receiving organisation accepts, only the referrer cancels; rejecting needs a reason', async () => {
  const referral = await newReferral();
  assert.equal((await move(referral.id, 'accepted', gp)).statusCode, 403);
  assert.equal((await move(referral.id, 'cancelled', socialWorker)).statusCode, 403);
  const noReason = await move(referral.id, 'rejected', socialWorker);
  assert.equal(noReason.statusCode, 422);
  assert.equal(noReason.json<{ error: { field: string } }>().error.field, 'reason');
  const rejected = (await move(referral.id, 'rejected', socialWorker, { reason: 'Not eligible: under 18' })).json<Referral>();
  assert.equal(rejected.statusReason, 'Not eligible: under 18');
  assert.ok(rejected.finishedAt);
});

test(`two people accepting at once: exactly one wins, the other is told it is accepted; one acceptance kept (${testEngine})`, async () => {
  const colleagues = [socialWorker];
  for (let n = 2; n <= 4; n++) colleagues.push(await h.addUser({ email: `sw${n}@norfolk.example`, name: `Worker ${n}`, role: 'social-worker', org: RECEIVER_ORG }));
  for (let round = 0; round < 3; round++) {
    const referral = await referralIn('received');
    const replies = await Promise.all(colleagues.map((auth) => move(referral.id, 'accepted', auth)));
    assert.deepEqual(replies.map((r) => r.statusCode).sort(), [200, 409, 409, 409], replies.map((r) => r.body).join('\n'));
    const loser = replies.find((r) => r.statusCode === 409)!;
    assert.equal(loser.json<{ error: { message: string } }>().error.message, 'the referral is accepted; it cannot go to accepted');
    const read = (await h.app.inject({ url: `/api/referrals/${referral.id}`, headers: { authorization: gp } })).json<Referral>();
    assert.equal(read.history.filter((s) => s.status === 'accepted').length, 1);
    const history = (await h.app.inject({ url: `/fhir/Task/${read.taskId}/_history`, headers: { authorization: gp } })).json<Bundle<Task>>();
    assert.equal(history.entry?.filter((e) => e.resource?.status === 'accepted').length, 1);
  }
});

test('If-Match: a move made on a version someone else has changed since is refused (412), the current one goes through', async () => {
  const referral = await newReferral();
  const received = await moveOk(referral.id, 'received');
  const stale = await move(referral.id, 'accepted', socialWorker, {}, { 'if-match': `W/"${referral.versionId}"` });
  assert.equal(stale.statusCode, 412, stale.body);
  const current = await move(referral.id, 'accepted', socialWorker, {}, { 'if-match': `W/"${received.versionId}"` });
  assert.equal(current.statusCode, 200, current.body);
});

test(`a referral opens the patient's record to the receiving organisation; a draft does not, nor a finished one (${testEngine})`, async () => {
  // Another patient, so earlier tests' open referrals do not count.
  const fresh = (
    await h.app.inject({
      method: 'POST',
      url: '/fhir/Patient',
      headers: { authorization: h.admin },
      payload: { resourceType: 'Patient', name: [{ family: 'Access' }], generalPractitioner: [{ identifier: { system: ODS, value: 'Z90101' } }] },
    })
  ).json<{ id: string }>().id;
  const readFresh = () => h.app.inject({ url: `/fhir/Patient/${fresh}`, headers: { authorization: socialWorker } });
  assert.equal((await readFresh()).statusCode, 403);
  const draft = await newReferral({ patientId: fresh, draft: true });
  assert.equal((await readFresh()).statusCode, 403, 'a draft is not yet a relationship');
  await moveOk(draft.id, 'requested');
  assert.equal((await readFresh()).statusCode, 200);
  // Another council, not named by the referral, is still refused.
  assert.equal((await h.app.inject({ url: `/fhir/Patient/${fresh}`, headers: { authorization: otherCouncil } })).statusCode, 403);
  await moveOk(draft.id, 'accepted');
  await moveOk(draft.id, 'in-progress');
  await moveOk(draft.id, 'completed');
  assert.equal((await readFresh()).statusCode, 403, 'a finished referral no longer opens the record');
});

test('sending without the patient’s consent to share is refused naming consentToShare; a draft may wait for it', async () => {
  const refused = await refer({ consentToShare: false });
  assert.equal(refused.statusCode, 422);
  assert.equal(refused.json<{ error: { field: string } }>().error.field, 'consentToShare');
  const draft = await newReferral({ consentToShare: false, draft: true });
  assert.equal(draft.status, 'draft');
  const send = await move(draft.id, 'requested', gp);
  assert.equal(send.statusCode, 422);
  assert.equal(send.json<{ error: { field: string } }>().error.field, 'consentToShare');
});

test('attachments must be entries of the same patient’s record', async () => {
  const condition = async (subject: string) =>
    (
      await h.app.inject({
        method: 'POST',
        url: '/fhir/Condition',
        headers: { authorization: gp },
        payload: { resourceType: 'Condition', subject: { reference: `Patient/${subject}` }, code: { text: 'Falls' } },
      })
    ).json<{ id: string }>().id;
  const mine = await condition(patientId);
  const theirs = await condition(otherPatientId);
  const refused = await refer({ attachments: [`Condition/${mine}`, `Condition/${theirs}`] });
  assert.equal(refused.statusCode, 422, refused.body);
  assert.equal(refused.json<{ error: { field: string } }>().error.field, 'attachments.1');
  const accepted = await newReferral({ attachments: [`Condition/${mine}`] });
  assert.deepEqual(accepted.attachments, [`Condition/${mine}`]);
  assert.deepEqual(accepted.attached, [{ reference: `Condition/${mine}`, display: 'Falls' }], 'shown to people by what the entry is');
});

test('a referral names a service or an organisation from the registry; an unknown one is a 422 naming the field', async () => {
  const unknownService = await refer({ serviceId: 'no-such-service' });
  assert.equal(unknownService.statusCode, 422);
  assert.equal(unknownService.json<{ error: { field: string } }>().error.field, 'serviceId');
  const unknownOrg = await refer({ serviceId: undefined, performerOrg: 'ZZZ99' });
  assert.equal(unknownOrg.statusCode, 422);
  assert.equal(unknownOrg.json<{ error: { field: string } }>().error.field, 'performerOrg');
  const byOrg = await newReferral({ serviceId: undefined, performerOrg: 'FZ011' });
  assert.equal(byOrg.service.org, 'FZ011');
  assert.equal(byOrg.service.id, null);
  assert.match(byOrg.ubrn, /^\d{12}$/);
});

test(`the outcome of a completed referral lands on the patient's record, and the referrer sees it (${testEngine})`, async () => {
  const referral = await referralIn('in-progress');
  const done = await moveOk(referral.id, 'completed');
  assert.equal(done.outcome, 'Care needs assessed; package of care started');
  assert.match(done.outcomeEntry ?? '', /^Communication\//);
  const seen = (await h.app.inject({ url: `/api/referrals/${referral.id}`, headers: { authorization: gp } })).json<Referral>();
  assert.equal(seen.outcome, 'Care needs assessed; package of care started');
  assert.ok(seen.finishedAt && seen.acceptedAt);
  const record = (await h.app.inject({ url: `/fhir/Patient/${patientId}/$everything`, headers: { authorization: gp } })).json<Bundle<Resource>>();
  const entry = record.entry?.map((e) => e.resource).find((r) => r && `${r.resourceType}/${r.id}` === done.outcomeEntry) as Communication | undefined;
  assert.ok(entry, 'the outcome entry is in the record');
  assert.equal(entry.payload?.[0]?.contentString, 'Care needs assessed; package of care started');
  assert.deepEqual(entry.basedOn, [{ reference: `ServiceRequest/${referral.id}` }]);
  // The other patient's record does not have it.
  const other = (await h.app.inject({ url: `/fhir/Patient/${otherPatientId}/$everything`, headers: { authorization: gp } })).json<Bundle<Resource>>();
  assert.ok(!other.entry?.some((e) => e.resource?.resourceType === 'Communication'));
});

test('the service inbox: due times by urgency, overdue first then oldest; the sent box is the referrer’s', async () => {
  const inbox = async () =>
    (await h.app.inject({ url: `/api/referrals?box=received&service=${serviceId}&status=requested,received`, headers: { authorization: socialWorker } })).json<{ items: Referral[] }>().items;
  const asap = await newReferral({ priority: 'asap' });
  const routine = await newReferral({ priority: 'routine' });
  // To the same organisation but not through the service: in its received box, not in the service's inbox.
  const direct = await newReferral({ serviceId: undefined, performerOrg: RECEIVER_ORG });
  // Sent five hours ago: past the 4 hours an asap referral has.
  const task = (await h.app.inject({ url: `/fhir/Task/${asap.taskId}`, headers: { authorization: h.admin } })).json<Task>();
  const fiveHoursAgo = new Date(Date.now() - 5 * 3_600_000).toISOString();
  const put = await h.app.inject({ method: 'PUT', url: `/fhir/Task/${asap.taskId}`, headers: { authorization: h.admin }, payload: { ...task, authoredOn: fiveHoursAgo } });
  assert.equal(put.statusCode, 200, put.body);
  const items = await inbox();
  const first = items[0]!;
  assert.equal(first.id, asap.id);
  assert.equal(first.overdue, true);
  assert.equal(first.dueAt, new Date(Date.parse(fiveHoursAgo) + 4 * 3_600_000).toISOString());
  assert.ok(!items.some((i) => i.id === direct.id), 'a referral not to this service is not in its inbox');
  const received = (await h.app.inject({ url: '/api/referrals?box=received&count=500', headers: { authorization: socialWorker } })).json<{ items: Referral[] }>().items;
  assert.ok(received.some((i) => i.id === direct.id));
  const fresh = items.find((i) => i.id === routine.id)!;
  assert.equal(fresh.overdue, false);
  assert.equal(fresh.dueAt, new Date(Date.parse(routine.authoredOn) + 14 * 24 * 3_600_000).toISOString());
  assert.ok(items.filter((i) => !i.overdue).every((i, n, rest) => n === 0 || rest[n - 1]!.authoredOn <= i.authoredOn));
  // Another organisation's people do not see this inbox; the GP sees them as sent.
  const theirs = (await h.app.inject({ url: `/api/referrals?box=received&service=${serviceId}`, headers: { authorization: otherCouncil } })).json<{ items: Referral[] }>();
  assert.equal(theirs.items.length, 0);
  const sent = (await h.app.inject({ url: '/api/referrals?box=sent', headers: { authorization: gp } })).json<{ items: Referral[] }>();
  assert.ok(sent.items.some((i) => i.id === routine.id));
  const notSent = (await h.app.inject({ url: '/api/referrals?box=sent', headers: { authorization: socialWorker } })).json<{ items: Referral[] }>();
  assert.ok(!notSent.items.some((i) => i.id === routine.id));
});

test('redirect: this referral rejected naming where it went, a new one sent for the same referrer', async () => {
  const referral = await newReferral();
  const reply = await h.app.inject({
    method: 'POST',
    url: `/api/referrals/${referral.id}/redirect`,
    headers: { authorization: socialWorker },
    payload: { performerOrg: 'VCS-NORWICH', reason: 'Needs befriending rather than care' },
  });
  assert.equal(reply.statusCode, 201, reply.body);
  const { from, to } = reply.json<{ from: Referral; to: Referral }>();
  assert.equal(from.status, 'rejected');
  assert.match(from.statusReason ?? '', /Redirected to .*Needs befriending/);
  assert.equal(to.status, 'requested');
  assert.equal(to.service.org, 'VCS-NORWICH');
  assert.equal(to.requester.org, 'Z90101');
  assert.equal(to.journeyId, referral.journeyId);
});

test('lists come a page at a time: the next page carries on where the last ended, never repeating one', async () => {
  for (let n = 0; n < 4; n++) await newReferral();
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 3; page++) {
    const url: string = `/api/referrals?box=sent&count=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const reply = await h.app.inject({ url, headers: { authorization: gp } });
    assert.equal(reply.statusCode, 200, reply.body);
    const body = reply.json<{ items: Referral[]; next: string | null }>();
    assert.equal(body.items.length, 1);
    seen.push(body.items[0]!.id);
    cursor = body.next;
    assert.ok(cursor, 'more pages follow');
  }
  assert.equal(new Set(seen).size, 3);
  const tooMany = await h.app.inject({ url: '/api/referrals?box=sent&count=501', headers: { authorization: gp } });
  assert.equal(tooMany.statusCode, 422);
});

test('on /fhir a referral cannot be moved or deleted by a bare PUT, PATCH or DELETE (409 naming its state); other edits pass', async () => {
  const referral = await newReferral();
  const read = await h.app.inject({ method: 'GET', url: `/fhir/Task/${referral.taskId}`, headers: { authorization: socialWorker } });
  assert.equal(read.statusCode, 200, read.body);
  const task = read.json<Task & { id: string }>();

  const put = await h.app.inject({
    method: 'PUT',
    url: `/fhir/Task/${task.id}`,
    headers: { authorization: socialWorker, 'content-type': 'application/fhir+json' },
    payload: { ...task, status: 'completed' },
  });
  assert.equal(put.statusCode, 409, put.body);
  assert.match(put.body, /the referral is requested; it moves to completed only through POST \/api\/referrals/);
  const patch = await h.app.inject({
    method: 'PATCH',
    url: `/fhir/Task/${task.id}`,
    headers: { authorization: socialWorker, 'content-type': 'application/json-patch+json' },
    payload: [{ op: 'replace', path: '/status', value: 'accepted' }],
  });
  assert.equal(patch.statusCode, 409, patch.body);
  assert.equal((await h.app.inject({ method: 'GET', url: `/api/referrals/${referral.id}`, headers: { authorization: gp } })).json<Referral>().status, 'requested', 'still requested');

  const noted = await h.app.inject({
    method: 'PUT',
    url: `/fhir/Task/${task.id}`,
    headers: { authorization: socialWorker, 'content-type': 'application/fhir+json' },
    payload: { ...task, note: [{ text: 'Phoned the daughter to arrange a visit' }] },
  });
  assert.equal(noted.statusCode, 200, noted.body);

  const fhir = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({ method, url: `/fhir/${url}`, headers: { authorization: gp, 'content-type': 'application/fhir+json' }, ...(payload ? { payload } : {}) });
  const deleteTask = await fhir('DELETE', `Task/${task.id}`);
  assert.equal(deleteTask.statusCode, 409, deleteTask.body);
  assert.match(deleteTask.body, /a referral's Task is not deleted: the referral is requested; cancel it/);
  const request = (await fhir('GET', `ServiceRequest/${referral.id}`)).json<ServiceRequest & { id: string }>();
  const revoked = await fhir('PUT', `ServiceRequest/${referral.id}`, { ...request, status: 'revoked' });
  assert.equal(revoked.statusCode, 409, revoked.body);
  assert.match(revoked.body, /the referral's request is active; it moves to revoked only through POST \/api\/referrals/);
  const deleteRequest = await fhir('DELETE', `ServiceRequest/${referral.id}`);
  assert.equal(deleteRequest.statusCode, 409, deleteRequest.body);
  const annotated = await fhir('PUT', `ServiceRequest/${referral.id}`, { ...request, note: [...(request.note ?? []), { text: 'Daughter is the main contact' }] });
  assert.equal(annotated.statusCode, 200, annotated.body);
  // A ServiceRequest that is not a referral (no UBRN: a test order, say) is the writer's to change and delete.
  const order = await h.app.inject({
    method: 'POST',
    url: '/fhir/ServiceRequest',
    headers: { authorization: gp, 'content-type': 'application/fhir+json' },
    payload: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', code: { text: 'Full blood count' }, subject: { reference: `Patient/${patientId}` } },
  });
  assert.equal(order.statusCode, 201, order.body);
  const orderId = order.json<{ id: string }>().id;
  assert.equal((await fhir('PUT', `ServiceRequest/${orderId}`, { ...order.json(), status: 'revoked' })).statusCode, 200);
  assert.equal((await fhir('DELETE', `ServiceRequest/${orderId}`)).statusCode, 200);

  assert.equal((await fhir('GET', `Task/${task.id}`)).statusCode, 200, 'the Task is still there');
  assert.equal((await moveOk(referral.id, 'accepted')).status, 'accepted', 'the use case still moves it');
});
