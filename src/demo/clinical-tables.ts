/**
 * The synthetic population's clinical tables — problems, medicines, observation codes — read once at
 * module load from data/*.json (and the eFI code lists from reference/), checked with zod and against
 * each other, so a typo in a data file stops the start with the file and the entry named.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeableConcept } from '@medplum/fhirtypes';
import { z } from 'zod';

/** Reads and checks one JSON data file; a missing or malformed file is an error naming it. */
function readDataFile<T>(url: URL, schema: z.ZodType<T>, what: string): T {
  const path = fileURLToPath(url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`synthetic population: cannot read the ${what} at ${path} (${why})`);
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`synthetic population: ${path} is not a ${what} file: ${parsed.error.message}`);
  return parsed.data;
}

// --- eFI deficits ---

const EfiFile = z.object({
  deficits: z.array(z.object({ id: z.string(), name: z.string(), snomed: z.array(z.object({ code: z.string(), display: z.string() })) })),
});
export type EfiDeficit = z.infer<typeof EfiFile>['deficits'][number];

export const EFI_DEFICITS: readonly EfiDeficit[] = readDataFile(new URL('../../reference/efi-deficits.json', import.meta.url), EfiFile, 'eFI deficit code lists').deficits;

// --- problems ---

const agePoints = z.array(z.tuple([z.number(), z.number()])).min(1);
const probability = z.number().min(0).max(1);

/**
 * How likely a person is to have a problem, as data. Evaluated in this order: `unless` (any held → 0),
 * `onlyIf` (not met → 0), the base (`byAge` interpolated linearly, flat beyond its points; `byAgeOfSex`;
 * `ageBands` [below age, p] with a null bound last; or `constant`), then × `sex`, × `bmiAtLeast30`
 * when BMI ≥ 30, × each `timesIf` held, + each `plusIf` whose any problem is held.
 */
const Chance = z
  .object({
    unless: z.array(z.string()).optional(),
    onlyIf: z.object({ minAge: z.number(), bmiAtLeast: z.number() }).strict().optional(),
    byAge: agePoints.optional(),
    byAgeOfSex: z.object({ female: agePoints, male: agePoints }).strict().optional(),
    ageBands: z
      .array(z.tuple([z.number().nullable(), probability]))
      .min(1)
      .optional(),
    constant: probability.optional(),
    sex: z.object({ female: z.number(), male: z.number() }).strict().optional(),
    bmiAtLeast30: z.number().optional(),
    timesIf: z.array(z.object({ has: z.string(), times: z.number() }).strict()).optional(),
    plusIf: z.array(z.object({ hasAny: z.array(z.string()).min(1), plus: z.number() }).strict()).optional(),
  })
  .strict()
  .refine((c) => [c.byAge, c.byAgeOfSex, c.ageBands, c.constant].filter((base) => base !== undefined).length === 1, {
    message: 'a chance needs exactly one of byAge, byAgeOfSex, ageBands, constant',
  });
export type Chance = z.infer<typeof Chance>;

/** [SNOMED CT code, weight, display?]: without a display, the code's eFI display is used. */
const weightedCodes = z.array(z.union([z.tuple([z.string(), z.number()]), z.tuple([z.string(), z.number(), z.string()])]));
export type WeightedCodes = z.infer<typeof weightedCodes>;

const ProblemSpec = z
  .object({
    key: z.string(),
    /** The eFI deficit these codes count for, or null for problems outside the eFI. */
    efi: z.string().nullable(),
    /** Codes to choose from, weighted; eFI codes must sit in the deficit's list (checked below). */
    codes: weightedCodes,
    /** Exponent on the person's frailty factor: 1 for geriatric syndromes, ~0.3 for diseases. */
    frailty: z.number(),
    /** Youngest age at onset. */
    onsetFrom: z.number(),
    /** Onset within this many years of today (falls, weight loss…); default: any time since onsetFrom. */
    withinYears: z.number().optional(),
    /** `second`: added later, drawn after the others on the patient's second random stream (earlier draws stay as they were). */
    stream: z.literal('second').optional(),
    chance: Chance,
  })
  .strict();
export type ProblemSpec = z.infer<typeof ProblemSpec>;

const ConditionsFile = z.object({
  problems: z.array(ProblemSpec).min(1),
  /** Sex-specific codes (so a man never has postmenopausal osteoporosis). */
  sexCodes: z.record(z.string(), z.object({ female: weightedCodes, male: weightedCodes }).strict()),
});

const conditions = readDataFile(new URL('./data/conditions.json', import.meta.url), ConditionsFile, 'synthetic conditions table');
export const PROBLEMS: readonly ProblemSpec[] = conditions.problems;
export const SEX_CODES: Readonly<Record<string, { female: WeightedCodes; male: WeightedCodes }>> = conditions.sexCodes;
export const PROBLEM_KEYS: ReadonlySet<string> = new Set(PROBLEMS.map((p) => p.key));

// --- medicines ---

const Medicine = z
  .object({
    name: z.string(),
    /** dm+d VMP code, only where checked against a dm+d-derived list; otherwise the medicine is text-only. */
    dmd: z
      .string()
      .regex(/^\d{6,18}$/)
      .optional(),
    /** The published list (reference/codelists/) that holds the dm+d code under this exact name. */
    list: z.string().optional(),
    dose: z.string(),
    /** Issues written, 8 weeks apart, the latest in the last 4 weeks (a long-term repeat a rule counts issues of); default 1. */
    issues: z.number().int().min(1).max(6).optional(),
  })
  .strict();
export type Medicine = z.infer<typeof Medicine>;

/** When a safety rule or hazard applies: every part given must hold (medicine names are medicine keys or class names). */
const When = z
  .object({
    onAny: z.array(z.string()).optional(),
    alsoOnAny: z.array(z.string()).optional(),
    notOn: z.array(z.string()).optional(),
    hasAny: z.array(z.string()).optional(),
    ageAtLeast: z.number().optional(),
  })
  .strict();
export type When = z.infer<typeof When>;

const Hazard = z
  .object({
    id: z.string(),
    chance: probability,
    when: When,
    prescribe: z.array(z.string()).min(1).optional(),
    reason: z.array(z.string()).optional(),
    omit: z.array(z.string()).min(1).optional(),
    egfrBelow30: z.literal(true).optional(),
  })
  .strict()
  .refine((h) => [h.prescribe, h.omit, h.egfrBelow30].filter((effect) => effect !== undefined).length === 1, {
    message: 'a hazard needs exactly one of prescribe, omit, egfrBelow30',
  });
export type Hazard = z.infer<typeof Hazard>;

const MedicinesFile = z.object({
  medicines: z.record(z.string(), Medicine),
  /** What a GP prescribes for each problem: [medicine, probability]. */
  treatments: z.record(z.string(), z.array(z.tuple([z.string(), probability]))),
  antithrombotics: z.array(z.string()),
  /** Medicine classes the rules read, by medicine key. */
  classes: z.record(z.string(), z.array(z.string()).min(1)),
  /** More treatments per problem, drawn on the second stream. */
  addedTreatments: z.record(z.string(), z.array(z.object({ medicine: z.string(), chance: probability, unlessOn: z.array(z.string()).optional() }).strict())),
  safety: z
    .object({
      withhold: z.array(z.object({ medicines: z.array(z.string()).min(1), when: When, why: z.string() }).strict()),
      add: z.array(z.object({ medicine: z.string(), when: When, why: z.string() }).strict()),
    })
    .strict(),
  hazards: z.array(Hazard),
});

const medicines = readDataFile(new URL('./data/medicines.json', import.meta.url), MedicinesFile, 'synthetic medicines table');
export const MEDICINES: Readonly<Record<string, Medicine>> = medicines.medicines;
export const TREATMENTS: Readonly<Record<string, readonly (readonly [string, number])[]>> = medicines.treatments;
export const ANTITHROMBOTICS: readonly string[] = medicines.antithrombotics;
export const MEDICINE_CLASSES: Readonly<Record<string, readonly string[]>> = medicines.classes;
export const ADDED_TREATMENTS = medicines.addedTreatments;
export const SAFETY = medicines.safety;
export const HAZARDS: readonly Hazard[] = medicines.hazards;

/** The medicine keys a list of medicine keys and class names stands for. */
export function medicinesIn(names: readonly string[]): string[] {
  return names.flatMap((name) => MEDICINE_CLASSES[name] ?? [name]);
}

// --- observations ---

const Coding = z.object({ system: z.string(), code: z.string(), display: z.string() }).strict();
const Concept = z.object({ coding: z.array(Coding).min(1), text: z.string().optional() }).strict();
const ObservationSpec = z.object({ category: z.enum(['vital-signs', 'laboratory', 'survey', 'exam']), code: Concept, unit: z.string() }).strict();
const valueRange = z.tuple([z.number(), z.number()]);
/** A reading the eFI scores from its value: who has it measured and the ranges its value comes from (first that applies). */
const EfiValueSpec = ObservationSpec.extend({
  key: z.string(),
  decimals: z.number().int().min(0).max(3),
  who: z.object({ minAge: z.number(), share: probability, forAny: z.array(z.string()).optional(), forAnyShare: probability.optional() }).strict(),
  ranges: z
    .array(
      z
        .object({ ifAny: z.array(z.string()).optional(), chance: probability.optional(), value: valueRange.optional(), female: valueRange.optional(), male: valueRange.optional() })
        .strict()
        .refine((r) => r.value !== undefined || (r.female !== undefined && r.male !== undefined), { message: 'a range needs value, or female and male' }),
    )
    .min(1),
}).strict();
export type EfiValueSpec = z.infer<typeof EfiValueSpec>;
const ObservationsFile = z.object({
  bloodPressure: ObservationSpec.extend({ systolic: Concept, diastolic: Concept }).strict(),
  hba1c: ObservationSpec,
  egfr: ObservationSpec,
  bmi: ObservationSpec,
  missedAnnualReading: z.object({ hba1c: probability, bloodPressure: probability }).strict(),
  efiValues: z.array(EfiValueSpec),
});
export type ObservationSpec = z.infer<typeof ObservationSpec> & { code: CodeableConcept };

export const OBSERVATIONS = readDataFile(new URL('./data/observations.json', import.meta.url), ObservationsFile, 'synthetic observations table');

// --- reviews and plans ---

const Review = z
  .object({
    key: z.string(),
    forAny: z.array(z.string()).min(1),
    minAge: z.number().optional(),
    medicinesAtLeast: z.number().int().optional(),
    code: z.string().regex(/^\d{6,18}$/),
    display: z.string(),
    list: z.string(),
    withinYear: probability,
    earlier: probability,
  })
  .strict()
  .refine((r) => r.withinYear + r.earlier <= 1, { message: 'withinYear + earlier must be at most 1' });
export type Review = z.infer<typeof Review>;
const ReviewsFile = z.object({
  reviews: z.array(Review),
  personalisedCarePlan: z.object({ minAge: z.number(), deficitsAtLeast: z.number().int(), chance: probability }).strict(),
});
const reviews = readDataFile(new URL('./data/reviews.json', import.meta.url), ReviewsFile, 'synthetic reviews table');
export const REVIEWS: readonly Review[] = reviews.reviews;
export const PERSONALISED_CARE_PLAN = reviews.personalisedCarePlan;

// --- the tables must agree with each other ---

export function requireProblems(keys: Iterable<string>, where: string): void {
  for (const key of keys) if (!PROBLEM_KEYS.has(key)) throw new Error(`synthetic population: ${where} names problem '${key}', which conditions.json does not hold`);
}
export function requireMedicines(keys: Iterable<string>, where: string): void {
  for (const key of keys) if (!(key in MEDICINES)) throw new Error(`synthetic population: ${where} names medicine '${key}', which medicines.json does not hold`);
}

requireProblems(Object.keys(SEX_CODES), 'conditions.json sexCodes');
for (const { key, chance } of PROBLEMS) {
  requireProblems([...(chance.unless ?? []), ...(chance.timesIf ?? []).map((t) => t.has), ...(chance.plusIf ?? []).flatMap((p) => p.hasAny)], `the chance of '${key}'`);
}
requireProblems(Object.keys(TREATMENTS), 'medicines.json treatments');
requireMedicines(
  Object.values(TREATMENTS).flatMap((options) => options.map(([medicine]) => medicine)),
  'medicines.json treatments',
);
requireMedicines(ANTITHROMBOTICS, 'medicines.json antithrombotics');
for (const [name, keys] of Object.entries(MEDICINE_CLASSES)) requireMedicines(keys, `medicines.json class '${name}'`);
const requireWhen = (when: When, where: string) => {
  requireMedicines(medicinesIn([...(when.onAny ?? []), ...(when.alsoOnAny ?? []), ...(when.notOn ?? [])]), where);
  requireProblems(when.hasAny ?? [], where);
};
requireProblems(Object.keys(ADDED_TREATMENTS), 'medicines.json addedTreatments');
for (const [key, options] of Object.entries(ADDED_TREATMENTS)) {
  requireMedicines(
    options.flatMap((o) => [o.medicine, ...medicinesIn(o.unlessOn ?? [])]),
    `medicines.json addedTreatments of '${key}'`,
  );
}
for (const rule of SAFETY.withhold) {
  requireMedicines(medicinesIn(rule.medicines), 'medicines.json safety.withhold');
  requireWhen(rule.when, 'medicines.json safety.withhold');
}
for (const rule of SAFETY.add) {
  requireMedicines([rule.medicine], 'medicines.json safety.add');
  requireWhen(rule.when, 'medicines.json safety.add');
}
for (const hazard of HAZARDS) {
  const where = `medicines.json hazard '${hazard.id}'`;
  requireWhen(hazard.when, where);
  requireMedicines(medicinesIn([...(hazard.prescribe ?? []), ...(hazard.omit ?? [])]), where);
  requireProblems(hazard.reason ?? [], where);
}
for (const review of REVIEWS) requireProblems(review.forAny, `reviews.json review '${review.key}'`);
for (const spec of OBSERVATIONS.efiValues) {
  requireProblems([...(spec.who.forAny ?? []), ...spec.ranges.flatMap((r) => r.ifAny ?? [])], `observations.json efiValues '${spec.key}'`);
}
