/** Runs a referral use case as the actor: their access rules and audit (record's request context); looks audited after. */
import { OperationOutcomeError } from '@medplum/core';
import { FhirStoreRepository } from '../../fhir-store/index.ts';
import type { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';

export type ReferralRequest = RecordRequest['request'];

export async function asActor<T>(db: Db, actor: Actor, request: ReferralRequest, work: (repo: FhirStoreRepository) => Promise<T>): Promise<T> {
  const context = await recordContext(db, actor, { request });
  const repo = new FhirStoreRepository(db, context);
  try {
    return await work(repo);
  } finally {
    await context.audit.looks(db, repo.touches);
  }
}

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
