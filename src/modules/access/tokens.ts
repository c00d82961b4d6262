/**
 * Bearer tokens: HS256 JWTs signed with the key file's key (token-key.ts), pinned to one algorithm, issuer
 * and audience, and always carrying an expiry and an id (`jti`). A token checked good (user enabled, token
 * not signed out) is remembered until the store says otherwise: disabling, a change of role, organisation or
 * name, a password reset (which refuses tokens issued before it) and signing out notify every process on
 * commit, so each takes effect at once everywhere; while those notifications are not arriving, every request
 * asks the database in one query by primary key. The rest of the actor (their PCN, which a practice move
 * changes) is read again after a minute.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor, Role } from './actor.ts';
import { clientActor } from './clients.ts';
import { tokenKeyFor } from './token-key.ts';
import { forgetSignIn, issuedBefore, signInsOf } from './sign-ins.ts';
import { findActor } from './users.ts';

export const ISSUER = 'pcn-hub';
export const AUDIENCE = 'pcn-hub-api';
const ALGORITHM = 'HS256';
export const TOKEN_HOURS = 12;

/** A user's bearer token, for `hours` hours; none for a disabled user. */
export async function issueToken(db: Db, actor: Actor, hours = TOKEN_HOURS): Promise<string> {
  const [user] = await db.query<{ disabled: boolean }>('SELECT disabled_at IS NOT NULL AS disabled FROM app_user WHERE id = $1', [actor.id]);
  if (!user) throw new AppError('not-found', `no user with email ${actor.email}`);
  if (user.disabled) throw new AppError('forbidden', `${actor.email} has been disabled: no token is issued`);
  return sign(db, { email: actor.email }, actor.id, `${hours}h`);
}

/** A backend client's access token (SMART Backend Services), for `seconds` seconds. */
export async function issueClientToken(db: Db, clientId: string, scopes: readonly string[], seconds: number): Promise<string> {
  return sign(db, { client_id: clientId, scope: scopes.join(' ') }, `client:${clientId}`, `${seconds}s`);
}

async function sign(db: Db, claims: JWTPayload, subject: string, expiresIn: string): Promise<string> {
  return (
    new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      // To the millisecond: a password reset refuses tokens issued before it (sessions_valid_after), and a
      // sign-in in the same second after the reset must still work. RFC 7519 allows a non-integer NumericDate.
      .setIssuedAt(Date.now() / 1000)
      .setExpirationTime(expiresIn)
      .sign(await hmacKey(db))
  );
}

/**
 * The store's key as a Web Crypto key, imported once: jose imports a raw key afresh on every sign and
 * verify, which cost ~10 % of the server's time on reads (a CPU profile of 20-concurrent reads).
 */
function hmacKey(db: Db): Promise<CryptoKey> {
  const raw = tokenKeyFor(db);
  let key = hmacKeys.get(raw);
  if (!key) hmacKeys.set(raw, (key = crypto.subtle.importKey('raw', new Uint8Array(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])));
  return key;
}
const hmacKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

interface Verified {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  email?: unknown;
  client_id?: unknown;
  scope?: unknown;
}

/**
 * The claims of a token this server signed, or a 401 saying why not. A token whose signature and claims
 * were checked is remembered (per key, until it expires): the check gives the same answer every time,
 * and Web Crypto's HMAC, a job on the thread pool, cost ~9 % of the server's time on reads. Whether it
 * has been signed out, or its user disabled, is actorFromToken's question.
 */
async function verify(db: Db, token: string): Promise<Verified> {
  const verified = verifiedTokens(tokenKeyFor(db));
  const hit = verified.get(token);
  if (hit && hit.exp * 1000 > Date.now()) return hit;
  const claims = await verifyAfresh(db, token);
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(token, claims);
  return claims;
}

const MAX_VERIFIED = 10_000;
const verifiedByKey = new WeakMap<Uint8Array, Map<string, Verified>>();
function verifiedTokens(key: Uint8Array): Map<string, Verified> {
  let verified = verifiedByKey.get(key);
  if (!verified) verifiedByKey.set(key, (verified = new Map()));
  return verified;
}

async function verifyAfresh(db: Db, token: string): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, await hmacKey(db), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: [ALGORITHM],
      requiredClaims: ['exp', 'jti', 'sub', 'iat'],
    });
    return payload as Verified;
  } catch (error) {
    const expired = error instanceof joseErrors.JWTExpired;
    throw new AppError('unauthenticated', expired ? 'the session has expired: sign in again' : 'the bearer token is not valid');
  }
}

/** The actor a bearer token speaks for: a 401 if it is not valid, signed out, or its user or client is disabled. */
export async function actorFromToken(db: Db, token: string): Promise<Actor> {
  const claims = await verify(db, token);
  const signIns = signInsOf(db);
  if (typeof claims.client_id === 'string') {
    const scope = typeof claims.scope === 'string' ? claims.scope : '';
    const known = signIns.knownClient(claims.client_id, scope);
    if (known) return known;
    const since = signIns.generation;
    const actor = await clientActor(db, claims.client_id, scope.split(' ').filter(Boolean));
    if (!actor) throw new AppError('unauthenticated', 'this client is not registered or has been disabled');
    signIns.rememberClient(since, scope, actor);
    return actor;
  }
  const known = signIns.knownUser(claims.sub, claims.jti, claims.iat);
  if (known) return known;
  const since = signIns.generation;
  // One query by primary key: is the user still enabled, is this token signed out or from before a password
  // reset, and has their role changed?
  const [now] = await db.query<{ disabled: boolean; revoked: boolean; validAfter: number | null; role: Role; orgCode: string | null }>(
    `SELECT u.disabled_at IS NOT NULL AS disabled, u.role, u.org_code AS "orgCode",
            EXTRACT(EPOCH FROM u.sessions_valid_after)::float8 AS "validAfter",
            EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = $2) AS revoked
       FROM app_user u WHERE u.id = $1`,
    [claims.sub, claims.jti],
  );
  if (!now) throw new AppError('unauthenticated', 'the user of this token no longer exists');
  if (now.revoked) throw new AppError('unauthenticated', 'this session has been signed out: sign in again');
  if (now.disabled) throw new AppError('unauthenticated', 'this account has been disabled');
  if (issuedBefore(claims.iat, now.validAfter)) throw new AppError('unauthenticated', 'your password was reset, which signed this session out: sign in again');
  const recent = signIns.recentActor(claims.sub, now);
  const actor = recent ?? (typeof claims.email === 'string' ? await findActor(db, claims.email) : undefined);
  if (!actor || actor.id !== claims.sub) throw new AppError('unauthenticated', 'the user of this token no longer exists');
  signIns.rememberUser(since, claims.jti, actor, !recent, now.validAfter);
  return actor;
}

/** Signs a token out: it is refused from now on, by every process on the store. Expired entries are swept. */
export async function revokeToken(db: Db, token: string): Promise<void> {
  const claims = await verify(db, token);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM revoked_token WHERE expires_at < now()');
    await tx.query('INSERT INTO revoked_token (jti, expires_at) VALUES ($1, to_timestamp($2)) ON CONFLICT (jti) DO NOTHING', [claims.jti, claims.exp]);
  });
  // Other processes hear of it from the store; this one forgets at once, not when its notification lands.
  forgetSignIn(db, 'token', claims.jti);
}
