/**
 * The one error type domain code throws. Transports map `code` to a status and an
 * OperationOutcome issue type through one table (ERROR_TABLE below; src/http/errors.ts answers with it).
 */
export type ErrorCode =
  | 'invalid' // 422: the request is well-formed but a field is wrong
  | 'bad-request' // 400: the request itself cannot be read
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409: e.g. a duplicate code
  | 'gone' // 410: it existed and was deleted
  | 'precondition-failed' // 412: e.g. If-Match names another version
  | 'too-large' // 413
  | 'unsupported-media-type' // 415
  | 'rate-limited' // 429: too many requests
  | 'locked' // 429: too many failed sign-ins
  | 'unavailable'; // 503: overloaded or down for a moment; try again

export interface ErrorMeaning {
  status: number;
  /** The OperationOutcome issue type (FHIR R4 IssueType) FHIR answers with. */
  issue: string;
  /** The OperationOutcome id, where @medplum/core's getStatus knows one for this status. */
  outcomeId: string;
  /** Narrower issue types of the same meaning an outcome may keep (R4 IssueType: `duplicate` is a kind of conflict). */
  narrower?: readonly string[];
}

/** The ONE table from error codes to HTTP statuses and FHIR issue types, for /api and /fhir alike. */
export const ERROR_TABLE: Record<ErrorCode, ErrorMeaning> = {
  'bad-request': { status: 400, issue: 'invalid', outcomeId: 'bad-request' },
  unauthenticated: { status: 401, issue: 'login', outcomeId: 'unauthorized' },
  forbidden: { status: 403, issue: 'forbidden', outcomeId: 'forbidden' },
  'not-found': { status: 404, issue: 'not-found', outcomeId: 'not-found' },
  conflict: { status: 409, issue: 'conflict', outcomeId: 'conflict', narrower: ['duplicate'] },
  gone: { status: 410, issue: 'deleted', outcomeId: 'gone' },
  'precondition-failed': { status: 412, issue: 'conflict', outcomeId: 'precondition-failed' },
  'too-large': { status: 413, issue: 'too-costly', outcomeId: 'too-large' },
  'unsupported-media-type': { status: 415, issue: 'not-supported', outcomeId: 'unsupported-media-type' },
  invalid: { status: 422, issue: 'invalid', outcomeId: 'business-rule' },
  'rate-limited': { status: 429, issue: 'throttled', outcomeId: 'too-many-requests' },
  locked: { status: 429, issue: 'throttled', outcomeId: 'too-many-requests' },
  unavailable: { status: 503, issue: 'transient', outcomeId: 'unavailable' },
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The offending field, as a dotted path or a CSV column (`practices.csv row 4 column postcode`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const invalid = (field: string, message: string) => new AppError('invalid', message, field);
export const notFound = (what: string) => new AppError('not-found', `${what} was not found`);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const conflict = (message: string, field?: string) => new AppError('conflict', message, field);
