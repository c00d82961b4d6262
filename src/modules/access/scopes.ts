/**
 * SMART on FHIR system scopes (App Launch 2.x, Backend Services): `system/<Type|*>.<read|write|*>` (v1) or
 * `system/<Type|*>.<cruds>` (v2, letters in that order). Each names a resource type (or every type) and
 * the interactions it allows: c create, r read, u update, d delete, s search. Query-filtered v2 scopes
 * (`system/Observation.rs?category=…`) are not supported and refused rather than read wider than asked.
 */
import { AppError } from '../../shared/errors.ts';

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';
export interface Scope {
  /** A resource type, or '*' for every type. */
  type: string;
  allows: ReadonlySet<Interaction>;
}

const V1: Record<string, Interaction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = /^system\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)$/;

/** The scope a string names, or undefined when it is not a system scope this server understands. */
export function parseScope(text: string): Scope | undefined {
  const match = SCOPE.exec(text);
  if (!match || match[2] === '') return undefined;
  const [, type, permission] = match as unknown as [string, string, string];
  const allows = V1[permission] ?? ([...permission] as Interaction[]);
  return { type, allows: new Set(allows) };
}

/** Whether `granted` allows everything `wanted` does. */
export function covers(granted: Scope, wanted: Scope): boolean {
  if (granted.type !== '*' && granted.type !== wanted.type) return false;
  return [...wanted.allows].every((i) => granted.allows.has(i));
}

const NAMES: Record<Interaction, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
const V1_NAME: Record<Interaction, string> = { c: 'write', r: 'read', u: 'write', d: 'write', s: 'read' };

/**
 * Refuses with a 403 naming the scope needed when `scopes` do not allow `interaction` on `type`
 * ('*' when the request reaches every type, e.g. $everything or $export).
 */
export function assertScopeAllows(scopes: readonly string[], type: string, interaction: Interaction): void {
  const wanted: Scope = { type, allows: new Set([interaction]) };
  if (
    scopes.some((text) => {
      const scope = parseScope(text);
      return scope !== undefined && covers(scope, wanted);
    })
  )
    return;
  const what = type === '*' ? 'every resource type' : type;
  throw new AppError(
    'forbidden',
    `this client's scopes do not allow it to ${NAMES[interaction]} ${what}: that needs the scope system/${type}.${interaction} (system/${type}.${V1_NAME[interaction]} in SMART v1)`,
  );
}
