/**
 * The one error type domain code throws. Transports map `code` to a status and an
 * OperationOutcome issue type through one table (src/http/errors.ts).
 */
export type ErrorCode =
  | 'invalid' // 422: the request is well-formed but a field is wrong
  | 'bad-request' // 400: the request itself cannot be read
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409: e.g. a duplicate code
  | 'too-large' // 413
  | 'locked' // 429: too many failed sign-ins
  | 'unavailable'; // 503

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
