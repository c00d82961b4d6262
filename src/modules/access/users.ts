import argon2 from 'argon2';
import { z } from 'zod';
import { AppError, conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { recordAudit } from '../audit/index.ts';
import { ROLES, SYSTEM_ACTOR, type Actor, type Role } from './actor.ts';
import { actorOrganisationColumns, assertKnownOrganisation, orgCode } from './organisations.ts';
import { forgetSignIn } from './sign-ins.ts';

export const MIN_PASSWORD_LENGTH = 12;

/**
 * Failed sign-ins slow down, they never lock: past FREE failures (per account at one client address, or per
 * address over all accounts) each next try must wait BASE_WAIT × 2^(extra failures) seconds, at most
 * MAX_WAIT. Tries refused while waiting do not count, so an attacker can only ever slow the account at the
 * addresses they use — the owner signing in from elsewhere is not held up. A day without failures forgets them.
 */
export const SIGN_IN_THROTTLE = {
  freeFailuresPerAccount: 5,
  freeFailuresPerAddress: 50,
  baseWaitSeconds: 30,
  maxWaitSeconds: 15 * 60,
  forgetAfterSeconds: 24 * 60 * 60,
} as const;

/** Too many failed sign-ins from here: try again after `retryAfterSeconds` (HTTP 429 + Retry-After). */
export class SignInThrottled extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('locked', `too many failed sign-ins: try again in ${retryAfterSeconds < 120 ? `${retryAfterSeconds} seconds` : `${Math.ceil(retryAfterSeconds / 60)} minutes`}`);
  }
}

const email = z.email().transform((e) => e.toLowerCase());
const personName = z.string().trim().min(1, 'a name is needed').max(200);
const password = z.string().min(MIN_PASSWORD_LENGTH, `a password needs at least ${MIN_PASSWORD_LENGTH} characters`).max(1024);

export const newUserSchema = z.object({
  email,
  name: personName,
  role: z.enum(ROLES),
  org: orgCode.optional(),
  password: password.optional(),
});
export type NewUser = z.input<typeof newUserSchema>;

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  org_code: string | null;
  password_hash: string | null;
  disabled: boolean;
}

/** The input, or an `invalid` naming its first wrong field. */
function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw invalid(issue.path.join('.') || 'user', issue.message);
}

const assertAdmin = (by: Actor, what: string) => {
  if (by.role !== 'admin' || by.kind === 'client') throw new AppError('forbidden', `only an admin may ${what}`);
};

const managerNeedsOrg = () => invalid('org', 'a pcn-manager needs --org: their PCN or practice ODS code');

/** A password as app_user keeps it (argon2id): for seeding many accounts that share one password, hash it once. */
export async function hashPassword(given: string): Promise<string> {
  const checked: string = parse(z.object({ password }), { password: given }).password;
  return argon2.hash(checked, { type: argon2.argon2id });
}

/**
 * A joiner, audited (by the command line's operator, who adds people, unless `by` says who: single sign-on
 * adds people its provider vouches for). `org` must be known to the registry. `passwordHash` (from
 * hashPassword) stands for `password` when the caller has hashed it already.
 */
export async function addUser(db: Db, input: NewUser, options: { passwordHash?: string; by?: Actor } = {}): Promise<Actor> {
  const user = parse(newUserSchema, input);
  if (user.role === 'pcn-manager' && !user.org) throw managerNeedsOrg();
  const hash = user.password ? await argon2.hash(user.password, { type: argon2.argon2id }) : (options.passwordHash ?? null);
  return db.transaction(async (tx) => {
    if (user.org) await assertKnownOrganisation(tx, user.org);
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO app_user (email, name, role, org_code, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email) DO NOTHING RETURNING id`,
      [user.email, user.name, user.role, user.org ?? null, hash],
    );
    if (!row) throw conflict(`a user with email ${user.email} already exists`, 'email');
    await recordAudit(tx, {
      actor: (options.by ?? SYSTEM_ACTOR).email,
      action: 'user.add',
      entityType: 'user',
      entityId: user.email,
      summary: `Added the user ${user.email} as ${user.role}${user.org ? ` at ${user.org}` : ''}`,
      detail: { name: user.name, role: user.role, org: user.org ?? null },
    });
    return (await findActor(tx, user.email))!;
  });
}

/** The actor for an email, with their PCNs and their organisation's name resolved from their organisation. */
export async function findActor(db: Db, email: string): Promise<Actor | undefined> {
  const [row] = await db.query<Actor & { [key: string]: unknown }>(
    `SELECT u.id, u.email, u.name, u.role, u.org_code AS "orgCode", ${actorOrganisationColumns('u.org_code')}
       FROM app_user u WHERE u.email = $1`,
    [email.toLowerCase()],
  );
  return row;
}

const wrongCredentials = () => new AppError('unauthenticated', 'the email or password is not right');

/** The throttle's counters a sign-in from `address` for `email` is held to. */
const throttleKeys = (email: string, address: string) => [`address:${address}`, `account:${email.toLowerCase()} address:${address}`];

/** Refuses with SignInThrottled while any counter for this try is backing off. */
async function assertNotThrottled(db: Db, keys: string[]): Promise<void> {
  const rows = await db.query<{ key: string; failures: number; ago: number }>(
    `SELECT key, failures, EXTRACT(EPOCH FROM now() - last_failed_at)::float8 AS ago FROM sign_in_failure WHERE key = ANY($1::text[])`,
    [keys],
  );
  const t = SIGN_IN_THROTTLE;
  let wait = 0;
  for (const row of rows) {
    if (row.ago > t.forgetAfterSeconds) continue;
    const free = row.key.startsWith('address:') ? t.freeFailuresPerAddress : t.freeFailuresPerAccount;
    if (row.failures < free) continue;
    const backOff = Math.min(t.baseWaitSeconds * 2 ** Math.min(row.failures - free, 30), t.maxWaitSeconds);
    wait = Math.max(wait, backOff - row.ago);
  }
  if (wait > 0) throw new SignInThrottled(Math.ceil(wait));
}

async function countFailure(db: Db, keys: string[]): Promise<void> {
  // Counts a day old are forgotten: swept a few at a time as failures come, so the table stays small.
  await db.query(`DELETE FROM sign_in_failure WHERE key IN (SELECT key FROM sign_in_failure WHERE last_failed_at < now() - make_interval(secs => $1) LIMIT 100)`, [
    SIGN_IN_THROTTLE.forgetAfterSeconds,
  ]);
  await db.query(
    `INSERT INTO sign_in_failure (key, failures, last_failed_at) SELECT k, 1, now() FROM unnest($1::text[]) AS k
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN sign_in_failure.last_failed_at < now() - make_interval(secs => $2) THEN 1 ELSE sign_in_failure.failures + 1 END,
       last_failed_at = now()`,
    [keys, SIGN_IN_THROTTLE.forgetAfterSeconds],
  );
}

/**
 * Checks a password from a client address. Failures back off (SIGN_IN_THROTTLE) instead of locking the
 * account; a disabled account cannot sign in.
 */
export async function authenticate(db: Db, email: string, password: string, address = 'unknown'): Promise<Actor> {
  const keys = throttleKeys(email, address);
  await assertNotThrottled(db, keys);
  const [user] = await db.query<UserRow>(`SELECT id, email, name, role, org_code, password_hash, disabled_at IS NOT NULL AS disabled FROM app_user WHERE email = $1`, [email.toLowerCase()]);
  if (!user?.password_hash) {
    // Spend the same time as a real check so timing does not tell which emails exist.
    await argon2.verify(DUMMY_HASH, password).catch(() => false);
    await countFailure(db, keys);
    throw wrongCredentials();
  }
  if (!(await argon2.verify(user.password_hash, password))) {
    await countFailure(db, keys);
    await auditPasswordSignIn(db, user, address, 'a wrong password');
    throw wrongCredentials();
  }
  if (user.disabled) {
    await auditPasswordSignIn(db, user, address, 'the account is disabled');
    throw new AppError('unauthenticated', 'this account has been disabled: ask an administrator');
  }
  await db.query('DELETE FROM sign_in_failure WHERE key = $1', [keys[1]]);
  const actor = (await findActor(db, user.email))!;
  await auditPasswordSignIn(db, user, address);
  return actor;
}

/**
 * Every password sign-in to an account, and every refused one, is on the audit (as single sign-on's are); an
 * attempt on an email no account has is not (what was typed may be anything, a password even): it is throttled.
 */
function auditPasswordSignIn(db: Db, user: UserRow, address: string, refused?: string): Promise<void> {
  return recordAudit(db, {
    actor: user.email,
    action: 'user.sign-in',
    entityType: 'user',
    entityId: user.email,
    summary: refused ? `Refused a password sign-in: ${refused}` : 'Signed in with a password',
    detail: { method: 'password', address },
    orgCode: user.org_code,
    role: user.role,
    ...(refused ? { outcome: 'denied' as const } : {}),
  });
}

/**
 * Disables a user at once: they cannot sign in, and every token they hold is refused from the next
 * request, in this process and (notified by the store) in every other. Their row stays, so the audit still names them.
 */
export async function disableUser(db: Db, by: Actor, email: string): Promise<Actor> {
  assertAdmin(by, 'disable a user');
  if (email.toLowerCase() === by.email) throw forbidden('you cannot disable yourself: ask another admin');
  const disabled = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ email: string }>('UPDATE app_user SET disabled_at = COALESCE(disabled_at, now()) WHERE email = $1 RETURNING email', [email.toLowerCase()]);
    if (!row) throw notFound(`the user ${email}`);
    await recordAudit(tx, { actor: by.email, action: 'user.disable', entityType: 'user', entityId: row.email, summary: `Disabled the user ${row.email}` });
    return (await findActor(tx, row.email))!;
  });
  forgetSignIn(db, 'user', disabled.id);
  return disabled;
}

/** A person who signs in, as an admin sees them: never their password hash. */
export interface UserListing {
  email: string;
  name: string;
  role: Role;
  org: string | null;
  /** The organisation's name (PCN, practice or partner), so no one is shown as a bare code. */
  orgName: string | null;
  pcnCode: string | null;
  hasPassword: boolean;
  disabledAt: string | null;
  createdAt: string;
}

/** Everyone who may sign in (and those disabled), by email: an admin's list (or its one row for `only`). */
export async function listUsers(db: Db, by: Actor, only?: { email: string }): Promise<UserListing[]> {
  assertAdmin(by, 'list the users');
  const rows = await db.query<Omit<UserListing, 'disabledAt' | 'createdAt'> & { disabledAt: Date | string | null; createdAt: Date | string }>(
    `SELECT u.email, u.name, u.role, u.org_code AS org, COALESCE(p.name, pr.name, pa.name) AS "orgName",
            COALESCE(p.code, m.pcn_code) AS "pcnCode", u.password_hash IS NOT NULL AS "hasPassword",
            u.disabled_at AS "disabledAt", u.created_at AS "createdAt"
       FROM app_user u
       LEFT JOIN pcn p ON p.code = u.org_code
       LEFT JOIN practice pr ON pr.ods = u.org_code
       LEFT JOIN partner pa ON pa.code = u.org_code
       LEFT JOIN practice_membership_in_effect m ON m.practice_ods = u.org_code
      WHERE $1::text IS NULL OR u.email = $1
      ORDER BY u.email`,
    [only?.email.toLowerCase() ?? null],
  );
  return rows.map((row) => ({
    ...row,
    disabledAt: row.disabledAt === null ? null : new Date(row.disabledAt).toISOString(),
    createdAt: new Date(row.createdAt).toISOString(),
  }));
}

export const userChangeSchema = z
  .object({
    email,
    role: z.enum(ROLES).optional(),
    /** null: no organisation (e.g. an admin of the whole area). */
    org: orgCode.nullable().optional(),
    name: personName.optional(),
  })
  .refine((change) => change.role !== undefined || change.org !== undefined || change.name !== undefined, {
    message: 'give at least one change: role, org or name',
    path: ['role'],
  });
export type UserChange = z.input<typeof userChangeSchema>;

/**
 * A mover: a new role, organisation or name, audited with what it was before. Takes effect at once for the
 * tokens they hold, here and (notified by the store) in every other process. An admin cannot change their
 * own role, so the last admin cannot demote themselves by mistake.
 */
export async function changeUser(db: Db, by: Actor, input: UserChange): Promise<Actor> {
  assertAdmin(by, 'change a user');
  const change = parse(userChangeSchema, input);
  const changed = await db.transaction(async (tx) => {
    const [before] = await tx.query<{ id: string; role: Role; org: string | null; name: string }>('SELECT id, role, org_code AS org, name FROM app_user WHERE email = $1 FOR UPDATE', [change.email]);
    if (!before) throw notFound(`the user ${change.email}`);
    const after = { role: change.role ?? before.role, org: change.org === undefined ? before.org : change.org, name: change.name ?? before.name };
    if (after.role !== before.role && before.id === by.id) throw forbidden('you cannot change your own role: ask another admin');
    if (after.role === 'pcn-manager' && !after.org) throw managerNeedsOrg();
    if (change.org) await assertKnownOrganisation(tx, change.org);
    const fields = (['role', 'org', 'name'] as const).filter((field) => after[field] !== before[field]);
    if (fields.length === 0) return undefined;
    await tx.query('UPDATE app_user SET role = $2, org_code = $3, name = $4 WHERE id = $1', [before.id, after.role, after.org, after.name]);
    const words = fields.map((field) => `${field} ${before[field] ?? 'none'} → ${after[field] ?? 'none'}`).join(', ');
    await recordAudit(tx, {
      actor: by.email,
      action: 'user.change',
      entityType: 'user',
      entityId: change.email,
      summary: `Changed the user ${change.email}: ${words}`,
      detail: { before: Object.fromEntries(fields.map((f) => [f, before[f]])), after: Object.fromEntries(fields.map((f) => [f, after[f]])) },
    });
    return before.id;
  });
  if (changed) forgetSignIn(db, 'user', changed);
  return (await findActor(db, change.email))!;
}

export const passwordResetSchema = z.object({ email, password });
export type PasswordReset = z.input<typeof passwordResetSchema>;

/**
 * An admin sets a new password: the user's current sessions end (every token issued before now is refused,
 * everywhere) and their failed sign-ins are forgotten; they sign in with the new password. A disabled user
 * stays disabled.
 */
export async function resetPassword(db: Db, by: Actor, input: PasswordReset): Promise<Actor> {
  assertAdmin(by, 'reset a password');
  const reset = parse(passwordResetSchema, input);
  const hash = await argon2.hash(reset.password, { type: argon2.argon2id });
  // This process's clock, as tokens' iat is: a sign-in straight after the reset must not fall before it.
  const now = Date.now() / 1000;
  const id = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: string }>('UPDATE app_user SET password_hash = $2, sessions_valid_after = to_timestamp($3) WHERE email = $1 RETURNING id', [reset.email, hash, now]);
    if (!row) throw notFound(`the user ${reset.email}`);
    await tx.query('DELETE FROM sign_in_failure WHERE left(key, length($1)) = $1', [`account:${reset.email} address:`]);
    await recordAudit(tx, {
      actor: by.email,
      action: 'user.password-reset',
      entityType: 'user',
      entityId: reset.email,
      summary: `Reset the password of ${reset.email}, which signed out their sessions`,
    });
    return row.id;
  });
  forgetSignIn(db, 'user', id);
  return (await findActor(db, reset.email))!;
}

const DUMMY_HASH = '$argon2id$v=19$m=65536,p=4,t=3$tLYdzqnnOgOxOcPUc4MB2g$r3HJG8PMb4Ouq0A1kr6YwRntIlW454Fie2Lm/pu5v7s';
