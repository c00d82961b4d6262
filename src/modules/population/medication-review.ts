/**
 * Structured medication review (SMR) priority, as data: rules/medication-review.json names its reasons (care-home
 * residence, complex polypharmacy, severe frailty, medicines associated with harm) over the classes, registers
 * and observations of rules/definitions.json. Each reason lists the entries behind it. A reason that cannot be
 * answered exactly is undetermined: when the priority rests on it the answer is refused, otherwise the priority
 * stands and the result says which reasons could not be decided.
 */
import { z } from 'zod';
import type { PatientFacts } from './facts.ts';
import { countMedicines } from './frailty-model.ts';
import type { Evidence, FrailtyResult, Refusal, SmrReason, SmrResult } from './results.ts';
import {
  activeOf,
  activeWithin,
  ageAt,
  monthsAfter,
  type CodeSet,
  entryEvidence,
  evidence,
  exactlyOneKey,
  type Hit,
  indexPatient,
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
  uniqueEvidence,
  type Vocabulary,
  vocabulary,
} from './rule-data.ts';
import { parseRuleFile, type RuleFileKind } from './rule-file.ts';

const MONTHS = z.number().int().positive();
const KIND: RuleFileKind = { kind: 'medication review', items: 'harmRules', item: 'rule' };

/** One condition of a harm rule: exactly one key. */
const ConditionSchema = z
  .object({
    medicine: z.string().optional(),
    noMedicine: z.string().optional(),
    withinMonths: MONTHS.optional(),
    distinctMedicines: z
      .object({ class: z.string(), atLeast: z.number().int().min(2) })
      .strict()
      .optional(),
    longTermMedicine: z
      .object({ class: z.string(), withinMonths: MONTHS, issuesAtLeast: z.number().int().min(2), spanMonths: MONTHS })
      .strict()
      .optional(),
    ageAtLeast: z.number().int().min(0).optional(),
    register: z.string().optional(),
    latestValue: z.object({ observation: z.string(), withinMonths: MONTHS, below: z.number() }).strict().optional(),
  })
  .strict()
  .superRefine(exactlyOneKey('a condition', ['medicine', 'noMedicine', 'distinctMedicines', 'longTermMedicine', 'ageAtLeast', 'register', 'latestValue'], ['withinMonths']))
  .superRefine((condition, ctx) => {
    if (condition.withinMonths !== undefined && condition.noMedicine === undefined) ctx.addIssue({ code: 'custom', message: 'withinMonths goes with noMedicine only' });
  });

const HarmRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'a rule id is lower-case letters, digits and dashes'),
    text: z.string().min(1),
    source: z.string().optional(),
    why: z.string().optional(),
    when: z.array(ConditionSchema).min(1),
  })
  .strict();

const MedicationReviewSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.string(),
    careHome: z.object({ register: z.string(), text: z.string() }).strict(),
    polypharmacy: z.object({ atLeast: z.number().int().min(1), text: z.string(), why: z.string().optional() }).strict(),
    frailty: z.object({ categories: z.array(z.string()).min(1), text: z.string() }).strict(),
    harmRules: ruleList(HarmRuleSchema, 'rule'),
  })
  .strict();

/** A condition's answer for one patient: holds (with its evidence), fails, or cannot be answered (with why). */
type Answer = { holds: true; evidence: Evidence[] } | { holds: false } | { holds: 'unknown'; why: string };
type Check = (index: PatientIndex) => Answer;

export interface MedicationReviewRules {
  readonly version: string;
  readonly careHome: { register: Register; text: string };
  readonly polypharmacy: { atLeast: number; text: string };
  readonly frailty: { categories: ReadonlySet<string>; text: string };
  readonly harmRules: readonly { id: string; text: string; checks: readonly Check[] }[];
  readonly vocabulary: Vocabulary;
}

const HOLDS_NOTHING: Answer = { holds: true, evidence: [] };
const FAILS: Answer = { holds: false };

/** Checks and compiles a medication-review rule file; an error names the file and the rule. */
export function compileMedicationReview(json: unknown, file: string, words: Vocabulary = vocabulary()): MedicationReviewRules {
  const rules = parseRuleFile(json, MedicationReviewSchema, file, KIND);
  return {
    version: rules.version,
    careHome: { register: lookup(words.registers, rules.careHome.register, 'register', failIn(KIND, file, 'careHome')), text: rules.careHome.text },
    polypharmacy: rules.polypharmacy,
    frailty: { categories: new Set(rules.frailty.categories), text: rules.frailty.text },
    harmRules: rules.harmRules.map((rule) => ({ id: rule.id, text: rule.text, checks: rule.when.map((condition) => compileCondition(condition, words, failIn(KIND, file, rule.id))) })),
    vocabulary: words,
  };
}

function compileCondition(condition: z.infer<typeof ConditionSchema>, words: Vocabulary, fail: Fail): Check {
  if (condition.medicine !== undefined) {
    const set = lookup(words.medicines, condition.medicine, 'medicine class', fail);
    return (index) => {
      const hits = activeOf(index, set);
      return hits.length > 0 ? { holds: true, evidence: hits.map((hit) => evidence(hit, set)) } : FAILS;
    };
  }
  if (condition.noMedicine !== undefined) {
    const set = lookup(words.medicines, condition.noMedicine, 'medicine class', fail);
    const months = condition.withinMonths;
    return (index) => (activeWithin(index, set, months ?? index.vocabulary.activeMedicineMonths).length > 0 ? FAILS : HOLDS_NOTHING);
  }
  if (condition.distinctMedicines) {
    const { atLeast } = condition.distinctMedicines;
    const set = lookup(words.medicines, condition.distinctMedicines.class, 'medicine class', fail);
    return (index) => {
      const hits = activeOf(index, set);
      const names = new Set(hits.map((hit) => medicineName(set, hit)));
      return names.size >= atLeast ? { holds: true, evidence: hits.map((hit) => evidence(hit, set)) } : FAILS;
    };
  }
  if (condition.longTermMedicine) {
    const { withinMonths, issuesAtLeast, spanMonths } = condition.longTermMedicine;
    const set = lookup(words.medicines, condition.longTermMedicine.class, 'medicine class', fail);
    return (index) => {
      const issues = activeWithin(index, set, withinMonths);
      const dates = [...new Set(issues.map((hit) => hit.entry.date!))].sort();
      const long = dates.length >= issuesAtLeast && monthsAfter(dates[0]!, spanMonths) <= dates[dates.length - 1]!;
      return long ? { holds: true, evidence: issues.map((hit) => evidence(hit, set)) } : FAILS;
    };
  }
  if (condition.ageAtLeast !== undefined) {
    const age = condition.ageAtLeast;
    return (index) => {
      const years = ageAt(index);
      if (years === undefined) return { holds: 'unknown', why: `no birth date on the record (the rule needs age ${age} or over)` };
      return years >= age ? HOLDS_NOTHING : FAILS;
    };
  }
  if (condition.register !== undefined) {
    const register = lookup(words.registers, condition.register, 'register', fail);
    return (index) => {
      const standing = onRegister(index, register);
      return standing ? { holds: true, evidence: standing.entries.map((hit) => evidence(hit, register.diagnoses)) } : FAILS;
    };
  }
  const { observation: key, withinMonths, below } = condition.latestValue!;
  const observation: Observation = lookup(words.observations, key, 'observation', fail);
  return (index) => {
    const reading = latestReading(index, observation, withinMonths);
    if (!reading) return FAILS;
    const met = readingMeets(observation, reading, '<', below);
    if (met.truth === 'unknown') return { holds: 'unknown', why: met.why! };
    return met.truth ? { holds: true, evidence: met.hits.map((hit) => evidence(hit, observation.set)) } : FAILS;
  };
}

/**
 * The medicine a product is, for counting distinct medicines of a class: the first word of its dm+d term (the
 * substance for a VMP, e.g. "Amitriptyline 10mg tablets" and "… 25mg tablets" are one medicine). An AMP's term
 * starts with its brand, so a brand and its generic count as two.
 */
function medicineName(set: CodeSet, hit: Hit): string {
  const term = set.terms.get(hit.code) ?? hit.code;
  return (term.split(/[\s/]+/)[0] ?? term).toLowerCase();
}

let shipped: MedicationReviewRules | undefined;

function shippedRules(): MedicationReviewRules {
  return (shipped ??= (({ json, file }) => compileMedicationReview(json, file))(readRuleFile('medication-review.json', KIND)));
}

/** The SMR priority of a patient on a date, with every reason's entries; refused when the priority rests on a reason that cannot be answered. */
export function reviewMedicines(facts: PatientFacts, asOf: string, frailty: FrailtyResult | Refusal | null): SmrResult | Refusal {
  return reviewWith(shippedRules(), facts, asOf, frailty);
}

export function reviewWith(rules: MedicationReviewRules, facts: PatientFacts, asOf: string, frailty: FrailtyResult | Refusal | null): SmrResult | Refusal {
  const index = indexPatient(facts, asOf, rules.vocabulary);
  const reasons: SmrReason[] = [];
  const undetermined: { id: string; reason: string }[] = [];

  const home = onRegister(index, rules.careHome.register);
  if (home) {
    const latest = home.entries[home.entries.length - 1]!;
    reasons.push({ id: 'care-home', text: rules.careHome.text, entries: [evidence(latest, rules.careHome.register.diagnoses)] });
  }

  // Distinct medicines counted as the eFI's polypharmacy counts them: issues sharing a code are one medicine.
  const { distinct, uncoded } = countMedicines(index.activeMedicines);
  if (distinct >= rules.polypharmacy.atLeast) {
    reasons.push({ id: 'polypharmacy', text: `${rules.polypharmacy.text} (${distinct})`, entries: index.activeMedicines.map((entry) => entryEvidence(entry, rules.vocabulary.termOf)) });
  } else if (distinct + uncoded >= rules.polypharmacy.atLeast) {
    undetermined.push({ id: 'polypharmacy', reason: `${distinct} distinct active medicines and ${uncoded} without a code, which may or may not be others` });
  }

  if (frailty && 'refused' in frailty) undetermined.push({ id: 'severe-frailty', reason: `frailty not scored: ${frailty.reason}` });
  else if (frailty && rules.frailty.categories.has(frailty.category)) {
    reasons.push({ id: 'severe-frailty', text: `${rules.frailty.text}: ${frailty.category}, score ${frailty.score}`, entries: uniqueEvidence(frailty.deficits.flatMap((deficit) => deficit.entries)) });
  }

  for (const rule of rules.harmRules) {
    const answer = allOf(rule.checks, index);
    if (answer.holds === true) reasons.push({ id: rule.id, text: rule.text, entries: uniqueEvidence(answer.evidence) });
    else if (answer.holds === 'unknown') undetermined.push({ id: rule.id, reason: answer.why });
  }

  if (reasons.length === 0 && undetermined.length > 0) {
    return { refused: true, reason: `medication review priority cannot be decided: ${undetermined.map((u) => `${u.id}: ${u.reason}`).join('; ')}` };
  }
  return { priority: reasons.length > 0, reasons, ...(undetermined.length > 0 ? { undetermined } : {}) };
}

/** Every condition must hold: one that fails decides (no refusal needed); otherwise one unknown makes the rule unknown. */
function allOf(checks: readonly Check[], index: PatientIndex): Answer {
  const answers: Answer[] = [];
  for (const check of checks) {
    const answer = check(index);
    if (answer.holds === false) return FAILS;
    answers.push(answer);
  }
  const unknown = answers.find((answer) => answer.holds === 'unknown');
  if (unknown) return unknown;
  return { holds: true, evidence: answers.flatMap((answer) => (answer.holds === true ? answer.evidence : [])) };
}
