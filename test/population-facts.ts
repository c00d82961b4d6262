/**
 * Hand-built patients for the population rules' tests: record entries in the facts shape (facts.ts), each
 * with a fresh id, recorded by a synthetic practice unless the test says otherwise.
 */
import type { EntryValue, PatientFacts, RecordEntry } from '../src/modules/population/index.ts';

let ids = 0;
const nextId = () => `entry-${++ids}`;

export function condition(code: string, date = '2020-01-01', more: Partial<RecordEntry> = {}): RecordEntry {
  return { type: 'Condition', id: nextId(), codes: [code], date, standing: 'active', organisation: 'D82001', ...more };
}

export function observation(code: string, value: EntryValue, date = '2026-06-01'): RecordEntry {
  return { type: 'Observation', id: nextId(), codes: [code], date, standing: 'active', value };
}

export function issue(codes: string[], date = '2026-06-01', more: Partial<RecordEntry> = {}): RecordEntry {
  return { type: 'MedicationRequest', id: nextId(), codes, date, standing: 'active', ...more };
}

/** 65 on 2026-12-04 unless the test gives a birth date. */
export function patient(entries: RecordEntry[], more: Partial<PatientFacts> = {}): PatientFacts {
  return { patientId: 'p', birthDate: '1961-12-04', gender: 'female', entries, ...more };
}
