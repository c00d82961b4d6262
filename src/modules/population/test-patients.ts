/**
 * Hand-built patients for the rule tests: entries are made from a published list's code chosen by its term, so
 * a test reads "Ibuprofen 400mg tablets" rather than a bare number, and fails loudly if the list changes.
 */
import { readFileSync } from 'node:fs';
import { codeList } from './codelists.ts';
import type { EntryStanding, EntryValue, PatientFacts, RecordEntry } from './facts.ts';

/** The test as-of date; windows are counted back from it. */
export const AS_OF = '2026-12-04';

/** The code in a published list whose term matches, or an error naming the list. */
export function codeFor(list: string, term: RegExp): string {
  for (const [code, t] of codeList(list).terms) if (term.test(t)) return code;
  throw new Error(`no term matching ${term} in code list "${list}"`);
}

let next = 0;
const id = (prefix: string): string => `${prefix}-${++next}`;

export function medicine(code: string, date: string, standing: EntryStanding = 'active'): RecordEntry {
  return { type: 'MedicationRequest', id: id('med'), codes: [code], date, standing };
}

export function condition(code: string, date: string, standing: EntryStanding = 'active'): RecordEntry {
  return { type: 'Condition', id: id('cond'), codes: [code], date, standing };
}

export function observation(code: string, date: string, value?: EntryValue, standing: EntryStanding = 'active'): RecordEntry {
  return { type: 'Observation', id: id('obs'), codes: [code], date, standing, ...(value ? { value } : {}) };
}

export function bloodPressure(date: string, systolic: number, diastolic: number): RecordEntry {
  return {
    type: 'Observation',
    id: id('bp'),
    codes: ['75367002'],
    date,
    standing: 'active',
    components: [
      { codes: [codeFor('bp-systolic-qof', /^Systolic blood pressure$/)], value: { value: systolic, unit: 'mm[Hg]' } },
      { codes: [codeFor('gmsde-diastolic-bp', /^Diastolic arterial pressure$/)], value: { value: diastolic, unit: 'mm[Hg]' } },
    ],
  };
}

export function patient(entries: RecordEntry[], details: Partial<Omit<PatientFacts, 'entries'>> = {}): PatientFacts {
  return { patientId: id('patient'), birthDate: '1950-01-01', gender: 'female', ...details, entries };
}

/** A shipped rule file's JSON, for tests that break a copy of it. */
export function ruleJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./rules/${name}`, import.meta.url), 'utf8'));
}
