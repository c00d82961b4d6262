/**
 * During and after the meeting: a patient's discussion (a Procedure on their record, in progress until the meeting
 * closes), their actions (Tasks of kind mdt-action with an owner and a due date, which the tasks module lists as
 * "my tasks") and closing the meeting, which completes each listed patient's discussion as the minutes: what was
 * said, the actions with owners, who was there. All written through the store under the actor's request context,
 * so the access policy decides and the audit records; closing is one transaction.
 */
import type { Procedure, ServiceRequest, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import type { FhirStoreRepository } from '../../fhir-store/index.ts';
import { AppError } from '../../shared/errors.ts';
import { forPeople, wordsField } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { actionOf, actionsByPatient, type ActionView, agendaRows, lockItem } from './agenda.ts';
import { asActor } from '../record/index.ts';
import { referralFields, referralInput, withOneReceiver, writeReferral } from '../referrals/index.ts';
import { assertOpen, attendanceOf, audited, loadMeeting, markClosed, type Meeting, type Request } from './meetings.ts';
import { type ActionOwner, actionTask, discussionProcedure, MDT_MEETING_SYSTEM, type MeetingNames } from './shapes.ts';

const names = (meeting: Meeting): MeetingNames => ({ id: meeting.id, title: meeting.title, startsAt: meeting.startsAt, chairName: meeting.chair.name });

export const discussionInput = z
  .object({
    notes: wordsField('Enter the discussion', 20_000),
  })
  .strict();

/** Writes (or rewrites) the patient's discussion on their record, in progress until the meeting closes. */
export async function saveDiscussion(db: Db, actor: Actor, meetingId: string, itemId: string, input: z.input<typeof discussionInput>, request: Request): Promise<{ id: string; notes: string[] }> {
  const { notes } = discussionInput.parse(input);
  return asActor(db, actor, request, (repo) =>
    repo.withTransaction(async (tx) => {
      const { meeting, item } = await lockItem(tx, actor, meetingId, itemId);
      const fresh = discussionProcedure(names(meeting), item.patient_id, actor, 'in-progress', [notes]);
      const saved = item.discussion_id
        ? await repo.updateResource<Procedure>({ ...(await repo.readResource<Procedure>('Procedure', item.discussion_id)), note: fresh.note })
        : await repo.createResource<Procedure>(fresh);
      if (!item.discussion_id) await tx.query('UPDATE mdt_agenda_item SET discussion_id = $2 WHERE id = $1', [item.id, saved.id]);
      return { id: saved.id, notes: (saved.note ?? []).map((n) => n.text) };
    }),
  );
}

export const actionInput = z
  .object({
    description: wordsField('Enter what is to be done', 2_000),
    ownerEmail: z.email(forPeople('Enter the owner’s email address')).toLowerCase().optional(),
    ownerName: z.string().trim().max(200).optional(),
    ownerOrg: z.string().trim().toUpperCase().max(20).optional(),
    ownerRole: z.string().trim().max(100).optional(),
    due: z.iso.date({ error: forPeople('Enter the date it is due by') }),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.ownerEmail) return;
    if (input.ownerOrg && input.ownerRole) return;
    ctx.addIssue({ code: 'custom', path: ['ownerEmail'], message: forPeople('Enter the owner: a person’s email address, or an organisation and a role in it') });
  });
export type ActionInput = z.input<typeof actionInput>;

/** Records an action for the patient: a Task with its owner and due date, on their record. */
export async function addAction(db: Db, actor: Actor, meetingId: string, itemId: string, raw: ActionInput, request: Request): Promise<ActionView> {
  const input = actionInput.parse(raw);
  const owner: ActionOwner = input.ownerEmail ? { email: input.ownerEmail, ...(input.ownerName ? { name: input.ownerName } : {}) } : { org: input.ownerOrg!, role: input.ownerRole! };
  return asActor(db, actor, request, (repo) =>
    repo.withTransaction(async (tx) => {
      const { meeting, item } = await lockItem(tx, actor, meetingId, itemId);
      const task = await repo.createResource<Task>(actionTask(names(meeting), item.patient_id, actor, { description: input.description, owner, due: input.due }, new Date().toISOString()));
      return actionOf({ kind: 'task', task });
    }),
  );
}

/** A referral agreed at the meeting: to a service in the directory (or an organisation), sent now, with consent recorded. */
export const referralActionInput = withOneReceiver(
  referralFields.pick({ serviceId: true, performerOrg: true, reason: true, priority: true, whatMatters: true, consentToShare: true, attachments: true }).strict(),
);
export type ReferralActionInput = z.input<typeof referralActionInput>;

/**
 * Records a referral as the patient's action: the referrals module writes it (ServiceRequest + workflow Task, the
 * receiving organisation's inbox, its state machine) in the meeting's transaction, the ServiceRequest naming the
 * meeting by identifier so the agenda and the minutes list it.
 */
export async function addReferralAction(db: Db, actor: Actor, meetingId: string, itemId: string, raw: ReferralActionInput, request: Request): Promise<ActionView> {
  const input = referralActionInput.parse(raw);
  return asActor(db, actor, request, (repo) =>
    repo.withTransaction(async (tx) => {
      const { meeting, item } = await lockItem(tx, actor, meetingId, itemId);
      const referral = await writeReferral(tx, repo, actor, referralInput.parse({ ...input, patientId: item.patient_id }), {
        identifier: [{ system: MDT_MEETING_SYSTEM, value: meeting.id }],
      });
      const [serviceRequest, task] = await Promise.all([repo.readResource<ServiceRequest>('ServiceRequest', referral.id), repo.readResource<Task>('Task', referral.taskId)]);
      return actionOf({ kind: 'referral', request: serviceRequest, task });
    }),
  );
}

/** A meeting's time as people in England read it ("10 Dec 2026, 13:30"), whatever the server's zone. */
const UK_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' });

/** The minutes for one patient, as their record will hold them. */
export function minutesText(meeting: Meeting, present: string[], apologies: string[], discussion: string[], actions: ActionView[]): string[] {
  const when = UK_TIME.format(new Date(meeting.startsAt));
  const header = `Minutes of the MDT meeting "${meeting.title}" on ${when}${meeting.place ? ` (${meeting.place})` : ''}, chaired by ${meeting.chair.name}.`;
  const who = `Present: ${present.join('; ') || 'not recorded'}.${apologies.length ? ` Apologies: ${apologies.join('; ')}.` : ''}`;
  const said = discussion.length ? `Discussion: ${discussion.join(' ')}` : 'Discussed; no notes were recorded.';
  const done = actions.length
    ? `Actions: ${actions.map((a, i) => `${i + 1}. ${a.description}${a.kind === 'referral' ? `, referral ${a.status}` : ` (owner: ${a.owner}; due ${a.due ?? 'no date'})`}`).join(' ')}`
    : 'Actions: none.';
  return [header, said, done, who];
}

/**
 * Closes the meeting: every patient still on the agenda gets the minutes on their record (their discussion completed,
 * or a new completed one if nobody wrote notes); patients taken off get nothing. One transaction: all or none.
 */
export async function closeMeeting(db: Db, actor: Actor, meetingId: string, request: Request): Promise<Meeting & { minutesWritten: number }> {
  return asActor(db, actor, request, (repo: FhirStoreRepository) =>
    repo.withTransaction(async (tx) => {
      const meeting = await loadMeeting(tx, actor, meetingId, { forUpdate: true });
      assertOpen(meeting);
      const attendance = await attendanceOf(tx, meeting.id);
      const describe = (a: (typeof attendance)[number]) => [a.name, a.role, a.org].filter(Boolean).join(', ');
      const present = attendance.filter((a) => a.status === 'present').map(describe);
      const apologies = attendance.filter((a) => a.status === 'apologies').map(describe);
      const actions = await actionsByPatient(repo, meeting.id);
      const items = await agendaRows(tx, meeting.id, { active: true });
      if (items.length === 0) throw new AppError('conflict', `the MDT meeting "${meeting.title}" has nobody on its agenda: add patients before closing it`);
      for (const item of items) {
        const draft = item.discussion_id ? await repo.readResource<Procedure>('Procedure', item.discussion_id) : null;
        const said = (draft?.note ?? []).map((n) => n.text);
        const minutes = minutesText(meeting, present, apologies, said, (actions.get(item.patient_id) ?? []).map(actionOf));
        const final = discussionProcedure(names(meeting), item.patient_id, actor, 'completed', minutes);
        const written = draft ? await repo.updateResource<Procedure>({ ...draft, status: 'completed', note: final.note }) : await repo.createResource<Procedure>(final);
        if (!draft) await tx.query('UPDATE mdt_agenda_item SET discussion_id = $2 WHERE id = $1', [item.id, written.id]);
      }
      const closed = await markClosed(tx, actor, meeting);
      await audited(tx, actor, request, meeting, 'close', `Closed the MDT meeting "${meeting.title}": minutes written on ${items.length} record(s)`);
      return { ...closed, minutesWritten: items.length };
    }),
  );
}
