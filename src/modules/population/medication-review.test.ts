import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordEntry } from './facts.ts';
import { compileMedicationReview, reviewMedicines } from './medication-review.ts';
import type { FrailtyResult, Refusal, SmrResult } from './results.ts';

import { AS_OF, codeFor, condition, medicine, observation, patient, ruleJson } from './test-patients.ts';

const NSAID = codeFor('pincer-nsaid', /^Ibuprofen 400mg tablets$/);
const NSAID_EYE_DROPS = codeFor('pincer-nsaid', /eye drops/);
const PPI = codeFor('pincer-ppi', /^Esomeprazole 20mg gastro-resistant capsules$/);
const PPI_INJECTION = codeFor('pincer-ppi', /^Esomeprazole 20mg powder for injection/);
const APIXABAN = codeFor('doac', /^Apixaban 5mg tablets$/);
const WARFARIN_1 = codeFor('warfarin', /^Warfarin 1mg tablets \(A A H/);
const WARFARIN_1_OTHER = codeFor('warfarin', /^Warfarin 1mg tablets \(APC/);
const ASPIRIN = codeFor('pincer-antiplatelets', /^Aspirin 75mg dispersible tablets$/);
const MORPHINE = codeFor('opioids-oral', /^Morphine hydrochloride 50mg\/5ml oral solution$/);
const PREGABALIN = codeFor('gabapentinoids', /^Pregabalin 75mg capsules$/);
const GABAPENTIN_GEL = codeFor('gabapentinoids', /^Gabapentin 6% gel$/);
const DIAZEPAM = codeFor('benzodiazepines', /^Diazepam 2mg tablets$/);
const ZOPICLONE = codeFor('z-drugs', /^Zopiclone 7.5mg tablets$/);
const AMITRIPTYLINE_10 = codeFor('gmsde-anticholinergic-medications', /^Amitriptyline 10mg tablets$/);
const AMITRIPTYLINE_25 = codeFor('gmsde-anticholinergic-medications', /^Amitriptyline 25mg tablets$/);
const OXYBUTYNIN = codeFor('gmsde-anticholinergic-medications', /^Oxybutynin 5mg tablets$/);
const PREDNISOLONE = codeFor('corticosteroids-oral-im-iv', /^Prednisolone 5mg tablets$/);
const ALENDRONATE = codeFor('gmsde-bisphosphonates', /^Alendronic acid 70mg tablets$/);
const QUETIAPINE = codeFor('antipsychotics-second-gen', /^Quetiapine 25mg tablets$/);
const DEMENTIA = codeFor('pcd-dem_cod', /^Multi-infarct dementia with delirium$/);
const HEART_FAILURE = codeFor('pcd-hf_cod', /^Heart failure$/);
const CKD_4 = codeFor('pcd-ckd_cod', /^Chronic kidney disease stage 4 due to hypertension$/);
const CKD_1 = codeFor('pcd-ckd1and2_cod', /^Chronic kidney disease stage 1 due to hypertension$/);
const LIVES_IN_CARE_HOME = codeFor('pcd-carehome_cod', /^Lives in care home$/);
const SEEN_IN_NURSING_HOME = codeFor('pcd-carehome_cod', /^Seen in nursing home$/);
const EGFR = '1011481000000105';

/** Under 65 on the as-of date, so the age rule stays quiet unless a test wants it. */
const YOUNG = { birthDate: '1970-01-01' };
const RECENT = '2026-11-01';

function review(entries: RecordEntry[], details = YOUNG, frailty: FrailtyResult | Refusal | null = null): SmrResult | Refusal {
  return reviewMedicines(patient(entries, details), AS_OF, frailty);
}

function reasons(entries: RecordEntry[], details = YOUNG, frailty: FrailtyResult | Refusal | null = null): string[] {
  const result = review(entries, details, frailty);
  assert.ok(!('refused' in result), `refused: ${'refused' in result ? result.reason : ''}`);
  return result.reasons.map((reason) => reason.id);
}

describe('structured medication review: active medicines', () => {
  const tenMedicines = codeForEach('gmsde-bisphosphonates', 10);

  it('makes 10 active medicines a priority and 9 not, listing each medicine', () => {
    const result = review(tenMedicines.map((code) => medicine(code, RECENT)));
    assert.ok(!('refused' in result));
    assert.equal(result.priority, true);
    const polypharmacy = result.reasons.find((reason) => reason.id === 'polypharmacy');
    assert.equal(polypharmacy?.entries.length, 10);
    assert.match(polypharmacy!.entries[0]!.term ?? '', /\w/, 'each medicine is named by its term');
    assert.deepEqual(reasons(tenMedicines.slice(0, 9).map((code) => medicine(code, RECENT))), []);
  });

  it('counts a repeat issue of one product once, and an entry coded as VMP and AMP once', () => {
    const nine = tenMedicines.slice(0, 9).map((code) => medicine(code, RECENT));
    assert.deepEqual(reasons([...nine, medicine(tenMedicines[0]!, '2026-10-01')]), []);
    const twoCodings: RecordEntry = { ...medicine(tenMedicines[9]!, RECENT), codes: [tenMedicines[9]!, tenMedicines[0]!] };
    assert.deepEqual(reasons([...nine, twoCodings]), []);
  });

  it('refuses when uncoded medicines could make the tenth: one may be another medicine or a repeat', () => {
    const nine = tenMedicines.slice(0, 9).map((code) => medicine(code, RECENT));
    const uncoded: RecordEntry = { ...medicine(tenMedicines[0]!, RECENT), codes: [] };
    const result = review([...nine, uncoded]);
    assert.ok('refused' in result);
    assert.match(result.reason, /polypharmacy: 9 distinct active medicines and 1 without a code/);
    assert.deepEqual(
      reasons(
        tenMedicines
          .slice(0, 8)
          .map((code) => medicine(code, RECENT))
          .concat(uncoded),
      ),
      [],
      '8 and 1 uncoded cannot reach 10',
    );
  });

  it('counts a medicine issued within 6 months up to the as-of date: one day outside, after it, stopped or entered in error never counts', () => {
    const nine = tenMedicines.slice(0, 9).map((code) => medicine(code, RECENT));
    const tenth = tenMedicines[9]!;
    assert.deepEqual(reasons([...nine, medicine(tenth, '2026-06-05')]), ['polypharmacy'], 'the first day inside the window');
    assert.deepEqual(reasons([...nine, medicine(tenth, '2026-06-04')]), [], 'one day outside');
    assert.deepEqual(reasons([...nine, medicine(tenth, '2026-12-05')]), [], 'after the as-of date');
    assert.deepEqual(reasons([...nine, medicine(tenth, RECENT, 'ended')]), [], 'stopped');
    assert.deepEqual(reasons([...nine, medicine(tenth, RECENT, 'void')]), [], 'entered in error');
    assert.deepEqual(reasons([...nine, medicine(tenth, AS_OF)]), ['polypharmacy'], 'on the as-of date itself');
  });
});

describe('structured medication review: medicines associated with harm', () => {
  it('NSAID with an oral anticoagulant, listing both medicines; not when the anticoagulant is outside the window, after as-of or void', () => {
    const result = review([medicine(NSAID, RECENT), medicine(APIXABAN, RECENT), medicine(PPI, RECENT)]);
    assert.ok(!('refused' in result));
    const reason = result.reasons.find((r) => r.id === 'nsaid-with-oral-anticoagulant');
    assert.deepEqual(
      reason?.entries.map((e) => e.term),
      ['Ibuprofen 400mg tablets', 'Apixaban 5mg tablets'],
    );
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(APIXABAN, '2026-06-04'), medicine(PPI, RECENT)]), []);
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(APIXABAN, '2026-12-05'), medicine(PPI, RECENT)]), []);
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(APIXABAN, RECENT, 'void'), medicine(PPI, RECENT)]), []);
  });

  it('NSAID at 65 without gastroprotection: 65 fires, 64 does not, a PPI protects, a PPI injection does not, an NSAID eye drop is no NSAID', () => {
    const at65 = { birthDate: '1961-12-04' };
    const at64 = { birthDate: '1961-12-05' };
    assert.deepEqual(reasons([medicine(NSAID, RECENT)], at65), ['nsaid-over-65-without-gastroprotection']);
    assert.deepEqual(reasons([medicine(NSAID, RECENT)], at64), []);
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(PPI, RECENT)], at65), []);
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(PPI_INJECTION, RECENT)], at65), ['nsaid-over-65-without-gastroprotection']);
    assert.deepEqual(reasons([medicine(NSAID_EYE_DROPS, RECENT)], at65), []);
  });

  it('refuses when the age rule decides and there is no birth date; with another reason the priority stands and says what is undetermined', () => {
    const { birthDate: _, ...noBirthDate } = patient([medicine(NSAID, RECENT)]);
    const refused = reviewMedicines(noBirthDate, AS_OF, null);
    assert.ok('refused' in refused);
    assert.match(refused.reason, /nsaid-over-65-without-gastroprotection: no birth date/);
    const withAnticoagulant = { ...noBirthDate, entries: [...noBirthDate.entries, medicine(APIXABAN, RECENT)] };
    const result = reviewMedicines(withAnticoagulant, AS_OF, null);
    assert.ok(!('refused' in result));
    assert.equal(result.priority, true);
    assert.deepEqual(
      result.reasons.map((r) => r.id),
      ['nsaid-with-oral-anticoagulant'],
    );
    assert.deepEqual(
      result.undetermined?.map((u) => u.id),
      ['nsaid-over-65-without-gastroprotection'],
    );
  });

  it('NSAID with an antiplatelet, and an antiplatelet with an anticoagulant, without gastroprotection; a PPI protects both', () => {
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(ASPIRIN, RECENT)]), ['nsaid-with-antiplatelet-without-gastroprotection']);
    assert.deepEqual(reasons([medicine(NSAID, RECENT), medicine(ASPIRIN, RECENT), medicine(PPI, RECENT)]), []);
    assert.deepEqual(reasons([medicine(ASPIRIN, RECENT), medicine(WARFARIN_1, RECENT)]), ['antiplatelet-with-anticoagulant-without-gastroprotection']);
    assert.deepEqual(reasons([medicine(ASPIRIN, RECENT), medicine(WARFARIN_1, RECENT), medicine(PPI, RECENT)]), []);
  });

  it('opioid with a gabapentinoid or a benzodiazepine; gabapentinoid with a Z-drug; gabapentin gel is not a gabapentinoid', () => {
    assert.deepEqual(reasons([medicine(MORPHINE, RECENT), medicine(PREGABALIN, RECENT)]), ['opioid-with-gabapentinoid']);
    assert.deepEqual(reasons([medicine(MORPHINE, RECENT), medicine(GABAPENTIN_GEL, RECENT)]), []);
    assert.deepEqual(reasons([medicine(MORPHINE, RECENT), medicine(DIAZEPAM, RECENT)]), ['opioid-with-benzodiazepine-or-z-drug']);
    assert.deepEqual(reasons([medicine(PREGABALIN, RECENT), medicine(ZOPICLONE, RECENT)]), ['gabapentinoid-with-benzodiazepine-or-z-drug']);
    assert.deepEqual(reasons([medicine(MORPHINE, RECENT)]), []);
    assert.deepEqual(reasons([medicine(PREGABALIN, RECENT), medicine(ZOPICLONE, RECENT, 'ended')]), [], 'the Z-drug was stopped');
    assert.deepEqual(reasons([medicine(MORPHINE, '2026-06-04'), medicine(DIAZEPAM, RECENT)]), [], 'the opioid one day outside 6 months');
  });

  it('two different anticholinergics fire; two strengths of one do not', () => {
    assert.deepEqual(reasons([medicine(AMITRIPTYLINE_10, RECENT), medicine(OXYBUTYNIN, RECENT)]), ['two-or-more-anticholinergics']);
    assert.deepEqual(reasons([medicine(AMITRIPTYLINE_10, RECENT), medicine(AMITRIPTYLINE_25, RECENT)]), []);
  });

  it('two different oral anticoagulants fire; warfarin from two suppliers does not', () => {
    assert.deepEqual(reasons([medicine(WARFARIN_1, RECENT), medicine(APIXABAN, RECENT)]), ['two-oral-anticoagulants']);
    assert.deepEqual(reasons([medicine(WARFARIN_1, RECENT), medicine(WARFARIN_1_OTHER, RECENT)]), []);
  });

  it('long-term oral steroid (2 issues in 6 months, 3 months apart) without a bisphosphonate in 12 months', () => {
    const steroid = [medicine(PREDNISOLONE, '2026-07-01'), medicine(PREDNISOLONE, '2026-10-01')];
    assert.deepEqual(reasons(steroid), ['long-term-oral-steroid-without-bone-protection']);
    assert.deepEqual(reasons([medicine(PREDNISOLONE, '2026-07-02'), medicine(PREDNISOLONE, '2026-10-01')]), [], 'under 3 months apart');
    assert.deepEqual(reasons([medicine(PREDNISOLONE, '2026-10-01')]), [], 'one issue');
    assert.deepEqual(reasons([...steroid, medicine(ALENDRONATE, '2025-12-05')]), [], 'a bisphosphonate 12 months back protects');
    assert.deepEqual(reasons([...steroid, medicine(ALENDRONATE, '2025-12-04')]), ['long-term-oral-steroid-without-bone-protection'], 'one day outside 12 months');
  });

  it('DOAC with eGFR below 30: 29 fires, 30 does not, "<30" fires, "<31" is refused, a foreign unit is refused, an eGFR over 12 months old is not read', () => {
    const doac = medicine(APIXABAN, RECENT);
    const egfr = (value: number, extra: Partial<{ comparator: '<'; unit: string }> = {}, date = '2026-10-01') => observation(EGFR, date, { value, unit: 'mL/min/{1.73_m2}', ...extra });
    assert.deepEqual(reasons([doac, egfr(29)]), ['doac-with-low-egfr']);
    assert.deepEqual(reasons([doac, egfr(30)]), []);
    assert.deepEqual(reasons([doac, egfr(30, { comparator: '<' })]), ['doac-with-low-egfr']);
    const straddling = review([doac, egfr(31, { comparator: '<' })]);
    assert.ok('refused' in straddling);
    assert.match(straddling.reason, /doac-with-low-egfr: eGFR on 2026-10-01: the value <31 lies on both sides of < 30/);
    const foreign = review([doac, egfr(29, { unit: 'mmol/L' })]);
    assert.ok('refused' in foreign && /mmol\/L/.test(foreign.reason));
    assert.deepEqual(reasons([doac, egfr(25, {}, '2025-12-04')]), [], 'the only eGFR is one day outside 12 months');
    assert.deepEqual(reasons([doac, egfr(25, {}, '2025-12-04'), egfr(45)]), [], 'the latest eGFR decides');
  });

  it('antipsychotic with dementia; NSAID with heart failure or CKD 3–5 (a later CKD stage 1–2 code ends the CKD register)', () => {
    assert.deepEqual(reasons([condition(DEMENTIA, '2020-01-01'), medicine(QUETIAPINE, RECENT)]), ['antipsychotic-in-dementia']);
    assert.deepEqual(reasons([medicine(QUETIAPINE, RECENT)]), []);
    assert.deepEqual(reasons([condition(HEART_FAILURE, '2020-01-01'), medicine(NSAID, RECENT)]), ['nsaid-with-heart-failure']);
    assert.deepEqual(reasons([condition(CKD_4, '2020-01-01'), medicine(NSAID, RECENT)]), ['nsaid-with-ckd']);
    assert.deepEqual(reasons([condition(CKD_4, '2020-01-01'), condition(CKD_1, '2021-01-01'), medicine(NSAID, RECENT)]), []);
    assert.deepEqual(reasons([condition(HEART_FAILURE, '2020-01-01', 'void'), medicine(NSAID, RECENT)]), [], 'a diagnosis entered in error');
  });
});

describe('structured medication review: care home and frailty', () => {
  it('a care-home resident by the latest residence entry; moved out (ended) or only seen there is not', () => {
    assert.deepEqual(reasons([condition(LIVES_IN_CARE_HOME, '2024-01-01')]), ['care-home']);
    assert.deepEqual(reasons([condition(LIVES_IN_CARE_HOME, '2024-01-01'), condition(LIVES_IN_CARE_HOME, '2025-01-01', 'ended')]), []);
    assert.deepEqual(reasons([condition(SEEN_IN_NURSING_HOME, '2026-01-01')]), []);
    assert.deepEqual(reasons([condition(LIVES_IN_CARE_HOME, '2026-12-05')]), [], 'recorded after the as-of date');
  });

  it('severe frailty is a priority, moderate is not; a frailty refusal refuses only when nothing else decides', () => {
    const frailty = (category: string): FrailtyResult => ({ model: 'efi', modelVersion: '1', score: 0.4, category, deficits: [] });
    assert.deepEqual(reasons([], YOUNG, frailty('severe')), ['severe-frailty']);
    assert.deepEqual(reasons([], YOUNG, frailty('moderate')), []);
    const refusal: Refusal = { refused: true, reason: 'no birth date on the record' };
    assert.ok('refused' in review([], YOUNG, refusal));
    assert.deepEqual(reasons([condition(LIVES_IN_CARE_HOME, '2024-01-01')], YOUNG, refusal), ['care-home']);
  });
});

describe('medication review rule file', () => {
  const shipped = ruleJson('medication-review.json') as { harmRules: { id: string; when: object[] }[] };

  it('ships at least 12 harm rules', () => {
    assert.ok(shipped.harmRules.length >= 12);
  });

  it('refuses a malformed rule, naming the file and the rule', () => {
    const broken = structuredClone(shipped);
    broken.harmRules[1]!.when = [{ medicine: 'nsaid', register: 'dementia' }];
    assert.throws(
      () => compileMedicationReview(broken, 'rules/medication-review.json'),
      /medication review rules\/medication-review\.json, rule "nsaid-over-65-without-gastroprotection" \(harmRules\[1\]\.when\[0\]\): a condition has exactly one of/,
    );
    const unknownClass = structuredClone(shipped);
    unknownClass.harmRules[0]!.when = [{ medicine: 'nsaids' }];
    assert.throws(
      () => compileMedicationReview(unknownClass, 'rules/medication-review.json'),
      /medication review rules\/medication-review\.json, rule "nsaid-with-oral-anticoagulant": no medicine class "nsaids"/,
    );
    const twice = structuredClone(shipped);
    twice.harmRules[1]!.id = twice.harmRules[0]!.id;
    assert.throws(() => compileMedicationReview(twice, 'rules/medication-review.json'), /rule id "nsaid-with-oral-anticoagulant" is used twice/);
  });
});

function codeForEach(list: string, count: number): string[] {
  const codes: string[] = [];
  const seen = new Set<string>();
  for (const term of ['Alendronic', 'Risedronate', 'Ibandronic', 'Zoledronic', 'Etidronate', 'Sodium clodronate', 'Pamidronate', 'Tiludronic', 'Fosavance', 'Actonel']) {
    const code = codeFor(list, new RegExp(`^${term}`, 'i'));
    if (!seen.has(code)) codes.push(code);
    seen.add(code);
  }
  if (codes.length < count) throw new Error(`only ${codes.length} distinct products found in ${list}`);
  return codes.slice(0, count);
}
