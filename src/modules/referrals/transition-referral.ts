/**
 * Move a referral through its states (types.ts, TRANSITIONS; docs/coordination.md): each move is a new version
 * of the workflow Task (who and when kept), compared against the version read, so of two people accepting at
 * once exactly one wins and the other is told the state it is now in (409). The ServiceRequest follows
 * (active when sent, completed, revoked when it ends otherwise); completing with an outcome writes the outcome
 * on the patient's record (a Communication back to the referrer) and names it in Task.output.
 */
import type { Communication, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { AppError, conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, signatureOf } from '../access/index.ts';
import { asActor, outcomeCode, readOr, type ReferralRequest } from './as-actor.ts';
import { consentMissing } from './create-referral.ts';
import {
  CHANGED_BY_EXTENSION,
  CONSENT_EXTENSION,
  extensionValue,
  FULFILL,
  HELD_FROM_EXTENSION,
  historyOf,
  orgCodeOf,
  orgReference,
  OUTCOME_TYPE_SYSTEM,
  receivingOrg,
  referralView,
  versionsOf,
} from './referral-fhir.ts';
import { FINISHED_STATES, moveFrom, REFERRAL_STATES, type Referral, type ReferralState } from './types.ts';

/** The record's tag for the kind of agency that wrote an entry. */
const AGENCY_SYSTEM = 'https://pcn-hub.example/agency';

const resourceId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'an id is 1 to 64 letters, digits, dashes or dots');

export const transitionInput = z.object({
  referralId: resourceId,
  to: z.enum(REFERRAL_STATES),
  reason: z.string().trim().min(1).max(4000).optional(),
  outcome: z.string().trim().min(1).max(8000).optional(),
  /** The Task version the person saw (If-Match): a move made on an older one is refused. */
  ifMatch: z
    .string()
    .regex(/^\d{1,12}$/, 'ifMatch is the version number of the referral (versionId)')
    .optional(),
});
export type TransitionInput = z.input<typeof transitionInput>;

/** A referral's ServiceRequest and its workflow Task, as the actor may see them. */
export interface ReferralParts {
  serviceRequest: ServiceRequest;
  task: Task;
}

export async function readParts(repo: FhirStoreRepository, referralId: string): Promise<ReferralParts> {
  const serviceRequest = await readOr(
    () => repo.readResource<ServiceRequest>('ServiceRequest', referralId),
    () => notFound(`referral ${referralId}`),
  );
  const found = await repo.search(parseSearch('Task', { focus: `ServiceRequest/${referralId}`, code: FULFILL, _count: '1' }));
  const task = found.entry?.map((e) => e.resource).find((r): r is Task & { id: string } => r?.resourceType === 'Task');
  if (!task) throw notFound(`the workflow task of referral ${referralId}`);
  return { serviceRequest, task };
}

const illegal = (from: ReferralState, to: ReferralState) => conflict(`the referral is ${from}; it cannot go to ${to}`, 'to');

/** The ServiceRequest's status once its Task has entered `to` (unchanged: undefined). */
function requestStatusFor(to: ReferralState, from: ReferralState): ServiceRequest['status'] | undefined {
  if (to === 'completed') return 'completed';
  if (FINISHED_STATES.includes(to)) return 'revoked';
  if (from === 'draft' && to === 'requested') return 'active';
  return undefined;
}

/** Refuses the move unless it is legal now and the actor's organisation is the side that makes it. */
function checkMove(actor: Actor, parts: ReferralParts, to: ReferralState, input: z.output<typeof transitionInput>): void {
  const from = parts.task.status as ReferralState;
  const heldFrom = extensionValue(parts.task, HELD_FROM_EXTENSION)?.valueCode as ReferralState | undefined;
  const side = moveFrom(from, to, heldFrom);
  if (!side) throw illegal(from, to);
  const receiver = receivingOrg(parts.serviceRequest);
  const referrer = orgCodeOf(parts.serviceRequest.requester?.identifier) ?? '';
  if (side === 'receiver' && actor.orgCode !== receiver.code) throw forbidden(`only the receiving organisation (${receiver.display || receiver.code}) may move this referral to ${to}`);
  if (side === 'referrer' && actor.orgCode !== referrer) throw forbidden(`only the referring organisation (${referrer}) may move this referral to ${to}`);
  if (to === 'rejected' && !input.reason) throw invalid('reason', 'reason: say why the referral is rejected');
  if (input.outcome && to !== 'completed') throw invalid('outcome', 'outcome: an outcome is recorded when the referral is completed');
  if (to === 'requested' && from === 'draft' && extensionValue(parts.serviceRequest, CONSENT_EXTENSION)?.valueBoolean !== true) throw consentMissing();
}

/** The Task after the move: its state, when, who, why, and the timings docs/coordination.md names. */
function movedTask(task: Task, serviceRequest: ServiceRequest, to: ReferralState, now: string, signature: string, reason: string | undefined, outcome: { text: string; entry: string } | null): Task {
  const from = task.status as ReferralState;
  const extension = (task.extension ?? []).filter((e) => e.url !== CHANGED_BY_EXTENSION && e.url !== HELD_FROM_EXTENSION);
  extension.push({ url: CHANGED_BY_EXTENSION, valueString: signature });
  if (to === 'on-hold') extension.push({ url: HELD_FROM_EXTENSION, valueCode: from });
  const next: Task = { ...task, status: to, lastModified: now, extension };
  delete next.meta;
  if (reason) next.statusReason = { text: reason };
  else delete next.statusReason;
  if (from === 'draft') {
    // Sent now: the clock starts, and the receiving organisation is named (its relationship with the patient begins).
    const receiver = receivingOrg(serviceRequest);
    next.authoredOn = now;
    next.owner = orgReference(receiver.code, receiver.display) as Task['owner'];
  }
  if (to === 'accepted') next.executionPeriod = { ...next.executionPeriod, start: now };
  if (FINISHED_STATES.includes(to)) next.executionPeriod = { ...next.executionPeriod, end: now };
  if (outcome) {
    next.output = [
      ...(next.output ?? []),
      { type: { coding: [{ system: OUTCOME_TYPE_SYSTEM, code: 'outcome' }], text: 'Outcome' }, valueString: outcome.text },
      { type: { coding: [{ system: OUTCOME_TYPE_SYSTEM, code: 'outcome-entry' }], text: 'Outcome on the record' }, valueReference: { reference: outcome.entry } },
    ];
  }
  return next;
}

/** The outcome as an entry on the patient's record: a message from the service back to the referrer, about the referral. */
function outcomeEntry(id: string, actor: Actor, serviceRequest: ServiceRequest, text: string, now: string): Communication {
  const receiver = receivingOrg(serviceRequest);
  const service = serviceRequest.performer?.find((p) => p.reference?.startsWith('HealthcareService/'))?.display ?? receiver.display;
  return {
    resourceType: 'Communication',
    id,
    // The kind of agency that wrote it, as the record's timeline groups entries (the web app's add-entry form tags the same way).
    ...(actor.orgKind ? { meta: { tag: [{ system: AGENCY_SYSTEM, code: actor.orgKind }] } } : {}),
    status: 'completed',
    category: [{ coding: [{ system: OUTCOME_TYPE_SYSTEM, code: 'referral-outcome', display: 'Referral outcome' }], text: 'Referral outcome' }],
    subject: { reference: serviceRequest.subject?.reference },
    basedOn: [{ reference: `ServiceRequest/${serviceRequest.id}` }],
    topic: { text: `Outcome of referral to ${service}` },
    sent: now,
    sender: orgReference(actor.orgCode ?? receiver.code, signatureOf(actor)) as Communication['sender'],
    ...(serviceRequest.requester ? { recipient: [{ identifier: serviceRequest.requester.identifier, display: serviceRequest.requester.display }] } : {}),
    payload: [{ contentString: text }],
    note: [{ text }],
  };
}

/** Writes one move; a Task changed by someone else since it was read is the store's precondition-failed (rolled back). */
async function writeMove(repo: FhirStoreRepository, actor: Actor, parts: ReferralParts, input: z.output<typeof transitionInput>): Promise<ReferralParts> {
  const { serviceRequest, task } = parts;
  const to = input.to;
  const from = task.status as ReferralState;
  const now = new Date().toISOString();
  const signature = signatureOf(actor);
  return repo.withTransaction(async () => {
    // The outcome first, while the service's relationship with the patient still holds (the finished referral ends it).
    let outcome: { text: string; entry: string } | null = null;
    if (to === 'completed' && input.outcome) {
      const written = await repo.createResource(outcomeEntry(repo.generateId(), actor, serviceRequest, input.outcome, now), { assignedId: true });
      outcome = { text: input.outcome, entry: `Communication/${written.id}` };
    }
    // The compare-and-set: the store locks the Task's row and refuses a version other than the one read.
    const movedTaskWritten = await repo.updateResource<Task>(movedTask(task, serviceRequest, to, now, signature, input.reason, outcome), { ifMatch: task.meta?.versionId });
    const status = requestStatusFor(to, from);
    let request = serviceRequest;
    if (status) {
      const next: ServiceRequest = { ...serviceRequest, status };
      delete next.meta;
      if (from === 'draft') next.authoredOn = now;
      request = await repo.updateResource(next);
    }
    return { serviceRequest: request, task: movedTaskWritten };
  });
}

/** Moves a referral; answers the referral as it is after the move. */
export async function transitionReferral(db: Db, actor: Actor, given: TransitionInput, request: ReferralRequest): Promise<Referral> {
  const input = transitionInput.parse(given);
  return asActor(db, actor, request, (repo) => moveReferral(repo, actor, input));
}

/** The move through `repo` (within the caller's transaction when there is one). */
export async function moveReferral(repo: FhirStoreRepository, actor: Actor, input: z.output<typeof transitionInput>): Promise<Referral> {
  for (let attempt = 0; ; attempt++) {
    const parts = await readParts(repo, input.referralId);
    checkMove(actor, parts, input.to, input);
    if (input.ifMatch !== undefined && input.ifMatch !== parts.task.meta?.versionId) {
      throw new AppError('precondition-failed', `the referral has changed since version ${input.ifMatch}: it is now ${parts.task.status} (version ${parts.task.meta?.versionId})`, 'ifMatch');
    }
    // Read before the move: a finished referral no longer opens the patient's record to the service.
    const patientId = (parts.serviceRequest.subject?.reference ?? '').replace(/^Patient\//, '');
    const patient = await repo.readResource<Patient>('Patient', patientId).catch(() => undefined);
    const history = historyOf(versionsOf(await repo.readHistory<Task>('Task', parts.task.id!)));
    try {
      const moved = await writeMove(repo, actor, parts, input);
      history.push(...historyOf([moved.task]));
      return referralView(moved.serviceRequest, moved.task, patient, history);
    } catch (error) {
      // Someone else moved it first: read it again; the check then names the state it is in now (409), or a move
      // still allowed is tried again (the person sent no If-Match, so did not ask for exactly that version).
      if (outcomeCode(error) !== 'precondition-failed' || attempt >= 2) throw error;
    }
  }
}
