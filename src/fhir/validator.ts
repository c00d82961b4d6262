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
 *
 * The parts live in validation/: schema.ts (the compiled types), invariants.ts, primitives.ts,
 * bindings.ts (required ValueSets) and validate.ts (the walk); this file is their public face.
 */
export { holdsWhenAbsent } from './validation/invariants.ts';
export { MAX_DEPTH, validateR4, type ValidationOptions } from './validation/validate.ts';
