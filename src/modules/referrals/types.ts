/**
 * A referral's states and who may move it, and the inbox's SLA clock: plain data with no imports, so the web
 * app shows the same buttons and timers the server enforces (docs/coordination.md, "Referral").
 */

/** FHIR R4 `Task.status` values a referral's workflow Task takes. */
export const REFERRAL_STATES = ['draft', 'requested', 'received', 'accepted', 'rejected', 'in-progress', 'on-hold', 'completed', 'failed', 'cancelled'] as const;
export type ReferralState = (typeof REFERRAL_STATES)[number];

/** Finished states: nothing leaves them, and the receiving organisation's relationship with the patient ends. */
export const FINISHED_STATES: readonly ReferralState[] = ['rejected', 'completed', 'failed', 'cancelled'];
/** Open states: the referral is with the service (or about to be). */
export const OPEN_STATES: readonly ReferralState[] = ['draft', 'requested', 'received', 'accepted', 'in-progress', 'on-hold'];

/** Who makes a move: the referring organisation's people or the receiving organisation's. */
export type ReferralSide = 'referrer' | 'receiver';

/**
 * THE state machine (docs/coordination.md): from each state, where a referral may go and which side moves it.
 * `on-hold` goes back only to the state it left (kept on the Task), so its exits are listed as every state it
 * may have left; the move from on-hold is checked against that state. Cancelling is the referrer's, from any open state.
 */
export const TRANSITIONS: Readonly<Record<ReferralState, Readonly<Partial<Record<ReferralState, ReferralSide>>>>> = {
  draft: { requested: 'referrer', cancelled: 'referrer' },
  requested: { received: 'receiver', accepted: 'receiver', rejected: 'receiver', 'on-hold': 'receiver', cancelled: 'referrer' },
  received: { accepted: 'receiver', rejected: 'receiver', 'on-hold': 'receiver', cancelled: 'referrer' },
  accepted: { 'in-progress': 'receiver', 'on-hold': 'receiver', cancelled: 'referrer' },
  'in-progress': { completed: 'receiver', failed: 'receiver', 'on-hold': 'receiver', cancelled: 'referrer' },
  'on-hold': { requested: 'receiver', received: 'receiver', accepted: 'receiver', 'in-progress': 'receiver', cancelled: 'referrer' },
  rejected: {},
  completed: {},
  failed: {},
  cancelled: {},
};

/** The move from `from` to `to`, given the state an on-hold referral left; null when it is not allowed. */
export function moveFrom(from: ReferralState, to: ReferralState, heldFrom?: ReferralState | null): ReferralSide | null {
  if (from === 'on-hold' && to !== 'cancelled' && to !== heldFrom) return null;
  return TRANSITIONS[from][to] ?? null;
}

/** What each move is called on a button. */
export const ACTION_LABELS: Readonly<Record<ReferralState, string>> = {
  draft: 'Save as draft',
  requested: 'Send',
  received: 'Mark as received',
  accepted: 'Accept',
  rejected: 'Reject',
  'in-progress': 'Start',
  'on-hold': 'Put on hold',
  completed: 'Complete',
  failed: 'Could not complete',
  cancelled: 'Cancel referral',
};

export const PRIORITIES = ['routine', 'urgent', 'asap'] as const;
export type ReferralPriority = (typeof PRIORITIES)[number];

/**
 * The inbox's SLA clock: how long after it was sent (`authoredOn`) an open referral of each urgency should have
 * been accepted; past that it is overdue. asap 4 hours, urgent 2 days, routine 14 days.
 */
export const SLA_HOURS: Readonly<Record<ReferralPriority, number>> = { asap: 4, urgent: 48, routine: 14 * 24 };

/** When an open referral of this urgency sent at `authoredOn` is due. */
export function dueAt(priority: ReferralPriority, authoredOn: string): string {
  return new Date(Date.parse(authoredOn) + SLA_HOURS[priority] * 3_600_000).toISOString();
}

/** States in which the SLA clock runs: sent and not yet accepted. */
export const AWAITING_ACCEPTANCE: readonly ReferralState[] = ['requested', 'received'];

export interface ReferralHistoryItem {
  status: ReferralState;
  at: string;
  by: string | null;
  reason?: string | null;
}

/** A referral as the API answers it: its ServiceRequest and workflow Task read together. */
export interface Referral {
  /** The ServiceRequest id. */
  id: string;
  ubrn: string;
  journeyId: string | null;
  taskId: string;
  status: ReferralState;
  priority: ReferralPriority;
  patient: { id: string; name: string; nhsNumber: string | null };
  service: { id: string | null; name: string; org: string };
  requester: { org: string; display: string };
  reason: string;
  whatMatters: string | null;
  consentToShare: boolean;
  attachments: string[];
  /** The same entries with words for people ("Loneliness"); an entry attached before words were kept shows its reference. */
  attached: Array<{ reference: string; display: string }>;
  authoredOn: string;
  acceptedAt: string | null;
  finishedAt: string | null;
  outcome: string | null;
  /** The outcome entry written on the patient's record, e.g. `Communication/…`. */
  outcomeEntry: string | null;
  statusReason: string | null;
  /** The Task's meta.versionId: send it as If-Match with a move. */
  versionId: string;
  history: ReferralHistoryItem[];
  /** Inbox fields: when it is due to be accepted, and whether that has passed (only while awaiting acceptance). */
  dueAt?: string | null;
  overdue?: boolean;
}
