/**
 * The one way a task changes after it is made (a transition, a reassignment): read as the actor, checked that
 * they may work it and that it is in a state the change starts from, written as the next version with If-Match
 * on the version read (a change in between is a 409 naming the state it is in now, never a lost write).
 */
import type { Task } from '@medplum/fhirtypes';
import { AppError } from '../../shared/errors.ts';
import { registryToday } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, signatureOf } from '../access/index.ts';
import { asActor, readTask, type TaskRequest, viewOf } from './task-store.ts';
import { CHANGED_BY_EXTENSION, isMine, isTeams, NEXT_STATUS, ownerOf, type TaskView } from './task-shape.ts';

/** Words for a state and what it may move to: "completed (it is finished)", "requested (it can be started or cancelled)". */
export function stateWords(status: string): string {
  const next = NEXT_STATUS[status] ?? [];
  const verbs = next.map((s) => (s === 'in-progress' ? 'started' : s));
  return `${status} (${verbs.length ? `it can be ${verbs.join(' or ')}` : 'it is finished'})`;
}

/** Assigned to them or their role, to their organisation, or asked for by their organisation (an admin: any). */
export function mayWork(task: Task, actor: Actor): boolean {
  if (actor.role === 'admin') return true;
  const owner = ownerOf(task);
  return isMine(owner, actor) || isTeams(owner, actor) || (!!actor.orgCode && task.requester?.identifier?.value === actor.orgCode);
}

export interface TaskChange {
  /** Refuses (AppError 409) when the task's state does not allow the change. */
  check(task: Task): void;
  /** The next version (without meta, lastModified or changed-by: added here). */
  apply(task: Task): Task;
}

export async function changeTask(db: Db, actor: Actor, id: string, change: TaskChange, request: TaskRequest, options: { version?: string; today?: string } = {}): Promise<TaskView> {
  const today = options.today ?? registryToday();
  return asActor(db, actor, request, async (repo) => {
    const task = await readTask(repo, id);
    if (!mayWork(task, actor)) throw new AppError('forbidden', 'only the person or team the task is assigned to, or the organisation that asked for it, may change it');
    const version = task.meta?.versionId;
    if (options.version !== undefined && options.version !== version) throw new AppError('conflict', `the task was changed since you saw it: it is now ${stateWords(task.status)}`);
    change.check(task);
    const next = change.apply(structuredClone(task));
    const signature = signatureOf(actor);
    next.lastModified = new Date().toISOString();
    next.extension = [...(next.extension ?? []).filter((e) => e.url !== CHANGED_BY_EXTENSION), { url: CHANGED_BY_EXTENSION, valueString: signature }];
    try {
      return await viewOf(repo, await repo.updateResource(next, { ifMatch: version }), today);
    } catch (error) {
      // Someone else changed it between our read and our write: say what it is now.
      const status = (error as { outcome?: { id?: string } }).outcome?.id;
      if (status !== 'precondition-failed') throw error;
      const now = await readTask(repo, id);
      throw new AppError('conflict', `the task was changed meanwhile: it is now ${stateWords(now.status)}`);
    }
  });
}
