/**
 * A search's query parameters as a SearchRequest, without losing what @medplum/core's parseSearchRequest
 * drops: an unknown modifier (it reads `code:foo` as `code`), a reference's target type (`subject:Patient`),
 * a modifier on a date, number or quantity (ignored), and comma-separated dates (refused). Each filter
 * keeps its modifier as written, as its operator, and each value its prefixes; search-sql.ts answers or
 * refuses them. The result parameters (_sort, _count, _include…) are read by medplum's parser.
 */
import { Operator, parseSearchRequest, type Filter, type SearchRequest } from '@medplum/core';
import { assertStorable, invalidValue, notSupported, SEARCH_LIMITS, tooCostly } from './search-sql.ts';

type Query = Record<string, string | string[] | undefined> | URLSearchParams;

const RESULT_PARAMETERS = new Set(['_sort', '_count', '_offset', '_cursor', '_total', '_summary', '_include', '_revinclude', '_elements', '_fields', '_format', '_pretty', '_']);

const ALLOWED_VALUES: Record<string, RegExp> = {
  _count: /^\d{1,9}$/,
  _offset: /^\d{1,9}$/,
  _total: /^(none|estimate|accurate)$/,
  _summary: /^(true|false|text|data|count)$/,
};

export function parseSearch(resourceType: string, query: Query): SearchRequest {
  const entries: Array<[string, string]> =
    query instanceof URLSearchParams ? [...query] : Object.entries(query).flatMap(([key, value]) => (Array.isArray(value) ? value : [value ?? '']).map((v) => [key, v] as [string, string]));
  if (entries.length > SEARCH_LIMITS.parameters)
    throw tooCostly(entries[SEARCH_LIMITS.parameters]![0], `a search may have at most ${SEARCH_LIMITS.parameters} parameters; this one has ${entries.length}`);
  const repeats = new Map<string, number>();
  const resultParameters: Record<string, string[]> = {};
  const filters: Filter[] = [];
  for (const [key, value] of entries) {
    assertStorable(key, key);
    assertStorable(key, value);
    const times = (repeats.get(key) ?? 0) + 1;
    repeats.set(key, times);
    if (times > SEARCH_LIMITS.repeats) throw tooCostly(key, `a parameter may be repeated at most ${SEARCH_LIMITS.repeats} times; ${key} is repeated more`);
    const [code, modifier] = key.split(':', 2) as [string, string | undefined];
    if (RESULT_PARAMETERS.has(code)) {
      if (modifier !== undefined && !(modifier === 'iterate' && (code === '_include' || code === '_revinclude'))) throw notSupported(key, `${key} is not supported`);
      if (ALLOWED_VALUES[code] && !ALLOWED_VALUES[code].test(value)) throw invalidValue(code, `${code}=${value} is not a value ${code} takes`);
      (resultParameters[key] ??= []).push(value);
      continue;
    }
    filters.push(filterOf(key, value));
  }
  const request = parseSearchRequest(resourceType, resultParameters);
  return filters.length > 0 ? { ...request, filters } : request;
}

/** R4's search modifiers; whether one is answered for a parameter's type is search-sql's ANSWERED. */
const MODIFIERS = new Set(['missing', 'exact', 'contains', 'text', 'not', 'above', 'below', 'in', 'not-in', 'of-type', 'identifier']);

/** `code:modifier=value` as a filter whose operator is the modifier as written (a reference's `:Type` stays in the code). */
function filterOf(key: string, value: string): Filter {
  const colon = key.indexOf(':');
  if (colon === -1 || key.includes('.') || key.startsWith('_has:')) return { code: key, operator: Operator.EQUALS, value };
  const modifier = key.slice(colon + 1);
  if (/^[A-Z]/.test(modifier)) return { code: key, operator: Operator.EQUALS, value };
  // A prefix written as a modifier (`birthdate:gt=…`) is no modifier: left as an operator it would read as the prefix.
  if (!MODIFIERS.has(modifier)) throw notSupported(key, `:${modifier} is not a search modifier this server knows`);
  return { code: key.slice(0, colon), operator: modifier as Operator, value };
}
