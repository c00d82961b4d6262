/**
 * The compiled rules of each FHIR type: its elements and the JSON keys that carry them, compiled once
 * from the R4 StructureDefinitions (as parsed by @medplum/core) into plain maps the walk reads. A type is
 * compiled on first use and kept for the process. Each property carries what checking its value needs
 * (primitive format, required codes, invariants, reference targets), so the walk reads it off the rule.
 * Which invariants a property checks, and the JSON keys that let the walk skip them, are worked out
 * here rather than in invariants.ts: they need the compiled elements, and invariants.ts needs nothing of ours.
 */
import { getDataType, tryGetDataType } from '@medplum/core';
import type { ElementType, InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { requiredCodes, type CodeSet } from './bindings.ts';
import { invariantsOf, type Invariant, type InvariantCheck } from './invariants.ts';
import { PRIMITIVES, type PrimitiveRule } from './primitives.ts';

/** Abstract in R4: a resource is always one of their concrete kinds. */
const ABSTRACT_RESOURCES = new Set(['Resource', 'DomainResource']);

const HL7_PROFILE = 'http://hl7.org/fhir/StructureDefinition/';

/** One element of a type as the StructureDefinition has it, e.g. Observation.value[x]. */
export interface ElementRule {
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
export interface PropertyRule {
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

export interface CompiledType {
  readonly name: string;
  readonly path: string;
  readonly isResource: boolean;
  readonly properties: ReadonlyMap<string, PropertyRule>;
  readonly required: readonly ElementRule[];
  /** A resource's own invariants (dom-2, obs-6 …); a data type's travel with the properties of that type. */
  readonly invariants: readonly InvariantCheck[];
}

const compiledTypes = new Map<string, CompiledType>();

export function compiledType(name: string): CompiledType {
  let compiled = compiledTypes.get(name);
  if (!compiled) {
    compiled = compileType(getDataType(name));
    compiledTypes.set(name, compiled);
  }
  return compiled;
}

/** The compiled rules of a concrete resource type, or undefined when R4 has no such resource. */
export function resourceType(name: string): CompiledType | undefined {
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

const upperFirst = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
