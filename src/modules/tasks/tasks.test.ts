/**
 * Tasks between colleagues and in-app notifications (issue 12): a task assigned to a role reaches that role in that
 * organisation and no other; one assigned to a person reaches them (and their team's view); illegal transitions
 * are 409s naming the state; a task about a patient obeys the access policy; MDT actions written over /fhir are
 * listed too. Notifications are raised from the change feed within seconds (for the organisation or role named,
 * no other), nothing is missed across a restart of the follower, and an overdue task is raised once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiSuite } from '../../../test/api.ts';
import { demoMembers } from '../../demo/seed-demo.ts';
import { nhsNumberFor } from '../../demo/synthetic-population.ts';
import { addDays, registryToday } from '../../shared/dates.ts';
import { loadRegistry } from '../network/index.ts';
import { settledFeedPosition } from '../../fhir-store/index.ts';
import { keepNotifying, NOTIFICATIONS_CONSUMER, raiseOverdueNotifications, type TaskList, type TaskView } from './index.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const TODAY = registryToday();

type Who = 'gp' | 'pharmacist' | 'nurse' | 'otherPharmacist' | 'socialWorker' | 'manager';
let auth: Record<Who, string>;
let pcn: string;
let otherPcn: string;
let socialOrg: string;
let patientId: string;

const call = (method: 'GET' | 'POST' | 'PUT', url: string, authorization: string, payload?: object) => h.app.inject({ method, url, headers: { authorization }, ...(payload ? { payload } : {}) });

const h = apiSuite(async () => {
  const registry = await loadRegistry(h.db);
  const members = demoMembers(registry);
  const gp = members.find((m) => m.role === 'gp')!;
  const social = members.find((m) => m.role === 'social-worker')!;
  socialOrg = social.org!;
  pcn = registry.memberships.find((m) => m.practiceOds === gp.org && m.endDate === null)!.pcnCode;
  otherPcn = registry.pcns.find((p) => p.code !== pcn)!.code;
  auth = {
    gp: await h.addUser({ email: gp.email, name: gp.name, role: 'gp', org: gp.org! }),
    pharmacist: await h.addUser({ email: 'pharmacist.tasks@pcn-hub.example', name: 'Priya Shah', role: 'clinical-pharmacist', org: pcn }),
    nurse: await h.addUser({ email: 'nurse.tasks@pcn-hub.example', name: 'Nia Nurse', role: 'nurse', org: pcn }),
    otherPharmacist: await h.addUser({ email: 'pharmacist.elsewhere@pcn-hub.example', name: 'Olu Other', role: 'clinical-pharmacist', org: otherPcn }),
    socialWorker: await h.addUser({ email: social.email, name: social.name, role: 'social-worker', org: socialOrg }),
    manager: await h.addUser({ email: 'manager.tasks@pcn-hub.example', name: 'Morgan Manager', role: 'pcn-manager', org: pcn }),
  };
  const created = await call('POST', '/fhir/Patient', h.admin, {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: nhsNumberFor(810_001) }],
    name: [{ family: 'Tasker', given: ['Tess'] }],
    birthDate: '1941-02-03',
    generalPractitioner: [{ identifier: { system: ODS, value: gp.org } }],
  });
  assert.equal(created.statusCode, 201, created.body);
  patientId = created.json<{ id: string }>().id;
});

async function createTask(who: string, body: object): Promise<TaskView> {
  const response = await call('POST', '/api/tasks', who, body);
  assert.equal(response.statusCode, 201, response.body);
  return response.json<TaskView>();
}

async function list(who: string, view: 'mine' | 'team'): Promise<TaskView[]> {
  const response = await call('GET', `/api/tasks?view=${view}`, who);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<TaskList>().items;
}

const ids = (tasks: TaskView[]) => tasks.map((t) => t.id);

describe('tasks', () => {
  test('a task for a role in an organisation reaches that role there, and neither another role nor another organisation', async () => {
    const task = await createTask(auth.gp, {
      description: 'Review medicines after discharge',
      assignee: { org: pcn, role: 'clinical-pharmacist' },
      due: addDays(TODAY, 3),
      patientId,
    });
    assert.equal(task.status, 'requested');
    assert.match(task.owner.display, /^Clinical pharmacists, /);
    assert.match(task.requester ?? '', /^Dr .*, GP, /, 'signed by the GP');
    assert.equal(task.patient?.name, 'TASKER, Tess');

    assert.ok(ids(await list(auth.pharmacist, 'mine')).includes(task.id), 'the PCN’s pharmacist sees it in my tasks');
    assert.ok(!ids(await list(auth.nurse, 'mine')).includes(task.id), 'a nurse of the same PCN does not have it as hers');
    assert.ok(ids(await list(auth.nurse, 'team')).includes(task.id), 'but sees it in her team’s tasks');
    assert.ok(!ids(await list(auth.otherPharmacist, 'mine')).includes(task.id), 'a pharmacist of another PCN does not');
    assert.ok(!ids(await list(auth.otherPharmacist, 'team')).includes(task.id), 'nor in his team’s tasks');
    assert.ok(!ids(await list(auth.gp, 'mine')).includes(task.id), 'the GP asked for it; it is not theirs');
  });

  test('a task for a person reaches them alone as theirs, and their organisation as the team’s', async () => {
    const task = await createTask(auth.gp, { description: 'Call the care home about the new rota', assignee: { email: 'NURSE.tasks@pcn-hub.example' } });
    assert.equal(task.owner.kind, 'person');
    assert.equal(task.owner.display, 'Nia Nurse');
    assert.ok(ids(await list(auth.nurse, 'mine')).includes(task.id));
    assert.ok(!ids(await list(auth.pharmacist, 'mine')).includes(task.id), 'a colleague in the same PCN: not theirs');
    assert.ok(ids(await list(auth.pharmacist, 'team')).includes(task.id), 'but their team’s');
    assert.ok(!ids(await list(auth.otherPharmacist, 'team')).includes(task.id));
  });

  test('an unknown person or organisation is refused naming the field', async () => {
    const nobody = await call('POST', '/api/tasks', auth.gp, { description: 'x', assignee: { email: 'nobody@pcn-hub.example' } });
    assert.equal(nobody.statusCode, 422, nobody.body);
    assert.equal(nobody.json<{ error: { field: string } }>().error.field, 'assignee.email');
    const noOrg = await call('POST', '/api/tasks', auth.gp, { description: 'x', assignee: { org: 'ZZZ999', role: 'nurse' } });
    assert.equal(noOrg.statusCode, 422, noOrg.body);
    assert.equal(noOrg.json<{ error: { field: string } }>().error.field, 'assignee.org');
    const both = await call('POST', '/api/tasks', auth.gp, { description: 'x', assignee: { email: 'nurse.tasks@pcn-hub.example', org: pcn, role: 'nurse' } });
    assert.equal(both.statusCode, 422, both.body);
  });

  test('transitions: requested → in-progress → completed; anything else is a 409 naming the state', async () => {
    const task = await createTask(auth.gp, { description: 'Check the dosette', assignee: { org: pcn, role: 'clinical-pharmacist' }, patientId });
    const act = (action: string, who = auth.pharmacist) => call('POST', `/api/tasks/${task.id}/${action}`, who, {});
    const early = await act('complete');
    assert.equal(early.statusCode, 409, early.body);
    assert.match(early.json<{ error: { message: string } }>().error.message, /the task is requested/);
    const started = await act('start');
    assert.equal(started.statusCode, 200, started.body);
    assert.equal(started.json<TaskView>().status, 'in-progress');
    const again = await act('start');
    assert.equal(again.statusCode, 409);
    assert.match(again.json<{ error: { message: string } }>().error.message, /the task is in-progress/);
    const stale = await call('POST', `/api/tasks/${task.id}/complete`, auth.pharmacist, { version: task.version });
    assert.equal(stale.statusCode, 409, 'a change made from an older version is refused');
    const done = await call('POST', `/api/tasks/${task.id}/complete`, auth.pharmacist, { note: 'Reviewed; two medicines stopped' });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json<TaskView>().status, 'completed');
    const cancel = await act('cancel');
    assert.equal(cancel.statusCode, 409);
    assert.match(cancel.json<{ error: { message: string } }>().error.message, /the task is completed \(it is finished\)/);
    const reassign = await call('POST', `/api/tasks/${task.id}/reassign`, auth.pharmacist, { assignee: { email: 'nurse.tasks@pcn-hub.example' } });
    assert.equal(reassign.statusCode, 409);
    // Someone it has nothing to do with may not touch it.
    const other = await call('POST', `/api/tasks/${task.id}/cancel`, auth.otherPharmacist, {});
    assert.ok(other.statusCode === 403 || other.statusCode === 404, other.body);
  });

  test('reassigning moves the task from one person’s list to the other’s', async () => {
    const task = await createTask(auth.gp, { description: 'Phone the patient', assignee: { email: 'nurse.tasks@pcn-hub.example' } });
    const moved = await call('POST', `/api/tasks/${task.id}/reassign`, auth.nurse, { assignee: { email: 'pharmacist.tasks@pcn-hub.example' } });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.ok(ids(await list(auth.pharmacist, 'mine')).includes(task.id));
    assert.ok(!ids(await list(auth.nurse, 'mine')).includes(task.id));
  });

  test('a task about a patient needs the right to write their record: refused (403) and audited otherwise', async () => {
    const refused = await call('POST', '/api/tasks', auth.socialWorker, { description: 'Assess at home', assignee: { org: pcn, role: 'nurse' }, patientId });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.json<{ error: { message: string } }>().error.message, /no legitimate relationship/);
    const manager = await call('POST', '/api/tasks', auth.manager, { description: 'Look at the record', assignee: { org: pcn, role: 'nurse' }, patientId });
    assert.equal(manager.statusCode, 403, manager.body);
    const [denied] = await h.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM audit_event WHERE actor = $1 AND outcome = 'denied'`, ['social.worker.demo@pcn-hub.example']);
    assert.ok(Number(denied!.n) >= 1, 'the refusal is audited');
  });

  test('open tasks first, by due date, an overdue one marked; MDT actions written over /fhir are listed too', async () => {
    const later = await createTask(auth.gp, { description: 'Later', assignee: { org: pcn, role: 'nurse' }, due: addDays(TODAY, 10) });
    const late = await createTask(auth.gp, { description: 'Late', assignee: { org: pcn, role: 'nurse' }, due: addDays(TODAY, -2) });
    const mdt = await call('POST', '/fhir/Task', h.admin, {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: 'https://pcn-hub.example/CodeSystem/task-kind', code: 'mdt-action' }] },
      description: 'Arrange a falls assessment',
      for: { reference: `Patient/${patientId}` },
      owner: { identifier: { system: ODS, value: pcn }, extension: [{ url: 'https://pcn-hub.example/StructureDefinition/owner-role', valueCode: 'nurse' }] },
      restriction: { period: { end: addDays(TODAY, 5) } },
    });
    assert.equal(mdt.statusCode, 201, mdt.body);
    const mine = await list(auth.nurse, 'mine');
    const order = ids(mine).filter((id) => [later.id, late.id, mdt.json<{ id: string }>().id].includes(id));
    assert.deepEqual(order, [late.id, mdt.json<{ id: string }>().id, later.id]);
    assert.equal(mine.find((t) => t.id === late.id)?.overdue, true);
    assert.equal(mine.find((t) => t.id === later.id)?.overdue, false);
    assert.equal(mine.find((t) => t.kind === 'mdt-action')?.description, 'Arrange a falls assessment');
    assert.ok(!ids(await list(auth.pharmacist, 'mine')).includes(late.id), 'a nurse’s task is not the pharmacist’s');
  });
});

interface Notes {
  items: Array<{ id: string; kind: string; what: string; link: string; read: boolean }>;
  unread: number;
}

const notes = async (who: string): Promise<Notes> => (await call('GET', '/api/notifications', who)).json<Notes>();

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, ms = 8_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > until) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The follower has handled every change written so far. */
async function caughtUp(): Promise<void> {
  const settled = await settledFeedPosition(h.db);
  await eventually(
    async () => Number((await h.db.query<{ position: number }>('SELECT position FROM fhir_change_consumer WHERE name = $1', [NOTIFICATIONS_CONSUMER]))[0]?.position ?? 0),
    (position) => position >= settled,
    'the follower catches up',
  );
}

function follow() {
  const stop = new AbortController();
  const running = keepNotifying(h.db, { signal: stop.signal, pollMs: 50, overdueEveryMs: 3_600_000 });
  return async () => {
    stop.abort();
    await running;
  };
}

describe('notifications', () => {
  test('a task for a role is told to that role within seconds, not to another role or organisation', async () => {
    const stop = follow();
    try {
      await caughtUp();
      const before = { nurse: (await notes(auth.nurse)).unread, other: (await notes(auth.otherPharmacist)).unread };
      const task = await createTask(auth.gp, { description: 'Review medicines after discharge', assignee: { org: pcn, role: 'clinical-pharmacist' }, patientId });
      const seen = await eventually(
        () => notes(auth.pharmacist),
        (n) => n.items.some((i) => i.link === `/tasks?task=${task.id}`),
        'the pharmacist is told',
      );
      const note = seen.items.find((i) => i.link === `/tasks?task=${task.id}`)!;
      assert.equal(note.kind, 'task');
      assert.match(note.what, /^New task for clinical pharmacists from Dr /);
      assert.doesNotMatch(note.what, /Tasker|Tess|medicines/i, 'no patient-identifying or free text');
      assert.equal((await notes(auth.nurse)).unread, before.nurse, 'a nurse of the same PCN is not told');
      assert.equal((await notes(auth.otherPharmacist)).unread, before.other, 'a pharmacist elsewhere is not told');

      // Read one, then all.
      assert.equal((await call('POST', `/api/notifications/${note.id}/read`, auth.pharmacist)).statusCode, 204);
      assert.equal((await notes(auth.pharmacist)).items.find((i) => i.id === note.id)?.read, true);
      assert.equal((await call('POST', `/api/notifications/${note.id}/read`, auth.otherPharmacist)).statusCode, 404, 'not theirs to read');
      assert.equal((await call('POST', '/api/notifications/read-all', auth.pharmacist)).statusCode, 200);
      assert.equal((await notes(auth.pharmacist)).unread, 0);
    } finally {
      await stop();
    }
  });

  test('a batch of more tasks than one search takes (120 in one transaction) is told whole', async () => {
    const stop = follow();
    try {
      await caughtUp();
      const before = (await notes(auth.pharmacist)).unread;
      const model = await createTask(auth.gp, { description: 'Check inhaler technique', assignee: { org: pcn, role: 'clinical-pharmacist' }, patientId });
      await eventually(
        () => notes(auth.pharmacist),
        (n) => n.unread === before + 1,
        'the first is told',
      );
      const { id: _id, meta: _meta, ...task } = (await call('GET', `/fhir/Task/${model.id}`, auth.gp)).json<Record<string, unknown>>();
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 120 }, () => ({ resource: task, request: { method: 'POST', url: 'Task' } })) };
      const written = await call('POST', '/fhir', auth.gp, bundle);
      assert.equal(written.statusCode, 200, written.body);
      await eventually(
        () => notes(auth.pharmacist),
        (n) => n.unread === before + 121,
        'all 120 more are told',
        15_000,
      );
      assert.equal((await notes(auth.nurse)).items.filter((i) => i.what.startsWith('New task for clinical pharmacists')).length, 0, 'and not a nurse');
    } finally {
      await stop();
    }
  });

  test('a new referral is told to the organisation it is for, naming the service and not the patient', async () => {
    const stop = follow();
    try {
      await caughtUp();
      const before = (await notes(auth.pharmacist)).unread;
      const referral = await call('POST', '/fhir/ServiceRequest', auth.gp, {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        priority: 'routine',
        subject: { reference: `Patient/${patientId}` },
        code: { text: 'Falls assessment' },
        authoredOn: new Date().toISOString(),
        performer: [
          { reference: 'HealthcareService/falls-prevention', display: 'Falls prevention' },
          { identifier: { system: 'https://pcn-hub.example/agency', value: socialOrg }, display: 'Adult social care' },
        ],
      });
      assert.equal(referral.statusCode, 201, referral.body);
      const id = referral.json<{ id: string }>().id;
      const seen = await eventually(
        () => notes(auth.socialWorker),
        (n) => n.items.some((i) => i.link === `/referrals/${id}`),
        'the social worker’s organisation is told',
      );
      assert.equal(seen.items.find((i) => i.link === `/referrals/${id}`)?.what, 'New referral to Falls prevention');
      assert.equal((await notes(auth.pharmacist)).unread, before, 'another organisation is not told');
    } finally {
      await stop();
    }
  });

  test('a referral not accepted in time is told once to the organisation holding it; one still in time, or accepted, is not', async () => {
    const performer = { identifier: { system: 'https://pcn-hub.example/Id/partner', value: socialOrg }, display: 'Adult social care' };
    const fiveHoursAgo = new Date(Date.now() - 5 * 3_600_000).toISOString();
    const referral = async (priority: string, status: string, authoredOn: string) => {
      const request = await call('POST', '/fhir/ServiceRequest', auth.gp, {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        priority,
        subject: { reference: `Patient/${patientId}` },
        authoredOn,
        performer: [performer],
      });
      assert.equal(request.statusCode, 201, request.body);
      const id = request.json<{ id: string }>().id;
      const workflow = await call('POST', '/fhir/Task', auth.gp, {
        resourceType: 'Task',
        status,
        intent: 'order',
        priority,
        authoredOn,
        code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
        focus: { reference: `ServiceRequest/${id}` },
        for: { reference: `Patient/${patientId}` },
        owner: performer,
      });
      assert.equal(workflow.statusCode, 201, workflow.body);
      return `/referrals/${id}`;
    };
    const stop = follow();
    let late: string;
    let inTime: string;
    let accepted: string;
    try {
      late = await referral('asap', 'requested', fiveHoursAgo); // due within 4 hours: overdue by one
      inTime = await referral('urgent', 'requested', fiveHoursAgo); // due within 2 days
      accepted = await referral('asap', 'accepted', fiveHoursAgo);
      await caughtUp();
    } finally {
      await stop();
    }
    await raiseOverdueNotifications(h.db, { today: TODAY });
    const overdue = (await notes(auth.socialWorker)).items.filter((i) => i.kind === 'overdue');
    assert.deepEqual(
      overdue.filter((i) => [late!, inTime!, accepted!].includes(i.link)).map((i) => i.link),
      [late!],
    );
    assert.match(overdue.find((i) => i.link === late)!.what, /^A referral is overdue: it was due to be accepted by \d{1,2} \w{3}, \d{2}:\d{2}$/);
    assert.equal((await notes(auth.pharmacist)).items.filter((i) => i.link === late).length, 0, 'another organisation is not told');
    await raiseOverdueNotifications(h.db, { today: TODAY });
    assert.equal((await notes(auth.socialWorker)).items.filter((i) => i.link === late).length, 2, 'told once that it is overdue (beside once that it is new)');
    // Two days on, the urgent one is overdue too.
    await raiseOverdueNotifications(h.db, { today: TODAY, now: new Date(Date.now() + 2 * 86_400_000) });
    assert.ok((await notes(auth.socialWorker)).items.some((i) => i.kind === 'overdue' && i.link === inTime));
    assert.ok(!(await notes(auth.socialWorker)).items.some((i) => i.kind === 'overdue' && i.link === accepted), 'an accepted referral is never overdue');
  });

  test('a referral’s workflow Task owned by an organisation tells it once, however often the referral changes', async () => {
    const stop = follow();
    try {
      await caughtUp();
      const performer = { identifier: { system: 'https://pcn-hub.example/Id/partner', value: socialOrg }, display: 'Adult social care' };
      const draft = await call('POST', '/fhir/ServiceRequest', auth.gp, {
        resourceType: 'ServiceRequest',
        status: 'draft',
        intent: 'order',
        subject: { reference: `Patient/${patientId}` },
        performer: [{ reference: 'HealthcareService/carers-support', display: 'Carers’ support' }, performer],
      });
      assert.equal(draft.statusCode, 201, draft.body);
      const request = draft.json<{ id: string } & Record<string, unknown>>();
      await caughtUp();
      const link = `/referrals/${request.id}`;
      assert.ok(!(await notes(auth.socialWorker)).items.some((i) => i.link === link), 'a draft tells nobody');
      const workflow = await call('POST', '/fhir/Task', auth.gp, {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
        focus: { reference: `ServiceRequest/${request.id}` },
        for: { reference: `Patient/${patientId}` },
        owner: performer,
      });
      assert.equal(workflow.statusCode, 201, workflow.body);
      const sent = await call('PUT', `/fhir/ServiceRequest/${request.id}`, auth.gp, { ...request, status: 'active' });
      assert.equal(sent.statusCode, 200, sent.body);
      const seen = await eventually(
        () => notes(auth.socialWorker),
        (n) => n.items.some((i) => i.link === link),
        'told of the referral',
      );
      assert.equal(seen.items.filter((i) => i.link === link).length, 1, 'once, from the Task and the ServiceRequest together');
      assert.equal(seen.items.find((i) => i.link === link)?.what, 'New referral to Carers’ support');
    } finally {
      await stop();
    }
  });

  test('nothing is missed while the follower is stopped, and nothing is told twice', async () => {
    const stop = follow();
    await stop();
    const task = await createTask(auth.gp, { description: 'Written while no one followed', assignee: { email: 'nurse.tasks@pcn-hub.example' } });
    const again = follow();
    try {
      await eventually(
        () => notes(auth.nurse),
        (n) => n.items.some((i) => i.link === `/tasks?task=${task.id}`),
        'told after the restart',
      );
    } finally {
      await again();
    }
    const [rows] = await h.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM task_notification WHERE source = $1`, [`Task/${task.id}`]);
    assert.equal(Number(rows!.n), 1);
  });

  test('an overdue task is told once to its owner; one not yet due is not', async () => {
    const stop = follow();
    let late: TaskView;
    let notYet: TaskView;
    try {
      late = await createTask(auth.gp, { description: 'Late one', assignee: { email: 'pharmacist.tasks@pcn-hub.example' }, due: addDays(TODAY, -1) });
      notYet = await createTask(auth.gp, { description: 'Not yet', assignee: { email: 'pharmacist.tasks@pcn-hub.example' }, due: addDays(TODAY, 1) });
      await eventually(
        async () => (await h.db.query<{ task_id: string }>('SELECT task_id FROM task_due WHERE task_id = ANY($1::text[])', [[late.id, notYet.id]])).length,
        (n) => n === 2,
        'both watched',
      );
    } finally {
      await stop();
    }
    // The follower checks for overdue tasks as it starts, so it may have told this one already: either way, once.
    await raiseOverdueNotifications(h.db, { today: TODAY });
    assert.equal(await raiseOverdueNotifications(h.db, { today: TODAY }), 0, 'raised once');
    const overdue = (await notes(auth.pharmacist)).items.filter((i) => i.kind === 'overdue');
    assert.deepEqual(
      overdue.map((i) => i.link),
      [`/tasks?task=${late!.id}`],
    );
    // Completed tasks are no longer watched.
    await call('POST', `/api/tasks/${notYet!.id}/cancel`, auth.gp, {});
    const stop2 = follow();
    try {
      await eventually(
        async () => (await h.db.query('SELECT 1 FROM task_due WHERE task_id = $1', [notYet!.id])).length,
        (n) => n === 0,
        'a cancelled task is no longer watched',
      );
    } finally {
      await stop2();
    }
    await raiseOverdueNotifications(h.db, { today: addDays(TODAY, 5) });
    const told = await h.db.query(`SELECT 1 FROM task_notification WHERE source = $1 AND kind = 'overdue'`, [`Task/${notYet!.id}`]);
    assert.equal(told.length, 0, 'so it is never told overdue');
  });
});
