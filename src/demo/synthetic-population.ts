/**
 * A deterministic, synthetic, plausible population for the demo area as FHIR R4: one transaction
 * Bundle per patient (Patient, problems, medicines, allergies, observations, GP encounters, entries
 * from other agencies and "what matters to me"). Pure: no I/O after module load, no Math.random.
 *
 * Patient i is derived only from (seed, i, registry, asOf) — never from the patients count or from
 * patients 0..i-1 — so streaming any number of patients runs in constant memory and the first 50
 * patients are identical whether 100 or 900,000 are asked for.
 *
 * Not real people: NHS numbers come from the 999 test range, telephone numbers from Ofcom's drama
 * range, names from small lists. Prevalences are plausible for an older-than-average area (about a
 * quarter aged 65+), not calibrated statistics.
 */
import type {
  AllergyIntolerance,
  Bundle,
  BundleEntry,
  CarePlan,
  CodeableConcept,
  Coding,
  CareTeam,
  Condition,
  Encounter,
  Identifier,
  MedicationRequest,
  Meta,
  Observation,
  Organization,
  Patient,
  Procedure,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../shared/ids.ts';
import { LOCAL_PARTNER_SYSTEM, isOdsShaped } from '../modules/network/index.ts';
import {
  ADDED_TREATMENTS,
  ANTITHROMBOTICS,
  EFI_DEFICITS,
  HAZARDS,
  MEDICINES,
  OBSERVATIONS,
  PERSONALISED_CARE_PLAN,
  PROBLEM_KEYS,
  PROBLEMS,
  REVIEWS,
  SAFETY,
  SEX_CODES,
  TREATMENTS,
  medicinesIn,
  requireMedicines,
  requireProblems,
  type Chance,
  type ObservationSpec,
  type ProblemSpec,
  type When,
} from './clinical-tables.ts';
import { PARTNER_TYPE_LABELS, type Membership, type Partner, type PartnerType, type PcnPartner, type Practice } from '../modules/network/index.ts';

// ---------------------------------------------------------------------------------------------
// Public constants
// ---------------------------------------------------------------------------------------------

/** The default "today" of the synthetic record. Fixed so the stream is reproducible; pass `asOf` to move it. */
export const SYNTHETIC_AS_OF = '2026-11-01';
/** Who recorded an entry: a partner type, or `gp-practice`. */
export const AGENCY_TAG_SYSTEM = 'https://pcn-hub.example/agency';
/** Every generated resource carries one identifier in this system so re-imports are conditional creates. */
export const SYNTHETIC_RECORD_SYSTEM = 'https://pcn-hub.example/Id/synthetic-record';
export const WHAT_MATTERS_QUESTIONNAIRE = 'https://pcn-hub.example/Questionnaire/what-matters-to-me';
export const CARE_NEEDS_ASSESSMENT_QUESTIONNAIRE = 'https://pcn-hub.example/Questionnaire/care-act-needs-assessment';
export const DMD_SYSTEM = 'https://dmd.nhs.uk';
export const UK_CORE_PATIENT = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient';

const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const NHS_NUMBER_VERIFICATION_EXTENSION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
const NHS_NUMBER_VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';

export type Agency = PartnerType | 'gp-practice';

// ---------------------------------------------------------------------------------------------
// eFI reference data (read once at module load, in clinical-tables.ts)
// ---------------------------------------------------------------------------------------------

/** SNOMED CT code → the eFI deficits it counts for (one code may sit in two). */
const EFI_BY_CODE = new Map<string, string[]>();
const EFI_DISPLAY = new Map<string, string>();
for (const deficit of EFI_DEFICITS) {
  for (const { code, display } of deficit.snomed) {
    EFI_BY_CODE.set(code, [...(EFI_BY_CODE.get(code) ?? []), deficit.id]);
    EFI_DISPLAY.set(code, display.replace(/ \([^()]*\)$/, '')); // drop the semantic tag: "Falls (finding)" → "Falls"
  }
}

/** The eFI deficits a SNOMED CT code counts for (empty when none). */
export const efiDeficitsOfCode = (code: string): readonly string[] => EFI_BY_CODE.get(code) ?? [];

// ---------------------------------------------------------------------------------------------
// NHS numbers: the test range 999 000 0000 – 999 999 9999, Modulus 11
// ---------------------------------------------------------------------------------------------

const TEST_PREFIX_SUM = 9 * 10 + 9 * 9 + 9 * 8; // the weighted sum of the "999" prefix

/** The check digit for the 6-digit body after 999, or null when it would be 10 (never valid). */
function testRangeCheckDigit(body: number): number | null {
  let sum = TEST_PREFIX_SUM;
  let rest = body;
  for (let weight = 2; weight <= 7; weight++) {
    sum += (rest % 10) * weight;
    rest = Math.floor(rest / 10);
  }
  const check = 11 - (sum % 11);
  if (check === 10) return null;
  return check === 11 ? 0 : check;
}

let validBodies: Uint32Array | null = null;

/** All 6-digit bodies whose check digit is not 10, ascending (built once, on first use: ~3.6 MB). */
function testRangeBodies(): Uint32Array {
  if (validBodies) return validBodies;
  const out = new Uint32Array(1_000_000);
  let n = 0;
  for (let body = 0; body < 1_000_000; body++) if (testRangeCheckDigit(body) !== null) out[n++] = body;
  validBodies = out.slice(0, n);
  return validBodies;
}

/**
 * How many patients can have distinct, valid test-range NHS numbers: 909,091 of the 1,000,000
 * bodies after 999 (the rest would need check digit 10). A larger population cannot stay synthetic.
 */
export const MAX_SYNTHETIC_PATIENTS = 909_091;

/** Patient `index`'s NHS number: the index-th valid number of the test range, in order. */
export function nhsNumberFor(index: number): string {
  const bodies = testRangeBodies();
  if (!Number.isInteger(index) || index < 0 || index >= bodies.length) {
    throw new RangeError(`no test-range NHS number for patient ${index}: the range 999 000 0000 – 999 999 9999 holds ${bodies.length} valid numbers`);
  }
  const body = bodies[index] ?? 0;
  return `999${String(body).padStart(6, '0')}${testRangeCheckDigit(body) ?? 0}`;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** A 32-bit hash of small integers (murmur3 mixing): the seed of everything derived from (seed, index, …). */
function hash32(...parts: number[]): number {
  let h = 0x9747b28c;
  for (const part of parts) {
    let k = Math.imul(part | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= parts.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32 with the draws a population needs. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  float(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }
  /** k distinct items, in list order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, items.length)) chosen.add(Math.floor(this.next() * items.length));
    return [...chosen].sort((a, b) => a - b).map((i) => items[i] as T);
  }
}

// ---------------------------------------------------------------------------------------------
// Dates (UTC days; "today" is options.asOf)
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365.2425;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoDateTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 16)}:00Z`;

function parseAsOf(asOf: string): number {
  const ms = Date.parse(`${asOf}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(ms)) throw new RangeError(`asOf must be a date like 2026-11-01, not '${asOf}'`);
  return ms;
}

/** Whole years between a yyyy-mm-dd birth date and another date. */
export function ageOn(birthDate: string, on: string): number {
  const [by = 0, bm = 0, bd = 0] = birthDate.split('-').map(Number);
  const [y = 0, m = 0, d = 0] = on.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// People: ages, names, places
// ---------------------------------------------------------------------------------------------

/**
 * Registered-list age bands (per cent), shaped like Norfolk's: older than England's average,
 * about 25% aged 65+ and 6–7% aged 80+.
 */
const AGE_BANDS: readonly (readonly [from: number, to: number, percent: number])[] = [
  [0, 5, 4.6],
  [5, 10, 5.2],
  [10, 15, 5.5],
  [15, 20, 5.1],
  [20, 25, 5.2],
  [25, 30, 5.6],
  [30, 35, 5.9],
  [35, 40, 5.8],
  [40, 45, 5.5],
  [45, 50, 5.7],
  [50, 55, 6.8],
  [55, 60, 7.1],
  [60, 65, 6.7],
  [65, 70, 6.3],
  [70, 75, 6.8],
  [75, 80, 5.4],
  [80, 85, 3.5],
  [85, 90, 2.1],
  [90, 95, 0.95],
  [95, 103, 0.3],
];

type Sex = 'male' | 'female';

const GIVEN_NAMES: Record<Sex, readonly (readonly string[])[]> = {
  // [born before 1955, 1955–1989, 1990 on]
  female: [
    ['Margaret', 'Jean', 'Patricia', 'Joan', 'Sheila', 'Barbara', 'Dorothy', 'Brenda', 'Doreen', 'Betty', 'Maureen', 'Pamela', 'Joyce', 'Irene', 'Audrey'],
    ['Susan', 'Julie', 'Karen', 'Linda', 'Christine', 'Tracey', 'Sarah', 'Claire', 'Nicola', 'Deborah', 'Joanne', 'Helen', 'Alison', 'Michelle', 'Priya'],
    ['Emily', 'Sophie', 'Charlotte', 'Amelia', 'Olivia', 'Jessica', 'Chloe', 'Hannah', 'Isla', 'Grace', 'Lauren', 'Aisha', 'Zofia', 'Ava', 'Mia'],
  ],
  male: [
    ['John', 'David', 'Michael', 'Peter', 'Brian', 'Kenneth', 'Roy', 'Derek', 'Ronald', 'Alan', 'Raymond', 'Dennis', 'Geoffrey', 'Frank', 'Stanley'],
    ['Paul', 'Mark', 'Andrew', 'Stephen', 'Richard', 'Simon', 'Gary', 'Ian', 'Neil', 'Darren', 'Jason', 'Lee', 'Matthew', 'Rajesh', 'Tomasz'],
    ['Oliver', 'Jack', 'Harry', 'George', 'Thomas', 'James', 'Charlie', 'Alfie', 'Samuel', 'Joshua', 'Leo', 'Kwame', 'Adam', 'Mohammed', 'Noah'],
  ],
};
const FAMILY_NAMES = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Wood',
  'Jackson',
  'Clarke',
  'Howes',
  'Gotts',
  'Thrower',
  'Loveday',
  'Bunn',
  'Mallett',
  'Chilvers',
  'Dack',
  'Balls',
  'Beales',
  'Platten',
  'Pegg',
  'Rix',
  'Cubitt',
  'Kett',
  'Nobbs',
  'Youngs',
  'Bird',
  'Barnard',
  'Nowak',
  'Kowalski',
  'Patel',
  'Khan',
  'Ahmed',
  'Okafor',
  'Silva',
  'Murphy',
  'Kelly',
] as const;
const STREETS = [
  'Church Lane',
  'Station Road',
  'High Street',
  'Mill Lane',
  'Park Road',
  'Victoria Road',
  'The Street',
  'School Lane',
  'Norwich Road',
  'London Road',
  'Manor Road',
  'Orchard Close',
  'Beech Avenue',
  'Willow Way',
  'Cromer Road',
  'Market Place',
  'Yarmouth Road',
  'Chapel Street',
  'Common Lane',
  'Back Lane',
  'The Green',
  'Meadow Close',
  'Heath Road',
  'Low Road',
] as const;
// Inward codes: a digit then two letters, never C I K M O V.
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

// ---------------------------------------------------------------------------------------------
// Problems: SNOMED CT coded, age-dependent, eFI deficits from efi-deficits.json
// ---------------------------------------------------------------------------------------------

/** What a prevalence rule may look at: age, sex, BMI and the problems drawn so far (by key; unknown keys throw). */
interface Person {
  age: number;
  sex: Sex;
  bmi: number | null;
  has(key: string): boolean;
}

/** Probability by age, interpolated linearly between points and flat beyond them. */
function byAge(points: readonly (readonly [age: number, p: number])[]): (age: number) => number {
  return (age) => {
    const first = points[0];
    if (!first || age <= first[0]) return first?.[1] ?? 0;
    for (let i = 1; i < points.length; i++) {
      const [a1, p1] = points[i] as readonly [number, number];
      const [a0, p0] = points[i - 1] as readonly [number, number];
      if (age <= a1) return p0 + ((p1 - p0) * (age - a0)) / (a1 - a0);
    }
    return points[points.length - 1]?.[1] ?? 0;
  };
}

/** A problem's chance for a person, from its row in conditions.json (the order is clinical-tables.ts's). */
function chanceOf(chance: Chance, p: Person): number {
  if (chance.unless?.some((key) => p.has(key))) return 0;
  if (chance.onlyIf && !(p.age >= chance.onlyIf.minAge && (p.bmi ?? 0) >= chance.onlyIf.bmiAtLeast)) return 0;
  let value = chance.constant ?? 0;
  if (chance.byAge) value = byAge(chance.byAge)(p.age);
  if (chance.byAgeOfSex) value = byAge(chance.byAgeOfSex[p.sex])(p.age);
  if (chance.ageBands) value = chance.ageBands.find(([below]) => below === null || p.age < below)?.[1] ?? 0;
  if (chance.sex) value *= chance.sex[p.sex];
  if (chance.bmiAtLeast30 !== undefined) value *= (p.bmi ?? 0) >= 30 ? chance.bmiAtLeast30 : 1;
  for (const { has, times } of chance.timesIf ?? []) value *= p.has(has) ? times : 1;
  for (const { hasAny, plus } of chance.plusIf ?? []) value += hasAny.some((key) => p.has(key)) ? plus : 0;
  return value;
}

// The generator must only use codes the eFI reference places in the intended deficit.
for (const spec of PROBLEMS) {
  if (spec.efi === null) continue;
  const sexCodes = SEX_CODES[spec.key];
  const codes = [...spec.codes.map(([code]) => code), ...(sexCodes ? [...sexCodes.female, ...sexCodes.male].map(([code]) => code) : [])];
  for (const code of codes) {
    if (!efiDeficitsOfCode(code).includes(spec.efi)) throw new Error(`synthetic population: ${code} is not in the eFI '${spec.efi}' code list`);
  }
}

// ---------------------------------------------------------------------------------------------
// Medicines (dm+d where the VMP code was checked, otherwise text only)
// ---------------------------------------------------------------------------------------------

/** Problems that make a social-care needs assessment likely. */
const CARE_SIGNALS: readonly string[] = ['care-requirement', 'housebound', 'cognitive-problems', 'falls'];

// The generator's own rules name these rows: a data file that loses one stops the start, naming it.
requireProblems([...CARE_SIGNALS, 'chd', 'diabetes', 'diabetes-type-1', 'housebound', 'hypertension', 'parkinsons', 'weight-loss'], 'synthetic-population.ts');
requireMedicines(
  [
    'amlodipine',
    'aspirin',
    'atorvastatin',
    'clopidogrel',
    'cocodamol',
    'colecalciferol',
    'emollient',
    'finasteride',
    'hypromellose',
    'lansoprazole',
    'macrogol',
    'naproxen',
    'omeprazole',
    'paracetamol',
    'senna',
  ],
  'synthetic-population.ts',
);

// ---------------------------------------------------------------------------------------------
// Allergies and "what matters to me"
// ---------------------------------------------------------------------------------------------

interface AllergySpec {
  key: string;
  code: CodeableConcept;
  category: NonNullable<AllergyIntolerance['category']>[number];
  weight: number;
}

const ALLERGIES: readonly AllergySpec[] = [
  { key: 'penicillin', code: { coding: [{ system: SNOMED, code: '91936005', display: 'Allergy to penicillin' }], text: 'Penicillin allergy' }, category: 'medication', weight: 55 },
  { key: 'nsaid', code: { text: 'Non-steroidal anti-inflammatory drug allergy' }, category: 'medication', weight: 12 },
  { key: 'codeine', code: { text: 'Codeine allergy' }, category: 'medication', weight: 8 },
  { key: 'trimethoprim', code: { text: 'Trimethoprim allergy' }, category: 'medication', weight: 8 },
  { key: 'peanut', code: { coding: [{ system: SNOMED, code: '91935009', display: 'Allergy to peanut' }], text: 'Peanut allergy' }, category: 'food', weight: 10 },
  { key: 'latex', code: { coding: [{ system: SNOMED, code: '300916003', display: 'Latex allergy' }], text: 'Latex allergy' }, category: 'environment', weight: 7 },
];

const REACTIONS: readonly (readonly [Coding, number])[] = [
  [{ system: SNOMED, code: '271807003', display: 'Eruption of skin' }, 40],
  [{ system: SNOMED, code: '126485001', display: 'Urticaria' }, 30],
  [{ system: SNOMED, code: '422587007', display: 'Nausea' }, 15],
  [{ system: SNOMED, code: '267038008', display: 'Edema' }, 10],
  [{ system: SNOMED, code: '39579001', display: 'Anaphylaxis' }, 5],
];

const WHAT_MATTERS: Record<'young' | 'adult' | 'older', readonly string[]> = {
  young: [
    'Finishing my college course',
    'Playing football with my friends',
    'Getting a job I enjoy',
    'Not missing school because of my asthma',
    'Being able to go to the gym',
    'Seeing my friends at weekends',
  ],
  adult: [
    'Being well enough to keep working',
    'Looking after my children',
    'Walking my dog every day',
    'Getting my sleep back on track',
    'Being able to go swimming again',
    'Keeping my allotment going',
    'Caring for my mum at home',
    'Not having to take time off for appointments',
    'Going on holiday with my family',
    'Feeling less anxious when I go out',
  ],
  older: [
    'Staying in my own home',
    'Seeing my grandchildren',
    'Walking my dog every day',
    'Getting to church on Sundays',
    'Keeping up my garden',
    'Not going back into hospital',
    'Being able to get to the shops on my own',
    'Staying independent for as long as I can',
    'Going to the coffee morning at the village hall',
    'Looking after my husband',
    'Looking after my wife',
    'Being able to read the paper',
    'Not being a burden on my family',
    'Getting out on the Broads again',
    'Going to the seaside at Cromer',
    'Being pain free enough to sleep',
  ],
};

/** The Care Act 2014 eligibility outcomes (Care and Support (Eligibility Criteria) Regulations 2015). */
const CARE_ACT_OUTCOMES = [
  'Managing and maintaining nutrition',
  'Maintaining personal hygiene',
  'Managing toilet needs',
  'Being appropriately clothed',
  'Being able to make use of the home safely',
  'Maintaining a habitable home environment',
  'Developing and maintaining family or other personal relationships',
  'Making use of necessary facilities or services in the local community',
] as const;
const CARE_SUPPORT = [
  'Home care visits twice a day',
  'Home care visits once a day',
  'Day centre two days a week',
  'Telecare community alarm',
  'Equipment: perching stool and grab rails',
  "Carer's assessment offered to family",
  'Respite care arranged',
] as const;

// ---------------------------------------------------------------------------------------------
// Options and the per-population context
// ---------------------------------------------------------------------------------------------

export interface SyntheticPopulationOptions {
  patients: number;
  seed?: number;
  practices: readonly Practice[];
  partners: readonly Partner[];
  /** Practice → PCN memberships: with `pcnPartners`, agency entries come from the patient's own PCN's partners. */
  memberships?: readonly Membership[];
  pcnPartners?: readonly PcnPartner[];
  /** "Today" for the record (yyyy-mm-dd): medicines within the last year of it, observations over 3 years. */
  asOf?: string;
  /** The first patient index to generate (default 0): patient i is the same whatever the range. */
  from?: number;
}

interface PracticeContext {
  practice: Practice;
  outward: string | null;
  partners: Map<PartnerType, Partner[]>;
  /** The proactive care team's partners for the practice's frail and older patients: its PCN's lead community pharmacy and its council's social care. */
  careTeam: Partner[];
}

interface PopulationContext {
  seedLo: number;
  seedHi: number;
  asOfMs: number;
  practiceOffset: number;
  cumulative: Float64Array;
  practices: PracticeContext[];
}

const INVERSE_GOLDEN = 0.6180339887498949;

function populationContext(options: SyntheticPopulationOptions): PopulationContext {
  const { patients, practices } = options;
  if (!Number.isInteger(patients) || patients < 0) throw new RangeError(`patients must be a whole number, not ${patients}`);
  if (patients > 0 && practices.length === 0) throw new RangeError('a synthetic population needs at least one practice');
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a whole number, not ${seed}`);

  // Practices with no list size weigh as much as the average known one.
  const known = practices.map((p) => p.listSize).filter((n): n is number => n !== null && n > 0);
  const fallback = known.length ? known.reduce((s, n) => s + n, 0) / known.length : 1;
  const cumulative = new Float64Array(practices.length);
  let total = 0;
  practices.forEach((p, i) => {
    total += p.listSize !== null && p.listSize > 0 ? p.listSize : fallback;
    cumulative[i] = total;
  });
  for (let i = 0; i < cumulative.length; i++) cumulative[i] = (cumulative[i] ?? 0) / total;

  const seedLo = seed >>> 0;
  const seedHi = Math.floor(seed / 4294967296) >>> 0;
  return {
    seedLo,
    seedHi,
    asOfMs: parseAsOf(options.asOf ?? SYNTHETIC_AS_OF),
    practiceOffset: hash32(seedLo, seedHi, 0x9a7c) / 4294967296,
    cumulative,
    practices: practices.map((practice) => ({
      practice,
      outward: practice.postcode?.trim().split(/\s+/)[0]?.toUpperCase() ?? null,
      partners: partnersFor(practice, options),
      careTeam: careTeamPartnersFor(practice, options),
    })),
  };
}

/** The partners of each type serving the practice's current PCN; every partner of the type when none is linked. */
function partnersFor(practice: Practice, options: SyntheticPopulationOptions): Map<PartnerType, Partner[]> {
  const current = (options.memberships ?? []).filter((m) => m.practiceOds === practice.ods && m.endDate === null).sort((a, b) => b.startDate.localeCompare(a.startDate))[0];
  const linked = new Set((options.pcnPartners ?? []).filter((l) => l.pcnCode === current?.pcnCode).map((l) => l.partnerCode));
  const byType = new Map<PartnerType, Partner[]>();
  for (const partner of options.partners) {
    const list = byType.get(partner.type) ?? [];
    list.push(partner);
    byType.set(partner.type, list);
  }
  for (const [type, list] of byType) {
    const own = list.filter((p) => linked.has(p.code));
    if (own.length) byType.set(type, own);
  }
  return byType;
}

/** The PCN's lead community pharmacy (else its first) and the council's social care that serves it, when linked. */
export function careTeamPartnersFor(practice: Practice, options: Pick<SyntheticPopulationOptions, 'memberships' | 'pcnPartners' | 'partners'>): Partner[] {
  const pcn = (options.memberships ?? []).filter((m) => m.practiceOds === practice.ods && m.endDate === null).sort((a, b) => b.startDate.localeCompare(a.startDate))[0]?.pcnCode;
  const links = (options.pcnPartners ?? []).filter((l) => l.pcnCode === pcn);
  const partner = (code: string) => options.partners.find((p) => p.code === code);
  const ofType = (type: PartnerType) =>
    links
      .map((l) => ({ link: l, partner: partner(l.partnerCode) }))
      .filter((x): x is { link: PcnPartner; partner: Partner } => x.partner?.type === type)
      .sort((a, b) => Number(/lead/i.test(b.link.role ?? '')) - Number(/lead/i.test(a.link.role ?? '')) || a.partner.code.localeCompare(b.partner.code))[0]?.partner;
  return [ofType('community-pharmacy'), ofType('social-care')].filter((p): p is Partner => p !== undefined);
}

/** Patient i's practice: a golden-ratio (Weyl) sequence over list-size shares, so shares are met closely for any N. */
function practiceOf(ctx: PopulationContext, index: number): PracticeContext {
  const u = (index * INVERSE_GOLDEN + ctx.practiceOffset) % 1;
  let lo = 0;
  let hi = ctx.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ctx.cumulative[mid] ?? 1) > u) hi = mid;
    else lo = mid + 1;
  }
  const found = ctx.practices[lo];
  if (!found) throw new Error('no practice to register the patient with');
  return found;
}

// ---------------------------------------------------------------------------------------------
// One patient's record
// ---------------------------------------------------------------------------------------------

const hex = (n: number, width: number) =>
  (n >>> 0)
    .toString(16)
    .padStart(8, '0')
    .slice(8 - width);

const AGENCY_LABELS: Record<Agency, string> = { 'gp-practice': 'GP practice', ...PARTNER_TYPE_LABELS };

const codeable = (system: string, code: string, display: string, text?: string): CodeableConcept =>
  text === undefined ? { coding: [{ system, code, display }] } : { coding: [{ system, code, display }], text };

const CONDITION_ACTIVE = codeable('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active', 'Active');
const CONDITION_CONFIRMED = codeable('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed', 'Confirmed');
const PROBLEM_LIST_ITEM = codeable('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item', 'Problem List Item');
const OBSERVATION_CATEGORY: Record<ObservationSpec['category'], CodeableConcept> = {
  'vital-signs': codeable('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs', 'Vital Signs'),
  laboratory: codeable('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory', 'Laboratory'),
  survey: codeable('http://terminology.hl7.org/CodeSystem/observation-category', 'survey', 'Survey'),
  exam: codeable('http://terminology.hl7.org/CodeSystem/observation-category', 'exam', 'Exam'),
};
/** A value in the observation's UCUM unit. */
const quantity = (value: number, spec: { unit: string }) => ({ value, unit: spec.unit, system: UCUM, code: spec.unit });

/** The resource types of a record entry that carry a list of identifiers. */
type ClinicalResource = Condition | AllergyIntolerance | Encounter | Observation | MedicationRequest | Procedure | CareTeam | CarePlan;

/** Collects one patient's entries, minting deterministic v4-shaped UUIDs that are unique per (seed, index, n). */
class RecordBuilder {
  readonly entries: BundleEntry[] = [];
  private n = 0;
  constructor(
    private readonly ctx: PopulationContext,
    private readonly index: number,
  ) {}

  uuid(): string {
    const { seedLo, seedHi } = this.ctx;
    const n = this.n++;
    const a = hash32(seedLo, seedHi, this.index, n, 1);
    const b = hash32(seedLo, seedHi, this.index, n, 2);
    const c = hash32(seedLo, seedHi, this.index, n, 3);
    // The last 48 bits are (index, n) masked by the seed: unique by construction within one seed.
    const tail = hex(this.index ^ hash32(seedLo, seedHi, 0x7a11), 8) + hex((n ^ hash32(seedLo, seedHi, 0x7a12)) & 0xffff, 4);
    return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b & 0xfff, 3)}-${hex(8 + ((c >>> 30) & 3), 1)}${hex((c >>> 16) & 0xfff, 3)}-${tail}`;
  }

  /** Adds a resource with a synthetic-record identifier; returns its urn:uuid reference. */
  add<T extends ClinicalResource>(resource: T, agency: Agency): Reference<T> {
    const uuid = this.uuid();
    const identifier: Identifier = { system: SYNTHETIC_RECORD_SYSTEM, value: uuid };
    return this.push({ ...resource, meta: agencyMeta(agency), identifier: [identifier] }, uuid, `identifier=${SYNTHETIC_RECORD_SYSTEM}|${uuid}`);
  }

  addQuestionnaireResponse(resource: QuestionnaireResponse, agency: Agency): Reference<QuestionnaireResponse> {
    const uuid = this.uuid();
    return this.push({ ...resource, meta: agencyMeta(agency), identifier: { system: SYNTHETIC_RECORD_SYSTEM, value: uuid } }, uuid, `identifier=${SYNTHETIC_RECORD_SYSTEM}|${uuid}`);
  }

  addPatient(resource: Patient, identifier: Identifier): Reference<Patient> {
    return this.push(resource, this.uuid(), `identifier=${identifier.system}|${identifier.value}`);
  }

  private push<T extends Resource>(resource: T, uuid: string, ifNoneExist: string): Reference<T> {
    const fullUrl = `urn:uuid:${uuid}`;
    this.entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ifNoneExist } });
    return { reference: fullUrl };
  }
}

function agencyMeta(agency: Agency): Meta {
  return { tag: [{ system: AGENCY_TAG_SYSTEM, code: agency, display: AGENCY_LABELS[agency] }] };
}

function practiceRef(practice: Practice): Reference<Organization> {
  return { identifier: { system: ODS_SYSTEM, value: practice.ods }, display: practice.name };
}

function partnerRef(partner: Partner): Reference<Organization> {
  return { identifier: { system: isOdsShaped(partner.code) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: partner.code }, display: partner.name };
}

interface DrawnProblem {
  key: string;
  code: string;
  ref: Reference<Condition>;
}

/** A problem drawn for a person: its code and when it began and was recorded. */
interface ProblemDraw {
  code: string;
  display: string;
  onsetMs: number;
  recordedMs: number;
}

/** Whether a person has a problem, and when: null when the draw says no. */
function drawProblem(rng: Rng, spec: ProblemSpec, person: Person, frailty: number, birthMs: number, today: number): ProblemDraw | null {
  if (person.age < spec.onsetFrom) return null;
  const p = Math.min(0.95, chanceOf(spec.chance, person) * frailty ** spec.frailty);
  if (!rng.chance(p)) return null;
  const choices: readonly (readonly [string, number, string?])[] = SEX_CODES[spec.key]?.[person.sex] ?? spec.codes;
  if (choices.length === 0) return null;
  const [code, , display] = rng.weighted(choices.map((choice) => [choice, choice[1]] as const));
  const onsetMs = onsetOf(rng, spec, person.age, birthMs, today);
  const recordedMs = Math.min(today, onsetMs + rng.int(0, 40) * DAY_MS);
  return { code, display: display ?? EFI_DISPLAY.get(code) ?? code, onsetMs, recordedMs };
}

function problemResource(subject: Reference<Patient>, problem: ProblemDraw): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: CONDITION_ACTIVE,
    verificationStatus: CONDITION_CONFIRMED,
    category: [PROBLEM_LIST_ITEM],
    code: codeable(SNOMED, problem.code, problem.display),
    subject,
    onsetDateTime: isoDate(problem.onsetMs),
    recordedDate: isoDate(problem.recordedMs),
  };
}

/** What the second stream prescribes on top of the first: medicines added (with the problem they are for), first-stream medicines withheld. */
interface LaterPrescribing {
  added: Map<string, string | undefined>;
  withheld: Set<string>;
  /** Every medicine the patient is on in the end. */
  on: Set<string>;
  egfrBelow30: boolean;
}

/**
 * The treatments, safety rules and hazards of medicines.json, on the second stream: more treatments per problem;
 * then what realistic prescribing withholds and adds; then, for a few, a hazard.
 */
function laterPrescribing(rng: Rng, age: number, has: (key: string) => boolean, first: ReadonlyMap<string, unknown>): LaterPrescribing {
  const on = new Set(first.keys());
  const added = new Map<string, string | undefined>();
  const prescribe = (medicine: string, reason: string | undefined) => {
    if (on.has(medicine)) return;
    on.add(medicine);
    if (!first.has(medicine)) added.set(medicine, reason);
  };
  const stop = (medicine: string) => {
    on.delete(medicine);
    added.delete(medicine);
  };
  const onAny = (names: readonly string[]) => medicinesIn(names).some((m) => on.has(m));
  const holds = (when: When) =>
    (!when.onAny || onAny(when.onAny)) &&
    (!when.alsoOnAny || onAny(when.alsoOnAny)) &&
    !(when.notOn && onAny(when.notOn)) &&
    (!when.hasAny || when.hasAny.some(has)) &&
    (when.ageAtLeast === undefined || age >= when.ageAtLeast);

  for (const { key } of PROBLEMS) {
    if (!has(key)) continue;
    for (const option of ADDED_TREATMENTS[key] ?? []) {
      if (option.unlessOn && onAny(option.unlessOn)) continue;
      if (rng.chance(option.chance)) prescribe(option.medicine, key);
    }
  }
  for (const rule of SAFETY.withhold) if (holds(rule.when)) for (const medicine of medicinesIn(rule.medicines)) stop(medicine);
  for (const rule of SAFETY.add) if (holds(rule.when)) prescribe(rule.medicine, undefined);
  let egfrBelow30 = false;
  for (const hazard of HAZARDS) {
    if (!holds(hazard.when) || !rng.chance(hazard.chance)) continue;
    if (hazard.prescribe) prescribe(rng.pick(hazard.prescribe), (hazard.reason ?? hazard.when.hasAny ?? []).find(has));
    for (const medicine of medicinesIn(hazard.omit ?? [])) stop(medicine);
    if (hazard.egfrBelow30) egfrBelow30 = true;
  }
  return { added, withheld: new Set([...first.keys()].filter((m) => !on.has(m))), on, egfrBelow30 };
}

/** A resident's record names their care home by its code: the MDT module lists a home's residents by it. */
export const CARE_HOME_RESIDENT_EXTENSION = 'https://pcn-hub.example/StructureDefinition/care-home-resident';

/** A resident's care home: one of their PCN's homes, chosen by their index (no random draw, so no other record changes). */
function careHomeOf(home: PracticeContext, index: number): Partner | undefined {
  const homes = home.partners.get('care-home') ?? [];
  return homes.length ? homes[index % homes.length] : undefined;
}

/** A resident's address is their care home's, and their record names the home. */
function livesIn(patient: Patient, careHome: Partner): void {
  patient.address = [{ use: 'home', line: [careHome.name], ...(careHome.postcode ? { postalCode: careHome.postcode } : {}), country: 'GB' }];
  patient.extension = [...(patient.extension ?? []), { url: CARE_HOME_RESIDENT_EXTENSION, valueReference: partnerRef(careHome) }];
}

/** One patient's transaction Bundle. Everything random comes from an Rng seeded by (seed, index). */
function patientBundle(ctx: PopulationContext, index: number): Bundle {
  const rng = new Rng(hash32(ctx.seedLo, ctx.seedHi, index, 0x5eed));
  const home = practiceOf(ctx, index);
  const { practice } = home;
  const record = new RecordBuilder(ctx, index);
  const today = ctx.asOfMs;

  // --- who ---
  const [from, to] = rng.weighted(AGE_BANDS.map(([a, b, w]) => [[a, b] as const, w] as const));
  const age = rng.float(from, to);
  const sex: Sex = rng.chance(age >= 75 ? 0.56 : 0.505) ? 'female' : 'male';
  const birthMs = today - Math.round(age * YEAR_DAYS) * DAY_MS;
  const birthDate = isoDate(birthMs);
  const birthYear = Number(birthDate.slice(0, 4));
  const given = rng.pick(GIVEN_NAMES[sex][birthYear < 1955 ? 0 : birthYear < 1990 ? 1 : 2] ?? []);
  const family = rng.pick(FAMILY_NAMES);
  // The test range holds MAX_SYNTHETIC_PATIENTS valid numbers; people beyond it are recorded without an
  // NHS number (as a newly arrived or unverified patient would be), under a local identifier instead.
  const nhsNumber = index < MAX_SYNTHETIC_PATIENTS ? nhsNumberFor(index) : null;
  const patientIdentifier: Identifier = nhsNumber
    ? {
        extension: [
          {
            url: NHS_NUMBER_VERIFICATION_EXTENSION,
            valueCodeableConcept: codeable(NHS_NUMBER_VERIFICATION_SYSTEM, '01', 'Number present and verified'),
          },
        ],
        system: NHS_NUMBER_SYSTEM,
        value: nhsNumber,
      }
    : { system: SYNTHETIC_RECORD_SYSTEM, value: `patient-${index}` };
  const frailty = Math.exp(rng.normal() - 0.5); // log-normal with mean 1: a long tail of frail people
  const bmi = age >= 18 ? clamp(rng.normal() * 4.8 + (age >= 80 ? 25.5 : 27.6), 16, 52) : null;

  const patientRef = record.addPatient(
    {
      resourceType: 'Patient',
      meta: { profile: [UK_CORE_PATIENT], ...agencyMeta('gp-practice') },
      identifier: [patientIdentifier],
      name: [{ use: 'official', family, given: [given], ...(age >= 18 ? { prefix: [sex === 'female' ? rng.pick(['Mrs', 'Ms', 'Miss']) : 'Mr'] } : {}) }],
      gender: sex,
      birthDate,
      address: [
        {
          use: 'home',
          line: [`${rng.int(1, 120)} ${rng.pick(STREETS)}`],
          ...(practice.town ? { city: practice.town } : {}),
          ...(home.outward ? { postalCode: `${home.outward} ${rng.int(1, 9)}${rng.pick([...INWARD_LETTERS])}${rng.pick([...INWARD_LETTERS])}` } : {}),
          country: 'GB',
        },
      ],
      ...(age >= 16 ? { telecom: [{ system: 'phone' as const, value: `07700 900${String(rng.int(0, 999)).padStart(3, '0')}`, use: 'mobile' as const }] } : {}),
      generalPractitioner: [practiceRef(practice)],
      managingOrganization: practiceRef(practice),
    },
    patientIdentifier,
  );

  // --- problems ---
  const drawn = new Map<string, DrawnProblem>();
  /** Problems drawn on the second stream: written last, after every first-stream entry. */
  const later = new Map<string, ProblemDraw>();
  const person: Person = {
    age,
    sex,
    bmi,
    has: (key) => {
      if (!PROBLEM_KEYS.has(key)) throw new Error(`no problem '${key}' in the synthetic population's table`);
      return drawn.has(key) || later.has(key);
    },
  };
  for (const spec of PROBLEMS) {
    if (spec.stream === 'second') continue;
    const problem = drawProblem(rng, spec, person, frailty, birthMs, today);
    if (!problem) continue;
    const ref = record.add<Condition>(problemResource(patientRef, problem), 'gp-practice');
    drawn.set(spec.key, { key: spec.key, code: problem.code, ref });
  }
  // The second stream: everything added to the generator after the first demo draws from it, so the first
  // stream's draws (and so every earlier patient's record, up to the entries added at its end) stay as they were.
  const second = new Rng(hash32(ctx.seedLo, ctx.seedHi, index, 0x2d5e));
  for (const spec of PROBLEMS) {
    if (spec.stream !== 'second') continue;
    const problem = drawProblem(second, spec, person, frailty, birthMs, today);
    if (problem) later.set(spec.key, problem);
  }
  const careHome = later.has('care-home') ? careHomeOf(home, index) : undefined;
  if (careHome) livesIn(record.entries[0]?.resource as Patient, careHome); // the Patient is the bundle's first entry
  const missedHba1c = second.chance(OBSERVATIONS.missedAnnualReading.hba1c);
  const missedBloodPressure = second.chance(OBSERVATIONS.missedAnnualReading.bloodPressure);

  // --- allergies ---
  const allergies = new Set<string>();
  if (rng.chance(0.1)) {
    const allergy = rng.weighted(ALLERGIES.map((a) => [a, a.weight] as const));
    allergies.add(allergy.key);
    const reaction = rng.weighted(REACTIONS);
    record.add<AllergyIntolerance>(
      {
        resourceType: 'AllergyIntolerance',
        clinicalStatus: codeable('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active', 'Active'),
        verificationStatus: codeable('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed', 'Confirmed'),
        type: 'allergy',
        category: [allergy.category],
        criticality: reaction.code === '39579001' ? 'high' : 'low',
        code: allergy.code,
        patient: patientRef,
        recordedDate: isoDate(Math.min(today, birthMs + rng.float(0.3, 1) * age * YEAR_DAYS * DAY_MS)),
        reaction: [{ manifestation: [{ coding: [reaction] }] }],
      },
      'gp-practice',
    );
  }

  // --- GP visits with observations ---
  const chronic = [...drawn.keys()].filter((k) => TREATMENTS[k] !== undefined).length;
  const visits = age < 18 ? (rng.chance(0.3) ? 1 : 0) : age < 40 ? (rng.chance(0.5) ? 1 : 0) : age < 65 ? rng.int(1, 2) : chronic >= 2 ? 3 : rng.int(2, 3);
  const hypertensive = drawn.has('hypertension');
  const diabetic = drawn.has('diabetes') || drawn.has('diabetes-type-1');
  const systolic0 = 118 + 0.35 * Math.max(0, age - 40) + (hypertensive ? 14 : 0) + rng.normal() * 8;
  const diastolic0 = 74 + (hypertensive ? 6 : 0) - 0.1 * Math.max(0, age - 60) + rng.normal() * 6;
  const hba1c0 = 58 + rng.normal() * 9;
  for (let v = 0; v < visits; v++) {
    const years = visits - 1 - v; // oldest first: about 2, 1, 0 years ago
    const atMs = today - (years * 365 + rng.int(10, 300)) * DAY_MS + rng.int(8 * 60, 17 * 60) * 60_000;
    if (atMs <= birthMs) continue;
    const review = age >= 40 && (chronic > 0 || v === visits - 1);
    const encounter = record.add<Encounter>(
      {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
        type: [review ? codeable(SNOMED, '185349003', 'Encounter for check up', 'Long-term condition review') : codeable(SNOMED, '11429006', 'Consultation')],
        subject: patientRef,
        period: { start: isoDateTime(atMs), end: isoDateTime(atMs + 15 * 60_000) },
        serviceProvider: practiceRef(practice),
      },
      'gp-practice',
    );
    const at = isoDateTime(atMs);
    if (age >= 40 || hypertensive) {
      const sys = Math.round(clamp(systolic0 - (hypertensive ? 3 * v : 0) + rng.normal() * 6, 90, 210));
      const dia = Math.round(clamp(diastolic0 + rng.normal() * 4, 50, Math.min(120, sys - 25)));
      const missed = hypertensive && missedBloodPressure && v === visits - 1;
      if (!missed) record.add<Observation>(bloodPressure(patientRef, encounter, practice, at, sys, dia), 'gp-practice');
    }
    if (diabetic) {
      const value = Math.round(clamp(hba1c0 - 2 * v + rng.normal() * 4, 38, 110));
      if (!(missedHba1c && v === visits - 1)) record.add<Observation>(measurement(patientRef, practice, OBSERVATIONS.hba1c, value, at, encounter), 'gp-practice');
    }
    if (bmi !== null && (v === visits - 1 || rng.chance(0.5))) {
      const value = Math.round(clamp(bmi + (drawn.has('weight-loss') ? -0.8 * v : 0.2 * v) + rng.normal() * 0.5, 14, 60) * 10) / 10;
      record.add<Observation>(measurement(patientRef, practice, OBSERVATIONS.bmi, value, at, encounter), 'gp-practice');
    }
  }

  // --- medicines ---
  const medicines = new Map<string, Reference<Condition> | undefined>();
  const prescribe = (key: string, reason?: Reference<Condition>) => {
    if (!medicines.has(key)) medicines.set(key, reason);
  };
  for (const { key, ref } of drawn.values()) {
    const options = TREATMENTS[key] ?? [];
    for (const [medicine, p] of options) if (rng.chance(p)) prescribe(medicine, ref);
    if (key === 'hypertension' && !options.some(([m]) => medicines.has(m))) prescribe('amlodipine', ref);
  }
  if (sex === 'female') medicines.delete('finasteride');
  if (allergies.has('nsaid')) {
    const reason = medicines.get('aspirin');
    if (medicines.delete('aspirin') && drawn.has('chd')) prescribe('clopidogrel', reason);
    medicines.delete('naproxen');
  }
  if (age >= 60 && !medicines.has('atorvastatin') && rng.chance(0.4)) prescribe('atorvastatin'); // primary prevention
  if (age >= 65 && rng.chance(age >= 75 ? 0.4 : 0.15)) prescribe('paracetamol');
  if (age >= 75 && rng.chance(0.15)) prescribe('senna');
  if (age >= 70 && rng.chance(0.12)) prescribe('hypromellose');
  if (age >= 70 && rng.chance(0.15)) prescribe('emollient');
  if (age >= 65 && !medicines.has('omeprazole') && !medicines.has('lansoprazole') && rng.chance(0.1)) prescribe('lansoprazole');
  if (age >= 65 && ANTITHROMBOTICS.some((m) => medicines.has(m)) && !medicines.has('lansoprazole') && rng.chance(0.5)) prescribe('omeprazole');
  if ((drawn.has('housebound') || drawn.has('care-requirement')) && rng.chance(0.4)) prescribe('colecalciferol');
  if ((age >= 80 && medicines.has('cocodamol')) || (drawn.has('parkinsons') && rng.chance(0.5))) prescribe('macrogol');
  const prescribing = laterPrescribing(second, age, person.has, medicines);
  const medicationRequest = (key: string, reason: Reference<Condition> | undefined, authoredMs: number) => {
    const medicine = MEDICINES[key]!;
    record.add<MedicationRequest>(
      {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: medicine.dmd ? codeable(DMD_SYSTEM, medicine.dmd, medicine.name, medicine.name) : { text: medicine.name },
        subject: patientRef,
        authoredOn: isoDate(authoredMs),
        requester: practiceRef(practice),
        ...(reason ? { reasonReference: [reason] } : {}),
        courseOfTherapyType: codeable('http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', 'continuous', 'Continuous long term therapy'),
        dosageInstruction: [{ text: medicine.dose }],
      },
      'gp-practice',
    );
  };
  for (const [key, reason] of medicines) {
    // A repeat's latest issue, in the last 8 weeks (repeats are issued every 4 to 8 weeks, and a rule counts a medicine as
    // current from its issues). The draw was once "1 to 360 days ago" and is kept, for a withheld medicine too, so the first
    // stream keeps its place.
    const authoredMs = today - (1 + ((rng.int(1, 360) - 1) % 56)) * DAY_MS;
    if (!prescribing.withheld.has(key)) medicationRequest(key, reason, authoredMs);
  }

  // --- other agencies ---
  // Each agency's entry names its organisation where R4 allows an Organization: Encounter.serviceProvider,
  // Procedure.performer.actor, QuestionnaireResponse.author. Community pharmacy: Encounter + Procedure
  // "Review of medication". Social care: a home Encounter + a QuestionnaireResponse (Care Act 2014 needs
  // assessment: eligibility, unmet outcomes, support agreed). Mental health and social prescribing: an
  // Encounter whose reasonReference is the problem that led there.
  const partnerOf = (type: PartnerType): Partner | null => {
    const list = home.partners.get(type);
    return list?.length ? rng.pick(list) : null;
  };
  const agencyVisit = (partner: Partner, agency: Agency, typeText: string, atMs: number, extra: Partial<Encounter> = {}): Reference<Encounter> =>
    record.add<Encounter>(
      {
        resourceType: 'Encounter',
        status: 'finished',
        class: extra.class ?? { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
        type: [{ text: typeText }],
        subject: patientRef,
        period: { start: isoDateTime(atMs), end: isoDateTime(atMs + 40 * 60_000) },
        serviceProvider: partnerRef(partner),
        ...(extra.reasonReference ? { reasonReference: extra.reasonReference } : {}),
      },
      agency,
    );
  const recently = (maxDays: number) => today - rng.int(7, maxDays) * DAY_MS + rng.int(9 * 60, 16 * 60) * 60_000;

  const pharmacy = partnerOf('community-pharmacy');
  if (pharmacy && rng.chance(medicines.size >= 4 ? 0.35 : medicines.size >= 1 ? 0.08 : 0)) {
    const atMs = recently(330);
    const encounter = agencyVisit(pharmacy, 'community-pharmacy', 'Community pharmacy medicines review', atMs);
    record.add<Procedure>(
      {
        resourceType: 'Procedure',
        status: 'completed',
        code: codeable(SNOMED, '182836005', 'Review of medication', 'Medicines review at the community pharmacy'),
        subject: patientRef,
        encounter,
        performedDateTime: isoDateTime(atMs),
        performer: [{ actor: partnerRef(pharmacy) }],
      },
      'community-pharmacy',
    );
  }

  const needsCare = CARE_SIGNALS.some((k) => drawn.has(k));
  const council = partnerOf('social-care');
  if (council && age >= 65 && rng.chance(needsCare ? 0.45 : age >= 75 ? 0.05 : 0)) {
    const atMs = recently(720);
    const encounter = agencyVisit(council, 'social-care', 'Care Act 2014 needs assessment', atMs, { class: { system: ACT_CODE, code: 'HH', display: 'home health' } });
    const eligible = needsCare || rng.chance(0.3);
    const item: QuestionnaireResponseItem[] = [{ linkId: 'eligible', text: 'Eligible needs under the Care Act 2014', answer: [{ valueBoolean: eligible }] }];
    if (eligible) {
      item.push(
        { linkId: 'outcomes', text: 'Outcomes the person is unable to achieve', answer: rng.sample(CARE_ACT_OUTCOMES, rng.int(2, 4)).map((valueString) => ({ valueString })) },
        { linkId: 'support', text: 'Support agreed', answer: rng.sample(CARE_SUPPORT, rng.int(1, 2)).map((valueString) => ({ valueString })) },
      );
    } else {
      item.push({ linkId: 'advice', text: 'Advice and information given', answer: [{ valueString: 'Signposted to community groups and equipment services' }] });
    }
    record.addQuestionnaireResponse(
      {
        resourceType: 'QuestionnaireResponse',
        questionnaire: CARE_NEEDS_ASSESSMENT_QUESTIONNAIRE,
        status: 'completed',
        subject: patientRef,
        encounter,
        authored: isoDateTime(atMs),
        author: partnerRef(council),
        source: patientRef,
        item,
      },
      'social-care',
    );
  }

  const mood = drawn.get('depression') ?? drawn.get('anxiety');
  const mentalHealth = partnerOf('mental-health');
  if (mood && mentalHealth && rng.chance(0.3)) {
    const typeText = rng.pick(['Talking therapies assessment', 'Talking therapies session', 'Community mental health team review']);
    agencyVisit(mentalHealth, 'mental-health', typeText, recently(540), { reasonReference: [mood.ref] });
  }

  const lonely = drawn.get('social-vulnerability') ?? mood;
  const linkWorker = partnerOf('voluntary');
  if (linkWorker && age >= 18 && rng.chance(lonely ? 0.2 : age >= 65 ? 0.03 : 0)) {
    agencyVisit(linkWorker, 'voluntary', 'Social prescribing link worker contact', recently(540), lonely ? { reasonReference: [lonely.ref] } : {});
  }

  // --- what matters to me, in the patient's own words, recorded once ---
  if (age >= 12 && rng.chance(0.25)) {
    const statements = rng.sample(WHAT_MATTERS[age < 25 ? 'young' : age < 65 ? 'adult' : 'older'], rng.int(1, 3));
    record.addQuestionnaireResponse(
      {
        resourceType: 'QuestionnaireResponse',
        questionnaire: WHAT_MATTERS_QUESTIONNAIRE,
        status: 'completed',
        subject: patientRef,
        authored: isoDateTime(recently(700)),
        author: practiceRef(practice),
        source: patientRef,
        item: statements.map((valueString, i) => ({ linkId: `what-matters-${i + 1}`, text: 'What matters to me', answer: [{ valueString }] })),
      },
      'gp-practice',
    );
  }

  // --- the proactive care team of a frail or older patient: their practice, their PCN's community pharmacy
  // and their council's social care, so those partners see them without breaking glass. Last, so every
  // entry above keeps the identifier it had before care teams were seeded. ---
  if (home.careTeam.length > 0 && (age >= 75 || (age >= 65 && needsCare))) {
    record.add<CareTeam>(
      {
        resourceType: 'CareTeam',
        status: 'active',
        name: 'Proactive care team (frailty)',
        subject: patientRef,
        period: { start: isoDate(today - ((index % 300) + 30) * DAY_MS) },
        participant: [
          { role: [{ text: 'GP practice' }], member: practiceRef(practice) },
          ...home.careTeam.map((partner) => ({ role: [{ text: AGENCY_LABELS[partner.type] }], member: partnerRef(partner) })),
        ],
        managingOrganization: [practiceRef(practice)],
      },
      'gp-practice',
    );
  }

  // --- entries drawn on the second stream, last, so every entry above keeps the identifier it had ---
  const laterRefs = new Map<string, Reference<Condition>>();
  for (const [key, problem] of later) laterRefs.set(key, record.add<Condition>(problemResource(patientRef, problem), 'gp-practice'));
  const reasonFor = (key: string | undefined) => (key === undefined ? undefined : (drawn.get(key)?.ref ?? laterRefs.get(key)));
  for (const [key, reason] of prescribing.added) {
    const issues = MEDICINES[key]?.issues ?? 1;
    const latestMs = today - second.int(1, issues > 1 ? 28 : 150) * DAY_MS;
    for (let issue = issues - 1; issue >= 0; issue--) medicationRequest(key, reasonFor(reason), latestMs - issue * 56 * DAY_MS);
  }

  const laterCodeOf = (key: string) => drawn.get(key)?.code ?? later.get(key)?.code;
  const inLastYear = (p: number) => second.chance(p);
  const daysAgo = (withinYear: boolean) => today - (withinYear ? second.int(10, 340) : second.int(400, 900)) * DAY_MS + second.int(9 * 60, 16 * 60) * 60_000;
  const egfrMonitored =
    age >= 18 && (['ckd', 'diabetes', 'diabetes-type-1', 'hypertension', 'heart-failure'].some(person.has) || medicinesIn(['oralAnticoagulant']).some((m) => prescribing.on.has(m)) || age >= 70);
  if (egfrMonitored) {
    const atMs = daysAgo(inLastYear(0.85) || prescribing.egfrBelow30);
    const egfr = Math.round(egfrValue(second, age, laterCodeOf('ckd'), prescribing.egfrBelow30));
    record.add<Observation>(measurement(patientRef, practice, OBSERVATIONS.egfr, egfr, isoDateTime(atMs)), 'gp-practice');
  }

  for (const spec of OBSERVATIONS.efiValues) {
    if (age < spec.who.minAge) continue;
    const share = spec.who.forAny?.some(person.has) ? (spec.who.forAnyShare ?? spec.who.share) : spec.who.share;
    if (!second.chance(share)) continue;
    const range = spec.ranges.find((r) => (!r.ifAny || r.ifAny.some(person.has)) && (r.chance === undefined || second.chance(r.chance)));
    const [lo, hi] = range?.value ?? range?.[sex] ?? [0, 0];
    const scale = 10 ** spec.decimals;
    const value = Math.round(second.float(lo, hi) * scale) / scale;
    if (range) record.add<Observation>(measurement(patientRef, practice, spec, value, isoDateTime(daysAgo(true))), 'gp-practice');
  }

  for (const review of REVIEWS) {
    const due = age >= (review.minAge ?? 0) && (review.forAny.some(person.has) || (review.medicinesAtLeast !== undefined && prescribing.on.size >= review.medicinesAtLeast));
    if (!due) continue;
    const draw = second.next();
    if (draw >= review.withinYear + review.earlier) continue;
    const atMs = daysAgo(draw < review.withinYear);
    record.add<Procedure>(
      {
        resourceType: 'Procedure',
        status: 'completed',
        code: codeable(SNOMED, review.code, review.display),
        subject: patientRef,
        performedDateTime: isoDateTime(atMs),
        performer: [{ actor: practiceRef(practice) }],
      },
      'gp-practice',
    );
  }

  const deficits = new Set([...drawn.keys(), ...later.keys()].map((key) => PROBLEM_SPECS.get(key)?.efi).filter((d): d is string => typeof d === 'string'));
  if (prescribing.on.size >= 5) deficits.add('polypharmacy');
  const plan = PERSONALISED_CARE_PLAN;
  if (age >= plan.minAge && deficits.size >= plan.deficitsAtLeast && second.chance(plan.chance)) {
    const startMs = today - second.int(20, 700) * DAY_MS;
    record.add<CarePlan>(
      {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        category: [{ text: 'Personalised care and support plan' }],
        title: 'Personalised care and support plan',
        description: 'What matters to the person, their goals, the support agreed and whom to contact',
        subject: patientRef,
        period: { start: isoDate(startMs) },
        created: isoDate(startMs),
        author: practiceRef(practice),
      },
      'gp-practice',
    );
  }

  return { resourceType: 'Bundle', type: 'transaction', entry: record.entries };
}

const PROBLEM_SPECS = new Map(PROBLEMS.map((spec) => [spec.key, spec]));

/**
 * An eGFR (mL/min/1.73 m²): within the CKD stage coded (3a 45–59, 3b 30–44, occasionally just below 30 before
 * the code is updated; stage 3 unspecified 30–59), otherwise falling with age (some older people without a CKD
 * code are below 60); below 30 where a hazard says so.
 */
function egfrValue(rng: Rng, age: number, ckdCode: string | undefined, below30: boolean): number {
  if (below30) return rng.float(15, 29);
  if (ckdCode === '700378005') return rng.float(45, 59);
  if (ckdCode === '700379002') return rng.chance(0.1) ? rng.float(25, 29) : rng.float(30, 44);
  if (ckdCode !== undefined) return rng.float(30, 59);
  return clamp(100 - 0.7 * Math.max(0, age - 30) + rng.normal() * 10, 35, 130);
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** When a problem began: chronic ones any time since onsetFrom, recent ones within `withinYears`. */
function onsetOf(rng: Rng, spec: ProblemSpec, age: number, birthMs: number, today: number): number {
  const earliestAge = Math.max(spec.onsetFrom, spec.withinYears === undefined ? age - 30 : age - spec.withinYears);
  const onsetAge = rng.float(Math.min(earliestAge, age), age);
  return Math.min(today - DAY_MS, birthMs + Math.round(onsetAge * YEAR_DAYS) * DAY_MS);
}

/** An observation recorded by the practice, at a visit (encounter) or reported by the laboratory; its value follows. */
function observationAt(subject: Reference<Patient>, practice: Practice, spec: ObservationSpec, at: string, encounter?: Reference<Encounter>): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [OBSERVATION_CATEGORY[spec.category]],
    code: spec.code,
    subject,
    ...(encounter ? { encounter } : {}),
    effectiveDateTime: at,
    performer: [practiceRef(practice)],
  };
}

/** A measurement with one value in its UCUM unit. */
function measurement(subject: Reference<Patient>, practice: Practice, spec: ObservationSpec, value: number, at: string, encounter?: Reference<Encounter>): Observation {
  return { ...observationAt(subject, practice, spec, at, encounter), valueQuantity: quantity(value, spec) };
}

function bloodPressure(subject: Reference<Patient>, encounter: Reference<Encounter>, practice: Practice, at: string, systolic: number, diastolic: number): Observation {
  const spec = OBSERVATIONS.bloodPressure;
  return {
    ...observationAt(subject, practice, spec, at, encounter),
    component: [
      { code: spec.systolic, valueQuantity: quantity(systolic, spec) },
      { code: spec.diastolic, valueQuantity: quantity(diastolic, spec) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------------------------

function* bundles(ctx: PopulationContext, from: number, patients: number): Generator<Bundle> {
  for (let index = from; index < patients; index++) yield patientBundle(ctx, index);
}

/**
 * The synthetic population, one transaction Bundle per patient, lazily: nothing is generated before
 * it is pulled. Options are checked at the call (not on the first `next()`). Patients beyond the NHS
 * number test range's capacity get a local identifier instead. A RegistrySnapshot can be spread in as options.
 */
export function syntheticPopulation(options: SyntheticPopulationOptions): Generator<Bundle> {
  return bundles(populationContext(options), options.from ?? 0, options.patients);
}

// ---------------------------------------------------------------------------------------------
// Summary (for tests, demos and sanity checks)
// ---------------------------------------------------------------------------------------------

export interface PatientSummary {
  nhsNumber: string;
  practiceOds: string;
  gender: string;
  birthDate: string;
  age: number;
  /** SNOMED CT codes of the active problems. */
  problemCodes: string[];
  /** eFI deficits present (polypharmacy: 5+ distinct medicines authored in the 12 months before asOf). */
  efiDeficits: string[];
  efiScore: number;
  /** Distinct medicines on active requests authored in the 12 months before asOf. */
  activeMedicines: number;
  /** Agencies that recorded something, from the meta.tag on each resource. */
  agencies: Agency[];
  resourceCounts: Record<string, number>;
}

/** What one patient's Bundle holds, in the terms the tests and the eFI speak. */
export function summariseBundle(bundle: Bundle, asOf: string = SYNTHETIC_AS_OF): PatientSummary {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) throw new Error('the bundle has no Patient');
  const yearAgo = isoDate(parseAsOf(asOf) - 365 * DAY_MS);

  const problemCodes = resources
    .filter((r): r is Condition => r.resourceType === 'Condition' && r.clinicalStatus?.coding?.[0]?.code === 'active')
    .flatMap((c) => (c.code?.coding ?? []).filter((coding) => coding.system === SNOMED).map((coding) => coding.code ?? ''));
  const medicines = new Set(
    resources
      .filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest' && r.status === 'active' && (r.authoredOn ?? '') >= yearAgo)
      .map((m) => m.medicationCodeableConcept?.coding?.[0]?.code ?? m.medicationCodeableConcept?.text ?? ''),
  );
  const deficits = new Set(problemCodes.flatMap((code) => efiDeficitsOfCode(code)));
  if (medicines.size >= 5) deficits.add('polypharmacy');
  const agencies = new Set<Agency>();
  const resourceCounts: Record<string, number> = {};
  for (const r of resources) {
    resourceCounts[r.resourceType] = (resourceCounts[r.resourceType] ?? 0) + 1;
    for (const tag of r.meta?.tag ?? []) if (tag.system === AGENCY_TAG_SYSTEM && tag.code) agencies.add(tag.code as Agency);
  }
  const birthDate = patient.birthDate ?? '';
  return {
    nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '',
    practiceOds: patient.generalPractitioner?.[0]?.identifier?.value ?? '',
    gender: patient.gender ?? 'unknown',
    birthDate,
    age: ageOn(birthDate, asOf),
    problemCodes,
    efiDeficits: [...deficits].sort(),
    efiScore: deficits.size / 36,
    activeMedicines: medicines.size,
    agencies: [...agencies].sort(),
    resourceCounts,
  };
}
