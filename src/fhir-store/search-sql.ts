/**
 * Turns a parsed FHIR search (SearchRequest from @medplum/core) into parameterised SQL over the index
 * tables. Values never enter the SQL text; only whitelisted table and column names do.
 */
import { getSearchParameters, Operator, parseParameter, type Filter, type SearchRequest } from '@medplum/core';
import { AppError } from '../shared/errors.ts';
import { dateBounds, normaliseString, STRING_INDEX_CHARS, storedAs, tokenKey, type StoredAs } from './search-index.ts';

export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Where a resource's identity sits in the query being built (the outer row, or a joined target). */
interface Owner {
  type: string; // SQL expression for the resource type
  id: string; // SQL expression for the id
}

const PREFIXES: Record<string, string> = { eq: 'eq', ne: 'ne', gt: 'gt', lt: 'lt', ge: 'ge', le: 'le', sa: 'sa', eb: 'eb', ap: 'ap' };

export interface SearchSqlOptions {
  /** Prefer: handling=lenient — unknown parameters are ignored and reported instead of refused. */
  lenient: boolean;
  ignored: string[];
}

let aliasCounter = 0;
const alias = (prefix: string) => `${prefix}${++aliasCounter % 1_000_000}`;

/** SQL conditions (ANDed) on the outer row `r`, one per filter. */
export function filtersToSql(request: SearchRequest, params: SqlParams, options: SearchSqlOptions): string[] {
  const owner: Owner = { type: 'r.resource_type', id: 'r.id' };
  return (request.filters ?? []).flatMap((filter) => {
    const sql = filterToSql(request.resourceType, filter, owner, params, options);
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

function filterToSql(resourceType: string, filter: Filter, owner: Owner, params: SqlParams, options: SearchSqlOptions): string | null {
  const { code } = filter;
  if (code === '_id') return orValues(filter.value, (v) => `${owner.id} = ${params.add(v)}`, filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS);
  if (code === '_lastUpdated') return dateCondition(`(SELECT last_updated FROM fhir_resource x WHERE x.resource_type = ${owner.type} AND x.id = ${owner.id})`, null, filter, params);
  const chain = /^([a-zA-Z0-9_-]+)(?::([A-Z][A-Za-z]+))?\.(.+)$/.exec(code);
  if (chain) return chainedSql(resourceType, chain, filter, owner, params, options);
  const baseCode = code.endsWith(':identifier') ? code.slice(0, -':identifier'.length) : code;
  const definition = getSearchParameters(resourceType)?.[baseCode];
  if (!definition) return unknownParameter(resourceType, code, options);
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT) return missingSql(definition.type, storedAs(resourceType, code), filter, owner, params);
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  if (code.endsWith(':identifier') || filter.operator === Operator.IDENTIFIER) {
    const stored = storedAs(resourceType, code.endsWith(':identifier') ? code : `${code}:identifier`);
    return exists('fhir_token', owner, params, stored, (t) => orValues(filter.value, (v) => tokenMatch(t, v, params)), false);
  }
  const stored = storedAs(resourceType, code);
  switch (definition.type) {
    case 'token':
    case 'uri':
      return exists('fhir_token', owner, params, stored, (t) => orValues(filter.value, (v) => tokenMatch(t, v, params)), negate);
    case 'string':
      return exists('fhir_string', owner, params, stored, (t) => orValues(filter.value, (v) => stringMatch(t, v, filter.operator, params)), negate);
    case 'date':
      return exists('fhir_date', owner, params, stored, (t) => orValues(filter.value, (v) => dateCondition(`${t}.low`, `${t}.high`, { ...filter, value: v }, params)), false);
    case 'number':
    case 'quantity':
      return exists('fhir_number', owner, params, stored, (t) => orValues(filter.value, (v) => numberMatch(t, v, filter.operator, params)), false);
    case 'reference':
      return exists('fhir_reference', owner, params, stored, (t) => orValues(filter.value, (v) => referenceMatch(t, v, definition.target ?? [], params)), negate);
    default:
      return unknownParameter(resourceType, code, options);
  }
}

function exists(table: string, owner: Owner, params: SqlParams, stored: StoredAs, match: (t: string) => string, negate: boolean): string {
  const t = alias('i');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${storedCodes(t, stored, params)} AND (${match(t)}))`;
  return negate ? `NOT ${sql}` : sql;
}

/** Index rows of `t` that hold a parameter's values: its code, or the codes it is stored under (see StoredAs). */
export function storedCodes(t: string, stored: StoredAs, params: SqlParams): string {
  const [only, ...more] = stored.codes;
  const codes = more.length === 0 ? `${t}.code = ${params.add(only)}` : `${t}.code IN (${stored.codes.map((c) => params.add(c)).join(', ')})`;
  return stored.targetType ? `${codes} AND ${t}.target_type = ${params.add(stored.targetType)}` : codes;
}

/** A comma in a search value means OR (a literal comma is written \,). */
function orValues(value: string, one: (v: string) => string, negate = false): string {
  const parts = value.split(/(?<!\\),/).map((v) => v.replaceAll('\\,', ','));
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

function numberMatch(t: string, raw: string, operator: Operator, params: SqlParams): string {
  const [prefix, rest] = splitPrefix(raw, operator);
  const number = Number(rest.split('|')[0]);
  if (!Number.isFinite(number)) throw new AppError('bad-request', `'${raw}' is not a number`);
  const p = params.add(number);
  const ops: Record<string, string> = { eq: '=', ne: '<>', gt: '>', lt: '<', ge: '>=', le: '<=', sa: '>', eb: '<', ap: '=' };
  return `${t}.value ${ops[prefix] ?? '='} ${p}`;
}

function splitPrefix(raw: string, operator: Operator): [string, string] {
  const prefix = raw.slice(0, 2);
  if (PREFIXES[prefix] && /^[a-z]{2}[\d-]/.test(raw)) return [prefix, raw.slice(2)];
  return [PREFIXES[operator] ?? 'eq', raw];
}

/**
 * Date search by range. The searched value covers [qLow, qHigh); an indexed date covers [low, high)
 * and an indexed instant is the single point low = high. Bound values are added only when used: a
 * parameter the SQL never mentions is an error to PostgreSQL.
 */
function dateCondition(lowSql: string, highSql: string | null, filter: Filter, params: SqlParams): string {
  const [prefix, value] = splitPrefix(filter.value, filter.operator);
  if (!/^\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(value)) {
    throw new AppError('bad-request', `'${filter.value}' is not a FHIR date for ${filter.code}`, filter.code);
  }
  const [qLow, qHigh] = dateBounds(value);
  const exact = qLow === qHigh;
  let loParam: string | undefined;
  let hiParam: string | undefined;
  const lo = () => (loParam ??= `${params.add(qLow)}::timestamptz`);
  const hi = () => (hiParam ??= `${params.add(qHigh)}::timestamptz`);
  const high = `COALESCE(${highSql ?? lowSql}, 'infinity')`;
  const within = () => (exact ? `(${lowSql} <= ${lo()} AND (${high} > ${lo()} OR ${lowSql} = ${lo()}))` : `(${lowSql} >= ${lo()} AND ${lowSql} < ${hi()} AND ${high} <= ${hi()})`);
  switch (prefix) {
    case 'ne':
      return `NOT ${within()}`;
    case 'gt':
    case 'sa':
      return exact ? `${high} > ${lo()}` : `(${high} > ${hi()} OR ${lowSql} >= ${hi()})`;
    case 'lt':
    case 'eb':
      return `${lowSql} < ${lo()}`;
    case 'ge':
      return `(${high} > ${lo()} OR ${lowSql} >= ${lo()})`;
    case 'le':
      return exact ? `${lowSql} <= ${lo()}` : `${lowSql} < ${hi()}`;
    default:
      return within();
  }
}

function referenceMatch(t: string, value: string, targets: string[], params: SqlParams): string {
  const match = /(?:^|\/)(?:([A-Z][A-Za-z]+)\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  // Not an id this server could have given out: it simply matches nothing (as an unknown id would).
  if (!match) return `${t}.target_id = ${params.add(value)}`;
  const [, type, id] = match;
  if (type) return `(${t}.target_type = ${params.add(type)} AND ${t}.target_id = ${params.add(id)})`;
  const sql = `${t}.target_id = ${params.add(id)}`;
  return targets.length === 1 ? `(${sql} AND ${t}.target_type = ${params.add(targets[0])})` : sql;
}

function missingSql(type: string, stored: StoredAs, filter: Filter, owner: Owner, params: SqlParams): string {
  const table = { token: 'fhir_token', uri: 'fhir_token', string: 'fhir_string', date: 'fhir_date', reference: 'fhir_reference', number: 'fhir_number', quantity: 'fhir_number' }[type];
  if (!table) throw new AppError('bad-request', `:missing is not supported for ${filter.code}`);
  const wantMissing = (filter.operator === Operator.MISSING) === (filter.value === 'true');
  const t = alias('m');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${storedCodes(t, stored, params)})`;
  return wantMissing ? `NOT ${sql}` : sql;
}

/** `subject:Patient.identifier=…`: the reference's target must match the rest of the chain. */
function chainedSql(resourceType: string, chain: RegExpExecArray, filter: Filter, owner: Owner, params: SqlParams, options: SearchSqlOptions): string | null {
  const [, code, explicitType, rest] = chain as unknown as [string, string, string | undefined, string];
  const definition = getSearchParameters(resourceType)?.[code];
  if (!definition || definition.type !== 'reference') return unknownParameter(resourceType, `${code}.${rest}`, options);
  const targets = explicitType ? [explicitType] : (definition.target ?? []);
  const conditions: string[] = [];
  const ref = alias('c');
  for (const target of targets) {
    const inner = filterToSql(target, chainEnd(target, rest, filter), { type: `${ref}.target_type`, id: `${ref}.target_id` }, params, { ...options, lenient: targets.length > 1 || options.lenient, ignored: [] });
    if (inner) conditions.push(`(${ref}.target_type = ${params.add(target)} AND ${inner})`);
  }
  if (conditions.length === 0) return unknownParameter(resourceType, `${code}.${rest}`, options);
  return `EXISTS (SELECT 1 FROM fhir_reference ${ref} WHERE ${ref}.resource_type = ${owner.type} AND ${ref}.id = ${owner.id} AND ${storedCodes(ref, storedAs(resourceType, code), params)} AND (${conditions.join(' OR ')}))`;
}

const PARSED_TYPES = new Set(['string', 'token', 'uri', 'reference', 'date', 'number', 'quantity']);

/** The chain's last link parsed as a plain parameter would be: `family:exact` is family with operator exact. */
function chainEnd(target: string, rest: string, filter: Filter): Filter {
  const [code, modifier = ''] = rest.split(':', 2) as [string, string?];
  const definitions = getSearchParameters(target) ?? {};
  const definition = !rest.includes('.') && Object.prototype.hasOwnProperty.call(definitions, code) ? definitions[code] : undefined;
  if (!definition || !PARSED_TYPES.has(definition.type)) return { ...filter, code: rest };
  return parseParameter(definition, modifier, filter.value);
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
        const t = alias('s');
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
