/**
 * Primitive types: JSON type, R4 regex, numeric rules. One table of rules (the regexes of the R4
 * datatypes page) and the checks that apply them; plus the small helpers every message uses, so a
 * hostile value is described or quoted the same way wherever it is refused.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

const STRING_LIMIT = 1024 * 1024;

export type IssueType = OperationOutcomeIssue['code'];

export interface PrimitiveRule {
  readonly type: string;
  readonly jsonType: 'string' | 'number' | 'boolean';
  readonly pattern?: RegExp;
  /** How a valid value looks, for the message when the pattern does not match. */
  readonly form?: string;
  readonly integer?: 'any' | 'positive' | 'unsigned';
}

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

/**
 * The regexes of the R4 datatypes page. Strings and markdown also refuse control characters other
 * than tab, CR and LF, and base64 is checked strictly, as medplum does.
 */
const PRIMITIVE_LIST: PrimitiveRule[] = [
  { type: 'boolean', jsonType: 'boolean' },
  { type: 'integer', jsonType: 'number', integer: 'any' },
  { type: 'positiveInt', jsonType: 'number', integer: 'positive' },
  { type: 'unsignedInt', jsonType: 'number', integer: 'unsigned' },
  { type: 'decimal', jsonType: 'number' },
  { type: 'string', jsonType: 'string', pattern: /^[\r\n\t\u0020-\uFFFF]+$/, form: 'text without control characters' },
  { type: 'markdown', jsonType: 'string', pattern: /^[\r\n\t\u0020-\uFFFF]+$/, form: 'text without control characters' },
  { type: 'xhtml', jsonType: 'string' },
  { type: 'id', jsonType: 'string', pattern: /^[A-Za-z0-9\-.]{1,64}$/, form: '1 to 64 letters, digits, "-" or "."' },
  { type: 'code', jsonType: 'string', pattern: /^[^\s]+(\s[^\s]+)*$/, form: 'no leading, trailing or repeated whitespace' },
  { type: 'uri', jsonType: 'string', pattern: /^\S*$/, form: 'no whitespace' },
  { type: 'url', jsonType: 'string', pattern: /^\S*$/, form: 'no whitespace' },
  { type: 'canonical', jsonType: 'string', pattern: /^\S*$/, form: 'no whitespace' },
  { type: 'oid', jsonType: 'string', pattern: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/, form: 'urn:oid:1.2.3' },
  { type: 'uuid', jsonType: 'string', pattern: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, form: 'urn:uuid: and a lower-case UUID' },
  { type: 'base64Binary', jsonType: 'string', pattern: /^([A-Za-z\d+/]{4})*([A-Za-z\d+/]{2}==|[A-Za-z\d+/]{3}=)?$/, form: 'base64' },
  { type: 'date', jsonType: 'string', pattern: new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`), form: 'YYYY, YYYY-MM or YYYY-MM-DD' },
  {
    type: 'dateTime',
    jsonType: 'string',
    pattern: new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${ZONE})?)?)?$`),
    form: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone',
  },
  { type: 'instant', jsonType: 'string', pattern: new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${ZONE}$`), form: 'YYYY-MM-DDThh:mm:ss(.sss) with a time zone' },
  { type: 'time', jsonType: 'string', pattern: new RegExp(`^${TIME}$`), form: 'hh:mm:ss' },
];
export const PRIMITIVES = new Map(PRIMITIVE_LIST.map((rule) => [rule.type, rule]));

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** What is wrong with a primitive value, or undefined when it is fine. */
export function primitiveProblem(rule: PrimitiveRule, value: unknown): [IssueType, string] | undefined {
  if (typeof value !== rule.jsonType) return ['structure', `Expected ${article(rule.jsonType)} (FHIR ${rule.type}), got ${describeJson(value)}`];
  if (rule.jsonType === 'string') return stringProblem(rule, value as string);
  if (rule.jsonType === 'number') return numberProblem(rule, value as number);
  return undefined;
}

function stringProblem(rule: PrimitiveRule, value: string): [IssueType, string] | undefined {
  if (value.length === 0) return ['value', 'Empty string: leave the element out instead'];
  if (value.length > STRING_LIMIT) return ['value', `A string may be at most 1 MB (${STRING_LIMIT} characters); this one has ${value.length}`];
  if (value.trim().length === 0) return ['value', 'String must contain non-whitespace content'];
  if (rule.pattern && !rule.pattern.test(value)) return ['value', `Invalid ${rule.type} format: ${quote(value)} (expected ${rule.form})`];
  return undefined;
}

function numberProblem(rule: PrimitiveRule, value: number): [IssueType, string] | undefined {
  if (!Number.isFinite(value)) return ['value', `Invalid number: ${value}`];
  if (!rule.integer) return undefined;
  if (!Number.isInteger(value)) return ['value', `Expected a whole number (FHIR ${rule.type}), got ${value}`];
  if (value < INT32_MIN || value > INT32_MAX) return ['value', `Out of range: FHIR ${rule.type} is 32-bit, got ${value}`];
  if (rule.integer === 'positive' && value < 1) return ['value', `A positiveInt must be 1 or more, got ${value}`];
  if (rule.integer === 'unsigned' && value < 0) return ['value', `An unsignedInt must be 0 or more, got ${value}`];
  return undefined;
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return article(typeof value);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** A value quoted for a message, cut short so a hostile megabyte is not echoed back. */
export function quote(value: string): string {
  return value.length > 60 ? `'${value.slice(0, 57)}…'` : `'${value}'`;
}
