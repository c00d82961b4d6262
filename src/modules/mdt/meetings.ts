/**
 * MDT meetings of a PCN: schedule one, list them, record who came. A meeting belongs to one PCN and everyone who
 * works for that PCN (or serves it, from a partner organisation) may open it; what they see of each patient on its
 * agenda is the access policy's answer (agenda.ts). Changes are audited (a meeting is not anyone's record).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, forbidden, notFound } from '../../shared/errors.ts';
import { forPeople, wordsField } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, pcnCodesOf, roleWords } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { auditAgent } from '../record/index.ts';

export type MeetingStatus = 'scheduled' | 'closed' | 'cancelled';

export interface Meeting {
  id: string;
  pcnCode: string;
  title: string;
  startsAt: string;
  place: string;
  chair: { email: string; name: string };
  status: MeetingStatus;
  createdBy: string;
  closedAt: string | null;
  closedBy: string | null;
}

export interface Attendee {
  id: string;
  name: string;
  email: string | null;
  org: string;
  role: string;
  status: 'present' | 'apologies';
}

interface MeetingRow {
  id: string;
  pcn_code: string;
  title: string;
  starts_at: Date | string;
  place: string;
  chair_email: string;
  chair_name: string;
  status: MeetingStatus;
  created_by: string;
  closed_at: Date | string | null;
  closed_by: string | null;
}

const COLUMNS = 'id, pcn_code, title, starts_at, place, chair_email, chair_name, status, created_by, closed_at, closed_by';
const iso = (value: Date | string) => new Date(value).toISOString();

const meetingOf = (r: MeetingRow): Meeting => ({
  id: r.id,
  pcnCode: r.pcn_code,
  title: r.title,
  startsAt: iso(r.starts_at),
  place: r.place,
  chair: { email: r.chair_email, name: r.chair_name },
  status: r.status,
  createdBy: r.created_by,
  closedAt: r.closed_at === null ? null : iso(r.closed_at),
  closedBy: r.closed_by,
});

export type Request = { method: string; url: string; id?: string };

/** The actor works for this PCN (or is the hub's admin). */
export function assertInPcn(actor: Actor, pcnCode: string): void {
  if (actor.role === 'admin' || pcnCodesOf(actor).includes(pcnCode)) return;
  throw forbidden(`MDT meetings of ${pcnCode} are for the people who work for that PCN; ${roleWords(actor.role)} of ${pcnCodesOf(actor).join(', ') || 'no PCN'} does not`);
}

export const scheduleMeetingInput = z
  .object({
    title: wordsField('Enter a title for the meeting', 200),
    startsAt: z.iso.datetime({ offset: true, local: true, error: forPeople('Enter the date and time of the meeting') }),
    place: z.string().trim().max(500).default(''),
    pcnCode: z.string().trim().toUpperCase().max(20).optional(),
    chair: z
      .object({ email: z.email(forPeople('Enter the chair’s email address')).toLowerCase(), name: z.string().trim().min(1, forPeople('Enter the chair’s name')).max(200) })
      .strict()
      .optional(),
  })
  .strict();
export type ScheduleMeetingInput = z.input<typeof scheduleMeetingInput>;

export const audited = (db: Db, actor: Actor, request: Request, meeting: Pick<Meeting, 'id' | 'pcnCode'>, action: string, summary: string) =>
  recordAudit(db, {
    ...auditAgent(actor, request, null, 'direct-care'),
    action: `mdt.${action}`,
    entityType: 'MdtMeeting',
    entityId: meeting.id,
    pcnCode: meeting.pcnCode,
    summary,
    detail: { request: `${request.method} ${request.url.slice(0, 500)}` },
  });

export async function scheduleMeeting(db: Db, actor: Actor, raw: ScheduleMeetingInput, request: Request): Promise<Meeting> {
  const input = scheduleMeetingInput.parse(raw);
  const pcnCode = input.pcnCode ?? pcnCodesOf(actor)[0];
  if (!pcnCode) throw new AppError('invalid', 'Select the PCN the meeting is for', 'pcnCode');
  assertInPcn(actor, pcnCode);
  const chair = input.chair ?? { email: actor.email, name: actor.name };
  const startsAt = new Date(input.startsAt);
  return db.transaction(async (tx) => {
    const [row] = await tx.query<MeetingRow>(
      `INSERT INTO mdt_meeting (id, pcn_code, title, starts_at, place, chair_email, chair_name, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [randomUUID(), pcnCode, input.title, startsAt.toISOString(), input.place, chair.email, chair.name, actor.email],
    );
    const meeting = meetingOf(row!);
    await audited(tx, actor, request, meeting, 'schedule', `Scheduled the MDT meeting "${meeting.title}" on ${meeting.startsAt}`);
    return meeting;
  });
}

/** The meetings of the PCNs the actor works for (every PCN's for an admin), soonest first, then the closed ones. */
export async function listMeetings(db: Db, actor: Actor): Promise<Meeting[]> {
  const rows = await db.query<MeetingRow>(
    `SELECT ${COLUMNS} FROM mdt_meeting WHERE $1 OR pcn_code = ANY($2::text[]) ORDER BY status = 'scheduled' DESC, CASE WHEN status = 'scheduled' THEN starts_at END ASC, starts_at DESC LIMIT 500`,
    [actor.role === 'admin', [...pcnCodesOf(actor)]],
  );
  return rows.map(meetingOf);
}

/** A meeting the actor may open, or a 404 / 403 saying why not. */
export async function loadMeeting(db: Db, actor: Actor, id: string, options: { forUpdate?: boolean } = {}): Promise<Meeting> {
  const [row] = await db.query<MeetingRow>(`SELECT ${COLUMNS} FROM mdt_meeting WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  if (!row) throw notFound('The MDT meeting');
  const meeting = meetingOf(row);
  assertInPcn(actor, meeting.pcnCode);
  return meeting;
}

/** Refuses a change to a meeting that is no longer open. */
export function assertOpen(meeting: Meeting): void {
  if (meeting.status !== 'scheduled') throw new AppError('conflict', `the MDT meeting "${meeting.title}" is ${meeting.status}: it can no longer be changed`);
}

export const attendanceInput = z
  .object({
    name: wordsField('Enter the person’s name', 200),
    email: z.email(forPeople('Enter a valid email address')).toLowerCase().optional(),
    org: z.string().trim().max(200).default(''),
    role: z.string().trim().max(200).default(''),
    status: z.enum(['present', 'apologies'], forPeople('Select whether they were present or sent apologies')),
  })
  .strict();
export type AttendanceInput = z.input<typeof attendanceInput>;

interface AttendeeRow {
  id: string;
  name: string;
  email: string | null;
  org: string;
  role: string;
  status: 'present' | 'apologies';
}

export async function attendanceOf(db: Db, meetingId: string): Promise<Attendee[]> {
  return db.query<AttendeeRow>('SELECT id, name, email, org, role, status FROM mdt_attendance WHERE meeting_id = $1 ORDER BY status DESC, name, id', [meetingId]);
}

export async function recordAttendance(db: Db, actor: Actor, meetingId: string, raw: AttendanceInput, request: Request): Promise<Attendee[]> {
  const input = attendanceInput.parse(raw);
  return db.transaction(async (tx) => {
    const meeting = await loadMeeting(tx, actor, meetingId, { forUpdate: true });
    assertOpen(meeting);
    await tx.query('INSERT INTO mdt_attendance (id, meeting_id, name, email, org, role, status, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      randomUUID(),
      meeting.id,
      input.name,
      input.email ?? null,
      input.org,
      input.role,
      input.status,
      actor.email,
    ]);
    await audited(tx, actor, request, meeting, 'attendance', `Recorded ${input.name} as ${input.status} at the MDT meeting "${meeting.title}"`);
    return attendanceOf(tx, meeting.id);
  });
}

export async function removeAttendance(db: Db, actor: Actor, meetingId: string, attendeeId: string, request: Request): Promise<Attendee[]> {
  return db.transaction(async (tx) => {
    const meeting = await loadMeeting(tx, actor, meetingId, { forUpdate: true });
    assertOpen(meeting);
    const removed = await tx.query<{ name: string }>('DELETE FROM mdt_attendance WHERE meeting_id = $1 AND id = $2 RETURNING name', [meeting.id, attendeeId]);
    if (removed.length === 0) throw notFound('That attendee');
    await audited(tx, actor, request, meeting, 'attendance', `Removed ${removed[0]!.name} from the attendance of the MDT meeting "${meeting.title}"`);
    return attendanceOf(tx, meeting.id);
  });
}

export async function markClosed(tx: Db, actor: Actor, meeting: Meeting): Promise<Meeting> {
  const [row] = await tx.query<MeetingRow>(`UPDATE mdt_meeting SET status = 'closed', closed_at = now(), closed_by = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [meeting.id, actor.email]);
  return meetingOf(row!);
}
