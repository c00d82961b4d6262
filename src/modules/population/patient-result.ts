/**
 * One patient's stored result, for a person: read under the record's access rules, as opening the patient's
 * record would be (a refusal is the policy's 403 with its reason, and the look or the attempt is audited once,
 * naming the patient), then the result of the current rule set, or a 404 when the patient has none yet.
 */
import { OperationOutcomeError } from '@medplum/core';
import { FhirStoreRepository } from '../../fhir-store/index.ts';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';
import type { PopulationResult } from './results.ts';
import { RULES_VERSION } from './rules-version.ts';
import { storedResult } from './stored-results.ts';

/** The stored result, and when it was computed (results are kept current from the record's changes). */
export type PatientPopulationResult = PopulationResult & { computedAt: string };

export async function patientPopulationResult(db: Db, actor: Actor, patientId: string, request: RecordRequest['request']): Promise<PatientPopulationResult> {
  const context = await recordContext(db, actor, { request });
  const repo = new FhirStoreRepository(db, context);
  let outcome: 'success' | 'denied' | 'error' = 'success';
  try {
    await repo.readResource('Patient', patientId);
  } catch (error) {
    outcome = error instanceof OperationOutcomeError && repo.touches.some((t) => t.action === 'denied') ? 'denied' : 'error';
    throw error;
  } finally {
    await context.audit.looks(db, repo.touches, outcome);
  }
  const stored = await storedResult(db, patientId, RULES_VERSION);
  if (!stored) throw new AppError('not-found', 'this patient has no population health result yet: it is computed by `pcn population run` and kept current as the record changes');
  return { ...stored.result, computedAt: stored.computedAt };
}
