import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordEntry } from './facts.ts';
import { cohortProfile } from './profile.ts';
import { AS_OF, codeFor, condition, patient } from './test-patients.ts';

const housebound = codeFor('housebound', /housebound/i);
const noLongerHousebound = codeFor('no-longer-housebound', /no longer housebound/i);
const livesInCareHome = codeFor('pcd-carehome_cod', /^Lives in care home$/i);
const encounter = (date: string, standing: RecordEntry['standing'] = 'active'): RecordEntry => ({ type: 'Encounter', id: `enc-${date}`, codes: [], date, standing });

test('housebound while the latest housebound code is after the latest no-longer-housebound one', () => {
  assert.equal(cohortProfile(patient([condition(housebound, '2025-01-01')]), AS_OF).housebound, true);
  assert.equal(cohortProfile(patient([condition(housebound, '2025-01-01'), condition(noLongerHousebound, '2025-06-01')]), AS_OF).housebound, false);
  assert.equal(cohortProfile(patient([condition(noLongerHousebound, '2024-01-01'), condition(housebound, '2025-06-01')]), AS_OF).housebound, true);
  assert.equal(cohortProfile(patient([condition(housebound, '2027-01-01')]), AS_OF).housebound, false, 'a code after the as-of day is not yet on the record');
});

test('a care-home resident while the latest residence entry stands; one recorded ended means moved out', () => {
  assert.equal(cohortProfile(patient([condition(livesInCareHome, '2025-03-01')]), AS_OF).careHome, true);
  assert.equal(cohortProfile(patient([condition(livesInCareHome, '2025-03-01', 'ended')]), AS_OF).careHome, false);
  assert.equal(cohortProfile(patient([]), AS_OF).careHome, false);
});

test('the last contact is the latest encounter on or before the as-of day, not a void one', () => {
  const profile = cohortProfile(patient([encounter('2026-03-01'), encounter('2026-11-30'), encounter('2026-12-01', 'void'), encounter('2026-12-05')]), AS_OF);
  assert.equal(profile.lastContact, '2026-11-30');
  assert.equal(cohortProfile(patient([]), AS_OF).lastContact, undefined);
});

test('where the patient is registered and lives, their birth date and sex come from the facts as they are', () => {
  const profile = cohortProfile(patient([], { practice: 'Z90101', postcode: 'NR1 3SR', birthDate: '1950-01-01', gender: 'female' }), AS_OF);
  assert.deepEqual(profile, { practice: 'Z90101', postcode: 'NR1 3SR', birthDate: '1950-01-01', gender: 'female', careHome: false, housebound: false });
});
