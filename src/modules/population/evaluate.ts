/**
 * One patient's population-health result on a date: every rule over the same facts. Pure: the same facts
 * and date give the same result, so a re-run changes only what the record changed.
 */
import { findCareGaps } from './care-gaps.ts';
import type { PatientFacts } from './facts.ts';
import { scoreEfi } from './frailty.ts';
import { reviewMedicines } from './medication-review.ts';
import { countLongTermConditions } from './multimorbidity.ts';
import { cohortProfile } from './profile.ts';
import type { PopulationResult } from './results.ts';
import { RULES_VERSION } from './rules-version.ts';

export function evaluatePatient(facts: PatientFacts, asOf: string): PopulationResult {
  const efi = scoreEfi(facts, asOf);
  return {
    patientId: facts.patientId,
    asOf,
    rulesVersion: RULES_VERSION,
    efi,
    smr: reviewMedicines(facts, asOf, efi),
    multimorbidity: countLongTermConditions(facts, asOf),
    careGaps: findCareGaps(facts, asOf, efi),
    profile: cohortProfile(facts, asOf),
  };
}
