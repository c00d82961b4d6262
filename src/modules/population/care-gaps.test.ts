import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCareGaps, findCareGaps } from './care-gaps.ts';
import type { PatientFacts, RecordEntry } from './facts.ts';
import type { CareGapFinding, FrailtyResult, Refusal } from './results.ts';
import { AS_OF, bloodPressure, codeFor, condition, medicine, observation, patient, ruleJson } from './test-patients.ts';

const AF = codeFor('pcd-afib_cod', /^Atrial fibrillation$/);
const HYPERTENSION = codeFor('pcd-hyp_cod', /^Essential hypertension$/);
const HYPERTENSION_RESOLVED = codeFor('pcd-hypres_cod', /^Hypertension resolved$/);
const DIABETES = codeFor('pcd-dm_cod', /^Diabetes mellitus type 2 without retinopathy$/);
const DIABETES_RESOLVED = codeFor('pcd-dmres_cod', /^Diabetes resolved$/);
const STROKE = codeFor('pcd-strk_cod', /^Stroke of uncertain pathology$/);
const HBA1C = codeFor('pcd-ifcchbam_cod', /^Haemoglobin A1c level - International Federation/);
const COPD = codeFor('pcd-copd_cod', /^Chronic obstructive pulmonary disease$/);
const COPD_RESOLVED = codeFor('pcd-copdres_cod', /resolved/);
const COPD_REVIEW = codeFor('copd-review-qof', /^Chronic obstructive pulmonary disease annual review$/);
const DEMENTIA = codeFor('pcd-dem_cod', /^Multi-infarct dementia with delirium$/);
const DEMENTIA_CARE_PLAN_REVIEW = codeFor('gmsde-dementia-care-plan', /^Review of dementia advance care plan$/);
const DEMENTIA_CARE_PLAN_DECLINED = codeFor('gmsde-dementia-care-plan', /^Dementia care plan declined$/);
const DEMENTIA_INVITATION = codeFor('gmsde-dementia-care-plan', /^Dementia monitoring first letter$/);
const LEARNING_DISABILITY = codeFor('pcd-ld_cod', /^Severe learning disability$/);
const SCHIZOPHRENIA = codeFor('pcd-mh_cod', /^Schizophrenia$/);
const LIVES_IN_CARE_HOME = codeFor('pcd-carehome_cod', /^Lives in care home$/);
const MEDICATION_REVIEW = codeFor('pcd-medrvw_cod', /^Structured medication review$/);
const APIXABAN = codeFor('doac', /^Apixaban 5mg tablets$/);

const SINCE_DIAGNOSIS = '2020-03-01';

type Found = ReturnType<typeof findCareGaps>[number];

function gaps(facts: PatientFacts, frailty: FrailtyResult | Refusal | null = null): Found[] {
  return findCareGaps(facts, AS_OF, frailty);
}

/** The one finding of a gap, or undefined when the patient is not on its register or denominator. */
function gap(id: string, entries: RecordEntry[], details: Partial<Omit<PatientFacts, 'entries'>> = {}, frailty: FrailtyResult | Refusal | null = null): Found | undefined {
  return gaps(patient(entries, details), frailty).find((finding) => finding.id === id);
}

function status(found: Found | undefined): string {
  if (found === undefined) return 'not listed';
  return 'refused' in found ? 'refused' : `${found.status}${found.since ? ` since ${found.since}` : ''}`;
}

describe('care gap: atrial fibrillation with CHA₂DS₂-VASc 2 or more not anticoagulated', () => {
  const af = condition(AF, SINCE_DIAGNOSIS);

  it('a woman of 65 scores 2 (age 1, sex 1): open without an anticoagulant, closed with one', () => {
    const details = { birthDate: '1961-12-04', gender: 'female' } as const;
    assert.equal(status(gap('af-anticoagulation', [af], details)), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('af-anticoagulation', [af, medicine(APIXABAN, '2026-11-01')], details)), 'closed since 2026-11-01');
    assert.equal(status(gap('af-anticoagulation', [af, medicine(APIXABAN, '2026-06-05')], details)), 'closed since 2026-06-05', 'issued on the first day of the 6 months');
    assert.equal(status(gap('af-anticoagulation', [af, medicine(APIXABAN, '2026-06-04')], details)), 'open since 2026-12-04', 'one day outside: the gap opened the day it fell out');
    assert.equal(status(gap('af-anticoagulation', [af, medicine(APIXABAN, '2026-11-01', 'void')], details)), `open since ${SINCE_DIAGNOSIS}`, 'entered in error');
  });

  it('a man of 75 scores 2 on age alone; a man of 64 with nothing else is out; a man of 65 with nothing else is refused (vascular disease has no list)', () => {
    assert.equal(status(gap('af-anticoagulation', [af], { birthDate: '1951-12-04', gender: 'male' })), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('af-anticoagulation', [af], { birthDate: '1962-01-01', gender: 'male' })), 'not listed');
    const refused = gap('af-anticoagulation', [af], { birthDate: '1961-12-04', gender: 'male' });
    assert.ok(refused && 'refused' in refused);
    assert.match(refused.reason, /CHA₂DS₂-VASc is 1 to 2: vascular disease \(no code list\) cannot be determined/);
  });

  it('stroke scores 2 and hypertension, diabetes and heart failure 1 each; a resolved hypertension does not score', () => {
    const man50 = { birthDate: '1976-01-01', gender: 'male' } as const;
    assert.equal(status(gap('af-anticoagulation', [af, condition(STROKE, '2019-01-01')], man50)), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('af-anticoagulation', [af, condition(HYPERTENSION, '2019-01-01'), condition(DIABETES, '2019-01-01')], man50)), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('af-anticoagulation', [af, condition(HYPERTENSION, '2019-01-01'), condition(HYPERTENSION_RESOLVED, '2022-01-01'), condition(DIABETES, '2019-01-01')], man50)), 'refused');
  });

  it('sex not recorded is a range: decided when the rest reaches 2, refused when it could', () => {
    assert.equal(status(gap('af-anticoagulation', [af, condition(STROKE, '2019-01-01')], { birthDate: '1976-01-01', gender: 'unknown' })), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('af-anticoagulation', [af], { birthDate: '1976-01-01', gender: 'unknown' })), 'refused');
    assert.equal(status(gap('af-anticoagulation', [af], { birthDate: undefined as unknown as string })), 'refused', 'no birth date');
  });
});

describe('care gap: diabetes HbA1c', () => {
  const diabetes = condition(DIABETES, SINCE_DIAGNOSIS);
  const hba1c = (value: number, date = '2026-06-01', extra: { comparator?: '<' | '<='; unit?: string } = {}) => observation(HBA1C, date, { value, unit: 'mmol/mol', ...extra });

  it('58 closes the gap, 59 opens it on the day of the result', () => {
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(58)])), 'closed since 2026-06-01');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(59)])), 'open since 2026-06-01');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(70, '2026-01-01'), hba1c(50)])), 'closed since 2026-06-01', 'the latest result decides');
  });

  it('counts a result within 12 months: the first day inside closes, one day outside leaves the gap open since it fell out', () => {
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(50, '2025-12-05')])), 'closed since 2025-12-05');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(50, '2025-12-04')])), 'open since 2026-12-04');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(50, '2026-12-05')])), `open since ${SINCE_DIAGNOSIS}`, 'a result after the as-of date');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, observation(HBA1C, '2026-06-01', { value: 50, unit: 'mmol/mol' }, 'void')])), `open since ${SINCE_DIAGNOSIS}`, 'entered in error');
  });

  it('a comparator is read exactly: "<=58" closes, "<59" straddles the target and is refused; a percentage is refused', () => {
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(58, '2026-06-01', { comparator: '<=' })])), 'closed since 2026-06-01');
    const straddling = gap('diabetes-hba1c', [diabetes, hba1c(59, '2026-06-01', { comparator: '<' })]);
    assert.ok(straddling && 'refused' in straddling);
    assert.match(straddling.reason, /HbA1c \(IFCC\) on 2026-06-01: the value <59 lies on both sides of <= 58/);
    assert.equal(status(gap('diabetes-hba1c', [diabetes, hba1c(6.5, '2026-06-01', { unit: '%' })])), 'refused');
  });

  it('is listed only on the register (a later resolved code ends it) and from age 17', () => {
    assert.equal(status(gap('diabetes-hba1c', [diabetes, condition(DIABETES_RESOLVED, '2023-01-01')])), 'not listed');
    assert.equal(status(gap('diabetes-hba1c', [diabetes, condition(DIABETES_RESOLVED, '2019-01-01')])), `open since ${SINCE_DIAGNOSIS}`, 'diagnosed again after the resolution');
    assert.equal(status(gap('diabetes-hba1c', [diabetes], { birthDate: '2009-12-05' })), 'not listed', '16 on the as-of date');
    assert.equal(status(gap('diabetes-hba1c', [diabetes], { birthDate: '2009-12-04' })), `open since ${SINCE_DIAGNOSIS}`, '17 on the as-of date');
  });
});

describe('care gap: hypertension blood pressure', () => {
  const hypertension = condition(HYPERTENSION, SINCE_DIAGNOSIS);
  const at79 = { birthDate: '1946-12-05' };
  const at80 = { birthDate: '1946-12-04' };
  const bp = (systolic: number, diastolic: number, date = '2026-09-01') => bloodPressure(date, systolic, diastolic);

  it('under 80: 140/90 closes, 141/90 and 140/91 open', () => {
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(140, 90)], at79)), 'closed since 2026-09-01');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(141, 90)], at79)), 'open since 2026-09-01');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(140, 91)], at79)), 'open since 2026-09-01');
  });

  it('at 80 and over: 141/90 and 150/90 close, 151/90 opens', () => {
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(141, 90)], at80)), 'closed since 2026-09-01');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(150, 90)], at80)), 'closed since 2026-09-01');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(151, 90)], at80)), 'open since 2026-09-01');
  });

  it('reads separate systolic and diastolic observations of one day, the lowest of the day; a day with only one of them is no reading', () => {
    const systolic = codeFor('bp-systolic-qof', /^Systolic blood pressure$/);
    const diastolic = codeFor('gmsde-diastolic-bp', /^Diastolic arterial pressure$/);
    const separate = [observation(systolic, '2026-09-01', { value: 138, unit: 'mm[Hg]' }), observation(diastolic, '2026-09-01', { value: 85, unit: 'mm[Hg]' })];
    assert.equal(status(gap('hypertension-bp', [hypertension, ...separate], at79)), 'closed since 2026-09-01');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(160, 95), bp(135, 85)], at79)), 'closed since 2026-09-01', 'a repeat reading the same day');
    const half = [observation(systolic, '2026-10-01', { value: 170, unit: 'mm[Hg]' })];
    assert.equal(status(gap('hypertension-bp', [hypertension, ...separate, ...half], at79)), 'closed since 2026-09-01', 'a systolic alone is no reading');
  });

  it('no blood pressure within 12 months opens the gap from the day the last one fell out', () => {
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(120, 80, '2025-12-04')], at79)), 'open since 2026-12-04');
    assert.equal(status(gap('hypertension-bp', [hypertension, bp(120, 80, '2025-12-05')], at79)), 'closed since 2025-12-05');
    assert.equal(status(gap('hypertension-bp', [hypertension], at79)), `open since ${SINCE_DIAGNOSIS}`);
  });
});

describe('care gaps: annual reviews', () => {
  it('COPD review within 12 months closes; one day outside opens; a resolved COPD is not listed', () => {
    const copd = condition(COPD, SINCE_DIAGNOSIS);
    assert.equal(status(gap('copd-review', [copd, observation(COPD_REVIEW, '2025-12-05')])), 'closed since 2025-12-05');
    assert.equal(status(gap('copd-review', [copd, observation(COPD_REVIEW, '2025-12-04')])), 'open since 2026-12-04');
    assert.equal(status(gap('copd-review', [copd, condition(COPD_RESOLVED, '2024-01-01')])), 'not listed');
  });

  it('asthma review from age 6: the first day of the window closes, one day outside opens', () => {
    const asthma = condition(codeFor('pcd-ast_cod', /^Asthma$/), SINCE_DIAGNOSIS);
    const review = codeFor('asthma-review-qof', /^Asthma annual review$/);
    assert.equal(status(gap('asthma-review', [asthma, observation(review, '2025-12-05')])), 'closed since 2025-12-05');
    assert.equal(status(gap('asthma-review', [asthma, observation(review, '2025-12-04')])), 'open since 2026-12-04');
    assert.equal(status(gap('asthma-review', [asthma], { birthDate: '2020-12-05' })), 'not listed', '5 on the as-of date');
  });

  it('dementia: a care-plan review closes, an invitation letter does not, a decline in the window leaves the patient out', () => {
    const dementia = condition(DEMENTIA, SINCE_DIAGNOSIS);
    assert.equal(status(gap('dementia-care-plan-review', [dementia, observation(DEMENTIA_CARE_PLAN_REVIEW, '2025-12-05')])), 'closed since 2025-12-05');
    assert.equal(status(gap('dementia-care-plan-review', [dementia, observation(DEMENTIA_CARE_PLAN_REVIEW, '2025-12-04')])), 'open since 2026-12-04');
    assert.equal(status(gap('dementia-care-plan-review', [dementia, observation(DEMENTIA_INVITATION, '2026-03-01')])), `open since ${SINCE_DIAGNOSIS}`);
    assert.equal(status(gap('dementia-care-plan-review', [dementia, observation(DEMENTIA_CARE_PLAN_DECLINED, '2026-03-01')])), 'not listed');
    assert.equal(status(gap('dementia-care-plan-review', [dementia, observation(DEMENTIA_CARE_PLAN_DECLINED, '2025-12-04')])), `open since ${SINCE_DIAGNOSIS}`, 'a decline outside the window');
  });

  it('care-home resident without a medication review in 12 months', () => {
    const home = condition(LIVES_IN_CARE_HOME, '2024-05-01');
    assert.equal(status(gap('care-home-medication-review', [home])), 'open since 2024-05-01');
    assert.equal(status(gap('care-home-medication-review', [home, observation(MEDICATION_REVIEW, '2025-12-05')])), 'closed since 2025-12-05');
    assert.equal(status(gap('care-home-medication-review', [home, observation(MEDICATION_REVIEW, '2025-12-04')])), 'open since 2026-12-04');
    assert.equal(status(gap('care-home-medication-review', [home, observation(MEDICATION_REVIEW, '2026-12-05')])), 'open since 2024-05-01', 'a review after the as-of date');
  });

  it('learning disability and severe mental illness checks are refused: no verified codes for their numerators', () => {
    const ld = gap('learning-disability-health-check', [condition(LEARNING_DISABILITY, SINCE_DIAGNOSIS)]);
    assert.ok(ld && 'refused' in ld);
    assert.match(ld.reason, /no published list or verifiable SNOMED CT code/);
    assert.equal(status(gap('learning-disability-health-check', [condition(LEARNING_DISABILITY, SINCE_DIAGNOSIS)], { birthDate: '2013-01-01' })), 'not listed', 'under 14');
    assert.equal(status(gap('smi-physical-health-check', [condition(SCHIZOPHRENIA, SINCE_DIAGNOSIS)])), 'refused');
    assert.equal(status(gap('smi-physical-health-check', [])), 'not listed');
  });
});

describe('care gap: frailty care plan and coordinator', () => {
  const frailty = (category: string): FrailtyResult => ({ model: 'efi', modelVersion: '1', score: 0.3, category, deficits: [] });
  const carePlan = (standing: 'active' | 'ended' = 'active'): RecordEntry => ({ type: 'CarePlan', id: `cp-${standing}`, codes: [], date: '2026-04-01', standing });
  const careTeam: RecordEntry = { type: 'CareTeam', id: 'ct', codes: [], date: '2026-05-01', standing: 'active' };

  it('moderate frailty with an active care plan and care team is closed; either missing, or the plan ended, is open', () => {
    assert.equal(status(gap('frailty-care-plan', [carePlan(), careTeam], {}, frailty('moderate'))), 'closed since 2026-05-01');
    assert.equal(status(gap('frailty-care-plan', [carePlan()], {}, frailty('severe'))), 'open');
    assert.equal(status(gap('frailty-care-plan', [careTeam], {}, frailty('severe'))), 'open');
    assert.equal(status(gap('frailty-care-plan', [carePlan('ended'), careTeam], {}, frailty('severe'))), 'open');
  });

  it('mild frailty and no eFI (under 65) are not listed; an eFI refusal is refused', () => {
    assert.equal(status(gap('frailty-care-plan', [], {}, frailty('mild'))), 'not listed');
    assert.equal(status(gap('frailty-care-plan', [], {}, null)), 'not listed');
    assert.equal(status(gap('frailty-care-plan', [], {}, { refused: true, reason: 'no birth date on the record' })), 'refused');
  });
});

describe('care gaps: explanations and the rule file', () => {
  it('an open gap lists the register entry, a closed one the entry that closed it', () => {
    const found = gap('diabetes-hba1c', [condition(DIABETES, SINCE_DIAGNOSIS), observation(HBA1C, '2026-06-01', { value: 50, unit: 'mmol/mol' })]) as CareGapFinding;
    assert.deepEqual(
      found.entries.map((entry) => [entry.type, entry.date, entry.term]),
      [
        ['Condition', SINCE_DIAGNOSIS, 'Diabetes mellitus type 2 without retinopathy'],
        ['Observation', '2026-06-01', 'Haemoglobin A1c level - International Federation of Clinical Chemistry and Laboratory Medicine standardised'],
      ],
    );
    assert.match(found.reason, /HbA1c \(IFCC\) 58 or less on 2026-06-01/);
  });

  it('ships at least 8 gaps and refuses a malformed one, naming the file and the gap', () => {
    const shipped = ruleJson('care-gaps.json') as { gaps: { id: string; numerator: object; register: object }[] };
    assert.ok(shipped.gaps.length >= 8);
    const broken = structuredClone(shipped);
    broken.gaps[3]!.numerator = { event: 'copdReview' };
    assert.throws(() => compileCareGaps(broken, 'rules/care-gaps.json'), /care gaps rules\/care-gaps\.json, gap "copd-review" \(gaps\[3\]\.numerator\): an event numerator needs withinMonths/);
    const unknownRegister = structuredClone(shipped);
    unknownRegister.gaps[1]!.register = { code: 'diabetic' };
    assert.throws(() => compileCareGaps(unknownRegister, 'rules/care-gaps.json'), /care gaps rules\/care-gaps\.json, gap "diabetes-hba1c": no register "diabetic"/);
  });
});
