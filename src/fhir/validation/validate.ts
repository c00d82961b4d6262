/**
 * The walk over one resource, and validateR4, its entry point. One ValidationRun per resource walks
 * the plain JSON against the compiled types (schema.ts): no TypedValue wrappers and no path strings on
 * the happy path (the path is a stack of segments, joined only for an issue). A value's invariants run
 * only once its structure is sound, and a resource's once all within it is.
 */
import { UCUM } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../definitions.ts';
import type { CodeSet } from './bindings.ts';
import { invariantFails, type InvariantCheck } from './invariants.ts';
import { describeJson, primitiveProblem, quote, type IssueType } from './primitives.ts';
import { compiledType, resourceType, type CompiledType, type ElementRule, type PropertyRule } from './schema.ts';

/** Deeper than any real resource (QuestionnaireResponse items nest a few levels); stops hostile JSON before the stack does. */
export const MAX_DEPTH = 100;

type JsonObject = Record<string, unknown>;

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
