/**
 * The colleague task's FHIR shape (docs/coordination.md, "Tasks between colleagues") and how the web and the
 * API see one. A task is a `Task` coded `task-kind|colleague-task` (MDT actions: `|mdt-action`), owned by a
 * person (their email) or by a role in an organisation (its code + the `owner-role` extension); its due date is
 * `restriction.period.end`. A task owned by a person also carries their organisation as a `meta.tag`
 * (`owner-organisation`), so "my team's tasks" finds it by a search.
 */
import type { Coding, Task } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { type Actor, policyOf, type Role, ROLES } from '../access/index.ts';
import { isOdsShaped, LOCAL_PARTNER_SYSTEM } from '../network/index.ts';
import type { PatientListing } from '../record/index.ts';

export const TASK_KIND_SYSTEM = 'https://pcn-hub.example/CodeSystem/task-kind';
export const TASK_KINDS = ['colleague-task', 'mdt-action'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const USER_EMAIL_SYSTEM = 'https://pcn-hub.example/Id/user-email';
export const OWNER_ROLE_EXTENSION = 'https://pcn-hub.example/StructureDefinition/owner-role';
export const CHANGED_BY_EXTENSION = 'https://pcn-hub.example/StructureDefinition/changed-by';
/** The organisation of a person a task is assigned to (a `meta.tag`, searchable as `_tag`). */
export const OWNER_ORGANISATION_TAG = 'https://pcn-hub.example/CodeSystem/owner-organisation';

/** Statuses a colleague task moves through (FHIR R4 Task.status): requested → in-progress → completed | cancelled. */
export const TASK_STATUSES = ['requested', 'in-progress', 'completed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const NEXT_STATUS: Readonly<Record<string, readonly TaskStatus[]>> = {
  requested: ['in-progress', 'cancelled'],
  // MDT actions and outside systems may write the states a referral's Task uses before work starts.
  received: ['in-progress', 'cancelled'],
  accepted: ['in-progress', 'cancelled'],
  'in-progress': ['completed', 'cancelled'],
};
export const FINISHED_STATUSES = ['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'];
export const isOpen = (status: string) => !FINISHED_STATUSES.includes(status);

/** Whom a task is for: a person (by email) or a role in an organisation. */
export type Assignee = { email: string } | { org: string; role: Role };

export interface TaskOwner {
  kind: 'person' | 'role';
  /** The person's email, or null for a role. */
  email: string | null;
  /** The organisation: the role's, or the person's (from the tag) when known. */
  org: string | null;
  role: Role | null;
  /** Who, in words: "Priya Shah", "Clinical pharmacists, Norwich City PCN". */
  display: string;
}

/** A task as the views show it: never more of the patient than a listing. */
export interface TaskView {
  id: string;
  kind: TaskKind;
  status: string;
  open: boolean;
  description: string;
  /** yyyy-mm-dd, or null when none. */
  due: string | null;
  overdue: boolean;
  priority: string;
  owner: TaskOwner;
  /** Who asked, as signed ("Dr Grace Whitmore, GP, Castle Surgery"). */
  requester: string | null;
  requesterOrg: string | null;
  authoredOn: string | null;
  lastModified: string | null;
  patient: PatientListing | null;
  patientId: string | null;
  /** The store's version, for a transition made from what was shown. */
  version: string | null;
  /** The transitions open to it now. */
  next: TaskStatus[];
}

/** An organisation code as a FHIR identifier, as the registry writes it: ODS when it has that shape, the partner system otherwise (LA-NORFOLK). */
export const organisationIdentifier = (org: string) => ({ system: isOdsShaped(org) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: org });

/** "Clinical pharmacists", from the role's title. */
export const rolePlural = (role: Role) => {
  const title = policyOf(role).title.replace(/ \(.*\)$/, '');
  return `${title.charAt(0).toUpperCase()}${title.slice(1)}s`;
};

export const kindOf = (task: Task): TaskKind | null => {
  const code = task.code?.coding?.find((c) => c.system === TASK_KIND_SYSTEM)?.code;
  return TASK_KINDS.includes(code as TaskKind) ? (code as TaskKind) : null;
};

export const kindCoding = (kind: TaskKind): Coding => ({ system: TASK_KIND_SYSTEM, code: kind, display: kind === 'mdt-action' ? 'MDT action' : 'Task between colleagues' });

export const dueOf = (task: Task): string | null => task.restriction?.period?.end?.slice(0, 10) ?? null;

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

export function ownerOf(task: Task): TaskOwner | null {
  const owner = task.owner;
  const value = owner?.identifier?.value;
  if (!owner || !value) return null;
  if (owner.identifier?.system === USER_EMAIL_SYSTEM) {
    const org = task.meta?.tag?.find((t) => t.system === OWNER_ORGANISATION_TAG)?.code ?? null;
    return { kind: 'person', email: value.toLowerCase(), org, role: null, display: owner.display ?? value };
  }
  const role = owner.extension?.find((e) => e.url === OWNER_ROLE_EXTENSION)?.valueCode;
  return { kind: 'role', email: null, org: value, role: isRole(role) ? role : null, display: owner.display ?? (isRole(role) ? `${rolePlural(role)}, ${value}` : value) };
}

/** The task is the actor's own: assigned to them, or to their role (or to nobody in particular) in their organisation. */
export function isMine(owner: TaskOwner | null, actor: Actor): boolean {
  if (!owner) return false;
  if (owner.kind === 'person') return owner.email === actor.email.toLowerCase();
  return !!actor.orgCode && owner.org === actor.orgCode && (owner.role === null || owner.role === actor.role);
}

/** The task is their team's: its owner works in the actor's organisation. */
export const isTeams = (owner: TaskOwner | null, actor: Actor): boolean => !!owner && !!actor.orgCode && owner.org === actor.orgCode;

/** The Reference a task is owned by. */
export function ownerReference(assignee: { email: string; name: string } | { org: string; role: Role; orgName: string | null }): NonNullable<Task['owner']> {
  if ('email' in assignee) return { identifier: { system: USER_EMAIL_SYSTEM, value: assignee.email }, display: assignee.name };
  return {
    identifier: organisationIdentifier(assignee.org),
    extension: [{ url: OWNER_ROLE_EXTENSION, valueCode: assignee.role }],
    display: `${rolePlural(assignee.role)}, ${assignee.orgName ?? assignee.org}`,
  };
}

const patientIdOf = (reference: string | undefined) => (reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : null);

export function taskView(task: Task, patient: PatientListing | null, today: string): TaskView {
  const due = dueOf(task);
  const open = isOpen(task.status);
  const owner = ownerOf(task) ?? { kind: 'role' as const, email: null, org: null, role: null, display: 'Nobody' };
  return {
    id: task.id ?? '',
    kind: kindOf(task) ?? 'colleague-task',
    status: task.status,
    open,
    description: task.description ?? task.code?.text ?? 'Task',
    due,
    overdue: open && due !== null && due < today,
    priority: task.priority ?? 'routine',
    owner,
    requester: task.requester?.display ?? task.requester?.identifier?.value ?? null,
    requesterOrg: task.requester?.identifier?.value ?? null,
    authoredOn: task.authoredOn ?? null,
    lastModified: task.lastModified ?? null,
    patient,
    patientId: patientIdOf(task.for?.reference),
    version: task.meta?.versionId ?? null,
    next: [...(NEXT_STATUS[task.status] ?? [])],
  };
}

export const taskPatientId = (task: Task) => patientIdOf(task.for?.reference);

/** Open first; then by due date (none last); then newest. */
export function byUrgency(a: TaskView, b: TaskView): number {
  if (a.open !== b.open) return a.open ? -1 : 1;
  if (a.due !== b.due) return a.due === null ? 1 : b.due === null ? -1 : a.due.localeCompare(b.due);
  return (b.authoredOn ?? '').localeCompare(a.authoredOn ?? '');
}
