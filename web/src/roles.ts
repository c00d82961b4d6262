/** Roles in words, from the access policy's own table (src/modules/access/policy.ts): one list for every page. */
import { ROLE_POLICY } from '../../src/modules/access/policy.ts';
import type { Role } from './api.ts';

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export const roleTitle = (role: string): string => capitalised((ROLE_POLICY as Record<string, { title: string }>)[role]?.title ?? role);

export const ROLE_OPTIONS: { value: Role; label: string }[] = (Object.keys(ROLE_POLICY) as Role[]).map((role) => ({ value: role, label: roleTitle(role) }));

/**
 * Where each role lands after signing in and at `/` (issue 13): clinicians on patient search with their
 * caseload; community roles on their patients and inbox; managers on their PCN; analysts and admins on the
 * area; IG leads on the audit review. A Record over every role, so a new role must be given a home.
 */
export type Home = 'patient-search' | 'my-patients' | 'pcn' | 'area' | 'audit';
export const ROLE_HOME: Readonly<Record<Role, Home>> = {
  gp: 'patient-search',
  clinician: 'patient-search',
  nurse: 'patient-search',
  paramedic: 'patient-search',
  'first-contact-practitioner': 'patient-search',
  'clinical-pharmacist': 'my-patients',
  'pharmacy-technician': 'my-patients',
  'social-worker': 'my-patients',
  'mental-health-practitioner': 'my-patients',
  'social-prescribing-link-worker': 'my-patients',
  'care-coordinator': 'my-patients',
  'pcn-manager': 'pcn',
  'practice-manager': 'pcn',
  analyst: 'area',
  'ig-lead': 'audit',
  admin: 'area',
};

/** The role sees patient-level records (the policy's reach), so patient pages are offered to it. */
export const seesPatients = (role: string | undefined): boolean => !!role && role in ROLE_POLICY && ROLE_POLICY[role as Role].reach !== 'none';

/** The path of a person's home: their PCN's page needs their PCN (else the area). */
export function homePath(user: { role: Role; pcnCode: string | null; pcnCodes?: string[] }): string {
  const home = ROLE_HOME[user.role] ?? 'area';
  if (home === 'patient-search') return '/patients';
  if (home === 'my-patients') return '/my-patients';
  if (home === 'audit') return '/audit';
  const pcn = user.pcnCode ?? user.pcnCodes?.[0];
  if (home === 'pcn' && pcn) return `/pcns/${encodeURIComponent(pcn)}`;
  return '/';
}
