/**
 * Gives an open task to someone else: another person (a known user) or a role in an organisation. The new owner
 * is told by the notifications follower; a finished task cannot be reassigned (409 naming its state).
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { assigneeInput, resolveAssignee } from './assignee.ts';
import { changeTask, stateWords } from './change-task.ts';
import { parseInput, type TaskRequest } from './task-store.ts';
import { isOpen, OWNER_ORGANISATION_TAG, type TaskView } from './task-shape.ts';

export const reassignTaskInput = z.object({ assignee: assigneeInput, version: z.string().max(20).optional() }).strict();
export type ReassignTaskInput = z.input<typeof reassignTaskInput>;

export async function reassignTask(db: Db, actor: Actor, id: string, given: ReassignTaskInput, request: TaskRequest): Promise<TaskView> {
  const input = parseInput(reassignTaskInput, given);
  const assignee = await resolveAssignee(db, input.assignee);
  return changeTask(
    db,
    actor,
    id,
    {
      check(task) {
        if (!isOpen(task.status)) throw new AppError('conflict', `the task is ${stateWords(task.status)}, so it cannot be reassigned`);
      },
      apply(task) {
        task.owner = assignee.owner;
        const tags = (task.meta?.tag ?? []).filter((t) => t.system !== OWNER_ORGANISATION_TAG);
        task.meta = { ...task.meta, tag: [...tags, ...(assignee.tag ? [assignee.tag] : [])] };
        if (task.meta.tag?.length === 0) delete task.meta.tag;
        return task;
      },
    },
    request,
    { version: input.version },
  );
}
