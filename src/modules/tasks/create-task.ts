/**
 * A task for a colleague or another organisation ("review medicines after discharge"): written through the store
 * as the actor, so a task about a patient needs the actor to be allowed to write the patient's `referrals`
 * entries (modules/access/policy.ts), and is audited with the write. Assigned to a person or a role in an
 * organisation; the notifications follower tells them (notify-from-feed.ts). MDT actions use the same call with
 * `kind: 'mdt-action'`.
 */
import type { Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { registryToday } from '../../shared/dates.ts';
import { forPeople, wordsField } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, signatureOf } from '../access/index.ts';
import { assigneeInput, resolveAssignee } from './assignee.ts';
import { asActor, parseInput, type TaskRequest, viewOf } from './task-store.ts';
import { CHANGED_BY_EXTENSION, kindCoding, organisationIdentifier, TASK_KINDS, type TaskView } from './task-shape.ts';

export const createTaskInput = z
  .object({
    description: wordsField('Enter what needs doing', 1000, 'What needs doing must be 1,000 characters or fewer'),
    assignee: assigneeInput,
    due: z.iso.date({ error: forPeople('Enter the date the task is due, as yyyy-mm-dd') }).optional(),
    patientId: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/, forPeople('The patient is not a record id'))
      .optional(),
    priority: z.enum(['routine', 'urgent', 'asap']).default('routine'),
    kind: z.enum(TASK_KINDS).default('colleague-task'),
  })
  .strict();
export type CreateTaskInput = z.input<typeof createTaskInput>;

/** Creates the task as the actor; answers it as the views show it. */
export async function createTask(db: Db, actor: Actor, given: CreateTaskInput, request: TaskRequest, today = registryToday()): Promise<TaskView> {
  const input = parseInput(createTaskInput, given);
  const assignee = await resolveAssignee(db, input.assignee);
  const now = new Date().toISOString();
  const signature = signatureOf(actor);
  const task: Task = {
    resourceType: 'Task',
    ...(assignee.tag ? { meta: { tag: [assignee.tag] } } : {}),
    extension: [{ url: CHANGED_BY_EXTENSION, valueString: signature }],
    status: 'requested',
    intent: 'order',
    priority: input.priority,
    code: { coding: [kindCoding(input.kind)] },
    description: input.description,
    ...(input.patientId ? { for: { reference: `Patient/${input.patientId}` } } : {}),
    authoredOn: now,
    lastModified: now,
    requester: actor.orgCode ? { identifier: organisationIdentifier(actor.orgCode), display: signature } : { display: signature },
    owner: assignee.owner,
    ...(input.due ? { restriction: { period: { end: input.due } } } : {}),
  };
  return asActor(db, actor, request, async (repo) => viewOf(repo, await repo.createResource(task), today));
}
