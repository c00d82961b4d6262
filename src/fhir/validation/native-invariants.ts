/**
 * Plain-JS answers for the R4 invariants that clinical records meet on nearly every resource (ref-1 on
 * every Reference, qty-3 on every Quantity, con-4/con-5 on every Condition…). FHIRPath costs ~1–3 µs per
 * evaluation in medplum's interpreter, and bulk import evaluates a dozen per resource.
 *
 * Each answer is only given where it is plainly decided: `true` holds, `false` fails, `undefined` means
 * "ask FHIRPath" (a primitive carried only by its `_x` extension, a value of an unexpected JSON type, a
 * date comparison). Each is keyed by its exact expression, so a changed definition falls back to FHIRPath,
 * and a test checks every answer against medplum's evaluation on every object of the synthetic population.
 */
import type { TypedValue } from '@medplum/core';

type Json = Record<string, unknown>;
export type NativeCheck = (value: Json, variables: Record<string, TypedValue>) => boolean | undefined;

/** FHIRPath's `x.exists()` on a JSON key; undefined when an `_x` extension could make it true. */
function exists(value: Json, key: string): boolean | undefined {
  if (value[`_${key}`] !== undefined) return undefined;
  const v = value[key];
  if (v === undefined) return false;
  if (v === null || v === '') return undefined;
  // FHIRPath (medplum's) does not count an empty object as a value: leave those shapes to it.
  if (Array.isArray(v)) return v.length === 0 ? false : v.every(plainlyPresent) ? true : undefined;
  return plainlyPresent(v) ? true : undefined;
}

const plainlyPresent = (v: unknown) =>
  typeof v === 'object' ? v !== null && !Array.isArray(v) && Object.values(v).some((x) => x !== undefined && !(Array.isArray(x) && x.length === 0)) : v !== '' && v !== undefined;

/** Whether any `prefixX` choice key (valueQuantity, abatementDateTime…) is present; undefined if only as `_prefixX`. */
function choicePresent(value: Json, prefix: string): boolean | undefined {
  let found = false;
  for (const key of Object.keys(value)) {
    if (key.startsWith(`_${prefix}`)) return undefined;
    if (key.length > prefix.length && key.startsWith(prefix) && key.charCodeAt(prefix.length) < 91 && key.charCodeAt(prefix.length) > 64) {
      if (value[key] === null || (Array.isArray(value[key]) && (value[key] as unknown[]).length === 0)) return undefined;
      found = true;
    }
  }
  return found;
}

const isPlain = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `concept.coding.where(system = S and code in CODES).exists()`, or undefined for unusual shapes. */
function hasCoding(concept: unknown, system: string, codes: readonly string[]): boolean | undefined {
  if (!isPlain(concept) || concept._coding !== undefined) return undefined;
  const coding = concept.coding;
  if (coding === undefined) return false;
  if (!Array.isArray(coding)) return undefined;
  let found = false;
  for (const c of coding) {
    if (!isPlain(c) || c._system !== undefined || c._code !== undefined) return undefined;
    if ((c.system !== undefined && typeof c.system !== 'string') || (c.code !== undefined && typeof c.code !== 'string')) return undefined;
    if (c.system === system && codes.includes(c.code as string)) found = true;
  }
  return found;
}

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

const SAME_SHAPE_DATES = [/^\d{4}-\d{2}-\d{2}$/, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/];

/** con-5 and ait-2: `verificationStatus.coding.where(system = S and code = 'entered-in-error').empty() or clinicalStatus.empty()`. */
const notErroredWithStatus =
  (verificationSystem: string): NativeCheck =>
  (value) => {
    if (value._verificationStatus !== undefined || value._clinicalStatus !== undefined) return undefined;
    if (value.verificationStatus === undefined || value.clinicalStatus === undefined) return true;
    return not(hasCoding(value.verificationStatus, verificationSystem, ['entered-in-error']));
  };

const or = (left: boolean | undefined, right: () => boolean | undefined) => (left === true ? true : left === undefined ? undefined : right());
const not = (value: boolean | undefined) => (value === undefined ? undefined : !value);

const CHECKS: Array<[key: string, expression: string, check: NativeCheck]> = [
  [
    'ref-1',
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
    (value, variables) => {
      const reference = value.reference;
      if (value._reference !== undefined) return undefined;
      if (reference === undefined) return true; // empty or empty: unknown, which holds
      if (typeof reference !== 'string') return undefined;
      if (!reference.startsWith('#')) return true;
      if (reference === '#') return undefined;
      const root = variables['%rootResource']?.value;
      if (!isPlain(root)) return undefined;
      const contained = root.contained;
      if (contained === undefined) return false;
      if (!Array.isArray(contained)) return undefined;
      const id = reference.slice(1);
      for (const resource of contained) {
        if (!isPlain(resource) || (resource.id !== undefined && typeof resource.id !== 'string')) return undefined;
        if (resource.id === id) return true;
      }
      return false;
    },
  ],
  ['qty-3', 'code.empty() or system.exists()', (value) => or(not(exists(value, 'code')), () => exists(value, 'system'))],
  ['cpt-2', 'value.empty() or system.exists()', (value) => or(not(exists(value, 'value')), () => exists(value, 'system'))],
  [
    'qrs-1',
    '(answer.exists() and item.exists()).not()',
    (value) => {
      const answer = exists(value, 'answer');
      const item = exists(value, 'item');
      return answer === undefined || item === undefined ? undefined : !(answer && item);
    },
  ],
  [
    'ext-1',
    'extension.exists() != value.exists()',
    (value) => {
      const extension = exists(value, 'extension');
      const present = choicePresent(value, 'value');
      return extension === undefined || present === undefined ? undefined : extension !== present;
    },
  ],
  ['obs-6', 'dataAbsentReason.empty() or value.empty()', (value) => (exists(value, 'dataAbsentReason') === false ? true : undefined)],
  [
    'obs-7',
    'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    (value) => (choicePresent(value, 'value') === false || exists(value, 'component') === false ? true : undefined),
  ],
  [
    'per-1',
    'start.hasValue().not() or end.hasValue().not() or (start <= end)',
    ({ start, end, _start, _end }) => {
      if (_start !== undefined || _end !== undefined) return undefined;
      if (start === undefined || end === undefined) return true;
      // Two dates, or two UTC instants written alike, compare as text; other pairs are FHIRPath's to decide.
      if (typeof start !== 'string' || typeof end !== 'string' || start.length !== end.length) return undefined;
      return SAME_SHAPE_DATES.some((shape) => shape.test(start) && shape.test(end)) ? start <= end : undefined;
    },
  ],
  [
    'con-4',
    "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    (value) => {
      const abatement = choicePresent(value, 'abatement');
      if (abatement !== true) return abatement === false ? true : undefined;
      if (value._clinicalStatus !== undefined) return undefined;
      return value.clinicalStatus === undefined ? false : hasCoding(value.clinicalStatus, CONDITION_CLINICAL, ['resolved', 'remission', 'inactive']);
    },
  ],
  [
    'con-5',
    "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    notErroredWithStatus(CONDITION_VERIFICATION),
  ],
  [
    'ait-1',
    "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').exists() or clinicalStatus.exists()",
    (value) => {
      if (value._verificationStatus !== undefined || value._clinicalStatus !== undefined) return undefined;
      if (value.clinicalStatus !== undefined) return true;
      return value.verificationStatus === undefined ? false : hasCoding(value.verificationStatus, ALLERGY_VERIFICATION, ['entered-in-error']);
    },
  ],
  [
    'ait-2',
    "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').empty() or clinicalStatus.empty()",
    notErroredWithStatus(ALLERGY_VERIFICATION),
  ],
];

const NATIVE = new Map(CHECKS.map(([key, expression, check]) => [`${key}\n${expression}`, check]));

/** The plain-JS check for this invariant, if its key and expression are one of those above. */
export const nativeCheck = (key: string, expression: string): NativeCheck | undefined => NATIVE.get(`${key}\n${expression}`);

/** Keys with a plain-JS check, for the test that holds each to FHIRPath. */
export const NATIVE_KEYS = CHECKS.map(([key, expression]) => ({ key, expression }));
