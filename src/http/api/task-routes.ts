/**
 * Tasks between colleagues and organisations, and in-app notifications (modules/tasks): create a task, list mine or
 * my team's, move one on (start, complete, cancel) or reassign it; my notifications, their unread count, mark read.
 * Tasks go through the store as the signed-in person (access policy, audit); refusals in /api's words.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import {
  createTask,
  createTaskInput,
  listTasks,
  markAllNotificationsRead,
  markNotificationRead,
  myNotifications,
  readTaskView,
  reassignTask,
  reassignTaskInput,
  TASK_ACTIONS,
  TASK_VIEWS,
  type TaskAction,
  transitionTask,
  transitionTaskInput,
} from '../../modules/tasks/index.ts';

const tags = ['tasks'];
const taskParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a task id is 1 to 64 letters, digits, dashes or dots') });
const transitionBody = transitionTaskInput.omit({ action: true });

export function taskRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.post(
    '/api/tasks',
    { schema: { summary: 'Create a task for a person (by email) or a role in an organisation, optionally about a patient (audited)', tags, body: createTaskInput } },
    async (request, reply) => reply.status(201).send(await createTask(db, request.actor!, request.body, requestOf(request))),
  );

  app.get(
    '/api/tasks',
    {
      schema: {
        summary: 'My tasks (assigned to me or my role in my organisation) or my team’s (anyone in my organisation): open first, by due date, overdue marked',
        tags,
        querystring: z.object({ view: z.enum(TASK_VIEWS).default('mine') }),
      },
    },
    async (request) => listTasks(db, request.actor!, request.query.view, requestOf(request)),
  );

  app.get('/api/tasks/:id', { schema: { summary: 'One task', tags, params: taskParams } }, async (request) => readTaskView(db, request.actor!, request.params.id, requestOf(request)));

  for (const action of Object.keys(TASK_ACTIONS) as TaskAction[]) {
    app.post(
      `/api/tasks/:id/${action}`,
      {
        schema: {
          summary: `${action.charAt(0).toUpperCase()}${action.slice(1)} a task (→ ${TASK_ACTIONS[action]}); 409 naming its state when it cannot`,
          tags,
          params: taskParams,
          body: transitionBody.optional(),
        },
      },
      async (request) => transitionTask(db, request.actor!, request.params.id, { ...request.body, action }, requestOf(request)),
    );
  }

  app.post('/api/tasks/:id/reassign', { schema: { summary: 'Give an open task to another person or role', tags, params: taskParams, body: reassignTaskInput } }, async (request) =>
    reassignTask(db, request.actor!, request.params.id, request.body, requestOf(request)),
  );

  app.get(
    '/api/notifications',
    {
      schema: {
        summary: 'My notifications (to me, my organisation or my role in it), newest first, and how many are unread',
        tags,
        querystring: z.object({ unread: z.enum(['true', 'false']).optional() }),
      },
    },
    async (request) => myNotifications(db, request.actor!, { unreadOnly: request.query.unread === 'true' }),
  );

  app.post('/api/notifications/read-all', { schema: { summary: 'Mark all my notifications read', tags } }, async (request) => ({ marked: await markAllNotificationsRead(db, request.actor!) }));

  app.post('/api/notifications/:id/read', { schema: { summary: 'Mark one of my notifications read', tags, params: z.object({ id: z.string().max(20) }) } }, async (request, reply) => {
    await markNotificationRead(db, request.actor!, request.params.id);
    return reply.status(204).send();
  });
}
