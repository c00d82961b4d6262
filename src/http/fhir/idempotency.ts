/**
 * `Idempotency-Key` on FHIR writes (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a
 * POST, PUT, PATCH or DELETE under /fhir sent with a key is answered once; a retry with the same key
 * and the same request gets the same answer (marked `Idempotent-Replayed: true`) and writes nothing.
 * The store keeps the answers (fhir-store/idempotency.ts); this file reads the header and refuses
 * what cannot be honoured.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { appErrorOutcome, runIdempotently, IDEMPOTENCY_HOURS, type RememberedResponse } from '../../fhir-store/index.ts';
import { AppError, type ErrorCode } from '../../shared/errors.ts';
import { FHIR_JSON, STATUS } from '../errors.ts';
import type { Db } from '../../storage/db.ts';

/** What a FHIR request is answered: status, headers and body text, sent as they are. */
export type FhirAnswer = RememberedResponse;

const HEADER = 'Idempotency-Key';
const MAX_KEY_LENGTH = 255;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Request headers that change what a write does: part of "the same request", with method, URL and body. */
const CONDITIONS = ['if-match', 'if-none-exist', 'if-none-match'];

/**
 * Answers the request through `answer` (given the database to write on), under the request's
 * Idempotency-Key when it is a write that sends one; otherwise exactly as without this function.
 */
export async function answerIdempotently(db: Db, request: FastifyRequest, actorId: string, answer: (db: Db) => Promise<FhirAnswer>): Promise<FhirAnswer> {
  const sent = request.headers['idempotency-key'];
  if (sent === undefined || !isWrite(request)) return answer(db);
  const key = keyOf(Array.isArray(sent) ? sent.join(', ') : sent);
  if (key === undefined) return refusal('bad-request', `${HEADER} must be 1 to ${MAX_KEY_LENGTH} characters`);
  const result = await runIdempotently(db, { actor: actorId, key, requestHash: requestHash(request) }, answer);
  switch (result.kind) {
    case 'answered':
      return result.response;
    case 'replayed':
      return { ...result.response, headers: { ...result.response.headers, 'idempotent-replayed': 'true' } };
    case 'mismatch':
      return refusal('invalid', `this ${HEADER} was used in the last ${IDEMPOTENCY_HOURS} hours for a different request (method, URL, conditions or body); send a new key with a new request`);
    case 'in-progress':
      return { ...refusal('conflict', `a request with this ${HEADER} is still being processed; retry when it has finished`), headers: { 'content-type': FHIR_JSON, 'retry-after': '1' } };
  }
}

/** A write, not a search sent by POST (a read, which a retry cannot duplicate). */
const isWrite = (request: FastifyRequest) => WRITES.has(request.method) && !(request.method === 'POST' && /\/_search(\?|$)/.test(request.url));

/** The key, from a bare token or a structured-field string (`"…"`, as the draft writes it); undefined when empty or too long. */
function keyOf(value: string): string | undefined {
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(value.trim());
  const key = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : value.trim();
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH ? key : undefined;
}

function requestHash(request: FastifyRequest): string {
  const hash = createHash('sha256').update(`${request.method} ${request.url}\n`);
  for (const name of CONDITIONS) hash.update(`${name}: ${request.headers[name] ?? ''}\n`);
  return hash.update(JSON.stringify(request.body ?? null)).digest('hex');
}

/** A refusal naming the header, its status and issue type from the one error table. */
function refusal(code: ErrorCode, text: string): FhirAnswer {
  const outcome = appErrorOutcome(new AppError(code, text, `http.${HEADER}`));
  return { status: STATUS[code], headers: { 'content-type': FHIR_JSON }, body: JSON.stringify(outcome) };
}
