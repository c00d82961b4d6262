/** Runs a referral use case as the actor: their access rules and audit (record's request context); looks audited after. */
import { OperationOutcomeError } from '@medplum/core';
import type { AppError } from '../../shared/errors.ts';
import { asActor, type RecordRequest } from '../record/index.ts';

export type ReferralRequest = RecordRequest['request'];

/** The record's one way to run store work as a person: access rules, audit of their writes and (once) their looks. */
export { asActor };

/** The store's status for a refusal it raised (an OperationOutcome), or null for anything else. */
export function outcomeCode(error: unknown): string | null {
  if (!(error instanceof OperationOutcomeError)) return null;
  return error.outcome.id ?? error.outcome.issue?.[0]?.code ?? null;
}

/** Reads one resource; a missing one is the AppError given (a 422 naming the field, or a 404). */
export async function readOr<T>(read: () => Promise<T>, missing: () => AppError): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const code = outcomeCode(error);
    if (code === 'not-found' || code === 'gone' || code === 'deleted') throw missing();
    throw error;
  }
}
