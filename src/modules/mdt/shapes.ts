/**
 * The FHIR shapes the MDT writes on a patient's record (docs/coordination.md): the discussion is a `Procedure`
 * coded as an MDT discussion (in progress while the meeting runs, completed with the minutes when it closes: the
 * record's timeline shows it as "Procedure or review: MDT discussion" with the minutes as its note), and each action a
 * `Task` of kind `mdt-action` owned by a person (email) or a role in an organisation (ODS code).
 */
import { LOCAL_PARTNER_SYSTEM, isOdsShaped } from '../network/index.ts';
import type { Organization, Practitioner, Procedure, Reference, Task } from '@medplum/fhirtypes';

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const USER_EMAIL_SYSTEM = 'https://pcn-hub.example/Id/user-email';
export const TASK_KIND_SYSTEM = 'https://pcn-hub.example/CodeSystem/task-kind';
export const OWNER_ROLE_EXTENSION = 'https://pcn-hub.example/StructureDefinition/owner-role';
/** Names the meeting a discussion or an action came from (value: the meeting's id). */
export const MDT_MEETING_SYSTEM = 'https://pcn-hub.example/Id/mdt-meeting';
export const MDT_CODE_SYSTEM = 'https://pcn-hub.example/CodeSystem/mdt';
/** A resident's care home: valueReference naming the home by its code (ODS system), on the Patient. */
export const CARE_HOME_EXTENSION = 'https://pcn-hub.example/StructureDefinition/care-home-resident';

export type ActionOwner = { email: string; name?: string } | { org: string; role: string; orgName?: string };

export interface MeetingNames {
  id: string;
  title: string;
  startsAt: string;
  chairName: string;
}

export function discussionProcedure(
  meeting: MeetingNames,
  patientId: string,
  author: { orgCode: string | null; orgKind?: string | null },
  status: 'in-progress' | 'completed',
  notes: string[],
): Procedure {
  return {
    resourceType: 'Procedure',
    ...agencyMeta(author.orgKind),
    status,
    identifier: [{ system: MDT_MEETING_SYSTEM, value: meeting.id }],
    code: { coding: [{ system: MDT_CODE_SYSTEM, code: 'mdt-discussion', display: 'Discussed at a multidisciplinary team meeting' }], text: `MDT discussion: ${meeting.title}` },
    subject: { reference: `Patient/${patientId}` },
    performedDateTime: meeting.startsAt,
    ...(author.orgCode ? { performer: [{ actor: { identifier: orgIdentifier(author.orgCode) } }] } : {}),
    note: notes.filter((n) => n.trim()).map((text) => ({ text })),
  };
}

/** An organisation by its ODS code, or by the registry's local code for a partner without one (a council, a care home). */
export const orgIdentifier = (code: string) => ({ system: isOdsShaped(code) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: code });

/** The kind of organisation that wrote the entry (gp-practice, pcn, social-care …), as the record's timeline shows it. */
export const AGENCY_TAG_SYSTEM = 'https://pcn-hub.example/agency';
const agencyMeta = (kind: string | null | undefined) => (kind ? { meta: { tag: [{ system: AGENCY_TAG_SYSTEM, code: kind }] } } : {});

export function ownerReference(owner: ActionOwner): Reference<Practitioner | Organization> {
  if ('email' in owner) return { identifier: { system: USER_EMAIL_SYSTEM, value: owner.email.toLowerCase() }, display: owner.name ?? owner.email };
  return {
    identifier: orgIdentifier(owner.org),
    extension: [{ url: OWNER_ROLE_EXTENSION, valueCode: owner.role }],
    display: `${owner.role} at ${owner.orgName ?? owner.org}`,
  };
}

export function actionTask(
  meeting: MeetingNames,
  patientId: string,
  requester: { orgCode: string | null; orgKind?: string | null },
  action: { description: string; owner: ActionOwner; due: string },
  now: string,
): Task {
  const requesterOrg = requester.orgCode;
  return {
    resourceType: 'Task',
    ...agencyMeta(requester.orgKind),
    status: 'requested',
    intent: 'order',
    identifier: [{ system: MDT_MEETING_SYSTEM, value: meeting.id }],
    code: { coding: [{ system: TASK_KIND_SYSTEM, code: 'mdt-action', display: 'MDT action' }] },
    description: action.description,
    for: { reference: `Patient/${patientId}` },
    authoredOn: now,
    lastModified: now,
    restriction: { period: { end: action.due } },
    ...(requesterOrg ? { requester: { identifier: orgIdentifier(requesterOrg) } } : {}),
    owner: ownerReference(action.owner),
    reasonCode: { text: `Action from the MDT meeting "${meeting.title}" (${meeting.startsAt.slice(0, 10)})` },
  };
}

/** The owner of an action in words, from its Task. */
export function ownerText(task: Task): string {
  const owner = task.owner;
  if (!owner) return 'No owner';
  return owner.display ?? owner.identifier?.value ?? 'No owner';
}
