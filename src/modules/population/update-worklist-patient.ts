/**
 * Changes one patient's row on a worklist — status, note, owner — for someone who may open that patient's record,
 * naming the version they changed (a change made in between is a 409 naming the row as it now stands, never lost).
 * Each change is kept (population_worklist_change) and audited, in one transaction.
 */
import { z } from 'zod';
import { AppError, conflict, notFound } from '../../shared/errors.ts';
import { forPeople } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { recordAccessFor } from '../record/index.ts';
import { auditBy } from './cohort-store.ts';
import { loadWorklist, WORKLIST_STATUSES, type WorklistStatus } from './worklist-store.ts';

export const updateWorklistPatientInput = z
  .object({
    version: z
      .number({ error: forPeople('Say which version of the row you changed (version)') })
      .int()
      .min(1),
    status: z.enum(WORKLIST_STATUSES, forPeople('Select a status: to-contact, contacted, booked, done or declined')).optional(),
    note: z.string().max(2000, forPeople('A note is at most 2,000 characters')).optional(),
    owner: z.email(forPeople('Enter the owner as the email they sign in with')).toLowerCase().nullable().optional(),
  })
  .strict()
  .refine((b) => b.status !== undefined || b.note !== undefined || b.owner !== undefined, { message: forPeople('Say what to change: status, note or owner') });
export type UpdateWorklistPatientInput = z.output<typeof updateWorklistPatientInput>;

export interface WorklistPatientState {
  patientId: string;
  status: WorklistStatus;
  note: string;
  owner: string | null;
  version: number;
  updatedBy: string | null;
  updatedAt: string;
}

interface StateRow {
  patient_id: string;
  status: WorklistStatus;
  note: string;
  owner_email: string | null;
  version: number;
  updated_by: string | null;
  updated_at: Date | string;
}
const STATE_COLUMNS = 'patient_id, status, note, owner_email, version, updated_by, updated_at';
const stateOf = (r: StateRow): WorklistPatientState => ({
  patientId: r.patient_id,
  status: r.status,
  note: r.note,
  owner: r.owner_email,
  version: r.version,
  updatedBy: r.updated_by,
  updatedAt: new Date(r.updated_at).toISOString(),
});

export async function updateWorklistPatient(
  db: Db,
  actor: Actor,
  worklistId: string,
  patientId: string,
  input: UpdateWorklistPatientInput,
  request: { method: string; url: string; id?: string },
): Promise<WorklistPatientState> {
  const worklist = await loadWorklist(db, actor, worklistId);
  const access = await recordAccessFor(db, actor, { purpose: 'direct-care' });
  return db.transaction(async (tx) => {
    // Working a row is working with the patient: only someone who may open their record (the policy's own refusal).
    await access.assertPatient(tx, patientId);
    const [row] = await tx.query<StateRow>(
      `UPDATE population_worklist_patient SET status = coalesce($4, status), note = coalesce($5, note),
              owner_email = CASE WHEN $6::boolean THEN $7 ELSE owner_email END, version = version + 1, updated_by = $8, updated_at = now()
        WHERE worklist_id = $1 AND patient_id = $2 AND version = $3 RETURNING ${STATE_COLUMNS}`,
      [worklistId, patientId, input.version, input.status ?? null, input.note ?? null, input.owner !== undefined, input.owner ?? null, actor.email],
    );
    if (!row) {
      const [now] = await tx.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM population_worklist_patient WHERE worklist_id = $1 AND patient_id = $2`, [worklistId, patientId]);
      if (!now) throw notFound('The patient on this worklist');
      throw conflict(
        `the row was changed by ${now.updated_by ?? 'someone else'} since version ${input.version}: it is now at version ${now.version}, status ${now.status}${now.owner_email ? `, owner ${now.owner_email}` : ''}; reload it and make your change again`,
        'version',
      );
    }
    const state = stateOf(row);
    await tx.query(`INSERT INTO population_worklist_change (worklist_id, patient_id, version, status, note, owner_email, changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      worklistId,
      patientId,
      state.version,
      state.status,
      state.note,
      state.owner,
      actor.email,
    ]);
    await recordAudit(tx, {
      ...auditBy(actor, request),
      action: 'population.worklist.update',
      entityType: 'Worklist',
      entityId: worklistId,
      pcnCode: worklist.pcnCode,
      summary: `Set a patient on the worklist "${worklist.name}" to ${state.status}`,
      patientIds: [patientId],
      detail: { request: `${request.method} ${request.url.slice(0, 500)}`, version: state.version, status: state.status },
    });
    return state;
  });
}

/** The changes to one patient's row, oldest first (for whoever may open their record). */
export async function worklistPatientHistory(db: Db, actor: Actor, worklistId: string, patientId: string): Promise<Array<WorklistPatientState>> {
  await loadWorklist(db, actor, worklistId);
  const access = await recordAccessFor(db, actor, { purpose: 'direct-care' });
  await access.assertPatient(db, patientId);
  const rows = await db.query<StateRow>(
    `SELECT patient_id, status, note, owner_email, version, changed_by AS updated_by, changed_at AS updated_at FROM population_worklist_change WHERE worklist_id = $1 AND patient_id = $2 ORDER BY id`,
    [worklistId, patientId],
  );
  if (rows.length === 0) {
    const [on] = await db.query('SELECT 1 FROM population_worklist_patient WHERE worklist_id = $1 AND patient_id = $2', [worklistId, patientId]);
    if (!on) throw new AppError('not-found', 'this patient is not on the worklist');
  }
  return rows.map(stateOf);
}
