/**
 * Entries are signed with names: a reference in a new entry that names the author's own organisation (as
 * its author, recorder, requester, performer…) is given the display "Name, role, Organisation name", so
 * every reader of the timeline — on the web, over /fhir, in an export — sees who wrote it, as written.
 */
import type { Reference, Resource } from '@medplum/fhirtypes';
import { type Actor, signatureOf } from '../access/index.ts';

/** Elements that name who wrote an entry (one Reference or a list). `performer` of a referral is its recipient, not its author. */
const AUTHOR_ELEMENTS = ['author', 'recorder', 'asserter', 'requester', 'informationSource', 'sender', 'performer'] as const;
const RECIPIENT_PERFORMER = new Set(['ServiceRequest', 'Task', 'CareTeam']);

type Named = Reference & { actor?: Reference };

/** Signs the actor's own organisation's references in a resource they create; anything else is left as given. */
export function entrySigner(actor: Actor): (<T extends Resource>(resource: T) => T) | undefined {
  const org = actor.orgCode?.toUpperCase();
  if (!org) return undefined;
  const signature = signatureOf(actor);
  const ours = (reference: Reference | undefined) => reference?.identifier?.value?.trim().toUpperCase() === org;
  const sign = (value: Named): Named => {
    if (ours(value)) return { ...value, display: signature };
    if (value.actor && ours(value.actor)) return { ...value, actor: { ...value.actor, display: signature } };
    return value;
  };
  return <T extends Resource>(resource: T): T => {
    const entry = resource as T & Record<string, unknown>;
    let signed: (T & Record<string, unknown>) | undefined;
    for (const element of AUTHOR_ELEMENTS) {
      if (element === 'performer' && RECIPIENT_PERFORMER.has(resource.resourceType)) continue;
      const value = entry[element];
      if (!value || typeof value !== 'object') continue;
      const next = Array.isArray(value) ? value.map((v: Named) => (v && typeof v === 'object' ? sign(v) : v)) : sign(value as Named);
      if (JSON.stringify(next) === JSON.stringify(value)) continue;
      signed ??= { ...entry };
      signed[element] = next;
    }
    return signed ?? resource;
  };
}
