/**
 * Turns a parsed FHIR search (SearchRequest from @medplum/core, or from parseSearch) into parameterised
 * SQL over the index tables. Values never enter the SQL text; only whitelisted table and column names do.
 * Every (parameter type, modifier, prefix) is answered as FHIR R4 defines it, or refused with a 400
 * not-supported naming the parameter (ANSWERED in src/fhir/search-support.ts is the list).
 */
import { badRequest, getSearchParameters, OperationOutcomeError, Operator, type Filter, type SearchRequest } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { AppError } from '../shared/errors.ts';
import { dateBounds, normaliseString, STRING_INDEX_CHARS, storedAs, tokenKey, type StoredAs } from './search-index.ts';
import { ALL_PREFIXES as ORDERED_PREFIXES, ANSWERED, NOT_SEARCHED as NOT_INDEXED } from '../fhir/search-support.ts';
import { commensurableUnits, UCUM, type UnitSize } from './ucum.ts';

export class SqlParams {
  private aliases = 0;
  /** `values`: parameters already bound ($1…), when a condition joins a statement built elsewhere. */
  constructor(readonly values: unknown[] = []) {}
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  /** A table alias numbered within this one query: the same search shape always gives the same SQL text. */
  alias(prefix: string): string {
    return `${prefix}${++this.aliases}`;
  }
}

/** Where a resource's identity sits in the query being built (the outer row, or a joined target). */
interface Owner {
  type: string; // SQL expression for the resource type
  id: string; // SQL expression for the id
}

export interface SearchSqlOptions {
  /** Prefer: handling=lenient — unknown parameters are ignored and reported instead of refused. */
  lenient: boolean;
  ignored: string[];
  /** Subqueries chains may still add to this search (see SEARCH_LIMITS.chainSubqueries). */
  chainBudget?: { left: number };
  /** The access rule on rows `r`: a chain only follows references to resources the actor may see. */
  visible?: (params: SqlParams) => string | null;
}

/** Bounds that keep one request from stalling the server; going past one is a 400 naming it. */
export const SEARCH_LIMITS = {
  /** Query parameters of one search, of any kind. */
  parameters: 50,
  /** Times one parameter may be repeated (each repeat is ANDed). */
  repeats: 20,
  /** Comma-separated alternatives in one value. */
  orValues: 100,
  /** Links of one chain: `subject:Patient.organization.name` has two. */
  chainLinks: 3,
  /** Subqueries all chains of one search may expand to (a link to many target types fans out). */
  chainSubqueries: 50,
  /** _include and _revinclude together. */
  includes: 10,
  /** Keys of _sort. */
  sortKeys: 5,
};

function outcomeError(code: OperationOutcomeIssue['code'], parameter: string, text: string): OperationOutcomeError {
  return new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text }, expression: [parameter] }] });
}

/** 400, issue not-supported: the server does not answer this parameter, modifier or prefix. */
export const notSupported = (parameter: string, text: string) => outcomeError('not-supported', parameter, text);
/** 400, issue too-costly: the search goes past one of SEARCH_LIMITS. */
export const tooCostly = (parameter: string, text: string) => outcomeError('too-costly', parameter, text);
/** 400, issue invalid: a value that cannot be read. */
export const invalidValue = (parameter: string, text: string) => new OperationOutcomeError(badRequest(text, parameter));

/** Characters PostgreSQL text cannot hold (NUL, lone surrogates) and other control characters no FHIR string has. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters, to refuse them, is what this is for
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function assertStorable(parameter: string, text: string): void {
  if (UNSTORABLE.test(text)) throw invalidValue(parameter, `${parameter} holds a control character or a broken UTF-16 surrogate, which no FHIR value has`);
}

/** SQL conditions (ANDed) on the outer row `r`, one per filter. */
export function filtersToSql(request: SearchRequest, params: SqlParams, options: SearchSqlOptions): string[] {
  const owner: Owner = { type: 'r.resource_type', id: 'r.id' };
  const filters = request.filters ?? [];
  if (filters.length > SEARCH_LIMITS.parameters)
    throw tooCostly(filters[SEARCH_LIMITS.parameters]!.code, `a search may have at most ${SEARCH_LIMITS.parameters} parameters; this one has ${filters.length}`);
  const budget = options.chainBudget ?? { left: SEARCH_LIMITS.chainSubqueries };
  return filters.flatMap((filter) => {
    assertStorable(filter.code, filter.code);
    assertStorable(filter.code, filter.value);
    const sql = filterToSql(request.resourceType, filter, owner, params, { ...options, chainBudget: budget }, 0);
    return sql ? [sql] : [];
  });
}

function unknownParameter(resourceType: string, code: string, options: SearchSqlOptions): null {
  if (options.lenient) {
    options.ignored.push(code);
    return null;
  }
  throw new AppError('bad-request', `unknown search parameter '${code}' for ${resourceType}`, code);
}

/** The parameter as the client wrote it, for messages: `code:text`, `subject:Patient`. */
const written = (filter: Filter) =>
  ORDERED_PREFIXES.includes(filter.operator) || filter.operator === Operator.EQUALS || filter.code.includes('.') ? filter.code : `${filter.code}:${filter.operator}`;

function refuseModifier(filter: Filter, type: string): never {
  const answered = ANSWERED[type]?.modifiers.map((m) => `:${m}`).join(', ') || 'none';
  throw notSupported(written(filter), `the modifier :${filter.operator} is not supported on ${filter.code} (a ${type} parameter); supported: ${answered}`);
}

function filterToSql(resourceType: string, filter: Filter, owner: Owner, params: SqlParams, options: SearchSqlOptions, depth: number): string | null {
  const { code } = filter;
  const chain = /^([a-zA-Z0-9_-]+)(?::([A-Z][A-Za-z]+))?\.(.+)$/.exec(code);
  if (chain) return chainedSql(resourceType, chain, filter, owner, params, options, depth);
  if (code === '_id') {
    if (filter.operator !== Operator.EQUALS && filter.operator !== Operator.NOT) refuseModifier(filter, 'token');
    return orValues(filter, (v) => `${owner.id} = ${params.add(v)}`, filter.operator === Operator.NOT);
  }
  if (code === '_lastUpdated') {
    if (filter.operator === Operator.MISSING || !isPrefixOrEquals(filter.operator)) refuseModifier(filter, 'date');
    const lastUpdated = `(SELECT last_updated FROM fhir_resource x WHERE x.resource_type = ${owner.type} AND x.id = ${owner.id})`;
    return orValues(filter, (v) => dateCondition(lastUpdated, null, filter, v, params));
  }
  const typed = /^([a-zA-Z0-9_-]+):([A-Z][A-Za-z]+)$/.exec(code);
  const baseCode = typed ? typed[1]! : code;
  if (NOT_INDEXED.has(baseCode) || baseCode.startsWith('_has:')) throw notSupported(baseCode, `${baseCode} is not supported by this server`);
  const definitions = getSearchParameters(resourceType) ?? {};
  const definition = Object.hasOwn(definitions, baseCode) ? definitions[baseCode] : undefined;
  if (!definition) return unknownParameter(resourceType, code, options);
  if (!ANSWERED[definition.type]) throw notSupported(baseCode, `${baseCode} is a ${definition.type} parameter, which this server does not search`);
  if (typed && definition.type !== 'reference') throw notSupported(code, `:${typed[2]} is a modifier for reference parameters only`);
  const stored = storedAs(resourceType, baseCode);
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT) return missingSql(definition.type, stored, filter, owner, params);
  switch (definition.type) {
    case 'token':
      if (filter.operator === Operator.TEXT) return exists('fhir_string', owner, params, textCodes(stored), (t) => orValues(filter, (v) => stringMatch(t, v, Operator.STARTS_WITH, params)), false);
      if (filter.operator !== Operator.EQUALS && filter.operator !== Operator.NOT) refuseModifier(filter, 'token');
      // R4 :not: resources with no matching value, those without the element at all included.
      return exists('fhir_token', owner, params, stored, (t) => orValues(filter, (v) => tokenMatch(t, v, params)), filter.operator === Operator.NOT);
    case 'uri':
      if (filter.operator !== Operator.EQUALS && filter.operator !== Operator.BELOW && filter.operator !== Operator.ABOVE) refuseModifier(filter, 'uri');
      return exists('fhir_token', owner, params, stored, (t) => orValues(filter, (v) => uriMatch(t, v, filter.operator, params)), false);
    case 'string':
      if (filter.operator !== Operator.EQUALS && filter.operator !== Operator.EXACT && filter.operator !== Operator.CONTAINS) refuseModifier(filter, 'string');
      return exists('fhir_string', owner, params, stored, (t) => orValues(filter, (v) => stringMatch(t, v, filter.operator, params)), false);
    case 'date':
      if (!isPrefixOrEquals(filter.operator)) refuseModifier(filter, 'date');
      return exists('fhir_date', owner, params, stored, (t) => orValues(filter, (v) => dateCondition(`${t}.low`, `${t}.high`, filter, v, params)), false);
    case 'number':
    case 'quantity':
      if (!isPrefixOrEquals(filter.operator)) refuseModifier(filter, definition.type);
      return exists('fhir_number', owner, params, stored, (t) => orValues(filter, (v) => quantityMatch(t, v, filter, definition.type, params)), false);
    case 'reference':
      if (filter.operator === Operator.IDENTIFIER) {
        return exists('fhir_token', owner, params, storedAs(resourceType, `${baseCode}:identifier`), (t) => orValues(filter, (v) => tokenMatch(t, v, params)), false);
      }
      if (filter.operator !== Operator.EQUALS) refuseModifier(filter, 'reference');
      return exists('fhir_reference', owner, params, stored, (t) => orValues(filter, (v) => referenceMatch(t, v, typed ? [typed[2]!] : (definition.target ?? []), !!typed, params)), false);
    default:
      return unknownParameter(resourceType, code, options);
  }
}

const isPrefixOrEquals = (operator: string) => operator === Operator.EQUALS || ORDERED_PREFIXES.includes(operator);

function exists(table: string, owner: Owner, params: SqlParams, stored: StoredAs, match: (t: string) => string, negate: boolean): string {
  const t = params.alias('i');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${storedCodes(t, stored, params)} AND (${match(t)}))`;
  return negate ? `NOT ${sql}` : sql;
}

/** Index rows of `t` that hold a parameter's values: its code, or the codes it is stored under (see StoredAs). */
export function storedCodes(t: string, stored: StoredAs, params: SqlParams): string {
  const [only, ...more] = stored.codes;
  const codes = more.length === 0 ? `${t}.code = ${params.add(only)}` : `${t}.code IN (${stored.codes.map((c) => params.add(c)).join(', ')})`;
  return stored.targetType ? `${codes} AND ${t}.target_type = ${params.add(stored.targetType)}` : codes;
}

/** A token parameter's text (CodeableConcept.text, Coding.display, Identifier.type.text) is indexed as strings under `code:text`. */
const textCodes = (stored: StoredAs): StoredAs => ({ codes: stored.codes.map((c) => `${c}:text`) });

/** The values of a comma-separated list (a comma means OR; a literal comma is written \,). */
export function splitOr(value: string): string[] {
  return value.split(/(?<!\\),/).map((v) => v.replaceAll('\\,', ','));
}

function orValues(filter: Filter, one: (v: string) => string, negate = false): string {
  const parts = splitOr(filter.value);
  if (parts.length > SEARCH_LIMITS.orValues)
    throw tooCostly(written(filter), `a parameter may list at most ${SEARCH_LIMITS.orValues} values separated by commas; ${filter.code} lists ${parts.length}`);
  const sql = parts.map(one).join(' OR ');
  return negate ? `NOT (${sql})` : `(${sql})`;
}

/** Token equality, on the values as the index keys them (a long value by its prefix and hash: tokenKey). */
function tokenMatch(t: string, value: string, params: SqlParams): string {
  const bar = value.indexOf('|');
  if (bar === -1) return `${t}.value = ${params.add(tokenKey(value))}`;
  const system = tokenKey(value.slice(0, bar));
  const code = tokenKey(value.slice(bar + 1));
  if (system === '') return `(${t}.system IS NULL AND ${t}.value = ${params.add(code)})`;
  if (code === '') return `${t}.system = ${params.add(system)}`;
  return `(${t}.system = ${params.add(system)} AND ${t}.value = ${params.add(code)})`;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * uri: the whole uri; :below, uris at or under it (`http://acme.org/fhir/` finds `http://acme.org/fhir/ValueSet/1`);
 * :above, uris it is at or under (`http://acme.org/fhir/ValueSet/1/_history/5` finds `http://acme.org/fhir/ValueSet/1`).
 * Both compare whole path segments, so `http://acme.org/fh` is neither above nor below `http://acme.org/fhir`.
 */
function uriMatch(t: string, value: string, operator: Operator, params: SqlParams): string {
  if (operator === Operator.BELOW) {
    const base = value.replace(/\/+$/, '');
    return `(${t}.value = ${params.add(base)} OR ${t}.value LIKE ${params.add(`${likeEscape(base)}/%`)})`;
  }
  if (operator === Operator.ABOVE) {
    const text = value.replace(/\/+$/, '');
    const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(text)?.[0];
    const segments = authority ? text.slice(authority.length).split('/').filter(Boolean) : [];
    const prefixes = authority ? segments.map((_s, i) => `${authority}/${segments.slice(0, i + 1).join('/')}`) : [];
    const ancestors = authority ? [authority, ...prefixes].flatMap((u) => [u, `${u}/`]) : [text];
    return `${t}.value = ANY(${params.add(ancestors.map(tokenKey))}::text[])`;
  }
  return `${t}.value = ${params.add(tokenKey(value))}`;
}

function stringMatch(t: string, value: string, operator: Operator, params: SqlParams): string {
  if (operator === Operator.EXACT) return `${t}.exact = ${params.add(value)}`;
  const normalised = normaliseString(value);
  if (operator === Operator.CONTAINS) return `${t}.value LIKE ${params.add(`%${likeEscape(normalised)}%`)}`;
  // Starts-with, through the index on the first STRING_INDEX_CHARS characters (migration 036); a longer
  // searched text also compares the whole value.
  const indexed = `left(${t}.value, ${STRING_INDEX_CHARS})`;
  const prefix = normalised.length > STRING_INDEX_CHARS ? Array.from(normalised).slice(0, STRING_INDEX_CHARS).join('') : normalised;
  if (prefix === normalised) return `${indexed} LIKE ${params.add(`${likeEscape(normalised)}%`)}`;
  return `(${indexed} = ${params.add(prefix)} AND ${t}.value LIKE ${params.add(`${likeEscape(normalised)}%`)})`;
}

/** A value's comparison prefix (written before it, or, from medplum's parser, as the filter's operator) and the rest. */
function splitPrefix(raw: string, operator: string): [string, string] {
  const prefix = raw.slice(0, 2);
  if (/^[a-z]{2}/.test(raw)) return [prefix, raw.slice(2)];
  return [ORDERED_PREFIXES.includes(operator) ? operator : 'eq', raw];
}

function orderedPrefix(filter: Filter, raw: string, type: string): [string, string] {
  const [prefix, rest] = splitPrefix(raw, filter.operator);
  if (!ORDERED_PREFIXES.includes(prefix)) throw invalidValue(filter.code, `'${raw}' is not a ${type} value for ${filter.code} (no prefix '${prefix}')`);
  if (!ANSWERED[type]!.prefixes!.includes(prefix))
    throw notSupported(filter.code, `the prefix ${prefix} is not supported on ${filter.code} (a ${type} parameter); supported: ${ANSWERED[type]!.prefixes!.join(', ')}`);
  return [prefix, rest];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * number and quantity (`[prefix]value|system|code`). R4: a value stands for the range its precision
 * implies (5.4 is [5.35, 5.45)), which eq and ne use; gt, lt, ge, le compare with the value itself; ap is
 * within 10% of the value (or its precision, when wider). A quantity with a unit matches the same code;
 * with UCUM units in the table of ucum.ts, any commensurable unit, converted; never another dimension.
 */
function quantityMatch(t: string, raw: string, filter: Filter, type: string, params: SqlParams): string {
  const [prefix, rest] = orderedPrefix(filter, raw, type);
  const parts = rest.split('|');
  const number = parts[0]!;
  if (!NUMBER.test(number)) throw invalidValue(filter.code, `'${raw}' is not a ${type} for ${filter.code}: write a decimal number${type === 'quantity' ? ', optionally with |system|code' : ''}`);
  if (parts.length === 1) return numberCondition(`${t}.value`, prefix, number, params);
  if (type !== 'quantity' || parts.length !== 3) throw invalidValue(filter.code, `'${raw}' is not a ${type} for ${filter.code}`);
  const [, system, code] = parts as [string, string, string];
  if (code === '') {
    if (system === '') return numberCondition(`${t}.value`, prefix, number, params);
    return `(${t}.system = ${params.add(system)} AND ${numberCondition(`${t}.value`, prefix, number, params)})`;
  }
  const units = system === UCUM ? commensurableUnits(code) : undefined;
  if (!units) {
    const inSystem = system === '' ? '' : `${t}.system = ${params.add(system)} AND `;
    return `(${inSystem}${t}.unit = ${params.add(code)} AND ${numberCondition(`${t}.value`, prefix, number, params)})`;
  }
  const from = sizeParams(units.size, params);
  const branches = units.units.map((unit) => {
    const to = sizeParams(unit, params);
    // search bound × (search unit's size / stored unit's size) is the bound in the stored unit
    const scale = `${from.numerator} * ${to.denominator} / (${from.denominator} * ${to.numerator})`;
    return `(${t}.unit = ${params.add(unit.unit)} AND ${numberCondition(`${t}.value`, prefix, number, params, scale)})`;
  });
  return `(${t}.system = ${params.add(UCUM)} AND (${branches.join(' OR ')}))`;
}

function sizeParams(size: UnitSize, params: SqlParams) {
  return { numerator: `${params.add(size.numerator)}::numeric`, denominator: `${params.add(size.denominator)}::numeric` };
}

/** Half the last decimal place written: 5.4 → 0.05, 100 → 0.5. */
function halfPrecision(number: string): string {
  const decimals = number.includes('.') ? number.length - number.indexOf('.') - 1 : 0;
  return decimals === 0 ? '0.5' : `0.${'0'.repeat(decimals)}5`;
}

function numberCondition(column: string, prefix: string, number: string, params: SqlParams, scale?: string): string {
  const v = `${params.add(number)}::numeric`;
  let halfParam: string | undefined;
  const half = () => (halfParam ??= `${params.add(halfPrecision(number))}::numeric`);
  const at = (bound: string) => (scale ? `((${bound}) * ${scale})` : `(${bound})`);
  const within = () => `(${column} >= ${at(`${v} - ${half()}`)} AND ${column} < ${at(`${v} + ${half()}`)})`;
  switch (prefix) {
    case 'ne':
      return `NOT ${within()}`;
    case 'gt':
      return `${column} > ${at(v)}`;
    case 'lt':
      return `${column} < ${at(v)}`;
    case 'ge':
      return `${column} >= ${at(v)}`;
    case 'le':
      return `${column} <= ${at(v)}`;
    case 'ap': {
      const margin = `greatest(abs(${v}) * 0.1, ${half()})`;
      return `(${column} >= ${at(`${v} - ${margin}`)} AND ${column} <= ${at(`${v} + ${margin}`)})`;
    }
    default:
      return within();
  }
}

const DATE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Date search by range. The searched value covers [qLow, qHigh); an indexed date covers [low, high)
 * and an indexed instant is the single point low = high. Bound values are added only when used: a
 * parameter the SQL never mentions is an error to PostgreSQL.
 * sa: the resource's range starts after the searched range ends; eb: it ends before the searched range
 * starts; ap: it overlaps the searched range widened on each side by 10% of the time between now and
 * the searched date (R4's suggestion), at least a day.
 */
function dateCondition(lowSql: string, highSql: string | null, filter: Filter, raw: string, params: SqlParams): string {
  const [prefix, value] = orderedPrefix(filter, raw, 'date');
  if (!DATE.test(value) || Number.isNaN(Date.parse(dateBounds(value)[0]))) {
    throw invalidValue(filter.code, `'${raw}' is not a FHIR date for ${filter.code}`);
  }
  let [qLow, qHigh] = dateBounds(value);
  if (prefix === 'ap') {
    const margin = Math.max(Math.abs(Date.now() - Date.parse(qLow)) * 0.1, 86_400_000);
    [qLow, qHigh] = [new Date(Date.parse(qLow) - margin).toISOString(), new Date(Date.parse(qHigh) + margin).toISOString()];
  }
  const exact = qLow === qHigh;
  let loParam: string | undefined;
  let hiParam: string | undefined;
  const lo = () => (loParam ??= `${params.add(qLow)}::timestamptz`);
  const hi = () => (hiParam ??= `${params.add(qHigh)}::timestamptz`);
  const high = `COALESCE(${highSql ?? lowSql}, 'infinity')`;
  const low = `COALESCE(${lowSql}, '-infinity')`;
  const within = () => (exact ? `(${lowSql} <= ${lo()} AND (${high} > ${lo()} OR ${lowSql} = ${lo()}))` : `(${lowSql} >= ${lo()} AND ${lowSql} < ${hi()} AND ${high} <= ${hi()})`);
  switch (prefix) {
    case 'ne':
      return `NOT ${within()}`;
    case 'gt':
      return exact ? `${high} > ${lo()}` : `(${high} > ${hi()} OR ${lowSql} >= ${hi()})`;
    case 'lt':
      return `${lowSql} < ${lo()}`;
    case 'ge':
      return `(${high} > ${lo()} OR ${lowSql} >= ${lo()})`;
    case 'le':
      return exact ? `${lowSql} <= ${lo()}` : `${lowSql} < ${hi()}`;
    case 'sa':
      return exact ? `${lowSql} > ${lo()}` : `${lowSql} >= ${hi()}`;
    case 'eb':
      return `(${high} <= ${lo()} AND ${low} < ${lo()})`;
    case 'ap':
      return `(${low} < ${hi()} AND ${high} >= ${lo()})`;
    default:
      return within();
  }
}

function referenceMatch(t: string, value: string, targets: string[], typed: boolean, params: SqlParams): string {
  const match = /(?:^|\/)(?:([A-Z][A-Za-z]+)\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  // Not an id this server could have given out: it simply matches nothing (as an unknown id would).
  if (!match) return `${t}.target_id = ${params.add(value)}`;
  const [, type, id] = match;
  // subject:Patient=Group/1 asks for two types at once: nothing is both.
  if (type && typed && type !== targets[0]) return 'false';
  if (type) return `(${t}.target_type = ${params.add(type)} AND ${t}.target_id = ${params.add(id)})`;
  const sql = `${t}.target_id = ${params.add(id)}`;
  return targets.length === 1 ? `(${sql} AND ${t}.target_type = ${params.add(targets[0])})` : sql;
}

function missingSql(type: string, stored: StoredAs, filter: Filter, owner: Owner, params: SqlParams): string {
  const table = { token: 'fhir_token', uri: 'fhir_token', string: 'fhir_string', date: 'fhir_date', reference: 'fhir_reference', number: 'fhir_number', quantity: 'fhir_number' }[type];
  if (!table) throw notSupported(`${filter.code}:missing`, `:missing is not supported for ${filter.code}`);
  if (filter.value !== 'true' && filter.value !== 'false') throw invalidValue(`${filter.code}:missing`, `${filter.code}:missing takes true or false`);
  const wantMissing = (filter.operator === Operator.MISSING) === (filter.value === 'true');
  const t = params.alias('m');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${storedCodes(t, stored, params)})`;
  return wantMissing ? `NOT ${sql}` : sql;
}

/** `subject:Patient.identifier=…`: the reference's target must match the rest of the chain. */
function chainedSql(resourceType: string, chain: RegExpExecArray, filter: Filter, owner: Owner, params: SqlParams, options: SearchSqlOptions, depth: number): string | null {
  const [, code, explicitType, rest] = chain as unknown as [string, string, string | undefined, string];
  if (depth === 0 && filter.code.split('.').length - 1 > SEARCH_LIMITS.chainLinks) {
    throw tooCostly(filter.code, `a chain may have at most ${SEARCH_LIMITS.chainLinks} links; ${filter.code} has ${filter.code.split('.').length - 1}`);
  }
  const definition = getSearchParameters(resourceType)?.[code];
  if (definition?.type !== 'reference') return unknownParameter(resourceType, `${code}.${rest}`, options);
  const targets = explicitType ? [explicitType] : (definition.target ?? []);
  const conditions: string[] = [];
  const ref = params.alias('c');
  const budget = options.chainBudget!;
  for (const target of targets) {
    const last = chainEnd(rest, filter);
    const definitions = getSearchParameters(target) ?? {};
    // A link to many types (subject, focus) only follows the types that have the next parameter.
    if (!last.code.includes('.') && !Object.hasOwn(definitions, last.code.split(':')[0]!) && !last.code.startsWith('_')) continue;
    if (--budget.left < 0) throw tooCostly(filter.code, `the chain ${filter.code} reaches too many resource types; name the type, e.g. ${code}:Patient.${rest}`);
    const inner = filterToSql(target, last, { type: `${ref}.target_type`, id: `${ref}.target_id` }, params, { ...options, lenient: targets.length > 1 || options.lenient, ignored: [] }, depth + 1);
    const allowed = options.visible?.(params);
    const seen = allowed ? ` AND EXISTS (SELECT 1 FROM fhir_resource r WHERE r.resource_type = ${ref}.target_type AND r.id = ${ref}.target_id AND ${allowed})` : '';
    if (inner) conditions.push(`(${ref}.target_type = ${params.add(target)} AND ${inner}${seen})`);
  }
  if (conditions.length === 0) return unknownParameter(resourceType, `${code}.${rest}`, options);
  return `EXISTS (SELECT 1 FROM fhir_reference ${ref} WHERE ${ref}.resource_type = ${owner.type} AND ${ref}.id = ${owner.id} AND ${storedCodes(ref, storedAs(resourceType, code), params)} AND (${conditions.join(' OR ')}))`;
}

/** The chain's last link as a filter: `family:exact` is family with the operator exact; `subject:Patient` keeps its type. */
function chainEnd(rest: string, filter: Filter): Filter {
  if (rest.includes('.')) return { ...filter, code: rest };
  const colon = rest.indexOf(':');
  if (colon === -1) return { ...filter, code: rest };
  const modifier = rest.slice(colon + 1);
  if (/^[A-Z]/.test(modifier)) return { ...filter, code: rest, operator: Operator.EQUALS };
  return { ...filter, code: rest.slice(0, colon), operator: modifier as Operator };
}

/** _include and _revinclude: few enough, of this search's type, by a reference parameter, without :iterate. */
export function checkIncludes(request: SearchRequest): void {
  const all = [...(request.include ?? []).map((i) => ['_include', i] as const), ...(request.revInclude ?? []).map((i) => ['_revinclude', i] as const)];
  if (all.length > SEARCH_LIMITS.includes) throw tooCostly('_include', `a search may have at most ${SEARCH_LIMITS.includes} _include and _revinclude; this one has ${all.length}`);
  for (const [name, include] of all) {
    const label = `${name}=${include.resourceType}:${include.searchParam}`;
    if (include.modifier) throw notSupported(`${name}:${include.modifier}`, `${name}:${include.modifier} is not supported`);
    if (name === '_include' && include.resourceType !== request.resourceType) throw invalidValue(name, `${label}: an _include names the searched type, ${request.resourceType}`);
    const definition = getSearchParameters(include.resourceType)?.[include.searchParam];
    if (definition?.type !== 'reference') throw invalidValue(name, `${label}: ${include.resourceType} has no reference parameter ${include.searchParam}`);
  }
}

/** One ORDER BY key of a search: an SQL expression on the row `r`, its type (for the cursor) and direction. */
export interface SortKey {
  sql: string;
  type: 'text' | 'timestamptz' | 'numeric';
  descending: boolean;
}

const SORT_TABLES: Record<string, { table: string; column: string; type: SortKey['type'] }> = {
  string: { table: 'fhir_string', column: 'value', type: 'text' },
  token: { table: 'fhir_token', column: 'value', type: 'text' },
  date: { table: 'fhir_date', column: 'low', type: 'timestamptz' },
  number: { table: 'fhir_number', column: 'value', type: 'numeric' },
};

/**
 * The keys _sort orders by: _id, _lastUpdated, or any indexed string/date/token/number parameter.
 * `name` sorts as a list of people is read: by family name, then given name.
 */
export function sortKeys(request: SearchRequest, params: SqlParams, options: SearchSqlOptions): SortKey[] {
  const keys: SortKey[] = [];
  if ((request.sortRules?.length ?? 0) > SEARCH_LIMITS.sortKeys) throw tooCostly('_sort', `_sort may have at most ${SEARCH_LIMITS.sortKeys} keys; this one has ${request.sortRules!.length}`);
  for (const { code, descending = false } of request.sortRules ?? []) {
    if (code === '_id') keys.push({ sql: 'r.id', type: 'text', descending });
    else if (code === '_lastUpdated') keys.push({ sql: 'r.last_updated', type: 'timestamptz', descending });
    else {
      const definitions = getSearchParameters(request.resourceType) ?? {};
      const codes = code === 'name' && definitions.family && definitions.given ? ['family', 'given'] : [code];
      for (const part of codes) {
        const sort = definitions[part] && SORT_TABLES[definitions[part].type];
        if (!sort) {
          unknownParameter(request.resourceType, `_sort=${code}`, options);
          break;
        }
        const t = params.alias('s');
        const sql = `(SELECT ${descending ? 'max' : 'min'}(${t}.${sort.column}) FROM ${sort.table} ${t} WHERE ${t}.resource_type = r.resource_type AND ${t}.id = r.id AND ${storedCodes(t, storedAs(request.resourceType, part), params)})`;
        keys.push({ sql, type: sort.type, descending });
      }
    }
  }
  return keys;
}

/*
 * Paging is by keyset, not offset: a next link carries the last row's sort keys and id, and the next
 * page starts strictly after them. Rows added or changed between pages then never shift a page, so
 * none is skipped or repeated. The keyed rows are `s` with keys k0…kn (NULLS LAST), then s.id.
 */

export function keysetOrder(keys: SortKey[]): string {
  return [...keys.map((key, i) => `s.k${i} ${key.descending ? 'DESC' : 'ASC'} NULLS LAST`), 's.id ASC'].join(', ');
}

/** Each key as text for the cursor; instants with full precision, so they compare equal when read back. */
export function keyTexts(keys: SortKey[]): string {
  return keys.map((key, i) => `, ${key.type === 'timestamptz' ? `to_char(s.k${i} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : `s.k${i}::text`} AS c${i}`).join('');
}

/** Rows strictly after the cursor's position in the keyset order. */
export function afterCursor(keys: SortKey[], cursor: Array<string | null>, params: SqlParams): string {
  const alternatives: string[] = [];
  const equalSoFar: string[] = [];
  keys.forEach((key, i) => {
    const value = cursor[i];
    const k = `s.k${i}`;
    if (value === null) {
      equalSoFar.push(`${k} IS NULL`); // nulls sort last: nothing but another null comes after
      return;
    }
    const v = `${params.add(value)}::${key.type}`;
    alternatives.push([...equalSoFar, `(${k} ${key.descending ? '<' : '>'} ${v} OR ${k} IS NULL)`].join(' AND '));
    equalSoFar.push(`${k} = ${v}`);
  });
  alternatives.push([...equalSoFar, `s.id > ${params.add(cursor.at(-1))}`].join(' AND '));
  return `(${alternatives.map((a) => `(${a})`).join(' OR ')})`;
}

export const encodeCursor = (values: Array<string | null>) => Buffer.from(JSON.stringify(values)).toString('base64url');

/** A cursor this server gave out for these keys, or a 400: a tampered one never reaches the SQL as a bad cast. */
export function decodeCursor(cursor: string, keys: SortKey[]): Array<string | null> {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const shapes: Record<string, RegExp> = { timestamptz: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, numeric: /^-?\d{1,40}(\.\d{1,40})?$/ };
  const fits = (value: unknown, type: SortKey['type'] | 'id') =>
    value === null ? type !== 'id' : typeof value === 'string' && (shapes[type]?.test(value) ?? true) && (type !== 'timestamptz' || !Number.isNaN(Date.parse(value)));
  if (Array.isArray(values) && values.length === keys.length + 1 && values.every((value, i) => fits(value, keys[i]?.type ?? 'id'))) return values as Array<string | null>;
  throw new AppError('bad-request', 'the _cursor is not one this server gave out for this search', '_cursor');
}
