/**
 * Whom a task is assigned to, as a person gives it: a person by email (a known user) or a role in an
 * organisation (its code, known to the registry, and a job role). Resolved to the Task's `owner` and the tag
 * naming the person's organisation.
 */
import type { Coding, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { forPeople } from '../../shared/schemas.ts';
import { invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { findActor, ROLES } from '../access/index.ts';
import { organisationNameSql } from '../audit/index.ts';
import { OWNER_ORGANISATION_TAG, ownerReference } from './task-shape.ts';

export const assigneeInput = z
  .object({
    email: z
      .email(forPeople('Enter the email address of the person the task is for'))
      .transform((e) => e.toLowerCase())
      .optional(),
    org: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z0-9-]{3,20}$/, forPeople('Enter the code of the organisation (its ODS code): 3 to 20 letters, digits or dashes'))
      .optional(),
    role: z.enum(ROLES, forPeople('Select the role the task is for')).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.email && (a.org || a.role)) ctx.addIssue({ code: 'custom', path: ['email'], message: forPeople('Assign the task to a person or to a role in an organisation, not both') });
    else if (!a.email && !a.org) ctx.addIssue({ code: 'custom', path: ['email'], message: forPeople('Enter the email address of the person, or the organisation and role, the task is for') });
    else if (a.org && !a.role) ctx.addIssue({ code: 'custom', path: ['role'], message: forPeople('Select the role the task is for') });
  });
export type AssigneeInput = z.output<typeof assigneeInput>;

export interface ResolvedAssignee {
  owner: NonNullable<Task['owner']>;
  /** The person's organisation, as a tag (none for a role, whose organisation is the owner). */
  tag: Coding | null;
  /** Who, in words, for messages. */
  display: string;
}

/** The owner for an assignee, or 422 naming `assignee.email` / `assignee.org` when nobody is known by it. */
export async function resolveAssignee(db: Db, assignee: AssigneeInput): Promise<ResolvedAssignee> {
  if (assignee.email) {
    const person = await findActor(db, assignee.email);
    if (!person) throw invalid('assignee.email', `no one signs in to PCN Hub with the email ${assignee.email}`);
    const owner = ownerReference({ email: person.email, name: person.name });
    return { owner, tag: person.orgCode ? { system: OWNER_ORGANISATION_TAG, code: person.orgCode } : null, display: owner.display! };
  }
  const org = assignee.org!;
  const [row] = await db.query<{ name: string | null }>(`SELECT ${organisationNameSql('$1::text')} AS name`, [org]);
  if (!row?.name) throw invalid('assignee.org', `no PCN, practice or partner organisation has the code ${org}`);
  const owner = ownerReference({ org, role: assignee.role!, orgName: row.name });
  return { owner, tag: null, display: owner.display! };
}
