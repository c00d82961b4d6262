/**
 * Search values of a resource, extracted with the R4 SearchParameter definitions' FHIRPath
 * expressions (nothing is hand-listed per resource type). Each parameter's type decides the table.
 */
import {
  evalFhirPathTyped,
  getSearchParameterDetails,
  getSearchParameters,
  toTypedValue,
  AsAtom,
  capitalize,
  DotAtom,
  FhirPathAtom,
  getElementDefinition,
  IsAtom,
  SymbolAtom,
  UnionAtom,
  type Atom,
  type TypedValue,
} from '@medplum/core';
import { createHash } from 'node:crypto';
import type { Reference, Resource, SearchParameter } from '@medplum/fhirtypes';
import { compileSearchPath, type SearchPathExtractor } from '../fhir/search-paths.ts';

export interface IndexRows {
  tokens: Array<[code: string, system: string | null, value: string | null]>;
  strings: Array<[code: string, value: string, exact: string]>;
  dates: Array<[code: string, low: string | null, high: string | null]>;
  references: Array<[code: string, targetType: string, targetId: string]>;
  numbers: Array<[code: string, value: number, system: string | null, unit: string | null]>;
}

/** Parameters answered from fhir_resource's own columns, or not indexed. */
const SKIPPED = new Set(['_id', '_lastUpdated', '_profile', '_source', '_compartment', '_text', '_content', '_query', '_filter', '_list', '_has', '_type']);

interface IndexedParam {
  code: string;
  type: SearchParameter['type'];
  atom: ReturnType<typeof getSearchParameterDetails>['parsedExpression'];
  /** The expression compiled to a plain walk (same values as `atom`), when it is simple enough. */
  extract: SearchPathExtractor | undefined;
  /** Its references are stored under another parameter's code (see StoredAs); only its `:identifier` tokens are its own. */
  identifiersOnly?: boolean;
  /**
   * The resource's JSON keys its expression starts from (`code`, `_code`, `valueQuantity`…): a resource
   * with none of them has no value for it, and its walk is skipped. Undefined: always walk.
   */
  roots?: string[];
}

/**
 * Where a parameter's values are stored. R4 defines many parameters whose values are exactly another's:
 * `phonetic` is `Patient.name` like `name`, `combo-code` is `code | component-code`, and the clinical
 * `patient` is `subject.where(resolve() is Patient)`. Storing those again would add a fifth of all index
 * rows for no answer, so such a parameter is searched as the union of the parameters it repeats (and,
 * for a `where(resolve() is T)`, only their references to T).
 */
export interface StoredAs {
  codes: string[];
  targetType?: string;
}

interface TypeIndex {
  params: IndexedParam[];
  storedAs: Map<string, StoredAs>;
  /** Every indexable parameter by code, those stored as others too. */
  all: Map<string, IndexedParam>;
}

const indexByType = new Map<string, TypeIndex>();

export function indexedParams(resourceType: string): IndexedParam[] {
  return typeIndex(resourceType).params;
}

/** The codes (and target type) a search on `code` must look under; `x:identifier` follows its parameter. */
export function storedAs(resourceType: string, code: string): StoredAs {
  const { storedAs: aliases } = typeIndex(resourceType);
  const alias = aliases.get(code);
  if (alias) return alias;
  if (code.endsWith(':identifier')) {
    const base = aliases.get(code.slice(0, -':identifier'.length));
    if (base && !base.targetType) return { codes: base.codes.map((c) => `${c}:identifier`) };
  }
  return { codes: [code] };
}

const RESOLVES_TO = /^(.+)\.where\(\(resolve\(\) is ([A-Z][A-Za-z]+)\)\)$/;

function typeIndex(resourceType: string): TypeIndex {
  let index = indexByType.get(resourceType);
  if (index) return index;
  const candidates: Array<IndexedParam & { text: string; leaves: Set<string>; kind: string }> = [];
  for (const [code, param] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (SKIPPED.has(code) || !param.expression || param.type === 'composite' || param.type === 'special') continue;
    const atom = getSearchParameterDetails(resourceType, param).parsedExpression;
    // Postcodes index an extra spaceless value, so a postcode parameter only ever repeats another postcode one.
    const kind = `${param.type}${code.endsWith('postalcode') ? ' postcode' : ''}`;
    candidates.push({ code, type: param.type, atom, extract: undefined, text: atom.toString(), leaves: new Set(unionLeaves(atom)), kind });
  }
  const storedAs = new Map<string, StoredAs>();
  const sameLeaves = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((l) => b.has(l));
  // An exact repeat (same values, perhaps written in another order) is stored under the first of its kind.
  for (const [i, p] of candidates.entries()) {
    const first = candidates.slice(0, i).find((q) => q.kind === p.kind && !storedAs.has(q.code) && sameLeaves(p.leaves, q.leaves));
    if (first) storedAs.set(p.code, { codes: [first.code] });
  }
  // A union of other parameters (`combo-code`) is stored as those parameters.
  for (const p of candidates) {
    if (storedAs.has(p.code) || p.leaves.size < 2) continue;
    const parts = candidates.filter((q) => q !== p && q.kind === p.kind && !storedAs.has(q.code) && q.leaves.size < p.leaves.size && [...q.leaves].every((l) => p.leaves.has(l)));
    const covered = new Set(parts.flatMap((q) => [...q.leaves]));
    if (!sameLeaves(covered, p.leaves)) continue;
    const largest = parts.filter((q) => !parts.some((r) => r !== q && r.leaves.size > q.leaves.size && [...q.leaves].every((l) => r.leaves.has(l))));
    storedAs.set(p.code, { codes: largest.map((q) => q.code) });
  }
  const params: IndexedParam[] = [];
  for (const p of candidates) {
    if (storedAs.has(p.code)) continue;
    const param: IndexedParam = { code: p.code, type: p.type, atom: p.atom, extract: compileSearchPath(resourceType, p.atom), roots: rootKeys(resourceType, p.atom) };
    // `subject.where(resolve() is Patient)`: subject's references to a Patient, but its :identifier tokens stay its own.
    const resolves = p.type === 'reference' ? RESOLVES_TO.exec(p.text) : null;
    const base = resolves && candidates.find((q) => q.type === 'reference' && !storedAs.has(q.code) && q.text === resolves[1]);
    if (resolves && base) {
      storedAs.set(p.code, { codes: [base.code], targetType: resolves[2]! });
      param.identifiersOnly = true;
    }
    params.push(param);
  }
  index = { params, storedAs, all: new Map(candidates.map((p) => [p.code, p])) };
  indexByType.set(resourceType, index);
  return index;
}

/**
 * The top-level JSON keys an expression of this resource type reads first, found from its parse tree:
 * `Observation.code | Observation.component.code` → code, _code, component, _component; a choice such as
 * `Observation.value as Quantity` → every valueX key. Undefined when the expression does not start by
 * navigating from the resource (`Patient.deceased.exists() and …`) or names an unknown element.
 */
function rootKeys(resourceType: string, atom: Atom): string[] | undefined {
  if (atom instanceof FhirPathAtom) return rootKeys(resourceType, atom.child);
  if (atom instanceof UnionAtom) {
    const left = rootKeys(resourceType, atom.left);
    const right = left && rootKeys(resourceType, atom.right);
    return right && [...new Set([...left!, ...right])];
  }
  if (atom instanceof AsAtom || atom instanceof IsAtom) return rootKeys(resourceType, atom.left);
  if (!(atom instanceof DotAtom)) return undefined;
  if (atom.left instanceof SymbolAtom && atom.left.name === resourceType) return memberKeys(resourceType, atom.right);
  return rootKeys(resourceType, atom.left);
}

function memberKeys(resourceType: string, atom: Atom): string[] | undefined {
  if (atom instanceof DotAtom) return memberKeys(resourceType, atom.left);
  if (!(atom instanceof SymbolAtom) || !/^[a-z]/.test(atom.name)) return undefined;
  const element = getElementDefinition(resourceType, atom.name);
  if (!element) return undefined;
  const names = element.path.endsWith('[x]') ? element.type.map((t) => `${atom.name}${capitalize(t.code)}`) : [atom.name];
  return names.flatMap((name) => [name, `_${name}`]);
}

/** The operands of a (nested) `a | b | c`, each as FHIRPath text; a single path is its own one leaf. */
function unionLeaves(atom: Atom): string[] {
  if (atom instanceof FhirPathAtom) return unionLeaves(atom.child);
  return atom instanceof UnionAtom ? [...unionLeaves(atom.left), ...unionLeaves(atom.right)] : [atom.toString()];
}

/** ASCII without `^` and `` ` ``, the only ASCII characters Unicode counts as diacritics. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: every ASCII character but the few that need escaping, control characters included
const PLAIN_ASCII = /^[\x00-\x5d\x5f\x61-\x7f]*$/;

/** Lower case with accents removed, so "Zoë" is found by "zoe". Plain ASCII (most names) skips the Unicode work. */
export const normaliseString = (value: string) =>
  PLAIN_ASCII.test(value)
    ? value.toLowerCase()
    : value
        .normalize('NFD')
        .replace(/\p{Diacritic}/gu, '')
        .toLowerCase();

export function extractIndex(resource: Resource): IndexRows {
  return extractIndexRows(resource, true);
}

/** The same rows with every expression evaluated by FHIRPath: the reference the compiled paths are tested against. */
export function extractIndexWithFhirPath(resource: Resource): IndexRows {
  return extractIndexRows(resource, false);
}

/** The rows one parameter would have of its own, by FHIRPath: what a parameter stored as others is checked against. */
export function rowsOfParameter(resource: Resource, code: string): IndexRows {
  const rows: IndexRows = { tokens: [], strings: [], dates: [], references: [], numbers: [] };
  const param = typeIndex(resource.resourceType).all.get(code);
  if (!param) throw new Error(`${resource.resourceType} has no indexed search parameter ${code}`);
  for (const value of evalFhirPathTyped(param.atom, [toTypedValue(resource)])) addValue(rows, param, value);
  return rows;
}

function extractIndexRows(resource: Resource, useCompiled: boolean): IndexRows {
  const rows: IndexRows = { tokens: [], strings: [], dates: [], references: [], numbers: [] };
  let input: TypedValue[] | undefined;
  for (const param of indexedParams(resource.resourceType)) {
    if (useCompiled && param.roots && !param.roots.some((key) => (resource as unknown as Record<string, unknown>)[key] !== undefined)) continue;
    let values: TypedValue[];
    try {
      values = useCompiled && param.extract ? param.extract(resource) : evalFhirPathTyped(param.atom, (input ??= [toTypedValue(resource)]));
    } catch {
      continue; // an expression this resource cannot answer indexes nothing
    }
    for (const value of values) addValue(rows, param, value);
  }
  return rows;
}

function addValue(rows: IndexRows, param: IndexedParam, { type, value }: TypedValue): void {
  if (value === undefined || value === null) return;
  switch (param.type) {
    case 'token':
      addTokens(rows, param.code, type, value);
      return;
    case 'string':
      for (const text of stringsOf(type, value)) {
        rows.strings.push([param.code, normaliseString(text), text]);
        // A postcode is also indexed without its space, so "nr13sr" finds "NR1 3SR".
        if (param.code.endsWith('postalcode') && /\s/.test(text)) rows.strings.push([param.code, normaliseString(text.replace(/\s+/g, '')), text]);
      }
      return;
    case 'date': {
      const range = dateRange(type, value);
      if (range) rows.dates.push([param.code, range[0], range[1]]);
      return;
    }
    case 'reference':
      if (type === 'Reference' || type === 'reference') addReference(rows, param, value as { reference?: string; identifier?: { system?: string; value?: string } });
      else if (typeof value === 'string' && !param.identifiersOnly) addReference(rows, param, { reference: value });
      return;
    case 'uri':
      if (typeof value === 'string') rows.tokens.push([param.code, null, tokenKey(value)]);
      return;
    case 'number':
      if (typeof value === 'number') rows.numbers.push([param.code, value, null, null]);
      return;
    case 'quantity': {
      const q = value as { value?: number; system?: string; code?: string; unit?: string };
      if (typeof q.value !== 'number') return;
      rows.numbers.push([param.code, q.value, q.system ?? null, q.code ?? q.unit ?? null]);
      // `5||mg` matches the code or the unit (R4): a unit written apart from its code is a row of its own.
      if (q.code && q.unit && q.unit !== q.code) rows.numbers.push([param.code, q.value, null, q.unit]);
      return;
    }
  }
}

/** What `code:text` searches (R4: CodeableConcept.text, Coding.display, Identifier.type.text), as strings. */
function addText(strings: IndexRows['strings'], code: string, words: string | undefined): void {
  if (words) strings.push([`${code}:text`, normaliseString(words), words]);
}

function addTokens(rows: IndexRows, code: string, type: string, value: unknown): void {
  const { tokens, strings } = rows;
  switch (type) {
    case 'Identifier': {
      const id = value as { system?: string; value?: string; type?: { text?: string } };
      tokens.push([code, tokenKey(id.system ?? null), tokenKey(id.value ?? null)]);
      addText(strings, code, id.type?.text);
      return;
    }
    case 'CodeableConcept': {
      const concept = value as { coding?: Array<{ system?: string; code?: string; display?: string }>; text?: string };
      for (const c of concept.coding ?? []) {
        tokens.push([code, tokenKey(c.system ?? null), tokenKey(c.code ?? null)]);
        if (c.display !== concept.text) addText(strings, code, c.display);
      }
      addText(strings, code, concept.text);
      return;
    }
    case 'Coding': {
      const coding = value as { system?: string; code?: string; display?: string };
      tokens.push([code, tokenKey(coding.system ?? null), tokenKey(coding.code ?? null)]);
      addText(strings, code, coding.display);
      return;
    }
    case 'ContactPoint': {
      const point = value as { system?: string; value?: string };
      tokens.push([code, tokenKey(point.system ?? null), tokenKey(point.value ?? null)]);
      return;
    }
    case 'Reference': {
      const ref = value as { identifier?: { system?: string; value?: string } };
      if (ref.identifier) tokens.push([code, tokenKey(ref.identifier.system ?? null), tokenKey(ref.identifier.value ?? null)]);
      return;
    }
    default:
      if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') tokens.push([code, null, tokenKey(String(value))]);
  }
}

function stringsOf(type: string, value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (type === 'HumanName') {
    const name = value as { family?: string; given?: string[]; prefix?: string[]; suffix?: string[]; text?: string };
    return [name.family, ...(name.given ?? []), ...(name.prefix ?? []), ...(name.suffix ?? []), name.text].filter((s): s is string => !!s);
  }
  if (type === 'Address') {
    const a = value as { line?: string[]; city?: string; district?: string; state?: string; postalCode?: string; country?: string; text?: string };
    return [...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text].filter((s): s is string => !!s);
  }
  return [];
}

/** A FHIR date/dateTime/instant/Period as the [low, high] instants it covers (a date covers its whole day). */
export function dateRange(type: string, value: unknown): [string | null, string | null] | undefined {
  if (type === 'Period') {
    const period = value as { start?: string; end?: string };
    if (!period.start && !period.end) return undefined;
    return [period.start ? dateBounds(period.start)[0] : null, period.end ? dateBounds(period.end)[1] : null];
  }
  // Only dates index as dates: R4's `onset.as(dateTime)` also yields an onsetString ("in childhood").
  if (typeof value !== 'string' || !DATE_TYPES.has(type)) return undefined;
  return dateBounds(value);
}

const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);

/** The first and last instant a FHIR date of any precision (2020, 2020-05, 2020-05-01, full instant) covers. */
export function dateBounds(value: string): [string, string] {
  // Each partial form has one length, so most values (full instants) are settled without a regex.
  if (value.length === 4 && /^\d{4}$/.test(value)) return [`${value}-01-01T00:00:00Z`, `${Number(value) + 1}-01-01T00:00:00Z`];
  if (value.length === 7 && /^\d{4}-\d{2}$/.test(value)) {
    const [y, m] = value.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    return [`${value}-01T00:00:00Z`, `${next}-01T00:00:00Z`];
  }
  if (value.length === 10 && /^\d{4}-\d{2}-\d{2}$/.test(value)) return [`${value}T00:00:00Z`, startOfNextDay(value)];
  return [value, value];
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** `2020-05-01` → `2020-05-02T00:00:00.000Z`, as Date#toISOString gives it; string arithmetic is ~4× cheaper than a Date. */
function startOfNextDay(date: string): string {
  const day = Number(date.slice(8, 10));
  const month = Number(date.slice(5, 7));
  const daysInMonth = month === 2 && isLeapYear(Number(date.slice(0, 4))) ? 29 : DAYS_IN_MONTH[month - 1];
  if (daysInMonth !== undefined && day >= 1 && day < daysInMonth) return `${date.slice(0, 8)}${String(day + 1).padStart(2, '0')}T00:00:00.000Z`;
  // The last day of a month (or a date no calendar has): let Date roll it over, as before.
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

function addReference(rows: IndexRows, { code, identifiersOnly }: IndexedParam, ref: { reference?: string; identifier?: { system?: string; value?: string } }): void {
  const match = ref.reference && !identifiersOnly ? /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref.reference) : null;
  if (match) rows.references.push([code, match[1]!, match[2]!]);
  // A logical reference by identifier (e.g. a GP practice by ODS code) is searchable as `code:identifier`.
  if (ref.identifier?.value) rows.tokens.push([`${code}:identifier`, tokenKey(ref.identifier.system ?? null), tokenKey(ref.identifier.value)]);
}

/** Token values and systems up to this many UTF-16 units are indexed as written (at most ~770 bytes of UTF-8). */
export const TOKEN_INDEX_UNITS = 256;

/**
 * A token value or system as the index holds it: as written up to TOKEN_INDEX_UNITS, otherwise its first
 * units plus the sha256 of the whole. A B-tree entry must stay under ~2.7 kB, and a token is only ever
 * compared whole, so a search for a long value looks for its key (search-sql.ts): the hash compares the
 * whole value exactly, and the prefix keeps starts-with on the first units answerable. A key is always
 * longer than TOKEN_INDEX_UNITS, so it can never equal a value indexed as written.
 */
export function tokenKey<T extends string | null>(value: T): T {
  if (value === null || value.length <= TOKEN_INDEX_UNITS) return value;
  const high = value.charCodeAt(TOKEN_INDEX_UNITS - 1);
  const cut = high >= 0xd800 && high <= 0xdbff ? TOKEN_INDEX_UNITS - 1 : TOKEN_INDEX_UNITS; // never half a surrogate pair
  return `${value.slice(0, cut)}#sha256:${createHash('sha256').update(value).digest('hex')}` as T;
}

/** Characters of a string value's normalised form the string index holds (migration 036: `left(value, 256)`). */
export const STRING_INDEX_CHARS = 256;

/** The References a reference parameter of the resource selects, as the objects inside the resource. */
export function referencesOf(resource: Resource, code: string): Reference[] {
  const param = typeIndex(resource.resourceType).params.find((p) => p.code === code);
  if (param?.type !== 'reference') return [];
  if (param.roots && !param.roots.some((key) => (resource as unknown as Record<string, unknown>)[key] !== undefined)) return [];
  const values = param.extract ? param.extract(resource) : evalFhirPathTyped(param.atom, [toTypedValue(resource)]);
  return values.filter((v) => v.type === 'Reference' && v.value && typeof v.value === 'object').map((v) => v.value as Reference);
}
