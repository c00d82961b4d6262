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
