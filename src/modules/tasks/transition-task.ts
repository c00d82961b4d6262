/**
 * Moves a task on: requested → in-progress → completed | cancelled (cancelled from any open state). Anything
 * else is a 409 naming the state the task is in. A note (what was done, why cancelled) goes on the task.
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { forPeople } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { changeTask, stateWords } from './change-task.ts';
import { parseInput, type TaskRequest } from './task-store.ts';
import { NEXT_STATUS, type TaskView } from './task-shape.ts';

/** The transitions by their action's name (POST /api/tasks/:id/<action>). */
export const TASK_ACTIONS = { start: 'in-progress', complete: 'completed', cancel: 'cancelled' } as const;
export type TaskAction = keyof typeof TASK_ACTIONS;

export const transitionTaskInput = z
  .object({
    action: z.enum(Object.keys(TASK_ACTIONS) as [TaskAction, ...TaskAction[]]),
    note: z.string().trim().max(1000, forPeople('The note must be 1,000 characters or fewer')).optional(),
    /** The version the person saw (TaskView.version): a change since is a 409. */
    version: z.string().max(20).optional(),
  })
  .strict();
export type TransitionTaskInput = z.input<typeof transitionTaskInput>;

export async function transitionTask(db: Db, actor: Actor, id: string, given: TransitionTaskInput, request: TaskRequest): Promise<TaskView> {
  const input = parseInput(transitionTaskInput, given);
  const to = TASK_ACTIONS[input.action];
  return changeTask(
    db,
    actor,
    id,
    {
      check(task) {
        if (!(NEXT_STATUS[task.status] ?? []).includes(to)) throw new AppError('conflict', `the task is ${stateWords(task.status)}, so it cannot be ${to === 'in-progress' ? 'started' : to}`);
      },
      apply(task) {
        task.status = to;
        if (input.note) task.note = [...(task.note ?? []), { text: input.note, time: new Date().toISOString(), authorString: actor.name }];
        return task;
      },
    },
    request,
    { version: input.version },
  );
}
