/** One table from AppError codes to HTTP statuses; every /api error body is {error:{code,message,field?}}. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from '../shared/errors.ts';

export const STATUS: Record<ErrorCode, number> = {
  invalid: 422,
  'bad-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  locked: 429,
  unavailable: 503,
};

export interface ErrorBody {
  error: { code: ErrorCode | 'internal'; message: string; field?: string };
}

/** Translates whatever went wrong into a status and a body a person can act on. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } };
    return { status: STATUS[error.code], body };
  }
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    const first = fastifyError.validation[0]!;
    const field = first.instancePath.replace(/^\//, '').replaceAll('/', '.') || fastifyError.validationContext || 'body';
    return { status: 422, body: { error: { code: 'invalid', message: `${field}: ${first.message}`, field } } };
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: { code: 'too-large', message: 'the request body is too large' } } };
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, body: { error: { code: 'bad-request', message: fastifyError.message } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'something went wrong on the server; it has been logged' } } };
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorBody(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.status(status).send(body);
}
