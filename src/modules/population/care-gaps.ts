/** Care gaps declared as register / denominator / numerator / window / exclusions. PLACEHOLDER: the care-gaps work replaces this file. */
import type { PatientFacts } from './facts.ts';
import type { FrailtyResult, PopulationResult, Refusal } from './results.ts';

export function findCareGaps(_facts: PatientFacts, _asOf: string, _frailty: FrailtyResult | Refusal | null): PopulationResult['careGaps'] {
  return [];
}
