import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import type { Actor, Role } from '../../modules/access/index.ts';
import { SignInThrottled, authenticate, issueToken, pcnCodesOf, policyOf, revokeToken, signatureOf } from '../../modules/access/index.ts';
import type { Db } from '../../storage/db.ts';
import { bearerToken, requireActor } from '../auth.ts';
import { isOdsShaped, LOCAL_PARTNER_SYSTEM } from '../../modules/network/index.ts';
import { ODS_SYSTEM } from '../../shared/ids.ts';

/** What the web app is told about the signed-in user. */
export interface PublicUser {
  email: string;
  name: string;
  role: Role;
  org: string | null;
  /** The organisation's name from the registry (PCN, practice or partner). */
  orgName: string | null;
  /** The kind of organisation: `pcn`, `gp-practice` or a partner's type (`social-care`, `community-pharmacy` …). */
  orgKind: string | null;
  pcnCode: string | null;
  /** Every PCN they work for: their own, or each PCN their partner organisation serves. */
  pcnCodes: string[];
  /** How their entries are signed: "Name, role, Organisation name". */
  signature: string;
  /** Their organisation as a FHIR identifier: an ODS code, or a partner's local code (LA-NORFOLK) under the registry's partner system. */
  orgIdentifier: { system: string; value: string } | null;
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
  orgName: actor.orgName ?? null,
  orgKind: actor.orgKind ?? null,
  pcnCode: actor.pcnCode,
  pcnCodes: [...pcnCodesOf(actor)],
  signature: signatureOf(actor),
  orgIdentifier: actor.orgCode ? { system: isOdsShaped(actor.orgCode) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: actor.orgCode } : null,
});

const accessFlags = (actor: Actor): RecordAccessFlags => ({ seesRecords: policyOf(actor.role).reach !== 'none', breakGlass: policyOf(actor.role).breakGlass });

/** A new session for a signed-in actor, as the web app keeps it: by password (/api/login) or single sign-on. */
export async function newSession(db: Db, actor: Actor): Promise<{ token: string; user: PublicUser; access: RecordAccessFlags }> {
  return { token: await issueToken(db, actor), user: publicUser(actor), access: accessFlags(actor) };
}

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
    async (request, reply) => {
      try {
        const actor = await authenticate(app.db, request.body.email, request.body.password, request.ip);
        return await newSession(app.db, actor);
      } catch (error) {
        if (error instanceof SignInThrottled) reply.header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
    },
  );

  app.post('/api/logout', { schema: { summary: 'Sign out: the bearer token is refused from now on, everywhere', tags: ['access'] } }, async (request, reply) => {
    await revokeToken(app.db, bearerToken(request));
    return reply.status(204).send();
  });

  app.get('/api/me', { schema: { summary: 'Who the bearer token speaks for', tags: ['access'] } }, async (request) => publicUser(await requireActor(app.db, request)));
}
