/**
 * Turns a parsed FHIR search (SearchRequest from @medplum/core) into parameterised SQL over the index
 * tables. Values never enter the SQL text; only whitelisted table and column names do.
 */
import { getSearchParameters, Operator, type Filter, type SearchRequest } from '@medplum/core';
import { AppError } from '../../shared/errors.ts';
import { dateBounds, normaliseString } from './fhir-index.ts';

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
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT) return missingSql(definition.type, code, filter, owner);
  const negate = filter.operator === Operator.NOT || filter.operator === Operator.NOT_EQUALS;
  if (code.endsWith(':identifier') || filter.operator === Operator.IDENTIFIER) {
    return exists('fhir_token', owner, params, code.endsWith(':identifier') ? code : `${code}:identifier`, (t) => orValues(filter.value, (v) => tokenMatch(t, v, params)), false);
  }
  switch (definition.type) {
    case 'token':
    case 'uri':
      return exists('fhir_token', owner, params, code, (t) => orValues(filter.value, (v) => tokenMatch(t, v, params)), negate);
    case 'string':
      return exists('fhir_string', owner, params, code, (t) => orValues(filter.value, (v) => stringMatch(t, v, filter.operator, params)), negate);
    case 'date':
      return exists('fhir_date', owner, params, code, (t) => orValues(filter.value, (v) => dateCondition(`${t}.low`, `${t}.high`, { ...filter, value: v }, params)), false);
    case 'number':
    case 'quantity':
      return exists('fhir_number', owner, params, code, (t) => orValues(filter.value, (v) => numberMatch(t, v, filter.operator, params)), false);
    case 'reference':
      return exists('fhir_reference', owner, params, code, (t) => orValues(filter.value, (v) => referenceMatch(t, v, definition.target ?? [], params)), negate);
    default:
      return unknownParameter(resourceType, code, options);
  }
}

function exists(table: string, owner: Owner, params: SqlParams, code: string, match: (t: string) => string, negate: boolean): string {
  const t = alias('i');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${t}.code = ${params.add(code)} AND (${match(t)}))`;
  return negate ? `NOT ${sql}` : sql;
}

/** A comma in a search value means OR (a literal comma is written \,). */
function orValues(value: string, one: (v: string) => string, negate = false): string {
  const parts = value.split(/(?<!\\),/).map((v) => v.replaceAll('\\,', ','));
  const sql = parts.map(one).join(' OR ');
  return negate ? `NOT (${sql})` : `(${sql})`;
}

function tokenMatch(t: string, value: string, params: SqlParams): string {
  const bar = value.indexOf('|');
  if (bar === -1) return `${t}.value = ${params.add(value)}`;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === '') return `(${t}.system IS NULL AND ${t}.value = ${params.add(code)})`;
  if (code === '') return `${t}.system = ${params.add(system)}`;
  return `(${t}.system = ${params.add(system)} AND ${t}.value = ${params.add(code)})`;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function stringMatch(t: string, value: string, operator: Operator, params: SqlParams): string {
  if (operator === Operator.EXACT) return `${t}.exact = ${params.add(value)}`;
  const normalised = likeEscape(normaliseString(value));
  if (operator === Operator.CONTAINS) return `${t}.value LIKE ${params.add(`%${normalised}%`)}`;
  return `${t}.value LIKE ${params.add(`${normalised}%`)}`;
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

/** Date search by range: the searched value covers [qLow, qHigh); the indexed one [low, high]. */
function dateCondition(lowSql: string, highSql: string | null, filter: Filter, params: SqlParams): string {
  const [prefix, value] = splitPrefix(filter.value, filter.operator);
  if (!/^\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(value)) {
    throw new AppError('bad-request', `'${filter.value}' is not a FHIR date for ${filter.code}`, filter.code);
  }
  const [qLow, qHigh] = dateBounds(value);
  const exact = qLow === qHigh;
  const lo = params.add(qLow);
  const hi = params.add(qHigh);
  const high = highSql ?? lowSql;
  const within = exact ? `(${lowSql} <= ${lo} AND COALESCE(${high}, 'infinity') >= ${lo})` : `(${lowSql} >= ${lo} AND COALESCE(${high}, 'infinity') <= ${hi})`;
  switch (prefix) {
    case 'ne':
      return `NOT ${within}`;
    case 'gt':
    case 'sa':
      return `COALESCE(${high}, 'infinity') ${exact ? '>' : '>='} ${hi}`;
    case 'lt':
    case 'eb':
      return `${lowSql} < ${lo}`;
    case 'ge':
      return `COALESCE(${high}, 'infinity') >= ${lo}`;
    case 'le':
      return `${lowSql} ${exact ? '<=' : '<'} ${hi}`;
    default:
      return within;
  }
}

function referenceMatch(t: string, value: string, targets: string[], params: SqlParams): string {
  const match = /(?:^|\/)(?:([A-Z][A-Za-z]+)\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  if (!match) throw new AppError('bad-request', `'${value}' is not a reference`);
  const [, type, id] = match;
  if (type) return `(${t}.target_type = ${params.add(type)} AND ${t}.target_id = ${params.add(id)})`;
  const sql = `${t}.target_id = ${params.add(id)}`;
  return targets.length === 1 ? `(${sql} AND ${t}.target_type = ${params.add(targets[0])})` : sql;
}

function missingSql(type: string, code: string, filter: Filter, owner: Owner): string {
  const table = { token: 'fhir_token', uri: 'fhir_token', string: 'fhir_string', date: 'fhir_date', reference: 'fhir_reference', number: 'fhir_number', quantity: 'fhir_number' }[type];
  if (!table) throw new AppError('bad-request', `:missing is not supported for ${code}`);
  const wantMissing = (filter.operator === Operator.MISSING) === (filter.value === 'true');
  const t = alias('m');
  const sql = `EXISTS (SELECT 1 FROM ${table} ${t} WHERE ${t}.resource_type = ${owner.type} AND ${t}.id = ${owner.id} AND ${t}.code = '${code.replace(/[^a-z0-9_-]/gi, '')}')`;
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
    const inner = filterToSql(target, { ...filter, code: rest }, { type: `${ref}.target_type`, id: `${ref}.target_id` }, params, { ...options, lenient: targets.length > 1 || options.lenient, ignored: [] });
    if (inner) conditions.push(`(${ref}.target_type = ${params.add(target)} AND ${inner})`);
  }
  if (conditions.length === 0) return unknownParameter(resourceType, `${code}.${rest}`, options);
  return `EXISTS (SELECT 1 FROM fhir_reference ${ref} WHERE ${ref}.resource_type = ${owner.type} AND ${ref}.id = ${owner.id} AND ${ref}.code = ${params.add(code)} AND (${conditions.join(' OR ')}))`;
}

/** ORDER BY for _sort: _id, _lastUpdated, or any indexed string/date/token/number parameter. */
export function sortToSql(request: SearchRequest, params: SqlParams, options: SearchSqlOptions): string {
  const parts: string[] = [];
  for (const rule of request.sortRules ?? []) {
    const direction = rule.descending ? 'DESC' : 'ASC';
    if (rule.code === '_id') parts.push(`r.id ${direction}`);
    else if (rule.code === '_lastUpdated') parts.push(`r.last_updated ${direction}`);
    else {
      const definition = getSearchParameters(request.resourceType)?.[rule.code];
      const table = definition && ({ string: ['fhir_string', 'value'], date: ['fhir_date', 'low'], token: ['fhir_token', 'value'], number: ['fhir_number', 'value'] } as Record<string, [string, string]>)[definition.type];
      if (!table) {
        unknownParameter(request.resourceType, `_sort=${rule.code}`, options);
        continue;
      }
      const t = alias('s');
      const agg = rule.descending ? 'max' : 'min';
      parts.push(`(SELECT ${agg}(${t}.${table[1]}) FROM ${table[0]} ${t} WHERE ${t}.resource_type = r.resource_type AND ${t}.id = r.id AND ${t}.code = ${params.add(rule.code)}) ${direction} NULLS LAST`);
    }
  }
  parts.push('r.id ASC');
  return parts.join(', ');
}
