/**
 * What cohorts and dashboards filter and group by, beside the rules' findings: where the patient is registered
 * and lives, their age and sex, whether they live in a care home or are housebound (the same QOF-style register
 * rule as the care gaps), and when any agency last saw them. Kept in the result so the stored projection
 * (population_patient) is derived from the result alone.
 */
import type { PatientFacts } from './facts.ts';
import type { CohortProfile } from './results.ts';
import { indexPatient, onRegister, type Vocabulary, vocabulary } from './rule-data.ts';

function register(words: Vocabulary, key: string) {
  const found = words.registers.get(key);
  if (!found) throw new Error(`rules/definitions.json: no register "${key}" (the cohort profile reads it)`);
  return found;
}

export function cohortProfile(facts: PatientFacts, asOf: string, words: Vocabulary = vocabulary()): CohortProfile {
  const index = indexPatient(facts, asOf, words);
  let lastContact: string | undefined;
  for (const entry of facts.entries) {
    if (entry.type !== 'Encounter' || entry.standing === 'void' || !entry.date || entry.date > asOf) continue;
    if (!lastContact || entry.date > lastContact) lastContact = entry.date;
  }
  return {
    ...(facts.practice ? { practice: facts.practice } : {}),
    ...(facts.birthDate ? { birthDate: facts.birthDate } : {}),
    ...(facts.gender ? { gender: facts.gender } : {}),
    ...(facts.postcode ? { postcode: facts.postcode } : {}),
    careHome: onRegister(index, register(words, 'careHomeResident')) !== undefined,
    housebound: onRegister(index, register(words, 'housebound')) !== undefined,
    ...(lastContact ? { lastContact } : {}),
  };
}
