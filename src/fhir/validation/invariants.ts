/**
 * Invariants: medplum's FHIRPath, planned once so most evaluations can be skipped. Each expression is
 * parsed once with medplum's FHIRPath atoms; a plan made from each parse tree skips those that must hold
 * because the value lacks every element they read (dom-2 with no `contained`). Evaluation is medplum's
 * own, except that `or`, `and` and `implies` stop once their left side decides.
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
  UnionAtom,
  XorAtom,
} from '@medplum/core';
import type { Atom, AtomContext, Constraint, FhirPathAtom, TypedValue } from '@medplum/core';
import { nativeCheck, type NativeCheck } from './native-invariants.ts';

/** Medplum's list: ele-1 is checked structurally (no empty objects), dom-3 needs descendants(), org-1 and sdf-19 are back-compat. */
const SKIPPED_INVARIANTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

export interface Invariant {
  readonly key: string;
  readonly description: string;
  readonly expression: string;
  readonly atom: FhirPathAtom;
  /** The elements the expression reads from its context (`start`, `end` for per-1). */
  readonly roots: ReadonlySet<string>;
  /** Whether it is sure to hold when none of those elements is present (dom-2 without `contained`). */
  readonly holdsWhenAbsent: boolean;
  /** A plain-JS answer for the common cases (native-invariants.ts). */
  readonly native: NativeCheck | undefined;
}

/** An invariant as it applies to values of one type. */
export interface InvariantCheck {
  readonly invariant: Invariant;
  /** JSON keys of its roots: when the value has none of them, the invariant holds unevaluated. Undefined: always evaluate. */
  readonly readsKeys: readonly string[] | undefined;
}

const parsedInvariants = new Map<string, Invariant>();

/** The error-level invariants, each expression parsed and planned once for the whole process. */
export function invariantsOf(constraints: Constraint[] | undefined): Invariant[] {
  const invariants: Invariant[] = [];
  for (const constraint of constraints ?? []) {
    if (constraint.severity !== 'error' || SKIPPED_INVARIANTS.has(constraint.key)) continue;
    const cacheKey = `${constraint.key}\n${constraint.expression}`;
    let invariant = parsedInvariants.get(cacheKey);
    if (!invariant) {
      const atom = parseFhirPath(constraint.expression);
      invariant = { key: constraint.key, description: constraint.description, expression: constraint.expression, atom, ...plan(atom), native: nativeCheck(constraint.key, constraint.expression) };
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
const EMPTY_IN_EMPTY_OUT = new Set([
  'where',
  'select',
  'first',
  'last',
  'trace',
  'ofType',
  'distinct',
  'intersect',
  'not',
  'startsWith',
  'endsWith',
  'substring',
  'contains',
  'matches',
  'length',
  'upper',
  'lower',
]);

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
export function invariantFails(invariant: Invariant, value: TypedValue, variables: Record<string, TypedValue>): boolean {
  if (invariant.native && typeof value.value === 'object' && value.value !== null && !Array.isArray(value.value)) {
    const holds = invariant.native(value.value as Record<string, unknown>, variables);
    if (holds !== undefined) return !holds;
  }
  return invariantFailsByFhirPath(invariant, value, variables);
}

/** The invariant evaluated by FHIRPath alone: what the plain-JS answers are tested against. */
export function invariantFailsByFhirPath(invariant: Invariant, value: TypedValue, variables: Record<string, TypedValue>): boolean {
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
