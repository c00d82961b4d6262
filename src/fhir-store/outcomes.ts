/** OperationOutcomes the record raises, built in one place (medplum's helpers plus ours). */
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { AppError } from '../shared/errors.ts';

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

/** Our AppErrors (e.g. an unknown search parameter) in FHIR's words. */
export function toOutcomeError(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  if (error.code === 'forbidden') return forbiddenOutcome(error.message);
  if (error.code === 'invalid') return unprocessable([invalidAt(error.field ?? '', error.message)]);
  return new OperationOutcomeError(badRequest(error.message, error.field));
}

export const informational = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'information', code: 'informational', details: { text } }],
});
