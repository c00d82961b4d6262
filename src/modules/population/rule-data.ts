/**
 * The vocabulary the medication-review and care-gap rules share, read from rules/definitions.json: medicine
 * classes, QOF-style registers, observations and coded events, each a union of published code lists
 * (reference/codelists/) and additions (rules/codelist-additions.json), optionally filtered by the list's term
 * (where a list mixes forms). Everything is compiled once at load into one map code → code sets, so a patient
 * is indexed in one pass over their entries and every rule reads the index.
 */
import { z } from 'zod';
import { ageOn, type EntryValue, type PatientFacts, type RecordEntry } from './facts.ts';
import { decideValue } from './frailty-model.ts';
import type { Evidence } from './results.ts';
import { codeListFor, parseRuleFile, type RuleFileKind, readRuleJson, ruleFileError, ruleFileName } from './rule-file.ts';
import { monthsBefore, onRecordBy } from './windows.ts';

const RULES_FOLDER = new URL('./rules/', import.meta.url);

/** A rule file of rules/ as JSON (errors name it). */
export function readRuleFile(name: string, kind: RuleFileKind): { json: unknown; file: string } {
  const url = new URL(name, RULES_FOLDER);
  return { json: readRuleJson(url, kind), file: ruleFileName(url) };
}

/** How a rule names what fails in it: an error naming the rule file and the rule. */
export type Fail = (message: string) => never;

export function failIn(kind: RuleFileKind, file: string, item?: string): Fail {
  return (message) => {
    throw ruleFileError(kind, file, item, message);
  };
}

const VOCABULARY: RuleFileKind = { kind: 'rule vocabulary', items: 'entries', item: 'entry' };
const ADDITIONS: RuleFileKind = { kind: 'code list additions', items: 'additions', item: 'addition' };

// ---------------------------------------------------------------------------------------------------------
// Schemas

const ID = z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]*$/, 'an id is letters, digits and dashes');
const PATTERN = z.string().refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/** The fields every code set has: where its codes come from and which of their terms to keep. */
const SET_FIELDS = {
  name: z.string().min(1),
  lists: z.array(z.string()).default([]),
  additions: z.array(z.string()).default([]),
  /** Keep only codes whose term matches (case-insensitive), e.g. residence codes of a mixed list. */
  includeTerms: PATTERN.optional(),
  /** Drop codes whose term matches, e.g. injections from a list of tablets and injections. */
  excludeTerms: PATTERN.optional(),
  why: z.string().optional(),
};
const NAMES_A_SOURCE = [(set: { lists: string[]; additions: string[] }) => set.lists.length + set.additions.length > 0, 'names no list and no addition'] as const;

const CodeSetSchema = z
  .object(SET_FIELDS)
  .strict()
  .refine(...NAMES_A_SOURCE);

const RegisterSchema = z
  .object({
    ...SET_FIELDS,
    lists: z.array(z.string()).min(1),
    /** QOF's resolved codes: the register holds those whose latest diagnosis is after their latest resolved code. */
    resolvedLists: z.array(z.string()).default([]),
    /** The latest qualifying entry must itself stand active (a residence: the latest one recorded ended means moved out). */
    latestMustBeActive: z.boolean().default(false),
  })
  .strict();

const ObservationSchema = z
  .object({
    ...SET_FIELDS,
    /** UCUM units a value may carry; a value in any other unit is refused (a value without a unit is read in the first). */
    units: z.array(z.string()).min(1),
  })
  .strict()
  .refine(...NAMES_A_SOURCE);

/** A rule file's list of rules: at least one, each id once. */
export function ruleList<T extends { id: string }>(rule: z.ZodType<T>, kind: string) {
  return z
    .array(rule)
    .min(1)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${kind} id "${item.id}" is used twice` });
        seen.add(item.id);
      });
    });
}

/** A refinement for a condition written as an object with exactly one of its keys (`companions` may ride along). */
export function exactlyOneKey(kind: string, keys: readonly string[], companions: readonly string[] = []) {
  return (value: object, ctx: z.RefinementCtx): void => {
    const present = Object.keys(value).filter((key) => !companions.includes(key));
    if (present.length !== 1) ctx.addIssue({ code: 'custom', message: `${kind} has exactly one of ${keys.join(', ')} (found ${present.join(', ') || 'none'})` });
  };
}

const DefinitionsSchema = z
  .object({
    $comment: z.string().optional(),
    version: z.string(),
    /** A medicine is active on the as-of date when issued (standing active) within this many months up to it. */
    activeMedicineMonths: z.number().int().positive(),
    medicines: z.record(ID, CodeSetSchema),
    registers: z.record(ID, RegisterSchema),
    observations: z.record(ID, ObservationSchema),
    events: z.record(ID, CodeSetSchema),
  })
  .strict();

const AdditionsSchema = z
  .object({
    $comment: z.string().optional(),
    additions: z.record(
      ID,
      z
        .object({
          why: z.string().min(1),
          sources: z.array(z.string()).default([]),
          codes: z.array(z.object({ code: z.string().regex(/^\d{6,18}$/, 'not a SNOMED CT id'), term: z.string().min(1) }).strict()),
          /** Set when no verifiable code was found: rules needing the list refuse instead of counting nothing. */
          notFound: z.string().optional(),
        })
        .strict()
        .refine((addition) => addition.codes.length > 0 || addition.notFound, 'has no codes and does not say why (notFound)'),
    ),
  })
  .strict();

export type Definitions = z.infer<typeof DefinitionsSchema>;

// ---------------------------------------------------------------------------------------------------------
// Compiled code sets

/** One compiled set of codes (a medicine class, a register's diagnoses or resolutions, an observation, an event). */
export interface CodeSet {
  /** Position in the index's hit lists. */
  readonly slot: number;
  readonly key: string;
  readonly name: string;
  readonly terms: ReadonlyMap<string, string>;
  /** Why the set is empty, when an addition it needs could not be found (rules refuse rather than count nothing). */
  readonly missing?: string;
}

export interface Register {
  readonly key: string;
  readonly name: string;
  readonly diagnoses: CodeSet;
  readonly resolved?: CodeSet;
  readonly latestMustBeActive: boolean;
}

export interface Observation {
  readonly set: CodeSet;
  readonly units: readonly string[];
}

export interface Vocabulary {
  readonly version: string;
  readonly activeMedicineMonths: number;
  readonly medicines: ReadonlyMap<string, CodeSet>;
  readonly registers: ReadonlyMap<string, Register>;
  readonly observations: ReadonlyMap<string, Observation>;
  readonly events: ReadonlyMap<string, CodeSet>;
  /** Code → the slots of every set that holds it. */
  readonly slotsByCode: ReadonlyMap<string, readonly number[]>;
  readonly slotCount: number;
  /** Any code's term from any list read, for explaining medicines outside every class (polypharmacy). */
  readonly termOf: (code: string) => string | undefined;
}

interface SetSource {
  name: string;
  lists: readonly string[];
  additions: readonly string[];
  includeTerms?: string | undefined;
  excludeTerms?: string | undefined;
}

/** Checks and compiles definitions.json (with the additions) into the vocabulary; errors name the file and entry. */
export function compileVocabulary(json: unknown, file: string, additionsJson: unknown, additionsFile: string): Vocabulary {
  const additions = parseRuleFile(additionsJson, AdditionsSchema, additionsFile, ADDITIONS).additions;
  const definitions = parseRuleFile(json, DefinitionsSchema, file, VOCABULARY);

  const sets: CodeSet[] = [];
  const allTerms = new Map<string, string>();
  const compile = (key: string, source: SetSource): CodeSet => {
    const fail = failIn(VOCABULARY, file, key);
    const terms = new Map<string, string>();
    const missing: string[] = [];
    for (const name of source.lists) {
      const list = codeListFor(name, fail);
      for (const [code, term] of list.terms) if (!terms.has(code)) terms.set(code, term);
    }
    for (const name of source.additions) {
      const addition = additions[name] ?? fail(`no addition "${name}" in ${additionsFile}`);
      if (addition.notFound) missing.push(addition.notFound);
      for (const { code, term } of addition.codes) if (!terms.has(code)) terms.set(code, term);
    }
    for (const [code, term] of terms) if (!allTerms.has(code)) allTerms.set(code, term);
    const include = source.includeTerms ? new RegExp(source.includeTerms, 'i') : undefined;
    const exclude = source.excludeTerms ? new RegExp(source.excludeTerms, 'i') : undefined;
    for (const [code, term] of [...terms]) {
      if ((include && !include.test(term)) || exclude?.test(term)) terms.delete(code);
    }
    if (terms.size === 0 && missing.length === 0) fail('no codes left (check its lists and term filters)');
    const set: CodeSet = { slot: sets.length, key, name: source.name, terms, ...(terms.size === 0 ? { missing: missing.join('; ') } : {}) };
    sets.push(set);
    return set;
  };

  const medicines = new Map(Object.entries(definitions.medicines).map(([key, def]) => [key, compile(`medicines.${key}`, def)]));
  const events = new Map(Object.entries(definitions.events).map(([key, def]) => [key, compile(`events.${key}`, def)]));
  const observations = new Map(Object.entries(definitions.observations).map(([key, def]) => [key, { set: compile(`observations.${key}`, def), units: def.units } satisfies Observation]));
  const registers = new Map(
    Object.entries(definitions.registers).map(([key, def]) => {
      const diagnoses = compile(`registers.${key}`, def);
      const resolved = def.resolvedLists.length > 0 ? compile(`registers.${key}.resolved`, { name: `${def.name} resolved`, lists: def.resolvedLists, additions: [] }) : undefined;
      return [key, { key, name: def.name, diagnoses, latestMustBeActive: def.latestMustBeActive, ...(resolved ? { resolved } : {}) } satisfies Register];
    }),
  );

  const slotsByCode = new Map<string, number[]>();
  for (const set of sets) {
    for (const code of set.terms.keys()) {
      const slots = slotsByCode.get(code);
      if (slots) slots.push(set.slot);
      else slotsByCode.set(code, [set.slot]);
    }
  }
  return {
    version: definitions.version,
    activeMedicineMonths: definitions.activeMedicineMonths,
    medicines,
    registers,
    observations,
    events,
    slotsByCode,
    slotCount: sets.length,
    termOf: (code) => allTerms.get(code),
  };
}

let shipped: Vocabulary | undefined;

/** The shipped vocabulary (rules/definitions.json with rules/codelist-additions.json), compiled once. */
export function vocabulary(): Vocabulary {
  if (shipped) return shipped;
  const definitions = readRuleFile('definitions.json', VOCABULARY);
  const additions = readRuleFile('codelist-additions.json', ADDITIONS);
  return (shipped = compileVocabulary(definitions.json, definitions.file, additions.json, additions.file));
}

/** What a rule names from the vocabulary, or an error naming the rule file and rule. */
export function lookup<T>(map: ReadonlyMap<string, T>, key: string, kind: string, fail: Fail): T {
  return map.get(key) ?? fail(`no ${kind} "${key}" in rules/definitions.json (known: ${[...map.keys()].join(', ')})`);
}

// ---------------------------------------------------------------------------------------------------------
// Dates

/** The date `months` calendar months after `day` (the day a window's entry stops counting), clamped as `monthsBefore` is. */
export function monthsAfter(day: string, months: number): string {
  return monthsBefore(day, -months);
}

/** "Within N months" of the as-of date: after asOf − N months and on or before asOf. */
export function withinMonths(date: string, asOf: string, months: number): boolean {
  return date > monthsBefore(asOf, months) && date <= asOf;
}

// ---------------------------------------------------------------------------------------------------------
// One patient, indexed in one pass

/** One entry in one code set: the code that matched and, for observations, the value (the entry's or a component's). */
export interface Hit {
  readonly entry: RecordEntry;
  readonly code: string;
  readonly value?: EntryValue;
}

export interface PatientIndex {
  readonly facts: PatientFacts;
  readonly asOf: string;
  readonly vocabulary: Vocabulary;
  /**
   * Per code set (by slot), its entries in record order: only entries dated on or before the as-of date and not
   * void. Sparse: a set the patient has no entry in has no list (read through `hitsOf`).
   */
  readonly hits: readonly (readonly Hit[] | undefined)[];
  /** Active medicines: MedicationRequest or MedicationStatement standing active, issued within the active window. */
  readonly activeMedicines: readonly RecordEntry[];
  /** Memo of `entriesOfType`. */
  readonly byType: Map<string, readonly RecordEntry[]>;
  /** Memos for the patient's evaluation: window starts by months, active medicines by set, registers by slot, age. */
  readonly starts: Map<number, string>;
  readonly active: Map<number, readonly Hit[]>;
  readonly registers: Map<number, RegisterStanding | null>;
  age?: number | null;
}

const EMPTY: readonly Hit[] = Object.freeze([]);
/** The last patient indexed: evaluatePatient asks for the same (facts, as-of) twice in a row; one slot holds no population in memory. */
let last: { index: PatientIndex; entries: readonly RecordEntry[]; count: number } | undefined;

/**
 * The patient's entries sorted into the vocabulary's code sets, once per (facts, as-of date) — the medication
 * review and the care gaps read the same index. An entry without a date, after the as-of date, or void
 * (entered in error) is left out: no rule can place it, and a void entry never counts.
 */
export function indexPatient(facts: PatientFacts, asOf: string, words: Vocabulary = vocabulary()): PatientIndex {
  const known = last?.index;
  if (known && known.facts === facts && known.asOf === asOf && known.vocabulary === words && last!.entries === facts.entries && last!.count === facts.entries.length) return known;
  const hits: (Hit[] | undefined)[] = new Array(words.slotCount);
  const activeMedicines: RecordEntry[] = [];
  const starts = new Map<number, string>();
  const activeFrom = monthsBefore(asOf, words.activeMedicineMonths);
  starts.set(words.activeMedicineMonths, activeFrom);
  const { slotsByCode } = words;
  for (const entry of facts.entries) {
    if (!onRecordBy(entry, asOf)) continue;
    if (entry.standing === 'active' && entry.date > activeFrom && isMedicine(entry)) activeMedicines.push(entry);
    for (const code of entry.codes) {
      const slots = slotsByCode.get(code);
      if (slots) addHit(hits, slots, entry.value ? { entry, code, value: entry.value } : { entry, code });
    }
    if (entry.components) {
      for (const component of entry.components) {
        for (const code of component.codes) {
          const slots = slotsByCode.get(code);
          if (slots) addHit(hits, slots, { entry, code, value: component.value });
        }
      }
    }
  }
  const index: PatientIndex = { facts, asOf, vocabulary: words, hits, activeMedicines, byType: new Map(), starts, active: new Map(), registers: new Map() };
  last = { index, entries: facts.entries, count: facts.entries.length };
  return index;
}

function addHit(hits: (Hit[] | undefined)[], slots: readonly number[], hit: Hit): void {
  for (const slot of slots) {
    const list = hits[slot];
    if (!list) hits[slot] = [hit];
    else {
      const last = list[list.length - 1]!;
      // One entry coded twice within a set (or a panel listing a code twice) is one hit.
      if (last.entry !== hit.entry || last.value !== hit.value) list.push(hit);
    }
  }
}

/** The patient's entries of one resource type that count (dated on or before as-of, not void): care plans and care teams are read by type, not code. */
export function entriesOfType(index: PatientIndex, type: RecordEntry['type']): readonly RecordEntry[] {
  let found = index.byType.get(type);
  if (found === undefined) {
    found = index.facts.entries.filter((entry) => entry.type === type && onRecordBy(entry, index.asOf));
    index.byType.set(type, found);
  }
  return found;
}

/** Whole years of age on the as-of date; undefined without a birth date (memoised per patient). */
export function ageAt(index: PatientIndex): number | undefined {
  if (index.age === undefined) index.age = index.facts.birthDate ? ageOn(index.facts.birthDate, index.asOf) : null;
  return index.age ?? undefined;
}

/** The set's entries for the patient (see `PatientIndex.hits`). */
export function hitsOf(index: PatientIndex, set: CodeSet): readonly Hit[] {
  return index.hits[set.slot] ?? EMPTY;
}

/** The first day that no longer counts for "within N months": as-of − N months (memoised per patient). */
export function windowStart(index: PatientIndex, months: number): string {
  let start = index.starts.get(months);
  if (start === undefined) index.starts.set(months, (start = monthsBefore(index.asOf, months)));
  return start;
}

export function isMedicine(entry: RecordEntry): boolean {
  return entry.type === 'MedicationRequest' || entry.type === 'MedicationStatement';
}

/** Active medicines of a class (see `activeMedicines`). */
export function activeOf(index: PatientIndex, set: CodeSet): readonly Hit[] {
  let active = index.active.get(set.slot);
  if (active === undefined) index.active.set(set.slot, (active = activeWithin(index, set, index.vocabulary.activeMedicineMonths)));
  return active;
}

/** Medicines of a class standing active and issued within N months (a protective medicine issued yearly needs a longer window). */
export function activeWithin(index: PatientIndex, set: CodeSet, months: number): readonly Hit[] {
  const hits = hitsOf(index, set);
  if (hits.length === 0) return EMPTY;
  const from = windowStart(index, months);
  return hits.filter((hit) => isMedicine(hit.entry) && hit.entry.standing === 'active' && hit.entry.date! > from);
}

/** The set's hits within N months of the as-of date. */
export function within(index: PatientIndex, set: CodeSet, months: number): readonly Hit[] {
  const hits = hitsOf(index, set);
  if (hits.length === 0) return EMPTY;
  const from = windowStart(index, months);
  return hits.filter((hit) => hit.entry.date! > from);
}

/** The latest date among hits (entries are all dated here). */
export function latestDate(hits: readonly Hit[]): string | undefined {
  let latest: string | undefined;
  for (const hit of hits) if (latest === undefined || hit.entry.date! > latest) latest = hit.entry.date!;
  return latest;
}

export interface RegisterStanding {
  /** The diagnosis entries of the current episode (after the latest resolved code), oldest first. */
  entries: Hit[];
  /** When the current episode began: its first diagnosis entry. */
  since: string;
}

/**
 * QOF's register rule: on the register when the latest diagnosis code is later than the latest resolved code
 * (a resolved code on the same day as the latest diagnosis takes the patient off). A diagnosis recorded with a
 * FHIR clinical status of resolved still counts: QOF registers go by codes, and only the resolved codes end them.
 * Where the register says `latestMustBeActive` (care-home residence), the latest entry must also stand active.
 */
export function onRegister(index: PatientIndex, register: Register): RegisterStanding | undefined {
  const diagnoses = hitsOf(index, register.diagnoses);
  if (diagnoses.length === 0) return undefined;
  let standing = index.registers.get(register.diagnoses.slot);
  if (standing === undefined) index.registers.set(register.diagnoses.slot, (standing = registerStanding(index, register, diagnoses) ?? null));
  return standing ?? undefined;
}

function registerStanding(index: PatientIndex, register: Register, diagnoses: readonly Hit[]): RegisterStanding | undefined {
  const resolvedOn = register.resolved ? latestDate(hitsOf(index, register.resolved)) : undefined;
  const current = diagnoses.filter((hit) => resolvedOn === undefined || hit.entry.date! > resolvedOn);
  if (current.length === 0) return undefined;
  const sorted = [...current].sort((a, b) => (a.entry.date! < b.entry.date! ? -1 : a.entry.date! > b.entry.date! ? 1 : 0));
  if (register.latestMustBeActive) {
    const latest = sorted[sorted.length - 1]!.entry.date!;
    if (sorted.some((hit) => hit.entry.date === latest && hit.entry.standing !== 'active')) return undefined;
  }
  return { entries: sorted, since: sorted[0]!.entry.date! };
}

// ---------------------------------------------------------------------------------------------------------
// Values

/** Three-valued answer: a rule over a value with a comparator may not be decidable. */
export type Truth = true | false | 'unknown';

export interface LatestReading {
  date: string;
  hits: readonly Hit[];
}

/** The latest day with a value of the observation within the window, and every value recorded that day. */
export function latestReading(index: PatientIndex, observation: Observation, months: number): LatestReading | undefined {
  const inWindow = within(index, observation.set, months).filter((hit) => hit.value !== undefined);
  if (inWindow.length === 0) return undefined;
  const date = latestDate(inWindow);
  return date === undefined ? undefined : { date, hits: inWindow.filter((hit) => hit.entry.date === date) };
}

/**
 * Whether a reading meets `op threshold`: any value that day that does counts (QOF reads the lowest of a day's
 * blood pressures; for a renal or HbA1c threshold the same "any value that day" is the cautious reading). Each
 * value is decided as the eFI's value rules decide theirs (`decideValue`): a value with a comparator only when
 * every value it allows falls on one side; a unit the observation does not accept is not read (a value without a
 * unit is read in the observation's own). An undecidable value makes the answer unknown unless another value
 * that day already decides it.
 */
export function readingMeets(observation: Observation, reading: LatestReading, op: '<' | '<=' | '>' | '>=', threshold: number): { truth: Truth; why?: string; hits: readonly Hit[] } {
  const rule = { comparator: op, threshold, units: observation.units, unitless: true };
  let unknown: string | undefined;
  const meeting: Hit[] = [];
  for (const hit of reading.hits) {
    const answer = decideValue(rule, hit.value!, undefined);
    if (answer === true) meeting.push(hit);
    else if (typeof answer === 'string') unknown ??= `${observation.set.name} on ${hit.entry.date}: ${answer}`;
  }
  if (meeting.length > 0) return { truth: true, hits: meeting };
  return unknown ? { truth: 'unknown', why: unknown, hits: [] } : { truth: false, hits: reading.hits };
}

// ---------------------------------------------------------------------------------------------------------
// Evidence

/** An entry as an explanation shows it, with the code that matched and its term from the set that holds it. */
export function evidence(hit: Hit, set?: CodeSet, termOf?: (code: string) => string | undefined): Evidence {
  const { entry } = hit;
  const term = set?.terms.get(hit.code) ?? termOf?.(hit.code);
  return {
    type: entry.type,
    id: entry.id,
    ...(entry.date ? { date: entry.date } : {}),
    ...(entry.organisation ? { organisation: entry.organisation } : {}),
    code: hit.code,
    ...(term ? { term } : {}),
    ...(hit.value ? { value: hit.value } : {}),
  };
}

/** Evidence for an entry found by type (no code matched a set): its first code, with a term where a list knows it. */
export function entryEvidence(entry: RecordEntry, termOf: (code: string) => string | undefined): Evidence {
  const code = entry.codes[0];
  if (code !== undefined) return evidence({ entry, code }, undefined, termOf);
  return { type: entry.type, id: entry.id, ...(entry.date ? { date: entry.date } : {}), ...(entry.organisation ? { organisation: entry.organisation } : {}) };
}

/** Unique evidence, in order (an entry matched by two codes of one set is shown once). */
export function uniqueEvidence(items: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.type}/${item.id}/${item.value?.value ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
