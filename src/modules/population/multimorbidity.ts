/** Multimorbidity from a declared list of long-term conditions. PLACEHOLDER: the frailty work replaces this file. */
import type { PatientFacts } from './facts.ts';
import type { MultimorbidityResult } from './results.ts';

export function countLongTermConditions(_facts: PatientFacts, _asOf: string): MultimorbidityResult {
  return { count: 0, multimorbid: false, complex: false, conditions: [] };
}
