/** Structured medication review priority. PLACEHOLDER: the medicines work replaces this file. */
import type { PatientFacts } from './facts.ts';
import type { FrailtyResult, Refusal, SmrResult } from './results.ts';

export function reviewMedicines(_facts: PatientFacts, _asOf: string, _frailty: FrailtyResult | Refusal | null): SmrResult | Refusal {
  return { priority: false, reasons: [] };
}
