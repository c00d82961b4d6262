/** The flattening every rule reads: per resource type and status, dates, codes, values and organisations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { day, DMD_SYSTEM, factsFromFhir, SNOMED_SYSTEM } from './facts-from-fhir.ts';
import type { RecordEntry } from './facts.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const UCUM = 'http://unitsofmeasure.org';
const patient: Patient & { id: string } = {
  resourceType: 'Patient',
  id: 'p1',
  birthDate: '1950-03-04',
  gender: 'female',
  generalPractitioner: [{ identifier: { system: ODS, value: 'y90001' } }],
};
const snomed = (code: string, display = code) => ({ coding: [{ system: SNOMED_SYSTEM, code, display }] });
const subject = { reference: 'Patient/p1' };
const clinical = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
const verification = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] });

/** The one entry made of one resource. */
const only = (resource: Resource): RecordEntry => {
  const { entries } = factsFromFhir(patient, [resource]);
  assert.equal(entries.length, 1);
  return entries[0]!;
};

test('the patient: birth date, sex and registered practice (ODS code, upper case); a partial birth date is no birth date', () => {
  const facts = factsFromFhir(patient, []);
  assert.deepEqual(facts, { patientId: 'p1', birthDate: '1950-03-04', gender: 'female', practice: 'Y90001', entries: [] });
  const partial = factsFromFhir({ ...patient, birthDate: '1950', generalPractitioner: undefined, managingOrganization: { identifier: { system: ODS, value: 'Y90002' } } }, []);
  assert.equal(partial.birthDate, undefined);
  assert.equal(partial.practice, 'Y90002');
  const local = factsFromFhir({ ...patient, generalPractitioner: [{ identifier: { system: 'https://example.org/local', value: 'X1' } }] }, []);
  assert.equal(local.practice, undefined, 'a code in another system is not an ODS code');
});

test('Condition: onset else recorded date; active/recurrence/relapse active, resolved/inactive/remission resolved, refuted and entered-in-error void', () => {
  const condition = (clinicalStatus: string, verificationStatus = 'confirmed', dates: object = { onsetDateTime: '2020-01-02', recordedDate: '2020-02-01' }): Resource => ({
    resourceType: 'Condition',
    id: `c-${clinicalStatus}-${verificationStatus}`,
    clinicalStatus: clinical(clinicalStatus),
    verificationStatus: verification(verificationStatus),
    code: {
      coding: [
        { system: SNOMED_SYSTEM, code: '49436004' },
        { system: 'http://read.info/ctv3', code: 'G573.' },
      ],
    },
    subject,
    asserter: { identifier: { system: ODS, value: 'Y90001' } },
    ...dates,
  });
  assert.deepEqual(only(condition('active')), { type: 'Condition', id: 'c-active-confirmed', codes: ['49436004'], date: '2020-01-02', standing: 'active', organisation: 'Y90001' });
  for (const status of ['recurrence', 'relapse']) assert.equal(only(condition(status)).standing, 'active');
  for (const status of ['resolved', 'inactive', 'remission']) assert.equal(only(condition(status)).standing, 'resolved');
  assert.equal(only(condition('active', 'refuted')).standing, 'void');
  assert.equal(only(condition('active', 'entered-in-error')).standing, 'void');
  assert.equal(only(condition('active', 'unconfirmed')).standing, 'active');
  assert.equal(only(condition('active', 'confirmed', { recordedDate: '2020-02-01' })).date, '2020-02-01', 'no onset: the recorded date');
  assert.equal(only(condition('active', 'confirmed', {})).date, undefined, 'no date at all: undefined, never a guess');
  assert.equal('date' in only(condition('active', 'confirmed', {})), false);
  assert.equal(only(condition('active', 'confirmed', { onsetString: 'childhood' })).date, undefined);
});

test('Observation: effective else issued; final/amended/corrected active, anything else void; value with comparator and UCUM unit; components', () => {
  const observation = (status: string, extra: object = {}): Resource =>
    ({
      resourceType: 'Observation',
      id: `o-${status}`,
      status,
      code: {
        coding: [
          { system: 'http://loinc.org', code: '4548-4' },
          { system: SNOMED_SYSTEM, code: '1049301000000100' },
        ],
      },
      subject,
      effectiveDateTime: '2024-06-01T09:30:00+01:00',
      performer: [{ reference: 'Practitioner/x' }, { identifier: { system: ODS, value: 'Y90003' } }],
      valueQuantity: { value: 59, unit: 'mmol/mol', system: UCUM, code: 'mmol/mol' },
      ...extra,
    }) as Resource;
  assert.deepEqual(only(observation('final')), {
    type: 'Observation',
    id: 'o-final',
    codes: ['1049301000000100'],
    date: '2024-06-01',
    standing: 'active',
    organisation: 'Y90003',
    value: { value: 59, unit: 'mmol/mol' },
  });
  for (const status of ['amended', 'corrected']) assert.equal(only(observation(status)).standing, 'active');
  for (const status of ['entered-in-error', 'cancelled', 'preliminary', 'registered', 'unknown']) assert.equal(only(observation(status)).standing, 'void', status);
  assert.deepEqual(only(observation('final', { valueQuantity: { value: 30, comparator: '<', system: UCUM, code: 'mL/min/{1.73_m2}' } })).value, {
    value: 30,
    unit: 'mL/min/{1.73_m2}',
    comparator: '<',
  });
  assert.deepEqual(only(observation('final', { valueQuantity: { value: 7.5, unit: '%' } })).value, { value: 7.5 }, 'a unit not UCUM-coded is no unit');
  assert.equal(only(observation('final', { valueQuantity: { value: 7, comparator: 'ad' } })).value, undefined, "'ad' says nothing a threshold can use");
  assert.equal(only(observation('final', { valueQuantity: undefined, valueString: 'high' })).value, undefined);
  assert.equal(only(observation('final', { effectiveDateTime: undefined, effectivePeriod: { start: '2024-05-31T23:30:00Z' } })).date, '2024-06-01', 'half past midnight in England (BST)');
  assert.equal(only(observation('final', { effectiveDateTime: undefined, effectiveInstant: '2024-01-31T23:30:00Z' })).date, '2024-01-31', 'GMT: the same day');
  assert.equal(only(observation('final', { effectiveDateTime: undefined, issued: '2024-03-03T10:00:00Z' })).date, '2024-03-03', 'no effective time: issued');
  assert.equal(only(observation('final', { effectiveDateTime: '2024-06' })).date, undefined, 'a month cannot be placed on a day');
  const bp = only(
    observation('final', {
      valueQuantity: undefined,
      component: [
        { code: snomed('72313002'), valueQuantity: { value: 150, system: UCUM, code: 'mm[Hg]' } },
        { code: snomed('1091811000000102'), valueQuantity: { value: 90, comparator: '>=', system: UCUM, code: 'mm[Hg]' } },
        { code: snomed('999'), valueString: 'no number' },
      ],
    }),
  );
  assert.equal(bp.value, undefined);
  assert.deepEqual(bp.components, [
    { codes: ['72313002'], value: { value: 150, unit: 'mm[Hg]' } },
    { codes: ['1091811000000102'], value: { value: 90, unit: 'mm[Hg]', comparator: '>=' } },
  ]);
});

test('MedicationRequest: dm+d and SNOMED codes, authoredOn, requester; active/on-hold active, stopped/completed/cancelled ended, entered-in-error and draft void', () => {
  const request = (status: string, extra: object = {}): Resource =>
    ({
      resourceType: 'MedicationRequest',
      id: `m-${status}`,
      status,
      intent: 'order',
      medicationCodeableConcept: {
        coding: [
          { system: DMD_SYSTEM, code: '42206511000001102' },
          { system: 'https://example.org/local-drugs', code: 'X' },
        ],
        text: 'apixaban',
      },
      subject,
      authoredOn: '2025-11-30',
      requester: { identifier: { system: ODS, value: 'Y90001' }, display: 'Dr A, GP, Practice' },
      ...extra,
    }) as Resource;
  assert.deepEqual(only(request('active')), { type: 'MedicationRequest', id: 'm-active', codes: ['42206511000001102'], date: '2025-11-30', standing: 'active', organisation: 'Y90001' });
  assert.equal(only(request('on-hold')).standing, 'active');
  for (const status of ['stopped', 'completed', 'cancelled', 'unknown']) assert.equal(only(request(status)).standing, 'ended', status);
  for (const status of ['entered-in-error', 'draft']) assert.equal(only(request(status)).standing, 'void', status);
  const byReference = only(request('active', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/m' }, authoredOn: undefined }));
  assert.deepEqual(byReference.codes, [], 'a medicine named by reference has no code here');
  assert.equal(byReference.date, undefined);
});

test('MedicationStatement: effective else dateAsserted; not-taken void, completed ended, intended active', () => {
  const statement = (status: string, extra: object = {}): Resource =>
    ({
      resourceType: 'MedicationStatement',
      id: `s-${status}`,
      status,
      medicationCodeableConcept: snomed('322236009'),
      subject,
      dateAsserted: '2025-01-05',
      informationSource: { identifier: { system: ODS, value: 'FA123' } },
      ...extra,
    }) as Resource;
  assert.deepEqual(only(statement('active', { effectivePeriod: { start: '2024-12-01' } })), {
    type: 'MedicationStatement',
    id: 's-active',
    codes: ['322236009'],
    date: '2024-12-01',
    standing: 'active',
    organisation: 'FA123',
  });
  assert.equal(only(statement('active')).date, '2025-01-05');
  assert.equal(only(statement('intended')).standing, 'active');
  for (const status of ['completed', 'stopped']) assert.equal(only(statement(status)).standing, 'ended');
  for (const status of ['not-taken', 'entered-in-error']) assert.equal(only(statement(status)).standing, 'void');
});

test('Procedure: completed active, not-done and entered-in-error void, in progress not done yet; performer actor or on behalf of', () => {
  const procedure = (status: string, extra: object = {}): Resource =>
    ({
      resourceType: 'Procedure',
      id: `pr-${status}`,
      status,
      code: snomed('182836005', 'Review of medication'),
      subject,
      performedDateTime: '2025-07-07T14:00:00+01:00',
      performer: [{ actor: { reference: 'Practitioner/x' }, onBehalfOf: { identifier: { system: ODS, value: 'fa999' } } }],
      ...extra,
    }) as Resource;
  assert.deepEqual(only(procedure('completed')), { type: 'Procedure', id: 'pr-completed', codes: ['182836005'], date: '2025-07-07', standing: 'active', organisation: 'FA999' });
  for (const status of ['not-done', 'entered-in-error', 'in-progress', 'preparation']) assert.equal(only(procedure(status)).standing, 'void', status);
  assert.equal(only(procedure('stopped')).standing, 'ended');
  assert.equal(only(procedure('completed', { performedDateTime: undefined })).date, undefined);
});

test('Encounter: type codes, period start, service provider; finished counts, planned/cancelled/entered-in-error void', () => {
  const encounter = (status: string): Resource => ({
    resourceType: 'Encounter',
    id: `e-${status}`,
    status: status as 'finished',
    class: { code: 'AMB' },
    type: [snomed('185349003'), { text: 'Community pharmacy medicines review' }, snomed('185349003')],
    subject,
    period: { start: '2025-03-01T10:00:00Z' },
    serviceProvider: { identifier: { system: ODS, value: 'Y90001' } },
  });
  assert.deepEqual(only(encounter('finished')), { type: 'Encounter', id: 'e-finished', codes: ['185349003'], date: '2025-03-01', standing: 'active', organisation: 'Y90001' });
  for (const status of ['planned', 'cancelled', 'entered-in-error']) assert.equal(only(encounter(status)).standing, 'void', status);
});

test('CarePlan and CareTeam: category codes, period start (a plan: else created); ended and void', () => {
  const plan = (status: string, extra: object = {}): Resource =>
    ({ resourceType: 'CarePlan', id: `cp-${status}`, status, intent: 'plan', category: [snomed('736353004')], subject, created: '2025-02-02', ...extra }) as Resource;
  assert.deepEqual(only(plan('active')), { type: 'CarePlan', id: 'cp-active', codes: ['736353004'], date: '2025-02-02', standing: 'active' });
  assert.equal(only(plan('active', { period: { start: '2025-01-01' } })).date, '2025-01-01');
  for (const status of ['completed', 'revoked']) assert.equal(only(plan(status)).standing, 'ended');
  for (const status of ['entered-in-error', 'draft']) assert.equal(only(plan(status)).standing, 'void');
  const team = (status: string): Resource =>
    ({
      resourceType: 'CareTeam',
      id: `ct-${status}`,
      status,
      category: [snomed('713730000'), snomed('1234')],
      subject,
      period: { start: '2024-09-09' },
      managingOrganization: [{ identifier: { system: ODS, value: 'Y90001' } }],
    }) as Resource;
  assert.deepEqual(only(team('active')), { type: 'CareTeam', id: 'ct-active', codes: ['713730000', '1234'], date: '2024-09-09', standing: 'active', organisation: 'Y90001' });
  assert.equal(only(team('inactive')).standing, 'ended');
  for (const status of ['entered-in-error', 'proposed']) assert.equal(only(team(status)).standing, 'void');
});

test('other resource types in the compartment are left out; entries keep the order given', () => {
  const facts = factsFromFhir(patient, [
    { resourceType: 'AllergyIntolerance', id: 'a1', patient: subject },
    { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject },
    { resourceType: 'QuestionnaireResponse', id: 'q1', status: 'completed' },
    { resourceType: 'RiskAssessment', id: 'r1', status: 'final', subject },
    { resourceType: 'Condition', id: 'c1', clinicalStatus: clinical('active'), subject },
  ]);
  assert.deepEqual(
    facts.entries.map((e) => `${e.type}/${e.id}`),
    ['Encounter/e1', 'Condition/c1'],
  );
});

test('day(): dates as written, date-times as England’s day, partial dates and nonsense undefined', () => {
  assert.equal(day('2026-12-04'), '2026-12-04');
  assert.equal(day('2026-07-01T00:30:00+01:00'), '2026-07-01');
  assert.equal(day('2026-06-30T23:30:00Z'), '2026-07-01');
  assert.equal(day('2026-12-31T23:30:00Z'), '2026-12-31');
  assert.equal(day('2026'), undefined);
  assert.equal(day('2026-13'), undefined);
  assert.equal(day(undefined), undefined);
});
