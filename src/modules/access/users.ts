import argon2 from 'argon2';
import { z } from 'zod';
import { AppError, conflict, invalid } from '../../shared/errors.ts';
import { odsCodeProblem } from '../../shared/ids.ts';
import type { Db } from '../../storage/db.ts';
import { ROLES, type Actor, type Role } from './actor.ts';

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MINUTES = 15;
export const MIN_PASSWORD_LENGTH = 12;

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
  failed_logins: number;
  locked: boolean;
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

/**
 * Checks a password. After MAX_FAILED_LOGINS wrong tries in a row the account is locked for
 * LOCKOUT_MINUTES, whatever password is then given.
 */
export async function authenticate(db: Db, email: string, password: string): Promise<Actor> {
  const [user] = await db.query<UserRow>(
    `SELECT id, email, name, role, org_code, password_hash, failed_logins,
            (locked_until IS NOT NULL AND locked_until > now()) AS locked
       FROM app_user WHERE email = $1`,
    [email.toLowerCase()],
  );
  if (!user?.password_hash) {
    // Spend the same time as a real check so timing does not tell which emails exist.
    await argon2.verify(DUMMY_HASH, password).catch(() => false);
    throw wrongCredentials();
  }
  if (user.locked) throw new AppError('locked', `too many failed sign-ins: try again in ${LOCKOUT_MINUTES} minutes`);
  if (!(await argon2.verify(user.password_hash, password))) {
    await db.query(
      `UPDATE app_user SET failed_logins = failed_logins + 1,
              locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) END
        WHERE id = $1`,
      [user.id, MAX_FAILED_LOGINS, LOCKOUT_MINUTES],
    );
    throw wrongCredentials();
  }
  await db.query('UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1', [user.id]);
  return (await findActor(db, user.email))!;
}

const DUMMY_HASH = '$argon2id$v=19$m=65536,p=4,t=3$tLYdzqnnOgOxOcPUc4MB2g$r3HJG8PMb4Ouq0A1kr6YwRntIlW454Fie2Lm/pu5v7s';
