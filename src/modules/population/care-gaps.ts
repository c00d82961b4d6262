/**
 * Care gaps as data: rules/care-gaps.json declares each gap in QOF's shape — register, denominator, numerator,
 * time window, exclusions — over the vocabulary of rules/definitions.json. A gap is listed only for patients on
 * its register and in its denominator; it is open or closed with the date it became so, or refused when it
 * cannot be answered exactly (no birth date for an age limit, a value whose comparator straddles the target,
 * a unit the observation does not accept, a numerator with no verified codes).
 */
import { z } from 'zod';
import type { EntryType, PatientFacts, RecordEntry } from './facts.ts';
import type { CareGapFinding, Evidence, FrailtyResult, PopulationResult, Refusal } from './results.ts';
import {
  activeOf,
  monthsAfter,
  ageAt,
  type CodeSet,
  entriesOfType,
  entryEvidence,
  evidence,
  exactlyOneKey,
  type Hit,
  hitsOf,
  indexPatient,
  isMedicine,
  type LatestReading,
  latestDate,
  latestReading,
  lookup,
  type Observation,
  onRegister,
  type PatientIndex,
  type Register,
  readingMeets,
  type Fail,
  failIn,
  readRuleFile,
  ruleList,
  type Truth,
  uniqueEvidence,
  type Vocabulary,
  vocabulary,
  windowStart,
  within,
} from './rule-data.ts';
import { parseRuleFile, type RuleFileKind } from './rule-file.ts';

const MONTHS = z.number().int().positive();
const KIND: RuleFileKind = { kind: 'care gaps', items: 'gaps', item: 'gap' };
const ENTRY_TYPES = ['Condition', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Procedure', 'Encounter', 'CarePlan', 'CareTeam'] as const;

const NumeratorSchema = z
  .object({
    medicine: z.string().optional(),
    event: z.string().optional(),
    withinMonths: MONTHS.optional(),
    latestValue: z.object({ observation: z.string(), withinMonths: MONTHS, atMost: z.number() }).strict().optional(),
    bloodPressure: z
      .object({
        withinMonths: MONTHS,
        targets: z.array(z.object({ ageBelow: z.number().int().optional(), ageAtLeast: z.number().int().optional(), systolicAtMost: z.number(), diastolicAtMost: z.number() }).strict()).min(1),
      })
      .strict()
      .optional(),
    activeEntries: z.array(z.enum(ENTRY_TYPES)).min(1).optional(),
  })
  .strict()
  .superRefine(exactlyOneKey('a numerator', ['medicine', 'event', 'latestValue', 'bloodPressure', 'activeEntries'], ['withinMonths']))
  .superRefine((numerator, ctx) => {
    if ((numerator.event === undefined) !== (numerator.withinMonths === undefined)) ctx.addIssue({ code: 'custom', message: 'an event numerator needs withinMonths (and only it takes one)' });
  });

const GapSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'a gap id is lower-case letters, digits and dashes'),
    name: z.string().min(1),
    source: z.string().optional(),
    register: z.union([z.object({ code: z.string() }).strict(), z.object({ frailty: z.array(z.string()).min(1) }).strict()]),
    denominator: z
      .object({
        ageAtLeast: z.number().int().min(0).optional(),
        ageBelow: z.number().int().min(1).optional(),
        cha2ds2vasc: z
          .object({
            atLeast: z.number().int().min(1),
            heartFailure: z.string(),
            hypertension: z.string(),
            diabetes: z.string(),
            strokeOrTia: z.string(),
            /** Null when no list exists: its point is then unknown, and the gap refuses where it could matter. */
            vascularDisease: z.string().nullable(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    numerator: NumeratorSchema,
    exclusions: z.array(z.object({ event: z.string(), withinMonths: MONTHS }).strict()),
    exclusionsNote: z.string().optional(),
  })
  .strict();

const CareGapsSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.string(),
    gaps: ruleList(GapSchema, 'gap'),
  })
  .strict();

type Finding = CareGapFinding | (Refusal & { id: string; name: string });

/** What the numerator found: closed or open with the date it became so, the entries behind it, and a sentence; or refused. */
type NumeratorAnswer = { status: 'open' | 'closed'; since?: string | undefined; reason: string; entries: Evidence[] } | { refused: string };

interface GapContext {
  index: PatientIndex;
  /** When the register episode began (undefined for a register without dates, e.g. frailty). */
  registerSince?: string | undefined;
}

interface CompiledGap {
  id: string;
  name: string;
  /** On the register and in the denominator: the register evidence and start; null when not; a string when refused. */
  admit: (index: PatientIndex, frailty: FrailtyResult | Refusal | null) => { since?: string | undefined; entries: Evidence[]; note?: string } | null | string;
  numerator: (context: GapContext) => NumeratorAnswer;
  excluded: (index: PatientIndex) => boolean;
}

export interface CareGapRules {
  readonly version: string;
  readonly gaps: readonly CompiledGap[];
  readonly vocabulary: Vocabulary;
}

/** Checks and compiles a care-gap rule file; an error names the file and the gap. */
export function compileCareGaps(json: unknown, file: string, words: Vocabulary = vocabulary()): CareGapRules {
  const rules = parseRuleFile(json, CareGapsSchema, file, KIND);
  return { version: rules.version, vocabulary: words, gaps: rules.gaps.map((gap) => compileGap(gap, words, failIn(KIND, file, gap.id))) };
}

function compileGap(gap: z.infer<typeof GapSchema>, words: Vocabulary, fail: Fail): CompiledGap {
  const exclusions = gap.exclusions.map((exclusion) => ({ set: lookup(words.events, exclusion.event, 'event', fail), months: exclusion.withinMonths }));
  const admitRegister = compileRegister(gap.register, words, fail);
  const denominator = compileDenominator(gap.denominator, words, fail);
  return {
    id: gap.id,
    name: gap.name,
    admit: (index, frailty) => {
      const admitted = admitRegister(index, frailty);
      if (admitted === null || typeof admitted === 'string') return admitted;
      const inDenominator = denominator(index);
      if (inDenominator === true) return admitted;
      return inDenominator === false ? null : inDenominator;
    },
    numerator: compileNumerator(gap.numerator, words, fail),
    excluded: (index) => exclusions.some(({ set, months }) => within(index, set, months).length > 0),
  };
}

function compileRegister(register: z.infer<typeof GapSchema>['register'], words: Vocabulary, fail: Fail): CompiledGap['admit'] {
  if ('code' in register) {
    const found: Register = lookup(words.registers, register.code, 'register', fail);
    return (index) => {
      const standing = onRegister(index, found);
      if (!standing) return null;
      return { since: standing.since, entries: [evidence(standing.entries[standing.entries.length - 1]!, found.diagnoses)] };
    };
  }
  const categories = new Set(register.frailty);
  return (_index, frailty) => {
    if (frailty === null) return null;
    if ('refused' in frailty) return `frailty not scored: ${frailty.reason}`;
    if (!categories.has(frailty.category)) return null;
    return { entries: [], note: `${frailty.category} frailty (eFI ${frailty.score})` };
  };
}

/** True (in the denominator), false (not), or a refusal reason. */
function compileDenominator(denominator: z.infer<typeof GapSchema>['denominator'], words: Vocabulary, fail: Fail): (index: PatientIndex) => boolean | string {
  const { ageAtLeast, ageBelow, cha2ds2vasc } = denominator;
  const score = cha2ds2vasc ? compileChadsVasc(cha2ds2vasc, words, fail) : undefined;
  return (index) => {
    if (ageAtLeast !== undefined || ageBelow !== undefined || score) {
      const age = ageAt(index);
      if (age === undefined) return 'no birth date on the record (the gap has an age limit)';
      if ((ageAtLeast !== undefined && age < ageAtLeast) || (ageBelow !== undefined && age >= ageBelow)) return false;
    }
    return score ? score(index) : true;
  };
}

/**
 * CHA₂DS₂-VASc from age, sex and registers: heart failure 1, hypertension 1, age 75+ 2 (65–74 1), diabetes 1,
 * stroke/TIA 2, vascular disease 1, female 1. A component the record cannot give (no vascular-disease list; sex
 * not male or female) is a range; the score decides only when the whole range falls on one side of the cut-off.
 */
function compileChadsVasc(spec: NonNullable<z.infer<typeof GapSchema>['denominator']['cha2ds2vasc']>, words: Vocabulary, fail: Fail): (index: PatientIndex) => boolean | string {
  const points: [Register, number][] = [
    [lookup(words.registers, spec.heartFailure, 'register', fail), 1],
    [lookup(words.registers, spec.hypertension, 'register', fail), 1],
    [lookup(words.registers, spec.diabetes, 'register', fail), 1],
    [lookup(words.registers, spec.strokeOrTia, 'register', fail), 2],
  ];
  const vascular = spec.vascularDisease === null ? null : lookup(words.registers, spec.vascularDisease, 'register', fail);
  return (index) => {
    const age = ageAt(index)!;
    let low = age >= 75 ? 2 : age >= 65 ? 1 : 0;
    const unknown: string[] = [];
    for (const [register, point] of points) if (onRegister(index, register)) low += point;
    let high = low;
    if (vascular === null) {
      high += 1;
      unknown.push('vascular disease (no code list)');
    } else if (onRegister(index, vascular)) {
      low += 1;
      high += 1;
    }
    const { gender } = index.facts;
    if (gender === 'female') {
      low += 1;
      high += 1;
    } else if (gender !== 'male') {
      high += 1;
      unknown.push(`sex (${gender ?? 'not recorded'})`);
    }
    if (low >= spec.atLeast) return true;
    if (high < spec.atLeast) return false;
    return `CHA₂DS₂-VASc is ${low} to ${high}: ${unknown.join(' and ')} cannot be determined, and could lift it to ${spec.atLeast}`;
  };
}

function compileNumerator(numerator: z.infer<typeof NumeratorSchema>, words: Vocabulary, fail: Fail): CompiledGap['numerator'] {
  if (numerator.medicine !== undefined) {
    const set = lookup(words.medicines, numerator.medicine, 'medicine class', fail);
    return ({ index, registerSince }) => {
      const active = activeOf(index, set);
      if (active.length > 0) return { status: 'closed', since: latestDate(active), reason: `${set.name} active`, entries: active.map((hit) => evidence(hit, set)) };
      const lastIssue = latestDate(hitsOf(index, set).filter((hit) => isMedicine(hit.entry) && hit.entry.standing === 'active'));
      const fellOut = lastIssue === undefined ? undefined : monthsAfter(lastIssue, index.vocabulary.activeMedicineMonths);
      return { status: 'open', since: latest(registerSince, fellOut), reason: `no ${set.name.toLowerCase()} issued in the last ${index.vocabulary.activeMedicineMonths} months`, entries: [] };
    };
  }
  if (numerator.event !== undefined) {
    const set = lookup(words.events, numerator.event, 'event', fail);
    const months = numerator.withinMonths!;
    return ({ index, registerSince }) => {
      if (set.missing) return { refused: `${set.name}: ${set.missing}` };
      const done = within(index, set, months);
      if (done.length > 0) return { status: 'closed', since: latestDate(done), reason: `${set.name} in the last ${months} months`, entries: done.map((hit) => evidence(hit, set)) };
      return { status: 'open', since: latest(registerSince, fellOutOf(hitsOf(index, set), months)), reason: `no ${set.name.toLowerCase()} in the last ${months} months`, entries: [] };
    };
  }
  if (numerator.latestValue) {
    const { withinMonths: months, atMost } = numerator.latestValue;
    const observation = lookup(words.observations, numerator.latestValue.observation, 'observation', fail);
    return ({ index, registerSince }) => {
      const reading = latestReading(index, observation, months);
      if (!reading)
        return noReading(
          observation.set,
          hitsOf(index, observation.set).filter((hit) => hit.value),
          months,
          registerSince,
        );
      const met = readingMeets(observation, reading, '<=', atMost);
      if (met.truth === 'unknown') return { refused: met.why! };
      const entries = (met.truth ? met.hits : reading.hits).map((hit) => evidence(hit, observation.set));
      return met.truth
        ? { status: 'closed', since: reading.date, reason: `${observation.set.name} ${atMost} or less on ${reading.date}`, entries }
        : { status: 'open', since: reading.date, reason: `${observation.set.name} above ${atMost} on ${reading.date}`, entries };
    };
  }
  if (numerator.bloodPressure) return compileBloodPressure(numerator.bloodPressure, words, fail);
  const types = numerator.activeEntries! as readonly EntryType[];
  return ({ index }) => {
    const found = types.map((type) => entriesOfType(index, type).filter((entry) => entry.standing === 'active'));
    const missing = types.filter((_type, i) => found[i]!.length === 0);
    const entries = found.flat().map((entry: RecordEntry) => entryEvidence(entry, index.vocabulary.termOf));
    if (missing.length > 0) return { status: 'open', reason: `no active ${missing.join(' or ')} on the record`, entries };
    return {
      status: 'closed',
      since: found
        .map(
          (list) =>
            list
              .map((entry) => entry.date!)
              .sort()
              .at(-1)!,
        )
        .sort()
        .at(-1),
      reason: `active ${types.join(' and ')} on the record`,
      entries,
    };
  };
}

function compileBloodPressure(spec: NonNullable<z.infer<typeof NumeratorSchema>['bloodPressure']>, words: Vocabulary, fail: Fail): CompiledGap['numerator'] {
  const systolic = lookup(words.observations, 'systolic', 'observation', fail);
  const diastolic = lookup(words.observations, 'diastolic', 'observation', fail);
  const months = spec.withinMonths;
  return ({ index, registerSince }) => {
    const age = ageAt(index)!;
    const target = spec.targets.find((t) => (t.ageAtLeast === undefined || age >= t.ageAtLeast) && (t.ageBelow === undefined || age < t.ageBelow));
    if (!target) return { refused: `no blood pressure target for age ${age}` };
    const { day, lastDay } = latestBloodPressureDays(index, systolic, diastolic, windowStart(index, months));
    if (day === undefined) {
      return { status: 'open', since: latest(registerSince, lastDay === undefined ? undefined : monthsAfter(lastDay, months)), reason: `no blood pressure in the last ${months} months`, entries: [] };
    }
    const reading = { systolic: readingOn(index, systolic, day), diastolic: readingOn(index, diastolic, day) };
    const sys = readingMeets(systolic, reading.systolic, '<=', target.systolicAtMost);
    const dia = readingMeets(diastolic, reading.diastolic, '<=', target.diastolicAtMost);
    const entries = uniqueEvidence([...reading.systolic.hits, ...reading.diastolic.hits].map((hit) => evidence(hit, undefined, index.vocabulary.termOf)));
    const both: Truth = sys.truth === false || dia.truth === false ? false : sys.truth === 'unknown' || dia.truth === 'unknown' ? 'unknown' : true;
    if (both === 'unknown') return { refused: (sys.why ?? dia.why)! };
    const targetText = `${target.systolicAtMost}/${target.diastolicAtMost}`;
    return both
      ? { status: 'closed', since: day, reason: `blood pressure at or below ${targetText} on ${day}`, entries }
      : { status: 'open', since: day, reason: `blood pressure above ${targetText} on ${day}`, entries };
  };
}

/** The latest day after `from`, and the latest day ever, with both a systolic and a diastolic value (a panel's components or separate observations). */
function latestBloodPressureDays(index: PatientIndex, systolic: Observation, diastolic: Observation, from: string): { day?: string; lastDay?: string } {
  const systolicDays = new Set<string>();
  for (const hit of hitsOf(index, systolic.set)) if (hit.value) systolicDays.add(hit.entry.date!);
  let day: string | undefined;
  let lastDay: string | undefined;
  for (const hit of hitsOf(index, diastolic.set)) {
    const date = hit.entry.date!;
    if (!hit.value || !systolicDays.has(date)) continue;
    if (lastDay === undefined || date > lastDay) lastDay = date;
    if (date > from && (day === undefined || date > day)) day = date;
  }
  return { ...(day ? { day } : {}), ...(lastDay ? { lastDay } : {}) };
}

function readingOn(index: PatientIndex, observation: Observation, day: string): LatestReading {
  return { date: day, hits: hitsOf(index, observation.set).filter((hit) => hit.value !== undefined && hit.entry.date === day) };
}

function noReading(set: CodeSet, everWithValue: readonly Hit[], months: number, registerSince: string | undefined): NumeratorAnswer {
  return { status: 'open', since: latest(registerSince, fellOutOf(everWithValue, months)), reason: `no ${set.name} in the last ${months} months`, entries: [] };
}

/** The day the latest qualifying entry stopped counting: its date + the window (it counts while after as-of − window). */
function fellOutOf(hits: readonly Hit[], months: number): string | undefined {
  const last = latestDate(hits);
  return last === undefined ? undefined : monthsAfter(last, months);
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

let shipped: CareGapRules | undefined;

function shippedRules(): CareGapRules {
  return (shipped ??= (({ json, file }) => compileCareGaps(json, file))(readRuleFile('care-gaps.json', KIND)));
}

/** The shipped gaps' ids and names, in the rule file's order (dashboards list them so). */
export const careGapNames = (): Array<{ id: string; name: string }> => shippedRules().gaps.map(({ id, name }) => ({ id, name }));

/** The care gaps of a patient on a date: only the gaps whose register and denominator hold them, each open, closed or refused. */
export function findCareGaps(facts: PatientFacts, asOf: string, frailty: FrailtyResult | Refusal | null): PopulationResult['careGaps'] {
  return findWith(shippedRules(), facts, asOf, frailty);
}

export function findWith(rules: CareGapRules, facts: PatientFacts, asOf: string, frailty: FrailtyResult | Refusal | null): Finding[] {
  const index = indexPatient(facts, asOf, rules.vocabulary);
  const findings: Finding[] = [];
  for (const gap of rules.gaps) {
    const admitted = gap.admit(index, frailty);
    if (admitted === null) continue;
    if (typeof admitted === 'string') {
      findings.push({ id: gap.id, name: gap.name, refused: true, reason: admitted });
      continue;
    }
    const answer = gap.numerator({ index, registerSince: admitted.since });
    if ('refused' in answer) {
      findings.push({ id: gap.id, name: gap.name, refused: true, reason: answer.refused });
      continue;
    }
    if (answer.status === 'open' && gap.excluded(index)) continue;
    findings.push({
      id: gap.id,
      name: gap.name,
      status: answer.status,
      ...(answer.since ? { since: answer.since } : {}),
      reason: admitted.note ? `${admitted.note}: ${answer.reason}` : answer.reason,
      entries: uniqueEvidence([...admitted.entries, ...answer.entries]),
    });
  }
  return findings;
}
