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

/** The signed-in person a use case acts for. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
  orgCode: string | null;
  /** The PCN the person works in: their org if it is a PCN, else their practice's current PCN. */
  pcnCode: string | null;
}

/** The command line acts as the operator of the machine, with the rights of an admin. */
export const SYSTEM_ACTOR: Actor = {
  id: '00000000-0000-0000-0000-000000000000',
  email: 'system',
  name: 'PCN Hub (command line)',
  role: 'admin',
  orgCode: null,
  pcnCode: null,
};

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
