/**
 * Search values of a resource, extracted with the R4 SearchParameter definitions' FHIRPath
 * expressions (nothing is hand-listed per resource type). Each parameter's type decides the table.
 */
import { evalFhirPathTyped, getSearchParameterDetails, getSearchParameters, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';

export interface IndexRows {
  tokens: Array<[code: string, system: string | null, value: string | null]>;
  strings: Array<[code: string, value: string, exact: string]>;
  dates: Array<[code: string, low: string | null, high: string | null]>;
  references: Array<[code: string, targetType: string, targetId: string]>;
  numbers: Array<[code: string, value: number, system: string | null, unit: string | null]>;
}

/** Parameters answered from fhir_resource's own columns, or not indexed. */
const SKIPPED = new Set(['_id', '_lastUpdated', '_profile', '_security', '_source', '_tag', '_compartment', '_text', '_content', '_query', '_filter', '_list', '_has', '_type']);

interface IndexedParam {
  code: string;
  type: SearchParameter['type'];
  atom: ReturnType<typeof getSearchParameterDetails>['parsedExpression'];
}

const paramsByType = new Map<string, IndexedParam[]>();

export function indexedParams(resourceType: string): IndexedParam[] {
  let params = paramsByType.get(resourceType);
  if (params) return params;
  params = [];
  for (const [code, param] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (SKIPPED.has(code) || !param.expression || param.type === 'composite' || param.type === 'special') continue;
    params.push({ code, type: param.type, atom: getSearchParameterDetails(resourceType, param).parsedExpression });
  }
  paramsByType.set(resourceType, params);
  return params;
}

/** Lower case with accents removed, so "Zoë" is found by "zoe". */
export const normaliseString = (value: string) => value.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();

export function extractIndex(resource: Resource): IndexRows {
  const rows: IndexRows = { tokens: [], strings: [], dates: [], references: [], numbers: [] };
  const input = [toTypedValue(resource)];
  for (const param of indexedParams(resource.resourceType)) {
    let values: TypedValue[];
    try {
      values = evalFhirPathTyped(param.atom, input);
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
      for (const [system, code] of tokensOf(type, value)) rows.tokens.push([param.code, system, code]);
      if (type === 'Identifier' || type === 'Reference') return;
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
      if (type === 'Reference' || type === 'reference') addReference(rows, param.code, value as { reference?: string; identifier?: { system?: string; value?: string } });
      else if (typeof value === 'string') addReference(rows, param.code, { reference: value });
      return;
    case 'uri':
      if (typeof value === 'string') rows.tokens.push([param.code, null, value]);
      return;
    case 'number':
      if (typeof value === 'number') rows.numbers.push([param.code, value, null, null]);
      return;
    case 'quantity': {
      const q = value as { value?: number; system?: string; code?: string; unit?: string };
      if (typeof q.value === 'number') rows.numbers.push([param.code, q.value, q.system ?? null, q.code ?? q.unit ?? null]);
      return;
    }
  }
}

function tokensOf(type: string, value: unknown): Array<[string | null, string | null]> {
  switch (type) {
    case 'Identifier': {
      const id = value as { system?: string; value?: string };
      return [[id.system ?? null, id.value ?? null]];
    }
    case 'CodeableConcept': {
      const concept = value as { coding?: Array<{ system?: string; code?: string }>; text?: string };
      return (concept.coding ?? []).map((c) => [c.system ?? null, c.code ?? null]);
    }
    case 'Coding': {
      const coding = value as { system?: string; code?: string };
      return [[coding.system ?? null, coding.code ?? null]];
    }
    case 'ContactPoint': {
      const point = value as { system?: string; value?: string };
      return [[point.system ?? null, point.value ?? null]];
    }
    case 'Reference': {
      const ref = value as { identifier?: { system?: string; value?: string } };
      return ref.identifier ? [[ref.identifier.system ?? null, ref.identifier.value ?? null]] : [];
    }
    default:
      return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? [[null, String(value)]] : [];
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
  if (typeof value !== 'string') return undefined;
  return dateBounds(value);
}

/** The first and last instant a FHIR date of any precision (2020, 2020-05, 2020-05-01, full instant) covers. */
export function dateBounds(value: string): [string, string] {
  if (/^\d{4}$/.test(value)) return [`${value}-01-01T00:00:00Z`, `${Number(value) + 1}-01-01T00:00:00Z`];
  if (/^\d{4}-\d{2}$/.test(value)) {
    const [y, m] = value.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    return [`${value}-01T00:00:00Z`, `${next}-01T00:00:00Z`];
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const next = new Date(`${value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    return [`${value}T00:00:00Z`, next.toISOString()];
  }
  return [value, value];
}

function addReference(rows: IndexRows, code: string, ref: { reference?: string; identifier?: { system?: string; value?: string } }): void {
  const match = ref.reference ? /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref.reference) : null;
  if (match) rows.references.push([code, match[1]!, match[2]!]);
  // A logical reference by identifier (e.g. a GP practice by ODS code) is searchable as `code:identifier`.
  if (ref.identifier?.value) rows.tokens.push([`${code}:identifier`, ref.identifier.system ?? null, ref.identifier.value]);
}
