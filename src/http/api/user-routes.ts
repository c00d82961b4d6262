/** People management for admins (joiners, movers, leavers): list, change, disable, reset a password. Every change audited. */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { forbidden } from '../../shared/errors.ts';
import { ROLES, changeUser, disableUser, listUsers, orgCode, resetPassword, type Actor, type UserListing } from '../../modules/access/index.ts';

const emailParams = z.object({ email: z.string().trim().min(3).max(320) });

/** What a route answers after a change: the user as the list shows them. */
async function listed(app: ZodApp, by: Actor, email: string): Promise<UserListing> {
  const [user] = await listUsers(app.db, by, { email });
  return user!;
}

export function userRoutes(app: ZodApp) {
  const db = app.db;
  // Refused before the body is read: a non-admin learns nothing, not even whether their request was well-formed.
  const adminOnly = async (request: { actor?: Actor }) => {
    if (request.actor?.role !== 'admin') throw forbidden('only an admin may manage users');
  };

  app.get('/api/users', { preValidation: adminOnly, schema: { summary: 'Everyone who signs in, by email (admins only); never a password hash', tags: ['access'] } }, async (request) => ({
    items: await listUsers(db, request.actor!),
  }));

  app.patch(
    '/api/users/:email',
    {
      preValidation: adminOnly,
      schema: {
        summary: 'Change a user’s role, organisation (null: none) or name; their tokens carry the change from the next request (admins only)',
        tags: ['access'],
        params: emailParams,
        body: z.object({ role: z.enum(ROLES).optional(), org: orgCode.nullable().optional(), name: z.string().max(200).optional() }).strict(),
      },
    },
    async (request) => {
      await changeUser(db, request.actor!, { email: request.params.email, ...request.body });
      return listed(app, request.actor!, request.params.email);
    },
  );

  app.post(
    '/api/users/:email/disable',
    { preValidation: adminOnly, schema: { summary: 'Disable a user at once: no sign-in, their tokens refused (admins only)', tags: ['access'], params: emailParams } },
    async (request) => {
      await disableUser(db, request.actor!, request.params.email);
      return listed(app, request.actor!, request.params.email);
    },
  );

  app.post(
    '/api/users/:email/password',
    {
      preValidation: adminOnly,
      schema: {
        summary: 'Set a new password: the user’s current sessions end at once (admins only)',
        tags: ['access'],
        params: emailParams,
        body: z.object({ password: z.string().max(1024) }).strict(),
      },
    },
    async (request, reply) => {
      await resetPassword(db, request.actor!, { email: request.params.email, password: request.body.password });
      return reply.status(204).send();
    },
  );
}
