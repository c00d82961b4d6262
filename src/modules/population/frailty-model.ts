/**
 * Frailty models as data. A model file (rules/efi.json is the first) declares its deficits, the weight of
 * each, how each fires and its bands; this file checks a model once at load (every error names the file and
 * the deficit) and compiles it into code → deficit maps, so scoring one patient is one pass over their entries.
 *
 * How a deficit fires (any of these; it counts once, at its weight, however many fire):
 * - `efiDeficit`: a code of that deficit in reference/efi-deficits.json;
 * - `codeLists`: a code of a list in reference/codelists/;
 * - `values`: an observation (or component) coded as the rule says whose value meets the rule's threshold
 *   (optionally one threshold for males and one for females);
 * - `polypharmacy`: at least N distinct medicines issued (MedicationRequest) in the M months before the as-of date.
 * `within` limits every source of the deficit to entries dated after the as-of date less that period.
 *
 * Right or refuse: a value the rule cannot decide (a comparator straddling the threshold, a unit the rule does
 * not read, a sex-specific threshold for a patient recorded as neither male nor female) and uncoded medicines
 * that might be distinct are "undetermined": they do not count, the result lists them, and when counting them
 * could change the band the whole result is refused instead.
 *
 * Bands are decided exactly: weights, the denominator and band limits are read as decimals (as written in the
 * file) and compared as integers, so a score of exactly a band limit lands in the band that includes it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { EntryValue, PatientFacts, RecordEntry } from './facts.ts';
import type { DeficitFinding, Evidence, FrailtyResult, Refusal } from './results.ts';
import { codeListFor, parseRuleFile, type RuleFileKind, readRuleJson, ruleFileError, ruleFileName } from './rule-file.ts';
import { monthsBefore, onRecordBy } from './windows.ts';

const SCTID = z.string().regex(/^\d{6,18}$/, 'not a SNOMED CT id');
const Id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and hyphens');
const Comment = z.string().optional();
/** A time limit back from the as-of date, in whole years or whole months. */
const Period = z.union([z.object({ years: z.number().int().positive() }).strict(), z.object({ months: z.number().int().positive() }).strict()]);

const ValueRule = z
  .object({
    $comment: Comment,
    /** How the explanation names the rule, e.g. "eGFR < 60 mL/min/1.73m²". */
    label: z.string().min(1),
    /** The observation's codes: explicit (with their terms) and/or published lists. */
    codes: z.array(z.object({ code: SCTID, term: z.string().min(1) }).strict()).optional(),
    codeLists: z.array(z.string().min(1)).optional(),
    comparator: z.enum(['<', '<=', '>', '>=']),
    threshold: z.number().finite().optional(),
    thresholdBySex: z.object({ male: z.number().finite(), female: z.number().finite() }).strict().optional(),
    /** UCUM units the threshold is in; a value in any other unit is not converted but undetermined. */
    units: z.array(z.string().min(1)).min(1),
    /** A value recorded without a unit is read in the threshold's unit (scores and counts). */
    unitless: z.boolean().optional(),
    source: z.string().optional(),
  })
  .strict()
  .refine((rule) => (rule.codes?.length ?? 0) + (rule.codeLists?.length ?? 0) > 0, 'a value rule names its observation codes (codes or codeLists)')
  .refine((rule) => (rule.threshold === undefined) !== (rule.thresholdBySex === undefined), 'a value rule has either threshold or thresholdBySex');

const Deficit = z
  .object({
    $comment: Comment,
    id: Id,
    name: z.string().min(1),
    weight: z.number().positive(),
    efiDeficit: z.string().min(1).optional(),
    codeLists: z.array(z.string().min(1)).optional(),
    values: z.array(ValueRule).optional(),
    polypharmacy: z.object({ atLeast: z.number().int().positive(), months: z.number().int().positive() }).strict().optional(),
    within: Period.optional(),
  })
  .strict()
  .refine(
    (deficit) => deficit.efiDeficit !== undefined || (deficit.codeLists?.length ?? 0) > 0 || (deficit.values?.length ?? 0) > 0 || deficit.polypharmacy !== undefined,
    'a deficit fires from at least one of efiDeficit, codeLists, values or polypharmacy',
  );

const Band = z.object({ category: z.string().min(1), atMost: z.number().positive().optional() }).strict();

const ModelFile = z
  .object({
    $comment: Comment,
    id: Id,
    name: z.string().min(1),
    version: z.string().min(1),
    source: z.string().optional(),
    /** Age in whole years on the as-of date; younger patients are not scored. */
    minimumAge: z.number().int().nonnegative(),
    /** A number (36 for the eFI) or the sum of the deficits' weights. */
    denominator: z.union([z.number().positive(), z.literal('sum-of-weights')]),
    /** In ascending order; each band includes its `atMost`; the last has none. */
    bands: z.array(Band).min(1),
    deficits: z.array(Deficit).min(1),
  })
  .strict();
export type FrailtyModelFile = z.infer<typeof ModelFile>;

const EfiFile = z.object({
  deficits: z.array(z.object({ id: z.string(), snomed: z.array(z.object({ code: SCTID, display: z.string() })) })),
});

type Comparator = '<' | '<=' | '>' | '>=';

interface CompiledValueRule {
  deficit: number;
  label: string;
  terms: ReadonlyMap<string, string>;
  comparator: Comparator;
  threshold?: number;
  thresholdBySex?: { male: number; female: number };
  units: readonly string[];
  unitless: boolean;
}

interface CompiledDeficit {
  id: string;
  name: string;
  weight: number;
  /** The weight as an integer at the model's decimal scale. */
  scaledWeight: number;
  withinMonths?: number;
  polypharmacy?: { atLeast: number; months: number; rule: string };
}

interface CodeHit {
  deficit: number;
  term: string;
  rule: string;
}

export interface FrailtyModel {
  id: string;
  name: string;
  version: string;
  minimumAge: number;
  deficits: readonly CompiledDeficit[];
  /** Each band's limit as an integer to compare `sum of scaled weights × scale` against; the last is Infinity. */
  bandLimits: readonly { category: string; limit: number }[];
  scale: number;
  scaledDenominator: number;
  /** Per code: the deficits it is a code of, and the value rules it is an observation of (one lookup per code). */
  index: ReadonlyMap<string, { codes: readonly CodeHit[]; values: readonly CompiledValueRule[] }>;
  /** Whether any deficit reads medicines, so a patient's MedicationRequests are gathered only then. */
  readsMedicines: boolean;
}

const MAX_DECIMALS = 6;

const KIND: RuleFileKind = { kind: 'frailty model', items: 'deficits', item: 'deficit' };

/** Reads and compiles a model file; every problem is an error naming the file (and the deficit). */
export function loadFrailtyModel(url: URL): FrailtyModel {
  return compileFrailtyModel(readRuleJson(url, KIND), ruleFileName(url));
}

/** Checks and compiles a parsed model; `file` names it in errors. */
export function compileFrailtyModel(json: unknown, file: string): FrailtyModel {
  const model = parseRuleFile(json, ModelFile, file, KIND);
  const fail = (deficit: string | undefined, message: string): never => {
    throw ruleFileError(KIND, file, deficit, message);
  };

  const seen = new Set<string>();
  for (const deficit of model.deficits) {
    if (seen.has(deficit.id)) fail(deficit.id, 'a second deficit with this id');
    seen.add(deficit.id);
  }

  // One decimal scale for weights, the denominator and band limits, so the band test is integer arithmetic.
  const denominator = model.denominator === 'sum-of-weights' ? undefined : model.denominator;
  const decimals = [
    ...model.deficits.map((d) => [d.id, d.weight] as const),
    ...(denominator === undefined ? [] : [[undefined, denominator] as const]),
    ...model.bands.flatMap((b) => (b.atMost === undefined ? [] : [[undefined, b.atMost] as const])),
  ].map(([deficit, n]) => decimalsOf(n) ?? fail(deficit, `${n} has more than ${MAX_DECIMALS} decimal places`));
  const places = Math.max(0, ...decimals);
  const scale = 10 ** places;
  const scaledWeights = model.deficits.map((d) => toScaled(d.weight, places));
  const scaledDenominator = denominator === undefined ? scaledWeights.reduce((a, b) => a + b, 0) : toScaled(denominator, places);

  model.bands.forEach((band, i) => {
    const last = i === model.bands.length - 1;
    if (last !== (band.atMost === undefined)) fail(undefined, `band "${band.category}": every band but the last has atMost, the last has none`);
    const before = model.bands[i - 1]?.atMost;
    if (band.atMost !== undefined && before !== undefined && band.atMost <= before) fail(undefined, `band "${band.category}": atMost ${band.atMost} is not above ${before}`);
  });
  const bandLimits = model.bands.map((band) => ({ category: band.category, limit: band.atMost === undefined ? Number.POSITIVE_INFINITY : toScaled(band.atMost, places) * scaledDenominator }));
  const largest = Math.max(scaledWeights.reduce((a, b) => a + b, 0) * scale, ...bandLimits.map((b) => (Number.isFinite(b.limit) ? b.limit : 0)));
  if (!Number.isSafeInteger(largest)) fail(undefined, 'weights, denominator and band limits are too large to compare exactly');

  const efi = model.deficits.some((d) => d.efiDeficit !== undefined) ? readEfiDeficits() : new Map<string, EfiCodes>();
  const index = new Map<string, { codes: CodeHit[]; values: CompiledValueRule[] }>();
  const rulesOf = (code: string) => {
    let rules = index.get(code);
    if (!rules) index.set(code, (rules = { codes: [], values: [] }));
    return rules;
  };
  const addHit = (code: string, hit: CodeHit) => {
    const hits = rulesOf(code).codes;
    if (!hits.some((h) => h.deficit === hit.deficit)) hits.push(hit);
  };

  const deficits = model.deficits.map((deficit, position): CompiledDeficit => {
    if (deficit.efiDeficit !== undefined) {
      const codes = efi.get(deficit.efiDeficit) ?? fail(deficit.id, `efiDeficit "${deficit.efiDeficit}" is not a deficit of reference/efi-deficits.json`);
      if (codes.size === 0) fail(deficit.id, `efiDeficit "${deficit.efiDeficit}" has no codes in reference/efi-deficits.json`);
      const rule = `a code of the eFI's ${deficit.efiDeficit} list`;
      for (const [code, term] of codes) addHit(code, { deficit: position, term, rule });
    }
    for (const name of deficit.codeLists ?? []) {
      const list = codeListFor(name, (message) => fail(deficit.id, message));
      for (const [code, term] of list.terms) addHit(code, { deficit: position, term, rule: `a code in ${name}` });
    }
    for (const value of deficit.values ?? []) {
      const terms = new Map<string, string>();
      for (const { code, term } of value.codes ?? []) terms.set(code, term);
      for (const name of value.codeLists ?? []) for (const [code, term] of codeListFor(name, (message) => fail(deficit.id, `${value.label}: ${message}`)).terms) terms.set(code, term);
      const compiled: CompiledValueRule = {
        deficit: position,
        label: value.label,
        terms,
        comparator: value.comparator,
        ...(value.threshold === undefined ? {} : { threshold: value.threshold }),
        ...(value.thresholdBySex === undefined ? {} : { thresholdBySex: value.thresholdBySex }),
        units: value.units,
        unitless: value.unitless ?? false,
      };
      for (const code of terms.keys()) rulesOf(code).values.push(compiled);
    }
    const withinMonths = deficit.within === undefined ? undefined : 'years' in deficit.within ? deficit.within.years * 12 : deficit.within.months;
    const poly = deficit.polypharmacy;
    return {
      id: deficit.id,
      name: deficit.name,
      weight: deficit.weight,
      scaledWeight: scaledWeights[position]!,
      ...(withinMonths === undefined ? {} : { withinMonths }),
      ...(poly === undefined ? {} : { polypharmacy: { ...poly, rule: `${poly.atLeast} or more distinct medicines issued in the ${poly.months} months before the as-of date` } }),
    };
  });

  return {
    id: model.id,
    name: model.name,
    version: model.version,
    minimumAge: model.minimumAge,
    deficits,
    bandLimits,
    scale,
    scaledDenominator,
    index,
    readsMedicines: deficits.some((d) => d.polypharmacy !== undefined),
  };
}

type EfiCodes = ReadonlyMap<string, string>;
let efiDeficits: Map<string, EfiCodes> | undefined;

function readEfiDeficits(): Map<string, EfiCodes> {
  if (efiDeficits) return efiDeficits;
  const url = new URL('../../../reference/efi-deficits.json', import.meta.url);
  const parsed = EfiFile.safeParse(JSON.parse(readFileSync(url, 'utf8')));
  if (!parsed.success) throw new Error(`reference/efi-deficits.json: ${parsed.error.issues[0]?.message ?? 'not an eFI deficit file'}`);
  efiDeficits = new Map(parsed.data.deficits.map((d) => [d.id, new Map(d.snomed.map((s) => [s.code, s.display]))]));
  return efiDeficits;
}

/** A JSON number's decimal places as written (its shortest round-trip form: 0.12 → 2); undefined past MAX_DECIMALS or in exponent form. */
function decimalsOf(n: number): number | undefined {
  const text = String(n);
  if (/e/i.test(text)) return undefined;
  const dot = text.indexOf('.');
  const places = dot < 0 ? 0 : text.length - dot - 1;
  return places <= MAX_DECIMALS ? places : undefined;
}

/** The decimal n × 10^places as an exact integer, built from its digits rather than by floating multiplication. */
function toScaled(n: number, places: number): number {
  const [whole = '0', fraction = ''] = String(Math.abs(n)).split('.');
  const value = Number(whole + fraction.padEnd(places, '0'));
  return n < 0 ? -value : value;
}

// --- scoring one patient ---

/** The deficits an entry could not decide, gathered per patient. */
interface Undetermined {
  evidence: Evidence[];
  reasons: string[];
}

interface Fired {
  evidence: Evidence[];
  rules: string[];
}

interface WindowStarts {
  asOf: string;
  /** The latest birth date of a patient of the minimum age on the as-of date. */
  bornBy: string;
  /** Per deficit: entries must be dated after this (its `within`), or undefined for no limit. */
  entries: (string | undefined)[];
  /** Per polypharmacy deficit: issues must be dated after this (the later of its months and its `within`). */
  issues: (string | undefined)[];
}

/** A model's window starts for one as-of date, kept for the next patient scored on the same date. */
const windowCache = new WeakMap<FrailtyModel, WindowStarts>();

function windowStarts(model: FrailtyModel, asOf: string): WindowStarts {
  const cached = windowCache.get(model);
  if (cached?.asOf === asOf) return cached;
  const entries = model.deficits.map((d) => (d.withinMonths === undefined ? undefined : monthsBefore(asOf, d.withinMonths)));
  const issues = model.deficits.map((d, i) => {
    if (!d.polypharmacy) return undefined;
    const start = monthsBefore(asOf, d.polypharmacy.months);
    const within = entries[i];
    return within !== undefined && within > start ? within : start;
  });
  const starts = { asOf, bornBy: monthsBefore(asOf, model.minimumAge * 12), entries, issues };
  windowCache.set(model, starts);
  return starts;
}

/** The model's score for a patient on a date: null under its minimum age, a refusal when it cannot be placed exactly. */
export function scoreFrailty(model: FrailtyModel, facts: PatientFacts, asOf: string): FrailtyResult | Refusal | null {
  if (facts.birthDate === undefined) return { refused: true, reason: 'no birth date on the record' };
  // FHIR allows a year or year-month birth date; the age on a day needs the whole date.
  if (facts.birthDate.length !== 10) return { refused: true, reason: `the birth date ${facts.birthDate} is not a whole date` };
  const windows = windowStarts(model, asOf);
  // The minimum age is reached on the birthday: born on or before the as-of date less that many years.
  if (facts.birthDate > windows.bornBy) return null;
  const starts = windows.entries;
  const count = model.deficits.length;
  const fired = new Array<Fired | undefined>(count);
  const undetermined = new Array<Undetermined | undefined>(count);
  const medicines: (RecordEntry & { date: string })[] = [];

  for (const entry of facts.entries) {
    if (!onRecordBy(entry, asOf)) continue;
    if (model.readsMedicines && entry.type === 'MedicationRequest') medicines.push(entry);
    for (const code of entry.codes) {
      const rules = model.index.get(code);
      if (rules === undefined) continue;
      for (const hit of rules.codes) {
        const start = starts[hit.deficit];
        if (start !== undefined && entry.date <= start) continue;
        const found = (fired[hit.deficit] ??= { evidence: [], rules: [] });
        if (found.evidence.at(-1)?.id === entry.id) continue;
        found.evidence.push(evidenceOf(entry, code, hit.term));
        if (!found.rules.includes(hit.rule)) found.rules.push(hit.rule);
      }
      if (entry.value && rules.values.length > 0) readValue(rules.values, facts, entry, code, entry.value, starts, fired, undetermined);
    }
    if (entry.components === undefined) continue;
    for (const component of entry.components) {
      for (const code of component.codes) {
        const rules = model.index.get(code);
        if (rules && rules.values.length > 0) readValue(rules.values, facts, entry, code, component.value, starts, fired, undetermined);
      }
    }
  }

  if (model.readsMedicines) readMedicines(model, windows.issues, medicines, fired, undetermined);

  let weights = 0;
  let undecidedWeights = 0;
  const deficits: DeficitFinding[] = [];
  const undecided: DeficitFinding[] = [];
  for (let index = 0; index < count; index++) {
    const deficit = model.deficits[index]!;
    const found = fired[index];
    const open = undetermined[index];
    if (found) {
      weights += deficit.scaledWeight;
      deficits.push({ id: deficit.id, name: deficit.name, weight: deficit.weight, rule: found.rules.join('; '), entries: found.evidence });
    } else if (open) {
      undecidedWeights += deficit.scaledWeight;
      undecided.push({ id: deficit.id, name: deficit.name, weight: deficit.weight, rule: open.reasons.join('; '), entries: open.evidence });
    }
  }

  const category = bandOf(model, weights);
  if (undecidedWeights > 0) {
    const otherwise = bandOf(model, weights + undecidedWeights);
    if (otherwise !== category) {
      const what = undecided.map((d) => `${d.name} (${d.rule})`).join('; ');
      return { refused: true, reason: `${model.name}: the band is ${category} or ${otherwise} depending on values the rules cannot decide: ${what}` };
    }
  }
  const result: FrailtyResult = { model: model.id, modelVersion: model.version, score: Math.round((weights / model.scaledDenominator) * 1000) / 1000, category, deficits };
  if (undecided.length > 0) result.undetermined = undecided;
  return result;
}

function readMedicines(
  model: FrailtyModel,
  starts: readonly (string | undefined)[],
  medicines: readonly (RecordEntry & { date: string })[],
  fired: (Fired | undefined)[],
  undetermined: (Undetermined | undefined)[],
): void {
  for (let index = 0; index < model.deficits.length; index++) {
    const deficit = model.deficits[index]!;
    if (!deficit.polypharmacy) continue;
    if (medicines.length < deficit.polypharmacy.atLeast) continue;
    const start = starts[index]!;
    const issued = medicines.filter((m) => m.date > start);
    const { distinct, uncoded } = countMedicines(issued);
    if (distinct + uncoded < deficit.polypharmacy.atLeast) continue;
    const evidence = issued.map((m) => evidenceOf(m, m.codes[0]));
    if (distinct >= deficit.polypharmacy.atLeast) fired[index] = { evidence, rules: [deficit.polypharmacy.rule] };
    else {
      const reason = `${deficit.polypharmacy.rule}: ${distinct} distinct coded medicines and ${uncoded} issues without a SNOMED CT or dm+d code, which may or may not be other medicines`;
      undetermined[index] = { evidence, reasons: [reason] };
    }
  }
}

/** The band of a sum of scaled weights: score ≤ limit ⇔ weights × scale ≤ limit × denominator, all integers. */
function bandOf(model: FrailtyModel, scaledWeights: number): string {
  const product = scaledWeights * model.scale;
  for (const band of model.bandLimits) if (product <= band.limit) return band.category;
  return model.bandLimits.at(-1)!.category;
}

function readValue(
  valueRules: readonly CompiledValueRule[],
  facts: PatientFacts,
  entry: RecordEntry & { date: string },
  code: string,
  value: EntryValue,
  starts: readonly (string | undefined)[],
  fired: (Fired | undefined)[],
  undetermined: (Undetermined | undefined)[],
): void {
  for (const rule of valueRules) {
    const start = starts[rule.deficit];
    if (start !== undefined && entry.date <= start) continue;
    const outcome = decideValue(rule, value, facts.gender);
    if (outcome === false) continue;
    if (outcome === true) {
      const found = (fired[rule.deficit] ??= { evidence: [], rules: [] });
      if (found.evidence.at(-1)?.id !== entry.id) found.evidence.push(evidenceOf(entry, code, rule.terms.get(code), value));
      if (!found.rules.includes(rule.label)) found.rules.push(rule.label);
      continue;
    }
    const open = (undetermined[rule.deficit] ??= { evidence: [], reasons: [] });
    if (open.evidence.at(-1)?.id !== entry.id) open.evidence.push(evidenceOf(entry, code, rule.terms.get(code), value));
    const reason = `${rule.label}: ${outcome}`;
    if (!open.reasons.includes(reason)) open.reasons.push(reason);
  }
}

/** true: the value meets the rule; false: it does not; a string: why it cannot be decided. */
export function decideValue(rule: Pick<CompiledValueRule, 'comparator' | 'threshold' | 'thresholdBySex' | 'units' | 'unitless'>, value: EntryValue, gender: PatientFacts['gender']): boolean | string {
  if (value.unit === undefined ? !rule.unitless : !rule.units.includes(value.unit)) {
    return value.unit === undefined ? `a value without a unit (the rule reads ${rule.units.join(' or ')})` : `a value in ${value.unit} (the rule reads ${rule.units.join(' or ')})`;
  }
  let threshold = rule.threshold;
  if (rule.thresholdBySex) {
    if (gender !== 'male' && gender !== 'female') return 'the threshold depends on sex, and the record says neither male nor female';
    threshold = rule.thresholdBySex[gender];
  }
  if (threshold === undefined) return 'no threshold';
  const shown = `${value.comparator ?? ''}${value.value}`;
  if (value.comparator === undefined) return compare(value.value, rule.comparator, threshold);
  const answer = compareBound(value.comparator, value.value, rule.comparator, threshold);
  return answer ?? `the value ${shown} lies on both sides of ${rule.comparator} ${threshold}`;
}

function compare(x: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '<':
      return x < threshold;
    case '<=':
      return x <= threshold;
    case '>':
      return x > threshold;
    case '>=':
      return x >= threshold;
  }
}

/**
 * A value known only as a bound (`<65` means some x < 65) against a rule (x < 60): true when every such x
 * meets the rule, false when none does, undefined when some do and some do not.
 */
function compareBound(valueComparator: Comparator, v: number, ruleComparator: Comparator, t: number): boolean | undefined {
  const valueBelow = valueComparator === '<' || valueComparator === '<=';
  const valueInclusive = valueComparator === '<=' || valueComparator === '>=';
  const ruleBelow = ruleComparator === '<' || ruleComparator === '<=';
  const ruleInclusive = ruleComparator === '<=' || ruleComparator === '>=';
  // Same side: every x is inside when the value's bound is strictly inside the rule's, or equal and no wider.
  const inside = valueBelow ? v < t : v > t;
  const touching = v === t;
  if (valueBelow === ruleBelow) return inside || (touching && (!valueInclusive || ruleInclusive)) ? true : undefined;
  // Opposite sides: no x is inside when the bounds do not overlap.
  return inside || (touching && (!valueInclusive || !ruleInclusive)) ? false : undefined;
}

/**
 * Distinct medicines among issues: two issues are one medicine when they share a code (a VMP and its AMP
 * coded together join the two). An issue without a code cannot be matched, so it is counted apart.
 */
export function countMedicines(issues: readonly RecordEntry[]): { distinct: number; uncoded: number } {
  const groupOf = new Map<string, number>();
  const parent: number[] = [];
  const root = (g: number): number => {
    while (parent[g] !== g) g = parent[g] = parent[parent[g]!]!;
    return g;
  };
  let uncoded = 0;
  for (const issue of issues) {
    if (issue.codes.length === 0) {
      uncoded++;
      continue;
    }
    let group = -1;
    for (const code of issue.codes) {
      const known = groupOf.get(code);
      if (known === undefined) continue;
      const r = root(known);
      if (group === -1) group = r;
      else if (r !== group) parent[r] = group;
    }
    if (group === -1) {
      group = parent.length;
      parent.push(group);
    }
    for (const code of issue.codes) if (!groupOf.has(code)) groupOf.set(code, group);
  }
  let distinct = 0;
  for (let g = 0; g < parent.length; g++) if (root(g) === g) distinct++;
  return { distinct, uncoded };
}

function evidenceOf(entry: RecordEntry, code: string | undefined, term?: string, value?: EntryValue): Evidence {
  const evidence: Evidence = { type: entry.type, id: entry.id };
  if (entry.date !== undefined) evidence.date = entry.date;
  if (entry.organisation !== undefined) evidence.organisation = entry.organisation;
  if (code !== undefined) evidence.code = code;
  if (term !== undefined) evidence.term = term;
  if (value !== undefined) evidence.value = value;
  return evidence;
}
