import argon2 from 'argon2';
import { z } from 'zod';
import { AppError, conflict, invalid, notFound } from '../../shared/errors.ts';
import { odsCodeProblem } from '../../shared/ids.ts';
import type { Db } from '../../storage/db.ts';
import { recordAudit } from '../audit/index.ts';
import { ROLES, type Actor, type Role } from './actor.ts';
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

export const newUserSchema = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
  org: z
    .string()
    .trim()
    .toUpperCase()
    .refine((code) => odsCodeProblem(code, 'any') === null, { message: 'org must be an ODS code (3 to 10 letters and digits)' })
    .optional(),
  password: z.string().min(MIN_PASSWORD_LENGTH, `a password needs at least ${MIN_PASSWORD_LENGTH} characters`).max(1024).optional(),
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

export async function addUser(db: Db, input: NewUser): Promise<Actor> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(issue.path.join('.') || 'user', issue.message);
  }
  const user = parsed.data;
  if (user.role === 'pcn-manager' && !user.org) throw invalid('org', 'a pcn-manager needs --org: their PCN or practice ODS code');
  const hash = user.password ? await argon2.hash(user.password, { type: argon2.argon2id }) : null;
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO app_user (email, name, role, org_code, password_hash) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (email) DO NOTHING RETURNING id`,
    [user.email, user.name, user.role, user.org ?? null, hash],
  );
  if (!row) throw conflict(`a user with email ${user.email} already exists`, 'email');
  const actor = await findActor(db, user.email);
  return actor!;
}

/** The actor for an email, with their PCN resolved from their organisation. */
export async function findActor(db: Db, email: string): Promise<Actor | undefined> {
  const [row] = await db.query<Omit<Actor, 'pcnCode'> & { pcnCode: string | null; [key: string]: unknown }>(
    `SELECT u.id, u.email, u.name, u.role, u.org_code AS "orgCode",
            COALESCE(p.code, m.pcn_code) AS "pcnCode"
       FROM app_user u
       LEFT JOIN pcn p ON p.code = u.org_code
       LEFT JOIN practice_membership m ON m.practice_ods = u.org_code AND m.end_date IS NULL
      WHERE u.email = $1`,
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
    throw wrongCredentials();
  }
  if (user.disabled) throw new AppError('unauthenticated', 'this account has been disabled: ask an administrator');
  await db.query('DELETE FROM sign_in_failure WHERE key = $1', [keys[1]]);
  return (await findActor(db, user.email))!;
}

/**
 * Disables a user at once: they cannot sign in, and every token they hold is refused from the next
 * request, in this process and (notified by the store) in every other. Their row stays, so the audit still names them.
 */
export async function disableUser(db: Db, by: Actor, email: string): Promise<Actor> {
  if (by.role !== 'admin') throw new AppError('forbidden', 'only an admin may disable a user');
  const disabled = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ email: string }>('UPDATE app_user SET disabled_at = COALESCE(disabled_at, now()) WHERE email = $1 RETURNING email', [email.toLowerCase()]);
    if (!row) throw notFound(`the user ${email}`);
    await recordAudit(tx, { actor: by.email, action: 'user.disable', entityType: 'user', entityId: row.email, summary: `Disabled the user ${row.email}` });
    return (await findActor(tx, row.email))!;
  });
  forgetSignIn(db, 'user', disabled.id);
  return disabled;
}

const DUMMY_HASH = '$argon2id$v=19$m=65536,p=4,t=3$tLYdzqnnOgOxOcPUc4MB2g$r3HJG8PMb4Ouq0A1kr6YwRntIlW454Fie2Lm/pu5v7s';
