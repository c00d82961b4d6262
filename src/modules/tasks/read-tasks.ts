/**
 * "My tasks" (assigned to me, or to my role — or to nobody in particular — in my organisation) and "my team's
 * tasks" (assigned to anyone in my organisation: its roles, and its people by the organisation tag), colleague
 * tasks and MDT actions alike. Read as the actor through the store (a task about a patient whose record they may
 * not open is not shown; audited as a look). Open tasks first, then by due date, overdue marked; the most recent
 * finished ones after them.
 */
import type { Patient, Task } from '@medplum/fhirtypes';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { registryToday } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { patientListing } from '../record/index.ts';
import { asActor, readTask, type TaskRequest, viewOf } from './task-store.ts';
import {
  byUrgency,
  FINISHED_STATUSES,
  isMine,
  isTeams,
  OWNER_ORGANISATION_TAG,
  ownerOf,
  TASK_KIND_SYSTEM,
  TASK_KINDS,
  taskPatientId,
  taskView,
  type TaskView,
  USER_EMAIL_SYSTEM,
} from './task-shape.ts';

export const TASK_VIEWS = ['mine', 'team'] as const;
export type TaskViewName = (typeof TASK_VIEWS)[number];
/** Open tasks listed at most; finished ones shown after them. */
export const OPEN_TASK_LIMIT = 200;
export const FINISHED_TASK_LIMIT = 20;

export interface TaskList {
  view: TaskViewName;
  org: string | null;
  items: TaskView[];
  open: number;
  overdue: number;
  /** More open tasks than listed. */
  more: boolean;
}

const KINDS = TASK_KINDS.map((kind) => `${TASK_KIND_SYSTEM}|${kind}`).join(',');

/** Tasks matching `query` (open ones, then the latest finished), with their patients. */
async function searchTasks(repo: FhirStoreRepository, query: Record<string, string>) {
  const found: Task[] = [];
  const patients = new Map<string, Patient>();
  let more = false;
  const slices = [
    { 'status:not': FINISHED_STATUSES.join(','), _count: String(OPEN_TASK_LIMIT) },
    { status: 'completed,cancelled', _sort: '-_lastUpdated', _count: String(FINISHED_TASK_LIMIT) },
  ];
  for (const [i, slice] of slices.entries()) {
    const bundle = await repo.search(parseSearch('Task', { ...query, code: KINDS, _include: 'Task:patient', ...slice }));
    if (i === 0) more = (bundle.link ?? []).some((l) => l.relation === 'next');
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType === 'Patient') patients.set(resource.id, resource as Patient);
      else if (resource?.resourceType === 'Task') found.push(resource as Task);
    }
  }
  return { found, patients, more };
}

export async function listTasks(db: Db, actor: Actor, view: TaskViewName, request: TaskRequest, today = registryToday()): Promise<TaskList> {
  const org = actor.orgCode;
  const queries: Array<Record<string, string>> =
    view === 'mine'
      ? [{ 'owner:identifier': [`${USER_EMAIL_SYSTEM}|${actor.email.toLowerCase()}`, ...(org && !org.includes(',') ? [org] : [])].join(',') }]
      : org
        ? [{ 'owner:identifier': org }, { _tag: `${OWNER_ORGANISATION_TAG}|${org}` }]
        : [];
  const keep = view === 'mine' ? (task: Task) => isMine(ownerOf(task), actor) : (task: Task) => isTeams(ownerOf(task), actor);
  return asActor(db, actor, request, async (repo) => {
    const byId = new Map<string, TaskView>();
    let more = false;
    for (const query of queries) {
      const { found, patients, more: cut } = await searchTasks(repo, query);
      more ||= cut;
      for (const task of found) {
        if (!keep(task) || byId.has(task.id!)) continue;
        const patient = patients.get(taskPatientId(task) ?? '');
        byId.set(task.id!, taskView(task, patient ? patientListing(patient) : null, today));
      }
    }
    const items = [...byId.values()].sort(byUrgency);
    return { view, org, items, open: items.filter((t) => t.open).length, overdue: items.filter((t) => t.overdue).length, more };
  });
}

/** One task as the views show it (404 when it is not a colleague task or MDT action; 403 when its patient's record is closed to the actor). */
export async function readTaskView(db: Db, actor: Actor, id: string, request: TaskRequest, today = registryToday()): Promise<TaskView> {
  return asActor(db, actor, request, async (repo) => viewOf(repo, await readTask(repo, id), today));
}
