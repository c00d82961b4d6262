/**
 * Scores patients from their records, as one step of a run or of the change follower: facts, every rule,
 * the results stored, and the frailty RiskAssessment in the record kept to match — all in the caller's
 * transaction, so a batch lands whole or not at all.
 */
import type { RiskAssessment } from '@medplum/fhirtypes';
import { FhirStoreRepository, type PatientCompartment, type RequestContext, writeResources } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { evaluatePatient } from './evaluate.ts';
import { FACT_TYPES, factsFromFhir } from './facts-from-fhir.ts';
import type { PopulationResult } from './results.ts';
import { frailtyRiskAssessment, POPULATION_MODEL_SYSTEM, saysTheSame } from './risk-assessment.ts';
import { saveResults } from './stored-results.ts';

/** What the scoring reads of each record: the entries the rules read, and the RiskAssessments it keeps. */
export const SCORED_TYPES: readonly string[] = [...FACT_TYPES, 'RiskAssessment'];

/** Each patient's result on `asOf`; a rule that fails for one patient fails the batch, naming the patient. */
export function evaluateCompartments(compartments: readonly PatientCompartment[], asOf: string): PopulationResult[] {
  return compartments.map(({ patient, resources }) => {
    try {
      return evaluatePatient(factsFromFhir(patient, resources), asOf);
    } catch (error) {
      throw new Error(`the population rules failed for Patient/${patient.id}: ${(error as Error).message}`);
    }
  });
}

/**
 * Stores the results and brings each patient's frailty RiskAssessment in line with them: those that say
 * something new written together (the store's bulk write), those the record already holds word for word left
 * alone (compared with what the scan read, no read per patient); one audit record for the changes.
 */
export async function storeResults(tx: Db, context: RequestContext, compartments: readonly PatientCompartment[], results: readonly PopulationResult[]): Promise<void> {
  await saveResults(tx, results);
  const repo = new FhirStoreRepository(tx, context, { auditAtEnd: true });
  const changed: Array<RiskAssessment & { id: string }> = [];
  for (const [i, result] of results.entries()) {
    const wanted = frailtyRiskAssessment(result);
    const held = compartments[i]!.resources.filter((r): r is RiskAssessment & { id: string } => r.resourceType === 'RiskAssessment' && isOurs(r));
    for (const stale of held.filter((r) => r.id !== wanted?.id)) await repo.deleteResource('RiskAssessment', stale.id);
    const current = held.find((r) => r.id === wanted?.id);
    if (wanted && !(current && saysTheSame(current, wanted))) changed.push(wanted);
  }
  const written = await writeResources(tx, context, changed);
  await context.audit.changes(tx, [...repo.touches, ...written]);
}

/** A RiskAssessment this module wrote (its method names one of our models), not one a clinician recorded. */
const isOurs = (r: RiskAssessment) => r.method?.coding?.some((c) => c.system === POPULATION_MODEL_SYSTEM) ?? false;
