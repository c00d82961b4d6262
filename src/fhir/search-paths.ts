/**
 * Compiles the FHIRPath expression of an R4 SearchParameter, for one resource type, into a plain JS
 * walk over the resource that returns exactly what medplum's `evalFhirPathTyped` returns (same values,
 * same type names, same order). Indexing evaluates ~20–30 expressions per resource, and medplum's
 * interpreter spends most of its time on generic machinery (a context per atom, schema lookups by
 * name, `capitalize` per choice type, a new collection per step) that a compiled walk does once.
 *
 * It compiles medplum's own parse tree (`getSearchParameterDetails(...).parsedExpression`) rather than
 * the expression string: that tree is what the fallback evaluates, already narrowed to the resource
 * type's branches of a shared expression (`Patient.name | Practitioner.name`), so a second parser
 * cannot disagree with it about precedence or parentheses.
 *
 * Supported: member navigation (arrays flattened, choice types `value` → `valueX` typed X, primitive
 * `_x` extensions), `|`, `x as T`, `ofType(T)`, `as(T)`, `where(resolve() is T)` and
 * `where(path = 'literal')`. Anything else compiles to `undefined`, and the caller falls back to FHIRPath.
 * Where medplum departs from the FHIRPath spec this mirrors medplum, because the two must agree; those
 * places say so.
 */
import {
  AsAtom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  IsAtom,
  LiteralAtom,
  SymbolAtom,
  UnionAtom,
  capitalize,
  getElementDefinition,
  isResource,
  removeDuplicates,
  toTypedValue,
  tryGetDataType,
  type Atom,
  type InternalSchemaElement,
  type TypedValue,
} from '@medplum/core';
import type { Reference, Resource } from '@medplum/fhirtypes';

export type SearchPathExtractor = (resource: Resource) => TypedValue[];

/**
 * Compiled code is push-style: each atom becomes an `Emit` that takes one value and passes each of
 * its results to the next atom's `Emit`, so a path allocates no collection per step. Navigation,
 * `where` and `ofType` act on each value alone, so this gives FHIRPath's collection semantics.
 */
type Emit = (value: TypedValue, out: TypedValue[]) => void;

/** An atom compiled as far as its types: every type name its values can have, and how to build its Emit. */
interface Compiled {
  types: ReadonlySet<string>;
  build: (next: Emit) => Emit;
}

/** Stands for "any resource type": the type of an element typed `Resource` is only known at run time. */
const ANY_RESOURCE = '*';

const NOTHING: Compiled = { types: new Set(), build: () => () => undefined };

/** Type names medplum's `is` tests by value shape rather than by type name (see `fhirPathIs`). */
const SHAPE_TESTED_TYPES = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'Period', 'Quantity']);

const collect: Emit = (value, out) => void out.push(value);

/**
 * The extractor for `expression` on resources of `resourceType`, or undefined when the expression
 * uses something this compiler does not support.
 */
export function compileSearchPath(resourceType: string, expression: Atom): SearchPathExtractor | undefined {
  const root = expression instanceof FhirPathAtom ? expression.child : expression;
  const compiled = compileAtom(root, new Set([resourceType]), true);
  if (!compiled) return undefined;
  const emit = compiled.build(collect);
  return (resource) => {
    const out: TypedValue[] = [];
    emit({ type: resource.resourceType, value: resource }, out);
    return unwrapAll(out);
  };
}

/**
 * `singleInput` says whether the atom is evaluated on one value at a time (the resource, or the item a
 * `where` tests), which `|` needs: it removes duplicates across its whole input collection.
 */
function compileAtom(atom: Atom, inputTypes: ReadonlySet<string>, singleInput: boolean): Compiled | undefined {
  if (atom instanceof SymbolAtom) return compileMember(atom.name, inputTypes);
  if (atom instanceof DotAtom) return compileDot(atom, inputTypes, singleInput);
  if (atom instanceof UnionAtom) return singleInput ? compileUnion(atom, inputTypes) : undefined;
  if (atom instanceof AsAtom) {
    const left = compileAtom(atom.left, inputTypes, singleInput);
    return left && atom.right instanceof SymbolAtom ? ofType(left, atom.right.name) : undefined;
  }
  if (atom instanceof FunctionAtom) return compileFunction(atom, inputTypes);
  return undefined;
}

function compileDot(atom: DotAtom, inputTypes: ReadonlySet<string>, singleInput: boolean): Compiled | undefined {
  const left = compileAtom(atom.left, inputTypes, singleInput);
  const right = left && compileAtom(atom.right, left.types, false);
  if (!left || !right) return undefined;
  return { types: right.types, build: (next) => left.build(right.build(next)) };
}

function compileUnion(atom: UnionAtom, inputTypes: ReadonlySet<string>): Compiled | undefined {
  const left = compileAtom(atom.left, inputTypes, true);
  const right = compileAtom(atom.right, inputTypes, true);
  if (!left || !right) return undefined;
  const build = (next: Emit): Emit => {
    const emitLeft = left.build(collect);
    const emitRight = right.build(collect);
    return (value, out) => {
      const values: TypedValue[] = [];
      emitLeft(value, values);
      emitRight(value, values);
      // `|` removes duplicates (FHIRPath equality) even within one side, e.g. two components with one code.
      for (const result of values.length > 1 ? removeDuplicates(values) : values) next(result, out);
    };
  };
  return { types: new Set([...left.types, ...right.types]), build };
}

function compileFunction(atom: FunctionAtom, inputTypes: ReadonlySet<string>): Compiled | undefined {
  const [arg, ...rest] = atom.args;
  if (!arg || rest.length > 0) return undefined;
  switch (atom.name) {
    case 'ofType':
      return arg instanceof SymbolAtom ? ofType(identity(inputTypes), arg.name) : undefined;
    case 'as':
      // medplum's as() function returns its input unfiltered (only the `as` operator filters), so
      // `Condition.onset.as(Age)` yields an onsetDateTime too. Mirrored, since results must agree.
      return identity(inputTypes);
    case 'where': {
      const keep = compileCriteria(arg, inputTypes);
      return keep && { types: inputTypes, build: (next) => (value, out) => void (keep(value) && next(value, out)) };
    }
    default:
      return undefined;
  }
}

function identity(types: ReadonlySet<string>): Compiled {
  return { types, build: (next) => next };
}

/** `x as T` and `x.ofType(T)`: keeps the values whose type name is T (medplum compares names only). */
function ofType(compiled: Compiled, typeName: string): Compiled {
  if (!compiled.types.has(typeName) && !compiled.types.has(ANY_RESOURCE)) return NOTHING;
  return {
    types: new Set([typeName]),
    build: (next) => compiled.build((value, out) => void (value.type === typeName && next(value, out))),
  };
}

/** The criteria of `where(...)`, as a test of one value. */
function compileCriteria(atom: Atom, inputTypes: ReadonlySet<string>): ((value: TypedValue) => boolean) | undefined {
  if (atom instanceof IsAtom) {
    const { left, right } = atom;
    const isResolve = left instanceof FunctionAtom && left.name === 'resolve' && left.args.length === 0;
    if (!isResolve || !(right instanceof SymbolAtom) || SHAPE_TESTED_TYPES.has(right.name)) return undefined;
    const typeName = right.name;
    return (value) => resolvesTo(value.value, typeName);
  }
  if (atom instanceof EqualsAtom) {
    const { left, right } = atom;
    if (!(right instanceof LiteralAtom) || typeof right.value.value !== 'string') return undefined;
    const emit = compileAtom(left, inputTypes, true)?.build(collect);
    const literal = right.value.value;
    // FHIRPath `=` on collections: empty is not true, and only a single equal item is.
    return (
      emit &&
      ((value) => {
        const found: TypedValue[] = [];
        emit(value, found);
        return found.length === 1 && unwrap(found[0]?.value) === literal;
      })
    );
  }
  return undefined;
}

/**
 * Whether medplum's `resolve() is T` holds for a value. medplum does not look anything up: it reads
 * the type from the reference string's first segment, so `Patient/1` is a Patient, while
 * `http://x/fhir/Patient/1` (first segment `http:`), `urn:uuid:…` and `#contained` are nothing.
 * A reference with only `type` and `identifier` is of its `type`; an inline `resource` is of its own.
 */
function resolvesTo(value: unknown, typeName: string): boolean {
  let reference: string | undefined;
  if (typeof value === 'string') {
    reference = value;
  } else if (typeof value === 'object') {
    // medplum reads `.resource` of a null item and throws; the index then skips the parameter. So do we.
    if (value === null) throw new TypeError('Cannot resolve a null reference');
    const ref = value as Reference;
    if (ref.resource) {
      const resolved = toTypedValue(ref.resource);
      return resolved.type === typeName || (resolved.value as Resource).resourceType === typeName;
    }
    if (ref.reference) reference = ref.reference;
    else if (ref.type && ref.identifier) reference = `${ref.type}?identifier=${ref.identifier.system}|${ref.identifier.value}`;
  }
  if (!reference) return false;
  // medplum takes the type from `reference.split('?')[0]` for searches, else from `split('/')[0]`.
  return reference.includes('?') ? reference.startsWith(`${typeName}?`) : reference.startsWith(`${typeName}/`);
}

/** Reads one member of one value (a non-null object) and passes each result on. */
type MemberReader = (object: object, value: TypedValue, out: TypedValue[], next: Emit) => void;

/** A name navigated from each value: the member of that name, looked up per possible input type now. */
function compileMember(name: string, inputTypes: ReadonlySet<string>): Compiled | undefined {
  if (name === '$this') return identity(inputTypes);
  if (name.startsWith('$') || name.startsWith('%')) return undefined;
  const readers = new Map<string, MemberReader>();
  const types = new Set<string>();
  for (const inputType of inputTypes) {
    const reader = memberReader(inputType, name, types);
    if (!reader) return undefined;
    readers.set(inputType, reader);
  }
  const [only, ...others] = readers.values();
  if (!only) return NOTHING;
  const readerFor = (value: TypedValue): MemberReader => {
    const reader = others.length === 0 ? only : readers.get(value.type);
    if (!reader) throw new Error(`search path: no reader for ${value.type}.${name}`);
    return reader;
  };
  const build =
    (next: Emit): Emit =>
    (value, out) => {
      const object = value.value;
      // Primitives have no members; a primitive with `_x` extensions is a String/Number object and does.
      if (object && typeof object === 'object') readerFor(value)(object, value, out, next);
    };
  return { types, build };
}

/**
 * How medplum navigates `name` from a value of `typeName` (SymbolAtom + getTypedPropertyValue), with the
 * schema lookups done now. Adds the possible result types to `resultTypes`; undefined if not compilable.
 */
function memberReader(typeName: string, name: string, resultTypes: Set<string>): MemberReader | undefined {
  const schema = typeName === ANY_RESOURCE ? undefined : tryGetDataType(typeName);
  if (!schema) return undefined;
  // `Patient` evaluated on a Patient is the Patient itself (how every expression starts).
  if (name === typeName && schema.kind === 'resource') {
    resultTypes.add(typeName);
    return (_object, value, out, next) => next(value, out);
  }
  const element = getElementDefinition(typeName, name);
  if (!element) {
    // `RelatedPerson.address` on a Person (medplum keeps any branch that contains "Person."): a type
    // name is never a member of a valid resource, so it finds nothing. Other unknown names fall back.
    return /^[A-Z]/.test(name) ? () => undefined : undefined;
  }
  const candidates = memberCandidates(element);
  for (const { type } of candidates) resultTypes.add(type === 'Resource' ? ANY_RESOURCE : type);
  return (object, _value, out, next) => readMember(object as Record<string, unknown>, candidates, out, next);
}

interface MemberCandidate {
  key: string;
  extensionKey: string;
  type: string;
}

/** The JSON keys an element can appear under, in medplum's order: `value[x]` → valueQuantity, valueString, … */
function memberCandidates(element: InternalSchemaElement): MemberCandidate[] {
  const segment = element.path.slice(element.path.lastIndexOf('.') + 1);
  const firstType = element.type[0]?.code ?? 'undefined';
  return element.type.map(({ code }) => {
    const key = segment.replace('[x]', capitalize(code));
    const type = code === 'Element' || code === 'BackboneElement' ? firstType : code;
    return { key, extensionKey: `_${key}`, type };
  });
}

/** getTypedPropertyValueWithSchema without the lookups: the first candidate key present wins. */
function readMember(object: Record<string, unknown>, candidates: MemberCandidate[], out: TypedValue[], next: Emit): void {
  for (let i = 0; i < candidates.length; i++) {
    const { key, extensionKey, type } = candidates[i]!;
    const member = object[key];
    const extension = object[extensionKey];
    if (member === undefined && extension === undefined) continue;
    emitMember(extension ? withPrimitiveExtension(member, extension) : member, type, out, next);
    return;
  }
}

function emitMember(member: unknown, type: string, out: TypedValue[], next: Emit): void {
  if (isEmpty(member)) return;
  if (!Array.isArray(member)) {
    next({ type: typeOfMember(member, type), value: member }, out);
    return;
  }
  // null items are kept (medplum drops only undefined ones); they come out as `value: undefined`.
  for (let i = 0; i < member.length; i++) {
    const item: unknown = member[i];
    if (item !== undefined) next({ type: typeOfMember(item, type), value: item }, out);
  }
}

const typeOfMember = (member: unknown, type: string): string => (type === 'Resource' && isResource(member) ? member.resourceType : type);

/** medplum's isEmpty, without allocating Object.keys for every object. */
function isEmpty(member: unknown): boolean {
  if (member === null || member === undefined || member === '') return true;
  if (typeof member !== 'object') return false;
  if ('length' in member && (member.length as number) > 0) return false;
  for (const key in member) if (Object.hasOwn(member, key)) return false;
  return true;
}

/**
 * A primitive with its `_x` sibling merged in, as medplum does: `given: ['Jo', null]` with
 * `_given: [null, {extension}]` is `['Jo', {extension}]`, and a value with an extension becomes a String
 * (or Number/Boolean) object carrying it. Rare, so written for fidelity rather than speed.
 */
function withPrimitiveExtension(member: unknown, extension: unknown): unknown {
  if (Array.isArray(member)) {
    const merged: unknown[] = member.slice();
    const extensions = extension as unknown[];
    for (let i = 0; i < Math.max(merged.length, extensions.length); i++) merged[i] = assignExtension(merged[i], extensions[i]);
    return merged;
  }
  if (!member && Array.isArray(extension)) return extension.map((item: unknown) => assignExtension(undefined, item));
  return assignExtension(member, extension);
}

function assignExtension(target: unknown, extension: unknown): unknown {
  if (!extension) return target;
  if (typeof extension !== 'object') throw new Error('Primitive extension must be an object');
  // medplum deletes these two keys (from the resource itself) before Object.assign; we copy instead.
  const source: Record<string, unknown> = { ...extension };
  // biome-ignore lint/suspicious/noProto: removing the key is the point (no prototype pollution through an extension)
  // biome-ignore lint/complexity/useLiteralKeys: the same line written as medplum writes it
  delete source['__proto__'];
  // biome-ignore lint/complexity/useLiteralKeys: as a property, TypeScript types `constructor` as Object's own, which delete refuses
  delete source['constructor'];
  if (typeof target === 'object' && target !== null) return { ...target, ...source };
  return Object.assign(Object(target ?? {}) as object, source);
}

/** evalFhirPathTyped's final `value?.valueOf()`: String objects back to strings, null to undefined. */
function unwrap(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'object' ? value.valueOf() : value;
}

function unwrapAll(values: TypedValue[]): TypedValue[] {
  for (let i = 0; i < values.length; i++) {
    const { type, value } = values[i]!;
    const unwrapped = unwrap(value);
    if (unwrapped !== value) values[i] = { type, value: unwrapped };
  }
  return values;
}
