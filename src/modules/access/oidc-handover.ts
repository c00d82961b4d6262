/**
 * How a single sign-on reaches the web app without a token in any URL: the callback sends the browser to
 * the sign-in page with a one-time code in the fragment (never sent to a server, so never in an access log),
 * and the page swaps it, by POST, for a session token issued as password sign-in issues one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from './actor.ts';
import { findActor } from './users.ts';

/** A code not swapped within this long is refused (the page swaps it as it loads). */
const HANDOVER_SECONDS = 60;

const hashOf = (code: string) => createHash('sha256').update(code).digest('hex');

/** A one-time code for this user, and where the web app goes once signed in. */
export async function issueHandover(db: Db, userId: string, returnTo: string): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await db.query('DELETE FROM oidc_handover WHERE expires_at < now()');
  await db.query('INSERT INTO oidc_handover (code_hash, user_id, return_to, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))', [hashOf(code), userId, returnTo, HANDOVER_SECONDS]);
  return code;
}

/** The user a handover code was issued for, once: a second try, or a late one, is refused. */
export async function redeemHandover(db: Db, code: string): Promise<{ actor: Actor; returnTo: string }> {
  const [row] = await db.query<{ email: string; returnTo: string; fresh: boolean }>(
    `DELETE FROM oidc_handover h USING app_user u WHERE h.code_hash = $1 AND u.id = h.user_id
     RETURNING u.email, h.return_to AS "returnTo", h.expires_at > now() AS fresh`,
    [hashOf(code)],
  );
  if (!row?.fresh) throw new AppError('unauthenticated', 'this sign-in has already been used or has expired: sign in again');
  const actor = await findActor(db, row.email);
  if (!actor) throw new AppError('unauthenticated', 'this sign-in has already been used or has expired: sign in again');
  return { actor, returnTo: row.returnTo };
}
