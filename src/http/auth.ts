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

/** The bearer token of a request (`Authorization: Bearer <token>`), or a 401. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const token = /^bearer /i.test(header ?? '') ? header!.slice(7).trim() : undefined;
  if (!token) throw new AppError('unauthenticated', 'sign in first: send Authorization: Bearer <token>');
  return token;
}

/**
 * The signed-in actor of a request, or a 401. Checked once a request (the onRequest hook and the routes
 * share the answer); every check asks the database whether the user or client is still enabled and the
 * token not signed out, so disabling and signing out take effect at once (tokens.ts).
 */
export async function requireActor(db: Db, request: FastifyRequest): Promise<Actor> {
  if (request.actor) return request.actor;
  const actor = await actorFromToken(db, bearerToken(request));
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
