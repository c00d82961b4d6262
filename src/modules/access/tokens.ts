import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from './actor.ts';
import { findActor } from './users.ts';

const ISSUER = 'pcn-hub';
export const TOKEN_HOURS = 12;

/**
 * The HMAC key for bearer tokens, made once per database and kept in it: the server and
 * `pcn token` on the same data sign and check with the same key.
 */
async function signingKey(db: Db): Promise<Uint8Array> {
  const fresh = randomBytes(32).toString('base64');
  await db.query(`INSERT INTO app_setting (key, value) VALUES ('token_key', $1) ON CONFLICT (key) DO NOTHING`, [fresh]);
  const [row] = await db.query<{ value: string }>(`SELECT value FROM app_setting WHERE key = 'token_key'`);
  return Buffer.from(row!.value, 'base64');
}

const keys = new WeakMap<Db, Promise<Uint8Array>>();
function keyFor(db: Db): Promise<Uint8Array> {
  let key = keys.get(db);
  if (!key) keys.set(db, (key = signingKey(db)));
  return key;
}

export async function issueToken(db: Db, actor: Actor, hours = TOKEN_HOURS): Promise<string> {
  return new SignJWT({ email: actor.email })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(actor.id)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${hours}h`)
    .sign(await keyFor(db));
}

/** The actor a bearer token speaks for; the user is looked up afresh so role changes apply at once. */
export async function actorFromToken(db: Db, token: string): Promise<Actor> {
  let email: unknown;
  try {
    const { payload } = await jwtVerify(token, await keyFor(db), { issuer: ISSUER, algorithms: ['HS256'] });
    email = payload.email;
  } catch (error) {
    const expired = error instanceof joseErrors.JWTExpired;
    throw new AppError('unauthenticated', expired ? 'the session has expired: sign in again' : 'the bearer token is not valid');
  }
  const actor = typeof email === 'string' ? await findActor(db, email) : undefined;
  if (!actor) throw new AppError('unauthenticated', 'the user of this token no longer exists');
  return actor;
}
