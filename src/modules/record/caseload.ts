/**
 * A professional's own work in the shared record, each read through the one access policy and audited
 * like any FHIR request: "My patients" (patients whose active care team names their organisation), their
 * inbox (open referrals their organisation performs and open tasks it owns), and — for a role that may
 * break glass — who a patient found by exact NHS number is, when they are not one of the user's patients.
 */
import type { CareTeam, HumanName, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirStoreRepository, parseSearch, SqlParams, type RequestContext } from '../../fhir-store/index.ts';
import { forbidden } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, policyOf, roleWords } from '../access/index.ts';
import { recentlyViewedPatients, recordAudit } from '../audit/index.ts';
import { recordContext, type RecordRequest } from './record-context.ts';

import { NHS_NUMBER_SYSTEM } from '../../shared/ids.ts';
/** At most this many patients or inbox items: a caseload, not a population (search narrows the rest). */
export const CASELOAD_LIMIT = 100;

/** A patient as lists show them: enough to know who, never their record. */
export interface PatientListing {
  id: string;
  name: string;
  nhsNumber: string | null;
  birthDate: string | null;
  /** The registered practice's name (or code). */
  practice: string | null;
}

export interface CaseloadPatient extends PatientListing {
  /** The care team that names the user's organisation. */
  careTeam: string;
}

export interface Caseload {
  /** Why `patients`: the care teams of the organisation (none when the user has none). */
  basis: 'care-team';
  org: string | null;
  orgName: string | null;
  patients: CaseloadPatient[];
  /** More care teams than listed: search to find the others. */
  more: boolean;
  /** Patients whose record the user opened in the last 30 days and may still open, most recent first (not those above). */
  recent: PatientListing[];
}

export interface InboxItem {
  kind: 'referral' | 'task';
  id: string;
  status: string;
  what: string;
  /** When it was asked for (authoredOn). */
  date: string | null;
  from: string | null;
  patient: PatientListing | null;
}

export interface Inbox {
  org: string | null;
  items: InboxItem[];
  more: boolean;
}

/** `SMITH, Alice`, as the NHS banner writes a name. */
function bannerName(names: HumanName[] | undefined): string {
  const name = names?.find((n) => n.use === 'official') ?? names?.find((n) => n.use !== 'old') ?? names?.[0];
  if (!name) return 'Name not recorded';
  const family = name.family?.toUpperCase();
  const given = name.given?.join(' ');
  return family && given ? `${family}, ${given}` : (family ?? given ?? name.text ?? 'Name not recorded');
}

export function patientListing(patient: Patient): PatientListing {
  const practice = patient.generalPractitioner?.[0];
  return {
    id: patient.id ?? '',
    name: bannerName(patient.name),
    nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? null,
    birthDate: patient.birthDate ?? null,
    practice: practice?.display ?? practice?.identifier?.value ?? null,
  };
}

/**
 * Runs store work as the actor (their access rules; their writes audited as they are made), then audits what they
 * looked at, once. Every module's use cases that read the record for a person go through here.
 */
export async function asActor<T>(db: Db, actor: Actor, request: RecordRequest['request'], work: (repo: FhirStoreRepository, context: RequestContext) => Promise<T>): Promise<T> {
  const context = await recordContext(db, actor, { request });
  const repo = new FhirStoreRepository(db, context);
  try {
    return await work(repo, context);
  } finally {
    await context.audit.looks(db, repo.touches);
  }
}

const patientIdOf = (reference: string | undefined) => (reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : null);

/** The matches and the patients they name (`_include`), each patient once. */
async function withPatients<T extends Resource>(repo: FhirStoreRepository, type: string, query: Record<string, string>): Promise<{ matches: T[]; patients: Map<string, Patient>; more: boolean }> {
  const bundle = await repo.search(parseSearch(type, { ...query, _count: String(CASELOAD_LIMIT) }));
  const patients = new Map<string, Patient>();
  const matches: T[] = [];
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as Resource | undefined;
    if (!resource) continue;
    if (entry.search?.mode === 'include' && resource.resourceType === 'Patient') patients.set(resource.id ?? '', resource as Patient);
    else if (entry.search?.mode !== 'include' && resource.resourceType === type) matches.push(resource as T);
  }
  return { matches, patients, more: (bundle.link ?? []).some((l) => l.relation === 'next') };
}

/**
 * "My patients": those whose active care team names the actor or their organisation, and whose record they may open;
 * and, apart, those whose record they opened recently (from the audit) and may still open.
 */
export async function careTeamPatients(db: Db, actor: Actor, request: RecordRequest['request']): Promise<Caseload> {
  const empty: Caseload = { basis: 'care-team', org: actor.orgCode, orgName: actor.orgName ?? null, patients: [], more: false, recent: [] };
  if (policyOf(actor.role).reach === 'none') return empty;
  const viewed = await recentlyViewedPatients(db, actor.email);
  return asActor(db, actor, request, async (repo) => {
    const listed: CaseloadPatient[] = [];
    let more = false;
    {
      // A care team names the organisation, or the person themselves (by email; access/policy.ts).
      const named = [actor.orgCode, actor.email].filter((value): value is string => !!value && !value.includes(','));
      const teams = await withPatients<CareTeam>(repo, 'CareTeam', { 'participant:identifier': named.join(','), status: 'active', _include: 'CareTeam:subject' });
      more = teams.more;
      const seen = new Set<string>();
      for (const team of teams.matches) {
        const patient = teams.patients.get(patientIdOf(team.subject?.reference) ?? '');
        if (!patient || seen.has(patient.id!)) continue;
        seen.add(patient.id!);
        listed.push({ ...patientListing(patient), careTeam: team.name ?? 'Care team' });
      }
      listed.sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
    }
    const onTeams = new Set(listed.map((p) => p.id));
    const others = viewed.filter((id) => !onTeams.has(id));
    const found = others.length ? await repo.search(parseSearch('Patient', { _id: others.join(','), _count: String(others.length) })) : { entry: [] };
    const byId = new Map((found.entry ?? []).map((e) => [e.resource?.id ?? '', e.resource as Patient]));
    const recent = others.flatMap((id) => (byId.has(id) ? [patientListing(byId.get(id)!)] : []));
    return { ...empty, patients: listed, more, recent };
  });
}

const FINISHED_TASK = ['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'];
const text = (concept: { text?: string; coding?: Array<{ display?: string; code?: string }> } | undefined) => concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code ?? null;

/** The actor's organisation's inbox: open referrals it performs and open tasks it owns, newest first. */
export async function organisationInbox(db: Db, actor: Actor, request: RecordRequest['request']): Promise<Inbox> {
  const empty: Inbox = { org: actor.orgCode, items: [], more: false };
  if (!actor.orgCode || policyOf(actor.role).reach === 'none') return empty;
  return asActor(db, actor, request, async (repo) => {
    const referrals = await withPatients<ServiceRequest>(repo, 'ServiceRequest', { 'performer:identifier': actor.orgCode!, status: 'active', _include: 'ServiceRequest:subject' });
    const tasks = await withPatients<Task>(repo, 'Task', { 'owner:identifier': actor.orgCode!, 'status:not': FINISHED_TASK.join(','), _include: 'Task:patient' });
    const listing = (patients: Map<string, Patient>, reference: string | undefined) => {
      const patient = patients.get(patientIdOf(reference) ?? '');
      return patient ? patientListing(patient) : null;
    };
    const items: InboxItem[] = [
      ...referrals.matches.map(
        (r): InboxItem => ({
          kind: 'referral',
          id: r.id!,
          status: r.status,
          what: text(r.code) ?? 'Referral',
          date: r.authoredOn ?? null,
          from: r.requester?.display ?? r.requester?.identifier?.value ?? null,
          patient: listing(referrals.patients, r.subject?.reference),
        }),
      ),
      ...tasks.matches.map(
        (t): InboxItem => ({
          kind: 'task',
          id: t.id!,
          status: t.status,
          what: t.description ?? text(t.code) ?? 'Task',
          date: t.authoredOn ?? null,
          from: t.requester?.display ?? t.requester?.identifier?.value ?? null,
          patient: listing(tasks.patients, (t.for ?? t.focus)?.reference),
        }),
      ),
    ];
    items.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
    return { ...empty, items, more: referrals.more || tasks.more };
  });
}

export type Reveal = { found: false } | { found: true; related: true; patientId: string } | { found: true; related: false; patient: PatientListing };

/**
 * Who a patient found by EXACT NHS number is (name, NHS number, date of birth), for a role that may break
 * glass, when the access policy says they are not one of the user's patients: so the user can decide to
 * break glass knowing whom they are opening. Never a search by name or postcode; the reveal is audited.
 */
export async function revealForBreakGlass(db: Db, actor: Actor, nhsNumber: string, request: RecordRequest['request']): Promise<Reveal> {
  if (!policyOf(actor.role).breakGlass) throw forbidden(`${roleWords(actor.role)} cannot open a record in an emergency, so is not shown patients outside their care`);
  const [held] = await db.query<{ id: string; content: Patient }>(
    `SELECT r.id, r.content FROM fhir_patient_nhs_number n JOIN fhir_resource r ON r.id = n.patient_id AND r.resource_type = 'Patient' AND NOT r.deleted WHERE n.nhs_number = $1`,
    [nhsNumber],
  );
  if (!held) return { found: false };
  const context = await recordContext(db, actor, { request });
  const params = new SqlParams();
  const condition = context.access.patientCondition(params.add(held.id), params);
  const [related] = condition === null ? [{}] : await db.query(`SELECT 1 WHERE ${condition}`, params.values);
  if (related) return { found: true, related: true, patientId: held.id };
  const patient = patientListing({ ...held.content, id: held.id });
  await recordAudit(db, {
    actor: actor.email,
    orgCode: actor.orgCode,
    role: actor.role,
    clientId: actor.clientId ?? null,
    purpose: 'direct-care',
    requestId: request.id ?? null,
    action: 'record.reveal',
    entityType: 'Patient',
    entityId: held.id,
    summary: `Shown who the patient with NHS number ${nhsNumber} is (name, date of birth), outside their care, to decide on break-glass`,
    outcome: 'success',
    patientIds: [held.id],
    detail: { request: `${request.method} ${request.url.slice(0, 500)}`, shown: ['name', 'nhsNumber', 'birthDate'] },
  });
  return { found: true, related: false, patient };
}
