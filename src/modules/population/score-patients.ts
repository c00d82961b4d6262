/**
 * Scores patients from their facts, as one step of a run or of the change follower: every rule, the results
 * stored, and the frailty RiskAssessment in the record kept to match — all in the caller's transaction, so a
 * batch lands whole or not at all.
 */
import type { RiskAssessment } from '@medplum/fhirtypes';
import { type ChangeHandler, FhirStoreRepository, readCompartments, type RequestContext, writeResources } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { evaluatePatient } from './evaluate.ts';
import { FACT_TYPES } from './facts-from-fhir.ts';
import { type HeldAssessment, patchedWithNewEntries, patientsChangedBy, removeFacts, type ScoredPatient, saveFacts, scoredPatientOf } from './facts-store.ts';
import type { PopulationResult } from './results.ts';
import { assessmentSays, frailtyRiskAssessment } from './risk-assessment.ts';
import { removeResults, resultSays, saveResults } from './stored-results.ts';

/** What the scoring reads of each record: the entries the rules read, and the RiskAssessments it keeps. */
export const SCORED_TYPES: readonly string[] = [...FACT_TYPES, 'RiskAssessment'];

/** The changes that may alter a score: the Patient, the entries the rules read, and (ours edited by others) RiskAssessments. */
export const FOLLOWED_TYPES: readonly string[] = ['Patient', ...SCORED_TYPES];

/** Each patient's result on `asOf`; a rule that fails for one patient fails the batch, naming the patient. */
export function evaluatePatients(patients: readonly ScoredPatient[], asOf: string): PopulationResult[] {
  return patients.map(({ facts }) => {
    try {
      return evaluatePatient(facts, asOf);
    } catch (error) {
      throw new Error(`the population rules failed for Patient/${facts.patientId}: ${(error as Error).message}`);
    }
  });
}

export interface StoreResultsOptions {
  /**
   * What each patient's stored result says, and its day (a run): a result that says the same, on a day not
   * before the stored one, is left as it is — the run confirmed it. Without this every result is written.
   */
  stored?: ReadonlyMap<string, { says: string; asOf: string }>;
}

/**
 * Stores the results that say something new and brings each patient's frailty RiskAssessment in line with
 * them: those that say something new written together (the store's bulk write), those the record already holds
 * saying the same left alone (compared with what `held` says, no read per patient); one audit record for the
 * changes. Returns the patients whose held assessments changed, with what they hold now, and how many
 * assessments it wrote or removed.
 */
export async function storeResults(
  tx: Db,
  context: RequestContext,
  patients: readonly Pick<ScoredPatient, 'held'>[],
  results: readonly PopulationResult[],
  options: StoreResultsOptions = {},
): Promise<{ held: Map<string, HeldAssessment[]>; writes: number }> {
  const says = results.map(resultSays);
  const unchanged = results.map((result, i) => {
    const stored = options.stored?.get(result.patientId);
    return stored !== undefined && stored.says === says[i] && stored.asOf <= result.asOf;
  });
  await saveResults(
    tx,
    results.flatMap((result, i) => (unchanged[i] ? [] : [{ result, says: says[i]! }])),
  );

  const repo = new FhirStoreRepository(tx, context, { auditAtEnd: true });
  const changed: Array<RiskAssessment & { id: string }> = [];
  const changedFor: string[] = [];
  const heldNow = new Map<string, HeldAssessment[]>();
  for (const [i, result] of results.entries()) {
    const wanted = frailtyRiskAssessment(result);
    const held = patients[i]!.held;
    const stale = held.filter((h) => h.id !== wanted?.id);
    for (const { id } of stale) await repo.deleteResource('RiskAssessment', id);
    const current = held.find((h) => h.id === wanted?.id);
    const wantedSays = wanted ? assessmentSays(wanted) : undefined;
    const same = current && wanted && current.says === wantedSays && (current.on ?? '') <= (wanted.occurrenceDateTime ?? '');
    if (wanted && !same) {
      changed.push(wanted);
      changedFor.push(result.patientId);
    }
    if (stale.length > 0 || (wanted && !same)) heldNow.set(result.patientId, current && same ? [current] : []);
  }
  const written = await writeResources(tx, context, changed);
  for (const [i, w] of written.entries()) {
    const assessment = changed[i]!;
    heldNow.get(changedFor[i]!)!.push({ id: w.id, versionId: w.versionId, says: assessmentSays(assessment), on: assessment.occurrenceDateTime! });
  }
  await context.audit.changes(tx, [...repo.touches, ...written]);
  return { held: heldNow, writes: repo.touches.length + written.length };
}

/**
 * The change feed's handler for population health (the server's follower, and a run catching up before it
 * scores): the records the changes touched read whole (or, where the only change is new entries, their facts
 * kept with the new entries added), their facts kept, their scores as of `asOf()` stored, and the results and
 * facts of patients no longer in the store forgotten.
 */
export function rescoreChanges(context: RequestContext, asOf: () => string): ChangeHandler {
  return async (changes, tx) => {
    const patientIds = await patientsChangedBy(tx, changes);
    // Records whose only change is new entries: their facts kept, with the new entries; the others read whole.
    const patched = await patchedWithNewEntries(tx, context, changes, patientIds);
    const whole = patientIds.filter((id) => !patched.has(id));
    const compartments = await readCompartments(tx, context, whole, SCORED_TYPES);
    // A patient no longer in the store (deleted): their result and facts go with their record.
    const found = new Set(compartments.map((c) => c.patient.id));
    const gone = whole.filter((id) => !found.has(id));
    await removeResults(tx, gone);
    await removeFacts(tx, gone);
    const patients = [...compartments.map(scoredPatientOf), ...patched.values()];
    const { held } = await storeResults(tx, context, patients, evaluatePatients(patients, asOf()));
    await saveFacts(
      tx,
      patients.map((p) => ({ ...p, held: held.get(p.facts.patientId) ?? p.held })),
    );
  };
}
