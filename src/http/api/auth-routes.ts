import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import type { Actor, Role } from '../../modules/access/index.ts';
import { authenticate, policyOf } from '../../modules/access/index.ts';
import { issueToken } from '../../modules/access/index.ts';
import { requireActor } from '../auth.ts';

/** What the web app is told about the signed-in user. */
export interface PublicUser {
  email: string;
  name: string;
  role: Role;
  org: string | null;
  pcnCode: string | null;
}

/** What the web app is told about the signed-in user's role and the record (docs/access.md), beside `user` at sign-in. */
export interface RecordAccessFlags {
  /** Their role sees patient-level records. */
  seesRecords: boolean;
  /** Their role may open one patient's record in an emergency with a written reason. */
  breakGlass: boolean;
}

const publicUser = (actor: Actor): PublicUser => ({
  email: actor.email,
  name: actor.name,
  role: actor.role,
  org: actor.orgCode,
  pcnCode: actor.pcnCode,
});

const accessFlags = (actor: Actor): RecordAccessFlags => ({ seesRecords: policyOf(actor.role).reach !== 'none', breakGlass: policyOf(actor.role).breakGlass });

export function authRoutes(app: ZodApp) {
  app.post(
    '/api/login',
    {
      config: { public: true },
      schema: {
        summary: 'Sign in with email and password; returns a bearer token',
        tags: ['access'],
        body: z.object({
          email: z.string().trim().min(1, 'enter your email address').max(320),
          password: z.string().min(1, 'enter your password').max(1024),
        }),
      },
    },
    async (request) => {
      const actor = await authenticate(app.db, request.body.email, request.body.password);
      return { token: await issueToken(app.db, actor), user: publicUser(actor), access: accessFlags(actor) };
    },
  );

  app.get('/api/me', { schema: { summary: 'Who the bearer token speaks for', tags: ['access'] } }, async (request) => publicUser(await requireActor(app.db, request)));
}
