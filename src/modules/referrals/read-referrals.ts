/**
 * Reading referrals as the actor (access policy and audit): one referral with its history, and the lists —
 * sent by my organisation, received by it (or by one of its services: the inbox, with its SLA clock).
 */
import type { Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { parseSearch } from '../../fhir-store/index.ts';
import { invalid } from '../../shared/errors.ts';
import { type InboxPosition, serviceInboxPage } from '../directory/index.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { asActor, type ReferralRequest } from './as-actor.ts';
import { FULFILL, historyOf, referralView, versionsOf } from './referral-fhir.ts';
import { readParts } from './transition-referral.ts';
import { AWAITING_ACCEPTANCE, dueAt, REFERRAL_STATES, type Referral } from './types.ts';

export const MAX_REFERRAL_PAGE = 500;

export async function readReferral(db: Db, actor: Actor, referralId: string, request: ReferralRequest): Promise<Referral> {
  return asActor(db, actor, request, async (repo) => {
    const { serviceRequest, task } = await readParts(repo, referralId);
    const patientId = (serviceRequest.subject?.reference ?? '').replace(/^Patient\//, '');
    const patient = await repo.readResource<Patient>('Patient', patientId);
    const history = historyOf(versionsOf(await repo.readHistory<Task>('Task', task.id!)));
    return withClock(referralView(serviceRequest, task, patient, history), new Date());
  });
}

const statusList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(REFERRAL_STATES)).min(1));

export const listReferralsInput = z.object({
  box: z.enum(['sent', 'received']).default('received'),
  /** A HealthcareService id: only referrals to that service (its inbox). */
  service: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'service is a HealthcareService id')
    .optional(),
  /** Comma-separated states; default: every state for sent, the open ones for received. */
  status: statusList.optional(),
  count: z.coerce.number().int().min(1).max(MAX_REFERRAL_PAGE).default(100),
  /** The `next` of the previous page. */
  cursor: z.string().max(200).optional(),
});
/** The list's query, as the schema gives it (box and count defaulted when absent). */
export type ListReferralsInput = Partial<z.output<typeof listReferralsInput>>;

export interface ReferralPage {
  box: 'sent' | 'received';
  org: string | null;
  items: Referral[];
  /** Pass as `cursor` for the next page; null on the last. */
  next: string | null;
}

const RECEIVED_OPEN = ['requested', 'received', 'accepted', 'in-progress', 'on-hold'];

/** The inbox's fields: due time by urgency (types.ts, SLA_HOURS) while awaiting acceptance, and whether it has passed. */
export function withClock(referral: Referral, now: Date): Referral {
  if (!AWAITING_ACCEPTANCE.includes(referral.status) || !referral.authoredOn) return { ...referral, dueAt: null, overdue: false };
  const due = dueAt(referral.priority, referral.authoredOn);
  return { ...referral, dueAt: due, overdue: Date.parse(due) < now.getTime() };
}

/** Overdue first (the longest overdue first), then the oldest. */
export const inboxOrder = (a: Referral, b: Referral): number =>
  Number(b.overdue) - Number(a.overdue) || (a.overdue ? (a.dueAt ?? '').localeCompare(b.dueAt ?? '') : 0) || a.authoredOn.localeCompare(b.authoredOn);

/**
 * My organisation's referrals, sent or received, a page at a time (≤ 500). Received ones come oldest first with
 * the inbox's clock, overdue first within the page; sent ones newest first. A finished referral drops out of the
 * receiving organisation's view when it was the only relationship it had with the patient (the access policy).
 */
export async function listReferrals(db: Db, actor: Actor, given: ListReferralsInput, request: ReferralRequest): Promise<ReferralPage> {
  const input = { box: 'received' as const, count: 100, ...given };
  if (input.count > MAX_REFERRAL_PAGE) input.count = MAX_REFERRAL_PAGE;
  const empty: ReferralPage = { box: input.box, org: actor.orgCode, items: [], next: null };
  if (!actor.orgCode) return empty;
  const states = input.status ?? (input.box === 'received' ? RECEIVED_OPEN : undefined);
  if (input.box === 'received' && input.service) return serviceInbox(db, actor, { ...input, service: input.service, states: states ?? RECEIVED_OPEN }, request);
  return asActor(db, actor, request, async (repo) => {
    const query: Record<string, string | string[]> = {
      code: FULFILL,
      [input.box === 'sent' ? 'requester:identifier' : 'owner:identifier']: actor.orgCode!,
      _include: ['Task:focus', 'Task:patient'],
      _sort: input.box === 'sent' ? '-authored-on' : 'authored-on',
      _count: String(input.count),
    };
    if (states) query.status = states.join(',');
    if (input.cursor) query._cursor = input.cursor;
    const bundle = await repo.search(parseSearch('Task', query));
    const included = new Map<string, Resource>();
    const tasks: Task[] = [];
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as Resource | undefined;
      if (!resource) continue;
      if (entry.search?.mode === 'include') included.set(`${resource.resourceType}/${resource.id}`, resource);
      else if (resource.resourceType === 'Task') tasks.push(resource as Task);
    }
    const now = new Date();
    const items = tasks.flatMap((task) => {
      const serviceRequest = included.get(task.focus?.reference ?? '') as ServiceRequest | undefined;
      if (!serviceRequest) return [];
      const patient = included.get(task.for?.reference ?? '') as Patient | undefined;
      const view = referralView(serviceRequest, task, patient, []);
      return [withClock(view, now)];
    });
    if (input.box === 'received') items.sort(inboxOrder);
    const nextLink = bundle.link?.find((l) => l.relation === 'next')?.url;
    const next = nextLink ? (new URL(nextLink, 'urn:x:/').searchParams.get('_cursor') ?? null) : null;
    return { ...empty, items, next };
  });
}

const idOf = (reference: string | undefined, type: string): string | null => (reference?.startsWith(`${type}/`) ? reference.slice(type.length + 1) : null);

/** A service inbox's cursor: where its next page starts (the last referral's authored time and Task id). */
const encodePosition = (position: InboxPosition): string => Buffer.from(`${position.authoredOn}|${position.taskId}`).toString('base64url');
function decodePosition(cursor: string): InboxPosition {
  const [authoredOn, taskId] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!authoredOn || !taskId || Number.isNaN(Date.parse(authoredOn))) throw invalid('cursor', 'cursor: not a cursor this inbox gave (pass the `next` of the previous page)');
  return { authoredOn, taskId };
}

/**
 * One service's inbox: the page's referrals picked oldest first by index from the directory's projection (caught
 * up first), then read through the store as the actor — so the access rules decide what is shown, and a referral
 * that has moved on since (another state, or no longer this organisation's) is left out. 10,000 open referrals cost
 * a page, not a sort of them all (bench/coordination.ts).
 */
async function serviceInbox(db: Db, actor: Actor, input: ListReferralsInput & { service: string; states: readonly string[]; count: number }, request: ReferralRequest): Promise<ReferralPage> {
  const page = await serviceInboxPage(db, input.service, { states: input.states, after: input.cursor ? decodePosition(input.cursor) : null, count: input.count });
  return asActor(db, actor, request, async (repo) => {
    const tasks = new Map(
      (
        await repo.readCurrent<Task>(
          'Task',
          page.items.map((i) => i.taskId),
        )
      ).map((t) => [t.id, t]),
    );
    const focusOf = (task: Task) => idOf(task.focus?.reference, 'ServiceRequest');
    const patientOf = (task: Task) => idOf(task.for?.reference, 'Patient');
    const ids = (pick: (task: Task) => string | null) => [...tasks.values()].flatMap((t) => pick(t) ?? []);
    const requests = new Map((await repo.readCurrent<ServiceRequest>('ServiceRequest', ids(focusOf))).map((r) => [r.id, r]));
    const patients = new Map((await repo.readCurrent<Patient>('Patient', ids(patientOf))).map((p) => [p.id, p]));
    const now = new Date();
    const items = page.items.flatMap(({ taskId }) => {
      const task = tasks.get(taskId);
      if (!task || !input.states.includes(task.status) || task.owner?.identifier?.value !== actor.orgCode) return [];
      const serviceRequest = requests.get(focusOf(task) ?? '');
      if (!serviceRequest) return [];
      return [withClock(referralView(serviceRequest, task, patients.get(patientOf(task) ?? ''), []), now)];
    });
    items.sort(inboxOrder);
    return { box: 'received' as const, org: actor.orgCode, items, next: page.next ? encodePosition(page.next) : null };
  });
}
