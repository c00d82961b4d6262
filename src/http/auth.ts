import type { FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.ts';
import type { Db } from '../storage/db.ts';
import type { Actor } from '../modules/access/index.ts';
import { actorFromToken } from '../modules/access/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
}

// Checking a token costs a signature check and a user lookup; a minute's memory of the answer keeps
// reads fast. A deleted user's token stops working within that minute.
const REMEMBER_MS = 60_000;
const remembered = new Map<string, { at: number; actor: Actor }>();

/** The signed-in actor of a request, from `Authorization: Bearer <token>`, or a 401. */
export async function requireActor(db: Db, request: FastifyRequest): Promise<Actor> {
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!token) throw new AppError('unauthenticated', 'sign in first: send Authorization: Bearer <token>');
  const hit = remembered.get(token);
  if (hit && Date.now() - hit.at < REMEMBER_MS) return (request.actor = hit.actor);
  const actor = await actorFromToken(db, token);
  if (remembered.size > 10_000) remembered.clear();
  remembered.set(token, { at: Date.now(), actor });
  return (request.actor = actor);
}

/**
 * The path of a request URL with percent-encoded unreserved characters decoded (RFC 3986 6.2.2.2:
 * `/%61pi/%50cns` is `/api/Pcns`), the way the router reads it; reserved ones (`%2F`, `%24`…) stay encoded.
 */
export function normalisedPath(url: string): string {
  const path = url.split('?', 1)[0]!;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded;
  });
}
