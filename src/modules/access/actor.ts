import { forbidden } from '../../shared/errors.ts';

/**
 * Job roles (docs/access.md has what each may see). The first four are the roles from before job roles
 * and keep working: `clinician` is read as a GP.
 */
export const ROLES = [
  'admin',
  'pcn-manager',
  'clinician',
  'analyst',
  'gp',
  'nurse',
  'clinical-pharmacist',
  'pharmacy-technician',
  'social-worker',
  'mental-health-practitioner',
  'social-prescribing-link-worker',
  'care-coordinator',
  'first-contact-practitioner',
  'paramedic',
  'practice-manager',
  'ig-lead',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who a use case acts for: a signed-in person, or a registered backend client (other software, SMART
 * Backend Services) acting for its organisation in its role. A client's `email` is `client:<id>`, so the
 * audit's `who` names the client; its `scopes` further limit what it may do on /fhir (scopes.ts).
 */
export interface Actor {
  /** A person (the default when absent) or a backend client. */
  kind?: 'user' | 'client';
  id: string;
  email: string;
  name: string;
  role: Role;
  orgCode: string | null;
  /** The PCN the person works in: their org if it is a PCN, else their practice's current PCN. */
  pcnCode: string | null;
  /**
   * Every PCN the person works for: their PCN as above, or — at a partner organisation (a community
   * pharmacy, a council, a hospice…) — each PCN the partner serves (the registry's pcn_partner links).
   * Absent: just `pcnCode`.
   */
  pcnCodes?: readonly string[];
  /** Their organisation's name from the registry (PCN, practice or partner), so no one is signed as a bare code. */
  orgName?: string | null;
  /** What kind of organisation it is: `pcn`, `gp-practice`, or the partner's type (`social-care`, `community-pharmacy` …). */
  orgKind?: string | null;
  /** A client's id (kind 'client'). */
  clientId?: string;
  /** A client's granted SMART scopes, e.g. `system/Patient.rs` (kind 'client'). */
  scopes?: readonly string[];
}

/** The command line acts as the operator of the machine, with the rights of an admin. */
export const SYSTEM_ACTOR: Actor = {
  id: '00000000-0000-0000-0000-000000000000',
  email: 'system',
  name: 'PCN Hub (command line)',
  role: 'admin',
  orgCode: null,
  pcnCode: null,
  pcnCodes: [],
  orgName: null,
  orgKind: null,
};

/** Every PCN the actor works for (their own, or those their partner organisation serves). */
export const pcnCodesOf = (actor: Actor): readonly string[] => actor.pcnCodes ?? (actor.pcnCode ? [actor.pcnCode] : []);

/** Admins change any PCN; a PCN manager changes only their own. */
export function assertCanEditPcn(actor: Actor, pcnCode: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'pcn-manager' && actor.pcnCode === pcnCode) return;
  if (actor.role === 'pcn-manager') throw forbidden(`you manage ${actor.pcnCode ?? 'no PCN'}, not ${pcnCode}`);
  throw forbidden(`a ${actor.role} cannot change the network`);
}

/** Creating PCNs is for admins and PCN managers (a manager setting up a new network). */
export function assertCanCreatePcn(actor: Actor): void {
  if (actor.role !== 'admin' && actor.role !== 'pcn-manager') throw forbidden(`a ${actor.role} cannot change the network`);
}
