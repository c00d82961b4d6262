/**
 * One patient's stored result, for a person: read under the record's access rules, as opening the patient's
 * record would be (a refusal is the policy's 403 with its reason, and the look or the attempt is audited once,
 * naming the patient), then the result of the current rule set, or a 404 when the patient has none yet.
 */
import { OperationOutcomeError } from '@medplum/core';
import { FhirStoreRepository, parseSearch, SEARCH_LIMITS } from '../../fhir-store/index.ts';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';
import type { PopulationResult } from './results.ts';
import { RULES_VERSION } from './rules-version.ts';
import { storedResult, storedResults } from './stored-results.ts';

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

/** Patients asked for at once by `populationResultsVia`: a care home's residents, an agenda — not a population. */
export const RESULTS_AT_ONCE = 500;

/**
 * Several patients' stored results for work already running as a person (`repo`: the store under their request
 * context): the patients are searched by id through it, so the access policy decides which are returned and the look
 * is audited with the rest of that work; then the results of those patients only, in one query. A patient the person
 * may not open, or not yet scored, is absent from the map.
 */
export async function populationResultsVia(db: Db, repo: FhirStoreRepository, patientIds: string[]): Promise<Map<string, PatientPopulationResult>> {
  const out = new Map<string, PatientPopulationResult>();
  const wanted = [...new Set(patientIds)];
  if (wanted.length > RESULTS_AT_ONCE) throw new AppError('invalid', `at most ${RESULTS_AT_ONCE} patients' results are read at once; ${wanted.length} were asked for`);
  if (wanted.length === 0) return out;
  const allowed: string[] = [];
  // A search takes at most SEARCH_LIMITS.orValues ids in one value: ask in groups of that many.
  for (let at = 0; at < wanted.length; at += SEARCH_LIMITS.orValues) {
    const ids = wanted.slice(at, at + SEARCH_LIMITS.orValues);
    const bundle = await repo.search(parseSearch('Patient', { _id: ids.join(','), _count: String(ids.length), _elements: 'id' }));
    allowed.push(...(bundle.entry ?? []).map((e) => e.resource?.id).filter((id): id is string => !!id));
  }
  for (const [id, stored] of await storedResults(db, allowed, RULES_VERSION)) out.set(id, { ...stored.result, computedAt: stored.computedAt });
  return out;
}
