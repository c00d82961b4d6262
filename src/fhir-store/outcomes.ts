/** OperationOutcomes the record raises, built in one place (medplum's helpers plus ours). */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { AppError, ERROR_TABLE } from '../shared/errors.ts';

/** Marks a validation failure: medplum's getStatus answers 422 for this id, also for batch entries. */
export const UNPROCESSABLE_ID = 'business-rule';

export function unprocessable(issues: OperationOutcomeIssue[]): OperationOutcomeError {
  return new OperationOutcomeError({ resourceType: 'OperationOutcome', id: UNPROCESSABLE_ID, issue: issues });
}

export const invalidAt = (expression: string, text: string): OperationOutcomeIssue => ({
  severity: 'error',
  code: 'invalid',
  details: { text },
  expression: [expression],
});

export function forbiddenOutcome(text: string): OperationOutcomeError {
  return new OperationOutcomeError({ resourceType: 'OperationOutcome', id: 'forbidden', issue: [{ severity: 'error', code: 'forbidden', details: { text } }] });
}

/** An AppError in FHIR's words: the id and issue type of the one error table (src/shared/errors.ts). */
export function appErrorOutcome(error: AppError): OperationOutcome {
  const { issue, outcomeId } = ERROR_TABLE[error.code];
  return {
    resourceType: 'OperationOutcome',
    id: outcomeId,
    issue: [{ severity: 'error', code: issue as OperationOutcomeIssue['code'], details: { text: error.message }, ...(error.field ? { expression: [error.field] } : {}) }],
  };
}

/** Our AppErrors (e.g. an unknown search parameter) in FHIR's words. */
export function toOutcomeError(error: unknown): unknown {
  return error instanceof AppError ? new OperationOutcomeError(appErrorOutcome(error)) : error;
}

export const informational = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'information', code: 'informational', details: { text } }],
});
