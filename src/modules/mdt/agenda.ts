/**
 * A meeting's agenda: patients added from a population-health cohort or worklist (population's own reads: only the
 * patients whose record the person building it may open, audited there) or by hand, and the meeting as a participant
 * sees it. Every patient-level thing shown — who the patient is, their discussion, their actions — is read through the
 * store under the viewer's request context, so a patient whose record the viewer may not open is listed without any
 * detail (not even their id), and each look is audited.
 */
import { randomUUID } from 'node:crypto';
import { OperationOutcomeError, type WithId } from '@medplum/core';
import type { Patient, Procedure, ServiceRequest, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import { forPeople } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { cohortPatients, readWorklist } from '../population/index.ts';
import { isWorkflowTask, receivingOrg } from '../referrals/index.ts';
import { asActor, type PatientListing, patientListing } from '../record/index.ts';
import { type Attendee, assertOpen, attendanceOf, audited, loadMeeting, type Meeting, type Request } from './meetings.ts';
import { MDT_MEETING_SYSTEM, ownerText } from './shapes.ts';

/** A meeting discusses a few dozen people, not a population: a longer list is narrowed first. */
export const AGENDA_LIMIT = 60;
const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export interface AgendaRow {
  id: string;
  patient_id: string;
  position: number;
  source: string;
  discussion_id: string | null;
  removed_at: Date | string | null;
}

export interface ActionView {
  /** A task for a person or a role (a Task of kind mdt-action), or a referral to a service (its ServiceRequest). */
  kind: 'task' | 'referral';
  /** The Task's id, or the referral's (its ServiceRequest's). */
  id: string;
  description: string;
  owner: string;
  /** A task's due date; a referral's answer is due by its urgency (the service's inbox clock). */
  due: string | null;
  /** The Task's status: a referral's is its workflow Task's (requested, accepted, …). */
  status: string;
}

/** An action recorded at the meeting: a task, or a referral with its workflow Task (absent if the viewer may not see it). */
export type MeetingAction = { kind: 'task'; task: Task } | { kind: 'referral'; request: ServiceRequest; task: Task | undefined };

export interface AgendaItemView {
  id: string;
  position: number;
  /** `cohort:<id>`, `worklist:<id>` or `by-hand`. */
  source: string;
  removed: boolean;
  /** Null when the viewer may not open this patient's record: nothing about them is shown. */
  patient: PatientListing | null;
  discussion: { id: string; status: string; notes: string[] } | null;
  actions: ActionView[];
}

export interface MeetingView extends Meeting {
  attendance: Attendee[];
  agenda: AgendaItemView[];
}

export async function agendaRows(db: Db, meetingId: string, options: { active?: boolean } = {}): Promise<AgendaRow[]> {
  return db.query<AgendaRow>(
    `SELECT id, patient_id, position, source, discussion_id, removed_at FROM mdt_agenda_item WHERE meeting_id = $1${options.active ? ' AND removed_at IS NULL' : ''} ORDER BY removed_at IS NOT NULL, position, id`,
    [meetingId],
  );
}

/** The resource, or null when the viewer may not see it (or it is gone); other failures are thrown. */
export async function readIfAllowed<T extends Patient | Procedure>(repo: FhirStoreRepository, type: T['resourceType'], id: string): Promise<T | null> {
  try {
    return await repo.readResource<T>(type, id);
  } catch (error) {
    if (error instanceof OperationOutcomeError) return null;
    throw error;
  }
}

export function actionOf(action: MeetingAction): ActionView {
  if (action.kind === 'task') {
    const { task } = action;
    return { kind: 'task', id: task.id ?? '', description: task.description ?? '', owner: ownerText(task), due: task.restriction?.period?.end ?? null, status: task.status };
  }
  const { request, task } = action;
  const reason = request.reasonCode?.[0]?.text;
  return {
    kind: 'referral',
    id: request.id ?? '',
    description: `${request.code?.text ?? 'Referral'}${reason ? `: ${reason}` : ''} (${request.priority ?? 'routine'})`,
    owner: receivingOrg(request).display || 'the receiving organisation',
    due: null,
    status: task?.status ?? request.status,
  };
}

/**
 * The meeting's actions the viewer may see (the store filters by the access policy), by patient, oldest first: its
 * tasks, and its referrals with their workflow Tasks. Both kinds name the meeting by identifier.
 */
export async function actionsByPatient(repo: FhirStoreRepository, meetingId: string): Promise<Map<string, MeetingAction[]>> {
  const meeting = `${MDT_MEETING_SYSTEM}|${meetingId}`;
  const tasks = await repo.search<Task>(parseSearch('Task', { identifier: meeting, _count: '500', _sort: '_lastUpdated' }) as never);
  const referrals = await repo.search(parseSearch('ServiceRequest', { identifier: meeting, _revinclude: 'Task:focus', _count: '500', _sort: '_lastUpdated' }));
  const found = (referrals.entry ?? []).map((e) => e.resource);
  const workflow = new Map(found.filter((r): r is WithId<Task> => isWorkflowTask(r)).map((t) => [t.focus?.reference, t] as const));
  const actions: MeetingAction[] = [
    ...(tasks.entry ?? []).flatMap((e) => (e.resource ? [{ kind: 'task' as const, task: e.resource }] : [])),
    ...found
      .filter((r): r is WithId<ServiceRequest> => r?.resourceType === 'ServiceRequest')
      .map((request) => ({ kind: 'referral' as const, request, task: workflow.get(`ServiceRequest/${request.id}`) })),
  ];
  const out = new Map<string, MeetingAction[]>();
  for (const action of actions) {
    const patientId = (action.kind === 'task' ? action.task.for : action.request.subject)?.reference?.replace(/^Patient\//, '');
    if (patientId) out.set(patientId, [...(out.get(patientId) ?? []), action]);
  }
  return out;
}

/** The meeting as this viewer may see it: schedule, attendance, and each agenda patient as far as their record is open to them. */
export async function readMeeting(db: Db, actor: Actor, id: string, request: Request): Promise<MeetingView> {
  const meeting = await loadMeeting(db, actor, id);
  const rows = await agendaRows(db, meeting.id);
  const agenda = await asActor(db, actor, request, async (repo) => {
    if (rows.length === 0) return [];
    const actions = await actionsByPatient(repo, meeting.id);
    const items: AgendaItemView[] = [];
    for (const row of rows) {
      const base = { id: row.id, position: row.position, source: row.source, removed: row.removed_at !== null };
      const patient = await readIfAllowed<Patient>(repo, 'Patient', row.patient_id);
      if (!patient) {
        items.push({ ...base, patient: null, discussion: null, actions: [] });
        continue;
      }
      const procedure = row.discussion_id ? await readIfAllowed<Procedure>(repo, 'Procedure', row.discussion_id) : null;
      items.push({
        ...base,
        patient: patientListing(patient),
        discussion: procedure ? { id: procedure.id ?? '', status: procedure.status, notes: (procedure.note ?? []).map((n) => n.text) } : null,
        actions: (actions.get(row.patient_id) ?? []).map(actionOf),
      });
    }
    return items;
  });
  return { ...meeting, attendance: await attendanceOf(db, meeting.id), agenda };
}

export const addToAgendaInput = z.union([
  z.object({ cohortId: z.uuid(forPeople('Select the cohort')) }).strict(),
  z.object({ worklistId: z.uuid(forPeople('Select the worklist')) }).strict(),
  z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, forPeople('Select a patient')) }).strict(),
  z.object({ nhsNumber: z.string().regex(/^\d{10}$/, forPeople('Enter the patient’s 10-digit NHS number')) }).strict(),
]);
export type AddToAgendaInput = z.infer<typeof addToAgendaInput>;

/** The patients a request names, as the actor may see them: a cohort's or a worklist's (population's reads), or one by hand. */
async function patientsNamed(db: Db, actor: Actor, input: AddToAgendaInput, request: Request): Promise<{ ids: string[]; source: string }> {
  if ('cohortId' in input) {
    const listed = await cohortPatients(db, actor, input.cohortId, request);
    if (listed.more) throw new AppError('invalid', `the cohort holds more patients than an MDT can discuss: narrow it to ${AGENDA_LIMIT} or fewer`, 'cohortId');
    return { ids: listed.patients.map((p) => p.patientId), source: `cohort:${input.cohortId}` };
  }
  if ('worklistId' in input) {
    const worklist = await readWorklist(db, actor, input.worklistId, request);
    return { ids: worklist.rows.map((r) => r.patientId), source: `worklist:${input.worklistId}` };
  }
  const ids = await asActor(db, actor, request, async (repo) => {
    if ('patientId' in input) return [(await repo.readResource<Patient>('Patient', input.patientId)).id];
    const found = await repo.search(parseSearch('Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${input.nhsNumber}` }));
    return (found.entry ?? []).map((e) => e.resource?.id ?? '').filter(Boolean);
  });
  if (ids.length === 0) throw new AppError('not-found', 'No patient whose record you may open has that NHS number', 'nhsNumber');
  return { ids, source: 'by-hand' };
}

/** Adds the patients named to the end of the agenda (each once); returns how many were new. */
export async function addToAgenda(db: Db, actor: Actor, meetingId: string, input: AddToAgendaInput, request: Request): Promise<{ added: number; alreadyListed: number }> {
  assertOpen(await loadMeeting(db, actor, meetingId));
  const { ids, source } = await patientsNamed(db, actor, input, request);
  return db.transaction(async (tx) => {
    const meeting = await loadMeeting(tx, actor, meetingId, { forUpdate: true });
    assertOpen(meeting);
    const active = await agendaRows(tx, meeting.id, { active: true });
    const listed = new Set(active.map((r) => r.patient_id));
    const fresh = [...new Set(ids)].filter((id) => !listed.has(id));
    if (active.length + fresh.length > AGENDA_LIMIT)
      throw new AppError('invalid', `an MDT agenda holds at most ${AGENDA_LIMIT} patients; this would make it ${active.length + fresh.length}`, Object.keys(input)[0]);
    let position = active.reduce((max, r) => Math.max(max, r.position), 0);
    for (const patientId of fresh) {
      position += 1;
      await tx.query('INSERT INTO mdt_agenda_item (id, meeting_id, patient_id, position, source, added_by) VALUES ($1, $2, $3, $4, $5, $6)', [
        randomUUID(),
        meeting.id,
        patientId,
        position,
        source,
        actor.email,
      ]);
    }
    await audited(tx, actor, request, meeting, 'agenda.add', `Added ${fresh.length} patient(s) to the agenda of the MDT meeting "${meeting.title}" (${source})`);
    return { added: fresh.length, alreadyListed: ids.length - fresh.length };
  });
}

/** One agenda row of an open meeting, locked for the change. */
export async function lockItem(tx: Db, actor: Actor, meetingId: string, itemId: string): Promise<{ meeting: Meeting; item: AgendaRow }> {
  const meeting = await loadMeeting(tx, actor, meetingId, { forUpdate: true });
  assertOpen(meeting);
  const [item] = await tx.query<AgendaRow>('SELECT id, patient_id, position, source, discussion_id, removed_at FROM mdt_agenda_item WHERE meeting_id = $1 AND id = $2 FOR UPDATE', [
    meeting.id,
    itemId,
  ]);
  if (!item || item.removed_at !== null) throw notFound('That patient on the agenda');
  return { meeting, item };
}

/**
 * Takes a patient off the agenda: their draft discussion is deleted from their record (the store keeps its history)
 * and the meeting's open actions for them are cancelled, so closing the meeting writes nothing about them.
 */
export async function removeFromAgenda(db: Db, actor: Actor, meetingId: string, itemId: string, request: Request): Promise<void> {
  await asActor(db, actor, request, (repo) =>
    repo.withTransaction(async (tx) => {
      const { meeting, item } = await lockItem(tx, actor, meetingId, itemId);
      if (item.discussion_id) await repo.deleteResource('Procedure', item.discussion_id);
      // Open tasks are cancelled; a referral already sent stays with the service until its referrer cancels it.
      const actions = (await actionsByPatient(repo, meeting.id)).get(item.patient_id) ?? [];
      for (const { task } of actions.filter((a): a is MeetingAction & { kind: 'task' } => a.kind === 'task' && a.task.status === 'requested')) {
        await repo.updateResource<Task>({ ...task, status: 'cancelled', statusReason: { text: 'The patient was taken off the MDT agenda' }, lastModified: new Date().toISOString() });
      }
      await tx.query('UPDATE mdt_agenda_item SET removed_at = now(), removed_by = $2, discussion_id = NULL WHERE id = $1', [item.id, actor.email]);
      await audited(tx, actor, request, meeting, 'agenda.remove', `Took a patient off the agenda of the MDT meeting "${meeting.title}"`);
    }),
  );
}
