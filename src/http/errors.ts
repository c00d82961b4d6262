/**
 * Errors answered from ONE table (ERROR_TABLE in src/shared/errors.ts): /api answers
 * {error:{code,message,field?}}, /fhir an OperationOutcome with the table's issue type; both with its status.
 */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_TABLE, type ErrorCode, type ErrorMeaning } from '../shared/errors.ts';
import { isForPeople } from '../shared/schemas.ts';
import { appErrorOutcome } from '../fhir-store/index.ts';

export const STATUS = Object.fromEntries(Object.entries(ERROR_TABLE).map(([code, meaning]) => [code, meaning.status])) as Record<ErrorCode, number>;

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface ErrorBody {
  /** `errors`: every field found wrong, when more than one was (the first is `message` and `field`). */
  error: { code: ErrorCode | 'internal'; message: string; field?: string; errors?: FieldProblem[] };
}

interface FieldProblem {
  message: string;
  field: string;
}

/** A request with one or more fields wrong, each named, so a form can show every problem at once. */
class FieldErrors extends AppError {
  constructor(readonly problems: [FieldProblem, ...FieldProblem[]]) {
    super('invalid', problems[0].message, problems[0].field);
  }
}

/** Whatever went wrong as an AppError of the table, or undefined when the server itself failed (a 500). */
export function asAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    const problems = fastifyError.validation.map((issue): FieldProblem => {
      const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || fastifyError.validationContext || 'body';
      // A message written for people ("Select the PCN the practice is moving to") is answered as it is; a rule's
      // terse words ("a date is written yyyy-mm-dd", zod's own) are prefixed with the field they are about.
      const message = issue.message ?? 'is not valid';
      return { message: isForPeople(message) ? message : `${field}: ${message}`, field };
    });
    // One problem a field: zod may say two things about one value.
    const firstOfEach = problems.filter((p, i) => problems.findIndex((q) => q.field === p.field) === i);
    return new FieldErrors(firstOfEach as [FieldProblem, ...FieldProblem[]]);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('too-large', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported-media-type', 'the body’s media type is not accepted: send JSON (application/fhir+json to /fhir)', 'content-type');
    case 'FST_UNDER_PRESSURE':
      return new AppError('unavailable', 'the server is busy: try again shortly');
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) return new AppError(codeForStatus(status), fastifyError.message);
  return undefined;
}

/** Translates whatever went wrong into a status and a body a person can act on. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  const known = asAppError(error);
  if (!known) return { status: 500, body: { error: { code: 'internal', message: 'something went wrong on the server; it has been logged' } } };
  const errors = known instanceof FieldErrors && known.problems.length > 1 ? { errors: known.problems } : {};
  return { status: STATUS[known.code], body: { error: { code: known.code, message: known.message, ...(known.field ? { field: known.field } : {}), ...errors } } };
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorBody(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.status(status).send(body);
}

/**
 * FHIR's answer to whatever went wrong: an AppError (or a Fastify error) from the table, an
 * OperationOutcomeError (from medplum or the store) with its own status, anything else a logged 500.
 */
export function toOutcome(error: unknown): { status: number; outcome: OperationOutcome } {
  if (error instanceof OperationOutcomeError) return { status: outcomeStatus(error.outcome), outcome: error.outcome };
  const known = asAppError(error);
  if (known) return { status: STATUS[known.code], outcome: appErrorOutcome(known) };
  return {
    status: 500,
    outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', details: { text: 'the server failed to handle this request; it has been logged' } }] },
  };
}

export function sendFhirError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, outcome } = toOutcome(error);
  if (status >= 500) request.log.error({ err: error }, 'FHIR request failed');
  return sendOutcome(reply, outcome, status);
}

/** Sends an OperationOutcome; an error outcome whose id names a row of the table speaks with that row's issue type. */
export function sendOutcome(reply: FastifyReply, outcome: OperationOutcome, status = outcomeStatus(outcome)) {
  return reply
    .status(status)
    .type(FHIR_JSON)
    .send(status >= 400 ? outcomeInTableWords(outcome) : outcome);
}

/** The HTTP status of an OperationOutcome: the table's for its id, else medplum's reading of it. */
export function outcomeStatus(outcome: OperationOutcome): number {
  return rowOf(outcome.id)?.status ?? getStatus(outcome);
}

const rowOf = (id: string | undefined): ErrorMeaning | undefined => (id === undefined ? undefined : Object.values(ERROR_TABLE).find((meaning) => meaning.outcomeId === id));

/** An error outcome with the issue type of its row of the table (a narrower type of the same meaning kept). */
export function outcomeInTableWords(outcome: OperationOutcome): OperationOutcome {
  const row = rowOf(outcome.id);
  // A validation outcome's issues each name their own problem (required, value, invariant …): kept.
  if (!row || row === ERROR_TABLE.invalid) return outcome;
  const code = row.issue as OperationOutcomeIssue['code'];
  const keeps = (issue: OperationOutcomeIssue) => (issue.severity !== 'error' && issue.severity !== 'fatal' ? true : (row.narrower ?? []).includes(issue.code));
  return { ...outcome, issue: (outcome.issue ?? []).map((issue) => (keeps(issue) ? issue : { ...issue, code })) };
}

function codeForStatus(status: number): ErrorCode {
  const codes = Object.keys(ERROR_TABLE) as ErrorCode[];
  return codes.find((code) => ERROR_TABLE[code].status === status) ?? 'bad-request';
}
