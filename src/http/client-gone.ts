import type { FastifyReply } from 'fastify';
import { AppError } from '../shared/errors.ts';

/**
 * A signal that aborts when the client closes the connection before its answer is sent, so the
 * queries the request still runs are cancelled (on PostgreSQL, on the server) instead of running on
 * for nobody. Nothing aborts once the answer has gone.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new AppError('unavailable', 'the client closed the connection; its queries were cancelled'));
  });
  return controller.signal;
}
