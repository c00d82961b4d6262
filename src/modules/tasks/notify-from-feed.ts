/**
 * Notifications raised from the record's change feed (the consumer `notifications`), so whoever writes a referral
 * or a task — this app, an MDT meeting, an outside system over /fhir — its recipients are told:
 * - a new referral for an organisation: an active `ServiceRequest` whose performer names the organisation, or a
 *   referral's workflow `Task` (`task-code|fulfill`) it owns (one notification per referral and organisation);
 * - a task assigned to a person or a role in an organisation (colleague tasks and MDT actions; again when it is
 *   reassigned);
 * - a task past its due date: the feed keeps `task_due` (open tasks with a due date), and a periodic check raises
 *   one notification per task and due date;
 * - a referral not accepted in time: the feed keeps `referral_due` (workflow Tasks awaiting acceptance, with the
 *   SLA's time by urgency), and the same check tells the receiving organisation once.
 * The notifications and the consumer's position commit in one transaction: after a restart nothing is missed or
 * raised twice. Changes older than FRESH_HOURS when first read (a feed caught up on an old store) keep `task_due`
 * current but tell nobody about what is long past.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { type Change, FhirStoreRepository, followChanges, parseSearch, retrying, type RequestContext } from '../../fhir-store/index.ts';
import { registryToday, spokenDay } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import { consumerContext } from '../record/index.ts';
import { AWAITING_ACCEPTANCE, dueAt, isWorkflowTask, PRIORITIES, type ReferralPriority } from '../referrals/index.ts';
import { inAppNotifier, type NewNotification, type Notifier } from './notifications.ts';
import { dueOf, isOpen, kindOf, ownerOf, rolePlural, type TaskOwner } from './task-shape.ts';

export const NOTIFICATIONS_CONSUMER = 'notifications';
/** Changes older than this when the follower reads them raise no notification (a store caught up from its start). */
export const FRESH_HOURS = 48;
const HEALTHCARE_SERVICE = 'HealthcareService/';

export interface KeepNotifyingOptions {
  signal: AbortSignal;
  /** How long to wait when the feed is caught up (default 1,000 ms). */
  pollMs?: number;
  /** How often to look for tasks gone overdue (default 60 s). */
  overdueEveryMs?: number;
  /** Where notifications go (default: the in-app store). */
  notifier?: Notifier;
  /** Today in England; a test may fix it. */
  today?: () => string;
  /** A batch that fails rolls back and is tried again after `retryMs` (default 30 s) when given; else the promise rejects. */
  onError?: (error: unknown) => void;
  retryMs?: number;
}

/** Follows the feed and checks for overdue tasks until the signal aborts. Audited once, as a system operation. */
export async function keepNotifying(db: Db, options: KeepNotifyingOptions): Promise<void> {
  const { signal, onError } = options;
  const notifier = options.notifier ?? inAppNotifier;
  const today = options.today ?? (() => registryToday());
  const context = await consumerContext(db, NOTIFICATIONS_CONSUMER, {
    action: 'tasks.notify',
    summary: 'Notifications: referrals and tasks read as they are written, to tell their recipients (direct care)',
  });
  const retry = { signal, onError, retryMs: options.retryMs };
  const overdueLoop = async () => {
    while (!signal.aborted) {
      await raiseOverdueNotifications(db, { notifier, today: today() });
      await delay(options.overdueEveryMs ?? 60_000, undefined, { signal }).catch(() => undefined);
    }
  };
  await Promise.all([
    retrying(
      () =>
        followChanges(db, NOTIFICATIONS_CONSUMER, (changes, tx) => notifyChanges(tx, context, changes, notifier), {
          signal,
          pollMs: options.pollMs,
          types: ['Task', 'ServiceRequest'],
        }),
      retry,
    ),
    retrying(overdueLoop, retry),
  ]);
}

/** One batch of changes: the current version of each resource, read as the system, turned into notifications. */
export async function notifyChanges(tx: Db, context: RequestContext, changes: Change[], notifier: Notifier): Promise<void> {
  const freshSince = Date.now() - FRESH_HOURS * 3_600_000;
  const fresh = new Set(changes.filter((c) => Date.parse(c.changedAt) >= freshSince).map((c) => `${c.resourceType}/${c.id}`));
  const repo = new FhirStoreRepository(tx, context);
  const current = <T extends Task | ServiceRequest>(type: T['resourceType']): Promise<T[]> =>
    repo.readCurrent<T>(
      type,
      changes.filter((c) => c.resourceType === type).map((c) => c.id),
    );
  const tasks = await current<Task>('Task');
  const found = new Set(tasks.map((t) => t.id));
  // Deleted (or expunged) since: no longer watched.
  const deleted = [...new Set(changes.filter((c) => c.resourceType === 'Task' && !found.has(c.id)).map((c) => c.id))];
  if (deleted.length) {
    await tx.query('DELETE FROM task_due WHERE task_id = ANY($1::text[])', [deleted]);
    await tx.query('DELETE FROM referral_due WHERE task_id = ANY($1::text[])', [deleted]);
  }
  for (const task of tasks) {
    const isFresh = fresh.has(`Task/${task.id}`);
    if (kindOf(task)) {
      await keepDue(tx, task);
      if (isFresh) await notifyTask(tx, task, notifier);
    } else if (isWorkflowTask(task)) {
      await keepReferralDue(tx, task);
      if (isFresh) await notifyWorkflowTask(tx, repo, task, notifier);
    }
  }
  for (const request of await current<ServiceRequest>('ServiceRequest')) {
    if (fresh.has(`ServiceRequest/${request.id}`)) await notifyReferral(tx, request, notifier);
  }
}

const ownerKey = (owner: TaskOwner) => (owner.email ? `person:${owner.email}` : `org:${owner.org}:${owner.role ?? '*'}`);
const recipientOf = (owner: TaskOwner) => (owner.email ? { email: owner.email } : { org: owner.org!, role: owner.role });

/** Open colleague tasks with a due date are watched for the overdue check; others are not. */
async function keepDue(tx: Db, task: Task): Promise<void> {
  const owner = ownerOf(task);
  const due = dueOf(task);
  if (!owner || !due || !isOpen(task.status)) {
    await tx.query('DELETE FROM task_due WHERE task_id = $1', [task.id]);
    return;
  }
  await tx.query(
    `INSERT INTO task_due (task_id, due, owner_email, owner_org, owner_role) VALUES ($1, $2::date, $3, $4, $5)
     ON CONFLICT (task_id) DO UPDATE SET due = EXCLUDED.due, owner_email = EXCLUDED.owner_email, owner_org = EXCLUDED.owner_org, owner_role = EXCLUDED.owner_role`,
    [task.id, due, owner.email, owner.email ? null : owner.org, owner.role],
  );
}

async function notifyTask(tx: Db, task: Task, notifier: Notifier): Promise<void> {
  const owner = ownerOf(task);
  if (!owner || (!owner.email && !owner.org) || !isOpen(task.status)) return;
  const from = task.requester?.display ?? task.requester?.identifier?.value;
  const what = kindOf(task) === 'mdt-action' ? 'New MDT action' : 'New task';
  const forWhom = owner.email ? 'for you' : `for ${owner.role ? rolePlural(owner.role).toLowerCase() : 'your team'}`;
  const due = dueOf(task);
  await notifier.deliver(
    {
      recipient: recipientOf(owner),
      kind: 'task',
      what: `${what} ${forWhom}${from ? ` from ${from}` : ''}${due ? `, due ${spokenDay(due)}` : ''}`,
      link: `/tasks?task=${task.id}`,
      source: `Task/${task.id}`,
      key: `task:${task.id}:${ownerKey(owner)}`,
    },
    tx,
  );
}

/** Organisations named by identifier among references (a referral's performers, a Task's owner). */
const organisationsIn = (references: Array<Reference | undefined>) => [...new Set(references.flatMap((r) => (r?.identifier?.value && !r.reference ? [r.identifier.value] : [])))];

/** "New referral to Falls prevention": the service's name (the performer's HealthcareService), never the patient's. */
function referralNotice(request: ServiceRequest, org: string): NewNotification {
  const service = request.performer?.find((p) => p.reference?.startsWith(HEALTHCARE_SERVICE))?.display;
  const urgent = request.priority && request.priority !== 'routine' ? ` (${request.priority})` : '';
  return {
    recipient: { org, role: null },
    kind: 'referral',
    what: `New referral${urgent} to ${service ?? 'your organisation'}`,
    link: `/referrals/${request.id}`,
    source: `ServiceRequest/${request.id}`,
    key: `referral:${request.id}:${org}`,
  };
}

async function notifyReferral(tx: Db, request: ServiceRequest, notifier: Notifier): Promise<void> {
  if (request.status !== 'active') return;
  for (const org of organisationsIn(request.performer ?? [])) await notifier.deliver(referralNotice(request, org), tx);
}

/** A referral's workflow Task owned by an organisation: the same notification as its ServiceRequest's (raised once). */
async function notifyWorkflowTask(tx: Db, repo: FhirStoreRepository, task: Task, notifier: Notifier): Promise<void> {
  if (!isOpen(task.status) || task.status === 'draft') return;
  const focus = task.focus?.reference ?? task.basedOn?.[0]?.reference;
  if (!focus?.startsWith('ServiceRequest/')) return;
  const [request] = (await repo.searchResources(parseSearch('ServiceRequest', { _id: focus.slice('ServiceRequest/'.length) }))) as ServiceRequest[];
  if (!request || request.status === 'draft' || request.status === 'revoked') return;
  for (const org of organisationsIn([task.owner])) await notifier.deliver(referralNotice(request, org), tx);
}

/** A referral awaiting acceptance is watched until accepted (or finished); its due time follows its urgency. */
async function keepReferralDue(tx: Db, task: Task): Promise<void> {
  const org = organisationsIn([task.owner])[0];
  const referral = (task.focus?.reference ?? task.basedOn?.[0]?.reference ?? '').replace(/^ServiceRequest\//, '');
  const priority = (PRIORITIES as readonly string[]).includes(task.priority ?? '') ? (task.priority as ReferralPriority) : 'routine';
  if (!org || !referral || !task.authoredOn || !(AWAITING_ACCEPTANCE as readonly string[]).includes(task.status)) {
    await tx.query('DELETE FROM referral_due WHERE task_id = $1', [task.id]);
    return;
  }
  // Told once per organisation and due time: redirected or re-prioritised, it may be told again.
  await tx.query(
    `INSERT INTO referral_due (task_id, referral_id, owner_org, due_at) VALUES ($1, $2, $3, $4::timestamptz)
     ON CONFLICT (task_id) DO UPDATE SET referral_id = EXCLUDED.referral_id, owner_org = EXCLUDED.owner_org, due_at = EXCLUDED.due_at,
       notified_at = CASE WHEN referral_due.owner_org = EXCLUDED.owner_org AND referral_due.due_at = EXCLUDED.due_at THEN referral_due.notified_at END`,
    [task.id, referral, org, dueAt(priority, task.authoredOn)],
  );
}

/** "5 Dec, 14:30" in England's time, whatever the server's zone. */
const UK_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** Referrals past the time they should have been accepted by, each told once to the organisation that holds it. */
async function raiseOverdueReferrals(tx: Db, notifier: Notifier, now: Date): Promise<number> {
  const rows = await tx.query<{ task_id: string; referral_id: string; owner_org: string; due_at: Date | string }>(
    `SELECT task_id, referral_id, owner_org, due_at FROM referral_due
      WHERE due_at < $1::timestamptz AND notified_at IS NULL ORDER BY due_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    [now.toISOString()],
  );
  let raised = 0;
  for (const row of rows) {
    const due = new Date(row.due_at);
    const fresh = await notifier.deliver(
      {
        recipient: { org: row.owner_org, role: null },
        kind: 'overdue',
        what: `A referral is overdue: it was due to be accepted by ${UK_TIME.format(due)}`,
        link: `/referrals/${row.referral_id}`,
        source: `ServiceRequest/${row.referral_id}`,
        key: `overdue-referral:${row.task_id}:${row.owner_org}:${due.toISOString()}`,
      },
      tx,
    );
    if (fresh) raised++;
    await tx.query('UPDATE referral_due SET notified_at = $2::timestamptz WHERE task_id = $1', [row.task_id, now.toISOString()]);
  }
  return raised;
}

/** One notification per open task past its due date (and again only if its due date moves and passes). */
export async function raiseOverdueNotifications(db: Db, options: { notifier?: Notifier; today?: string; now?: Date } = {}): Promise<number> {
  const notifier = options.notifier ?? inAppNotifier;
  const today = options.today ?? registryToday();
  return db.transaction(async (tx) => {
    const referrals = await raiseOverdueReferrals(tx, notifier, options.now ?? new Date());
    const rows = await tx.query<{ task_id: string; due: string; owner_email: string | null; owner_org: string | null; owner_role: string | null }>(
      `SELECT task_id, due::text AS due, owner_email, owner_org, owner_role FROM task_due
        WHERE due < $1::date AND notified_due IS DISTINCT FROM due ORDER BY due LIMIT 1000 FOR UPDATE SKIP LOCKED`,
      [today],
    );
    let raised = 0;
    for (const row of rows) {
      const recipient = row.owner_email ? { email: row.owner_email } : { org: row.owner_org!, role: (row.owner_role as TaskOwner['role']) ?? null };
      const fresh = await notifier.deliver(
        {
          recipient,
          kind: 'overdue',
          what: `A task is overdue: it was due ${spokenDay(row.due)}`,
          link: `/tasks?task=${row.task_id}`,
          source: `Task/${row.task_id}`,
          key: `overdue:${row.task_id}:${row.due}`,
        },
        tx,
      );
      if (fresh) raised++;
      await tx.query('UPDATE task_due SET notified_due = due WHERE task_id = $1', [row.task_id]);
    }
    return referrals + raised;
  });
}
