/** Roles in words, from the access policy's own table (src/modules/access/policy.ts): one list for every page. */
import { ROLE_POLICY } from '../../src/modules/access/policy.ts';
import type { Role } from './api.ts';

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export const roleTitle = (role: string): string => capitalised((ROLE_POLICY as Record<string, { title: string }>)[role]?.title ?? role);

export const ROLE_OPTIONS: { value: Role; label: string }[] = (Object.keys(ROLE_POLICY) as Role[]).map((role) => ({ value: role, label: roleTitle(role) }));
