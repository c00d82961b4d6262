import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Bundle, CarePlan, Condition, MedicationRequest, Observation, Procedure, Resource } from '@medplum/fhirtypes';
import { codeList, codesOf } from '../modules/population/index.ts';
import { MEDICINE_CLASSES, MEDICINES, OBSERVATIONS, PROBLEMS, REVIEWS, SEX_CODES } from './clinical-tables.ts';
import { demoArea } from './demo-area.ts';
import { DMD_SYSTEM, SYNTHETIC_AS_OF, ageOn, efiDeficitsOfCode, syntheticPopulation } from './synthetic-population.ts';

const SNOMED = 'http://snomed.info/sct';
const ADDITIONS = JSON.parse(readFileSync(new URL('./data/codes-outside-published-lists.json', import.meta.url), 'utf8')) as { codes: { code: string }[] };
const ADDED_CODES = new Set(ADDITIONS.codes.map((c) => c.code));

/** The published lists each register's problem codes must sit in (the QOF / PCD refsets the rules read). */
const REGISTERS: Record<string, readonly string[]> = {
  hypertension: ['pcd-hyp_cod'],
  diabetes: ['pcd-dm_cod'],
  'diabetes-type-1': ['pcd-dm_cod'],
  'atrial-fibrillation': ['pcd-afib_cod'],
  'heart-failure': ['pcd-hf_cod'],
  'stroke-tia': ['pcd-strk_cod', 'pcd-tia_cod'],
  ckd: ['pcd-ckd_cod'],
  copd: ['pcd-copd_cod'],
  asthma: ['pcd-ast_cod'],
  'cognitive-problems': ['pcd-dem_cod'],
  'learning-disability': ['pcd-ld_cod'],
  'severe-mental-illness': ['pcd-mh_cod'],
  'care-home': ['pcd-carehome_cod'],
};
/** The published lists of each medicine class the rules read (as the population module's definitions join them). */
const CLASS_LISTS: Record<string, readonly string[]> = {
  nsaid: ['pincer-nsaid'],
  oralAnticoagulant: ['pincer-oral-anticoagulants', 'doac', 'warfarin'],
  doac: ['doac'],
  gastroprotection: ['pincer-ppi'],
  antiplatelet: ['pincer-antiplatelets'],
  opioid: ['opioids-oral', 'opioids-transdermal', 'opioids-pain-dfm'],
  gabapentinoid: ['gabapentinoids'],
  benzodiazepineOrZDrug: ['benzodiazepines', 'z-drugs'],
  anticholinergic: ['gmsde-anticholinergic-medications'],
  oralCorticosteroid: ['corticosteroids-oral-im-iv', 'oral-prednisolone', 'gmsde-prednisolone-oral'],
  bisphosphonate: ['gmsde-bisphosphonates'],
  antipsychotic: ['antipsychotics-first-gen', 'antipsychotics-second-gen', 'antipsychotics-depot-lai'],
};
const classCodes = (name: string) => codesOf(CLASS_LISTS[name] ?? []);

test('every problem on a register is coded from its published refset; every other coded problem is an eFI code or outside every rule', () => {
  const allRegisters = codesOf(Object.values(REGISTERS).flat());
  for (const spec of PROBLEMS) {
    const sexCodes = SEX_CODES[spec.key];
    const codes = [...spec.codes, ...(sexCodes ? [...sexCodes.female, ...sexCodes.male] : [])].map(([code]) => code);
    const lists = REGISTERS[spec.key];
    for (const code of codes) {
      if (lists) assert.ok(codesOf(lists).has(code), `${spec.key}: ${code} is in ${lists.join(' or ')}`);
      else if (spec.key !== 'care-requirement') assert.ok(!allRegisters.has(code), `${spec.key}: ${code} would put a patient on a register the problem is not`);
      if (spec.efi) assert.ok(efiDeficitsOfCode(code).includes(spec.efi), `${spec.key}: ${code} is in the eFI '${spec.efi}' list`);
    }
  }
  assert.ok(!codesOf(['pcd-dem_cod']).has('386806002'), 'a code outside the refset is not in it (the check can fail)');
});

test('every medicine a rule reads carries the dm+d VMP code its published list gives its exact name; every other medicine is in no rule list', () => {
  const ruleCodes = codesOf(Object.values(CLASS_LISTS).flat());
  const classed = new Set(Object.values(MEDICINE_CLASSES).flat());
  for (const [key, medicine] of Object.entries(MEDICINES)) {
    if (medicine.list) {
      assert.ok(medicine.dmd, `${key} names a list, so it has a code`);
      assert.equal(codeList(medicine.list).terms.get(medicine.dmd), medicine.name, `${key}: ${medicine.dmd} is '${medicine.name}' in ${medicine.list}`);
    }
    if (classed.has(key)) assert.ok(medicine.list, `${key} is in a class a rule reads, so its code comes from a list`);
    else if (medicine.dmd) assert.ok(!ruleCodes.has(medicine.dmd), `${key} (${medicine.dmd}) is in no class yet sits in a rule's list`);
  }
  for (const [name, keys] of Object.entries(MEDICINE_CLASSES)) {
    const codes = classCodes(name);
    for (const key of keys) assert.ok(codes.has(MEDICINES[key]?.dmd ?? ''), `${key} is a ${name} by the published lists`);
  }
  assert.ok(!classCodes('nsaid').has(MEDICINES.paracetamol?.dmd ?? ''), 'paracetamol is not an NSAID');
});

test('observations and reviews a rule reads are coded from the published lists (or the declared additions)', () => {
  const snomedOf = (concept: { coding?: { system?: string; code?: string }[] }) => concept.coding?.find((c) => c.system === SNOMED)?.code ?? '';
  assert.ok(codeList('pcd-ifcchbam_cod').codes.has(snomedOf(OBSERVATIONS.hba1c.code)));
  assert.ok(codesOf(['bp-systolic-qof', 'gmsde-systolic-bp']).has(snomedOf(OBSERVATIONS.bloodPressure.systolic)));
  assert.ok(codeList('gmsde-diastolic-bp').codes.has(snomedOf(OBSERVATIONS.bloodPressure.diastolic)));
  const egfr = snomedOf(OBSERVATIONS.egfr.code);
  assert.ok(ADDED_CODES.has(egfr), 'the eGFR code is a declared addition');
  const published = codesOf(['pcd-ifcchbam_cod', 'hba1c-tests', 'pcd-ckd_cod', 'bp-systolic-qof']);
  for (const code of ADDED_CODES) assert.ok(!published.has(code), `${code} is an addition, not already published`);
  for (const review of REVIEWS) assert.ok(codeList(review.list).codes.has(review.code), `${review.key}: ${review.code} is in ${review.list}`);
  for (const spec of OBSERVATIONS.efiValues) assert.ok(ADDED_CODES.has(snomedOf(spec.code)), `${spec.key}: ${snomedOf(spec.code)} is a declared addition`);
});

// --- a generated population: every hazard and care gap occurs, and most people have none ---

const PATIENTS = 4_000;
const asOf = SYNTHETIC_AS_OF;
const daysBefore = (days: number) => new Date(Date.parse(asOf) - days * 86_400_000).toISOString().slice(0, 10);
const sixMonthsAgo = daysBefore(182);
const yearAgo = daysBefore(365);

interface Seen {
  age: number;
  sex: string;
  problems: Set<string>;
  /** dm+d codes of medicines issued in the last 6 months (a rule's "active"), with their issue dates. */
  medicines: Map<string, string[]>;
  resources: Resource[];
}

function seen(bundle: Bundle): Seen {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const patient = resources.find((r) => r.resourceType === 'Patient');
  const problems = new Set(resources.filter((r): r is Condition => r.resourceType === 'Condition').flatMap((c) => (c.code?.coding ?? []).filter((x) => x.system === SNOMED).map((x) => x.code ?? '')));
  const medicines = new Map<string, string[]>();
  for (const m of resources.filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest')) {
    const code = m.medicationCodeableConcept?.coding?.find((c) => c.system === DMD_SYSTEM)?.code;
    if (!code || (m.authoredOn ?? '') < sixMonthsAgo) continue;
    medicines.set(code, [...(medicines.get(code) ?? []), m.authoredOn ?? '']);
  }
  return {
    age: ageOn(patient?.resourceType === 'Patient' ? (patient.birthDate ?? '') : '', asOf),
    sex: patient?.resourceType === 'Patient' ? (patient.gender ?? '') : '',
    problems,
    medicines,
    resources,
  };
}

const onClass = (s: Seen, name: string) => [...s.medicines.keys()].filter((code) => classCodes(name).has(code));
const hasRegister = (s: Seen, key: string) => [...s.problems].some((code) => codesOf(REGISTERS[key] ?? []).has(code));
const observations = (s: Seen, code: string) =>
  s.resources
    .filter((r): r is Observation => r.resourceType === 'Observation' && (r.code?.coding ?? []).some((c) => c.code === code))
    .sort((a, b) => (a.effectiveDateTime ?? '').localeCompare(b.effectiveDateTime ?? ''));
const latestEgfr = (s: Seen) =>
  observations(s, '1011481000000105')
    .filter((o) => (o.effectiveDateTime ?? '') >= yearAgo)
    .at(-1)?.valueQuantity?.value;
const procedureWithin = (s: Seen, list: string) =>
  s.resources.some((r) => r.resourceType === 'Procedure' && codeList(list).codes.has((r as Procedure).code?.coding?.[0]?.code ?? '') && ((r as Procedure).performedDateTime ?? '') >= yearAgo);

const HAZARDS: Record<string, (s: Seen) => boolean> = {
  'nsaid-with-oral-anticoagulant': (s) => onClass(s, 'nsaid').length > 0 && onClass(s, 'oralAnticoagulant').length > 0,
  'nsaid-over-65-without-gastroprotection': (s) => s.age >= 65 && onClass(s, 'nsaid').length > 0 && onClass(s, 'gastroprotection').length === 0,
  'nsaid-with-antiplatelet-without-gastroprotection': (s) => onClass(s, 'nsaid').length > 0 && onClass(s, 'antiplatelet').length > 0 && onClass(s, 'gastroprotection').length === 0,
  'antiplatelet-with-anticoagulant-without-gastroprotection': (s) => onClass(s, 'antiplatelet').length > 0 && onClass(s, 'oralAnticoagulant').length > 0 && onClass(s, 'gastroprotection').length === 0,
  'opioid-with-gabapentinoid': (s) => onClass(s, 'opioid').length > 0 && onClass(s, 'gabapentinoid').length > 0,
  'opioid-with-benzodiazepine-or-z-drug': (s) => onClass(s, 'opioid').length > 0 && onClass(s, 'benzodiazepineOrZDrug').length > 0,
  'two-or-more-anticholinergics': (s) => onClass(s, 'anticholinergic').length >= 2,
  'long-term-oral-steroid-without-bone-protection': (s) => onClass(s, 'oralCorticosteroid').some((code) => (s.medicines.get(code) ?? []).length >= 2) && onClass(s, 'bisphosphonate').length === 0,
  'doac-with-egfr-below-30': (s) => onClass(s, 'doac').length > 0 && (latestEgfr(s) ?? 100) < 30,
  'antipsychotic-in-dementia': (s) => hasRegister(s, 'cognitive-problems') && onClass(s, 'antipsychotic').length > 0,
  'nsaid-with-heart-failure': (s) => hasRegister(s, 'heart-failure') && onClass(s, 'nsaid').length > 0,
  'nsaid-with-ckd': (s) => hasRegister(s, 'ckd') && onClass(s, 'nsaid').length > 0,
  'two-oral-anticoagulants': (s) => onClass(s, 'oralAnticoagulant').length >= 2,
};

const cha2ds2vasc = (s: Seen) =>
  (s.age >= 75 ? 2 : s.age >= 65 ? 1 : 0) +
  (s.sex === 'female' ? 1 : 0) +
  (hasRegister(s, 'heart-failure') ? 1 : 0) +
  (hasRegister(s, 'hypertension') ? 1 : 0) +
  (hasRegister(s, 'diabetes') ? 1 : 0) +
  (hasRegister(s, 'stroke-tia') ? 2 : 0);

/** Each care-gap situation: [on the register, gap open]. */
const GAPS: Record<string, [(s: Seen) => boolean, (s: Seen) => boolean]> = {
  'af-not-anticoagulated': [(s) => hasRegister(s, 'atrial-fibrillation') && cha2ds2vasc(s) >= 2, (s) => onClass(s, 'oralAnticoagulant').length === 0],
  'diabetes-no-hba1c-in-12-months': [(s) => hasRegister(s, 'diabetes') && s.age >= 17, (s) => observations(s, '999791000000106').every((o) => (o.effectiveDateTime ?? '') < yearAgo)],
  'diabetes-hba1c-above-58': [(s) => hasRegister(s, 'diabetes') && s.age >= 17, (s) => (observations(s, '999791000000106').at(-1)?.valueQuantity?.value ?? 0) > 58],
  'hypertension-bp-above-target': [
    (s) => hasRegister(s, 'hypertension'),
    (s) => {
      const last = observations(s, '75367002')
        .filter((o) => (o.effectiveDateTime ?? '') >= yearAgo)
        .at(-1);
      const [sys = 0, dia = 0] = (last?.component ?? []).map((c) => c.valueQuantity?.value ?? 0);
      return last !== undefined && (sys > (s.age >= 80 ? 150 : 140) || dia > 90);
    },
  ],
  'hypertension-no-bp-in-12-months': [(s) => hasRegister(s, 'hypertension'), (s) => observations(s, '75367002').every((o) => (o.effectiveDateTime ?? '') < yearAgo)],
  'copd-no-review': [(s) => hasRegister(s, 'copd'), (s) => !procedureWithin(s, 'copd-review-qof')],
  'dementia-no-care-plan-review': [(s) => hasRegister(s, 'cognitive-problems'), (s) => !procedureWithin(s, 'gmsde-dementia-care-plan')],
  'care-home-no-medication-review': [(s) => hasRegister(s, 'care-home'), (s) => !procedureWithin(s, 'pcd-medrvw_cod')],
  'learning-disability': [(s) => hasRegister(s, 'learning-disability'), () => true],
  'severe-mental-illness': [(s) => hasRegister(s, 'severe-mental-illness'), () => true],
};

/** The eFI's value rules (Clegg 2016): the latest reading in the last 12 months meets the threshold. */
const EFI_VALUES: Record<string, [code: string, counts: (value: number, s: Seen) => boolean]> = {
  'anaemia: haemoglobin below the sex-specific range': ['1022431000000105', (v, s) => v < (s.sex === 'male' ? 130 : 120)],
  'thyroid: TSH outside 0.36-5.5': ['1022791000000101', (v) => v < 0.36 || v > 5.5],
  'activity limitation: Barthel 18 or less': ['273302005', (v) => v <= 18],
  'PVD: ABPI below 0.95': ['446841001', (v) => v < 0.95],
  'weight loss: MUST 1 or more': ['444297006', (v) => v >= 1],
  'respiratory: a COPD exacerbation': ['723245007', (v) => v >= 1],
  'CKD: eGFR below 60': ['1011481000000105', (v) => v < 60],
};

const population = [...syntheticPopulation({ ...demoArea(1), patients: PATIENTS, seed: 1 })].map(seen);

test(`over ${PATIENTS.toLocaleString('en-GB')} patients every medicines hazard occurs, each in a few of those it could happen to, and nine in ten older people have none`, (t) => {
  const withAny = new Set<Seen>();
  for (const [id, holds] of Object.entries(HAZARDS)) {
    const hit = population.filter(holds);
    t.diagnostic(`${id}: ${hit.length}`);
    assert.ok(hit.length >= 1, `${id} occurs`);
    for (const s of hit) withAny.add(s);
  }
  const older = population.filter((s) => s.age >= 65);
  const olderWithAny = older.filter((s) => withAny.has(s)).length;
  t.diagnostic(`any hazard: ${withAny.size} of ${PATIENTS}; ${olderWithAny} of ${older.length} aged 65+`);
  assert.ok(olderWithAny / older.length < 0.1, `${olderWithAny} of ${older.length} aged 65+ have a hazard`);
  assert.ok(withAny.size / PATIENTS < 0.03);
  // Realistic prescribing: most anticoagulated people with arthritis are not on an NSAID.
  const anticoagulatedWithArthritis = population.filter((s) => onClass(s, 'oralAnticoagulant').length > 0 && [...s.problems].some((c) => efiDeficitsOfCode(c).includes('arthritis')));
  const onNsaid = anticoagulatedWithArthritis.filter((s) => onClass(s, 'nsaid').length > 0).length;
  assert.ok(onNsaid / anticoagulatedWithArthritis.length < 0.15, `${onNsaid} of ${anticoagulatedWithArthritis.length}`);
});

test(`over ${PATIENTS.toLocaleString('en-GB')} patients every care-gap situation occurs, and the gap is open for some on the register and closed for others`, (t) => {
  for (const [id, [onRegister, open]] of Object.entries(GAPS)) {
    const register = population.filter(onRegister);
    const gaps = register.filter(open).length;
    t.diagnostic(`${id}: ${gaps} of ${register.length}`);
    assert.ok(gaps >= 1, `${id}: someone has the gap`);
    if (id !== 'learning-disability' && id !== 'severe-mental-illness') assert.ok(gaps < register.length, `${id}: someone on the register has not`);
  }
  const ld = population.filter((s) => hasRegister(s, 'learning-disability')).length / PATIENTS;
  const smi = population.filter((s) => hasRegister(s, 'severe-mental-illness') && s.age >= 18).length / population.filter((s) => s.age >= 18).length;
  assert.ok(ld > 0.002 && ld < 0.01, `learning disability ${ld}`);
  assert.ok(smi > 0.005 && smi < 0.02, `severe mental illness among adults ${smi}`);
  const over65 = population.filter((s) => s.age >= 65);
  const over85 = population.filter((s) => s.age >= 85);
  const careHome = (group: Seen[]) => group.filter((s) => hasRegister(s, 'care-home')).length / group.length;
  t.diagnostic(`care home: ${careHome(over65)} of 65+, ${careHome(over85)} of 85+`);
  assert.ok(careHome(over65) > 0.005 && careHome(over65) < 0.05);
  assert.ok(careHome(over85) > 2 * careHome(over65), 'care-home residence rises with age');
});

test(`over ${PATIENTS.toLocaleString('en-GB')} patients each eFI value rule counts for some older people measured and not for others`, (t) => {
  for (const [rule, [code, counts]] of Object.entries(EFI_VALUES)) {
    const measured = population
      .filter((s) => s.age >= 65)
      .flatMap((s) => {
        const value = observations(s, code)
          .filter((o) => (o.effectiveDateTime ?? '') >= yearAgo)
          .at(-1)?.valueQuantity?.value;
        return value === undefined ? [] : [{ s, value }];
      });
    const counted = measured.filter(({ s, value }) => counts(value, s)).length;
    t.diagnostic(`${rule}: ${counted} of ${measured.length} measured`);
    assert.ok(counted >= 1, `${rule} counts for someone`);
    assert.ok(counted < measured.length, `${rule} does not count for everyone measured`);
  }
});

test('among the moderately or severely frail aged 65+ some have a personalised care plan and some not; no one younger has one', () => {
  let withPlan = 0;
  let frailWithout = 0;
  for (const s of population) {
    const plan = s.resources.find((r): r is CarePlan => r.resourceType === 'CarePlan');
    const deficits = new Set([...s.problems].flatMap((c) => efiDeficitsOfCode(c)));
    if (s.medicines.size >= 5) deficits.add('polypharmacy');
    if (plan) {
      withPlan++;
      assert.ok(s.age >= 65, 'a personalised care plan is for an older, frail person');
      assert.equal(plan.status, 'active');
    } else if (s.age >= 65 && deficits.size >= 10) frailWithout++;
  }
  assert.ok(withPlan >= 10, `${withPlan} care plans`);
  assert.ok(frailWithout >= 5, `${frailWithout} frail people without a plan`);
});
