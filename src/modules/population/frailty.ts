/**
 * The shipped frailty model: the eFI (Clegg 2016) as declared in rules/efi.json, read and compiled once.
 * The model format and scoring live in frailty-model.ts; another model (e.g. a weighted eFI2) is another file.
 */
import type { PatientFacts } from './facts.ts';
import { type FrailtyModel, loadFrailtyModel, scoreFrailty } from './frailty-model.ts';
import type { FrailtyResult, Refusal } from './results.ts';

let efi: FrailtyModel | undefined;

/** The eFI model, compiled on first use (a malformed rules/efi.json fails here, naming the deficit). */
export function efiModel(): FrailtyModel {
  return (efi ??= loadFrailtyModel(new URL('./rules/efi.json', import.meta.url)));
}

/** The shipped eFI's score for a patient on a date; null under the model's minimum age. */
export function scoreEfi(facts: PatientFacts, asOf: string): FrailtyResult | Refusal | null {
  return scoreFrailty(efiModel(), facts, asOf);
}
