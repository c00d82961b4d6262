/** Frailty models as data (the eFI first). PLACEHOLDER: the frailty work replaces this file. */
import type { PatientFacts } from './facts.ts';
import type { FrailtyResult, Refusal } from './results.ts';

/** The shipped eFI's score for a patient on a date; null under the model's minimum age. */
export function scoreEfi(_facts: PatientFacts, _asOf: string): FrailtyResult | Refusal | null {
  return null;
}
