/**
 * A patient's care team across organisations (`CareTeam`, docs/coordination.md): members are people (by email)
 * or organisations (by code), each with their role, one of them the named care coordinator. Being on the team
 * is a legitimate relationship in the access policy (migration 077), so the team is changed through the store as
 * the acting person: only someone who may write care-plan entries for this patient may add or remove anyone.
 */
import type { CareTeam, CareTeamParticipant, CodeableConcept } from '@medplum/fhirtypes';
import { z } from 'zod';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { invalid, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, findActor } from '../access/index.ts';
import { asActor, isPreconditionFailed, organisationName, type PlanRequest, readPatient } from './as-actor.ts';
import { organisationReference } from './plan-fhir.ts';
import { CARE_COORDINATOR, CARE_TEAM_ROLE_SYSTEM, type CareTeamMember, type CareTeamView, USER_EMAIL_SYSTEM } from './types.ts';

const COORDINATOR_ROLE: CodeableConcept = { coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: CARE_COORDINATOR, display: 'Care coordinator' }] };
const isCoordinatorRole = (concept: CodeableConcept) => concept.coding?.some((c) => c.system === CARE_TEAM_ROLE_SYSTEM && c.code === CARE_COORDINATOR) ?? false;

const organisationCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9-]{3,20}$/, 'ods must be an organisation code: 3 to 20 letters, digits or dashes');

export const careTeamMemberInput = z
  .object({
    email: z.email('email must be an email address').trim().toLowerCase().optional(),
    ods: organisationCode.optional(),
    role: z.string().trim().min(1, 'role: say what the member does on the team').max(200),
    careCoordinator: z.boolean().optional(),
  })
  .refine((m) => (m.email === undefined) !== (m.ods === undefined), { message: 'name the member by email (a person) or by ods (an organisation), not both', path: ['email'] });
export type CareTeamMemberInput = z.infer<typeof careTeamMemberInput>;

export const careTeamInput = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  members: z.array(careTeamMemberInput).max(100),
});
export type CareTeamInput = z.infer<typeof careTeamInput>;

/** A member's key: the email of a person, the code of an organisation. */
const keyOf = (participant: CareTeamParticipant): string => {
  const value = participant.member?.identifier?.value ?? '';
  return value.includes('@') ? value.toLowerCase() : value.toUpperCase();
};
const sameKey = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function memberOf(participant: CareTeamParticipant): CareTeamMember {
  const key = keyOf(participant);
  return {
    key,
    kind: !key ? 'named' : key.includes('@') ? 'person' : 'organisation',
    name: participant.member?.display ?? (key || 'Not named'),
    role:
      (participant.role ?? [])
        .filter((r) => !isCoordinatorRole(r))
        .map((r) => r.text ?? r.coding?.[0]?.display ?? r.coding?.[0]?.code ?? '')
        .filter(Boolean)
        .join(', ') || 'Member',
    organisation: participant.onBehalfOf?.display ?? participant.onBehalfOf?.identifier?.value ?? null,
    careCoordinator: (participant.role ?? []).some(isCoordinatorRole),
  };
}

export function careTeamView(patientId: string, team: CareTeam | undefined): CareTeamView {
  // Everyone the team names is listed; those named only in words (no email or code) cannot be changed through the API.
  const members = (team?.participant ?? []).filter((p) => p.member?.identifier?.value || p.member?.display || p.member?.reference).map(memberOf);
  return {
    patientId,
    id: team?.id ?? null,
    versionId: team?.meta?.versionId ?? null,
    name: team?.name ?? 'Care team',
    members,
    careCoordinator: members.find((m) => m.careCoordinator) ?? null,
  };
}

/**
 * THE care team of a patient among their active CareTeams as the actor sees them: the one with a care coordinator,
 * else the longest-standing one. Undefined when there is none (or the actor sees none).
 */
export async function findCareTeam(repo: FhirStoreRepository, patientId: string): Promise<CareTeam | undefined> {
  const bundle = await repo.search(parseSearch('CareTeam', { subject: `Patient/${patientId}`, status: 'active', _count: '50' }));
  const teams = (bundle.entry ?? []).map((e) => e.resource).filter((t): t is CareTeam & { id: string } => t?.resourceType === 'CareTeam');
  const byAge = teams.sort((a, b) => (a.meta?.lastUpdated ?? '').localeCompare(b.meta?.lastUpdated ?? '') || a.id.localeCompare(b.id));
  return byAge.find((t) => (t.participant ?? []).some((p) => (p.role ?? []).some(isCoordinatorRole))) ?? byAge[0];
}

/** The participant a member input names: a person (their name and organisation, when they are a user) or an organisation of the registry. */
async function participantFor(db: Db, input: CareTeamMemberInput, field: string): Promise<CareTeamParticipant> {
  const role: CodeableConcept[] = [{ text: input.role }];
  if (input.email) {
    const user = await findActor(db, input.email);
    return {
      role,
      member: { identifier: { system: USER_EMAIL_SYSTEM, value: input.email }, display: user?.name ?? input.email },
      ...(user?.orgCode ? { onBehalfOf: organisationReference(user.orgCode, user.orgName ?? user.orgCode) } : {}),
    };
  }
  const code = input.ods!;
  const name = await organisationName(db, code);
  if (!name) throw invalid(`${field}ods`, `ods: no PCN, practice or partner organisation has the code ${code}`);
  return { role, member: organisationReference(code, name) };
}

/** Moves the care coordinator's role to the member `key` (null: nobody). */
function withCoordinator(participants: CareTeamParticipant[], key: string | null): CareTeamParticipant[] {
  return participants.map((p) => {
    const roles = (p.role ?? []).filter((r) => !isCoordinatorRole(r));
    return { ...p, role: key !== null && sameKey(keyOf(p), key) ? [...roles, COORDINATOR_ROLE] : roles };
  });
}

/**
 * Changes the patient's care team as the actor (the store checks they may write care-plan entries for this
 * patient), making one when there is none. Retried when another change landed between read and write.
 */
async function changeCareTeam(
  db: Db,
  actor: Actor,
  patientId: string,
  request: PlanRequest,
  change: (participants: CareTeamParticipant[]) => CareTeamParticipant[] | Promise<CareTeamParticipant[]>,
  name?: string,
): Promise<CareTeamView> {
  return asActor(db, actor, request, async (repo) => {
    await readPatient(repo, patientId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await repo.withTransaction(async () => {
          const team = await findCareTeam(repo, patientId);
          const participant = await change(team?.participant ?? []);
          const next: CareTeam = team
            ? { ...team, ...(name ? { name } : {}), participant }
            : {
                resourceType: 'CareTeam',
                status: 'active',
                name: name ?? 'Multi-agency care team',
                subject: { reference: `Patient/${patientId}` },
                period: { start: new Date().toISOString().slice(0, 10) },
                participant,
                ...(actor.orgCode ? { managingOrganization: [organisationReference(actor.orgCode, actor.orgName ?? actor.orgCode)] } : {}),
              };
          if (next.participant?.length === 0) delete next.participant;
          const saved = team ? await repo.updateResource(next, { ifMatch: team.meta?.versionId }) : await repo.createResource(next);
          return careTeamView(patientId, saved);
        });
      } catch (error) {
        if (attempt < 3 && isPreconditionFailed(error)) continue;
        throw error;
      }
    }
  });
}

/** The patient's care team as the actor may see it. */
export function readCareTeam(db: Db, actor: Actor, patientId: string, request: PlanRequest): Promise<CareTeamView> {
  return asActor(db, actor, request, async (repo) => {
    await readPatient(repo, patientId);
    return careTeamView(patientId, await findCareTeam(repo, patientId));
  });
}

/** The patient's named care coordinator, or null: for referrals, tasks and MDT meetings to address. */
export async function careCoordinatorOf(db: Db, actor: Actor, patientId: string, request: PlanRequest): Promise<CareTeamMember | null> {
  return (await readCareTeam(db, actor, patientId, request)).careCoordinator;
}

/** Adds a member (or, when already on the team, changes their role); `careCoordinator` makes them the coordinator. */
export async function addCareTeamMember(db: Db, actor: Actor, patientId: string, input: CareTeamMemberInput, request: PlanRequest): Promise<CareTeamView> {
  const added = await participantFor(db, input, '');
  const key = keyOf(added);
  return changeCareTeam(db, actor, patientId, request, (participants) => {
    const existing = participants.find((p) => sameKey(keyOf(p), key));
    const wasCoordinator = (existing?.role ?? []).some(isCoordinatorRole);
    const next = existing ? participants.map((p) => (p === existing ? { ...added, role: [...(added.role ?? []), ...(wasCoordinator ? [COORDINATOR_ROLE] : [])] } : p)) : [...participants, added];
    return input.careCoordinator ? withCoordinator(next, key) : next;
  });
}

/** Removes a member (by email or organisation code): a person removed loses the access the team gave them. */
export function removeCareTeamMember(db: Db, actor: Actor, patientId: string, key: string, request: PlanRequest): Promise<CareTeamView> {
  return changeCareTeam(db, actor, patientId, request, (participants) => {
    if (!participants.some((p) => sameKey(keyOf(p), key))) throw notFound(`${key} on this patient’s care team`);
    return participants.filter((p) => !sameKey(keyOf(p), key));
  });
}

/** Names the member (by email or organisation code) as the patient's care coordinator; the previous one keeps their place on the team. */
export function setCareCoordinator(db: Db, actor: Actor, patientId: string, key: string, request: PlanRequest): Promise<CareTeamView> {
  return changeCareTeam(db, actor, patientId, request, (participants) => {
    if (!participants.some((p) => sameKey(keyOf(p), key))) throw invalid('member', `member: ${key} is not on this patient’s care team; add them first`);
    return withCoordinator(participants, key);
  });
}

/** Replaces the team's members (and name) at once. */
export async function replaceCareTeam(db: Db, actor: Actor, patientId: string, input: CareTeamInput, request: PlanRequest): Promise<CareTeamView> {
  const participants = await Promise.all(input.members.map((m, i) => participantFor(db, m, `members.${i}.`)));
  const coordinators = input.members.flatMap((m, i) => (m.careCoordinator ? [keyOf(participants[i]!)] : []));
  if (coordinators.length > 1) throw invalid('members', 'members: name one care coordinator at most');
  return changeCareTeam(db, actor, patientId, request, () => withCoordinator(participants, coordinators[0] ?? null), input.name);
}
