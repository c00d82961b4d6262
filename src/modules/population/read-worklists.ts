/**
 * Worklists to work: the lists of the PCNs the actor works for with their progress, and one list's rows — only the
 * patients whose record the viewer may open (the access policy, in the statement that reads them), the look audited
 * once. Whether the record now shows the action is read from the scores at read time (kept current by the change
 * feed's follower): the row's care gap is closed, or its medication review priority has cleared.
 */
import { SqlParams } from '../../fhir-store/index.ts';
import { forbidden } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, pcnCodesOf, roleWords } from '../access/index.ts';
import { auditList, type CohortPatient, visiblePatients } from './cohort-patients.ts';
import { seesPatients } from './cohort-store.ts';
import { loadWorklist, SMR_PURPOSE, type Worklist, WORKLIST_COLUMNS, type WorklistStatus, worklistOf } from './worklist-store.ts';

export type Progress = Record<WorklistStatus, number> & { total: number; actionShown: number };

/**
 * What the record shows for the list's purpose: `closed` — the gap is closed (or the review priority cleared);
 * `open` — not yet; `not-applicable` — the patient is no longer on the gap's register or could not be scored.
 */
export type ActionShown = 'closed' | 'open' | 'not-applicable';

/** The same answer as SQL on population_patient `p`, for counting. */
function actionSql(purpose: string, params: SqlParams): string {
  if (purpose === SMR_PURPOSE) return `CASE WHEN p.smr_priority = false THEN 'closed' WHEN p.smr_priority THEN 'open' ELSE 'not-applicable' END`;
  const gap = params.add(purpose);
  return `CASE WHEN ${gap} = ANY(p.closed_gaps) THEN 'closed' WHEN ${gap} = ANY(p.open_gaps) THEN 'open' ELSE 'not-applicable' END`;
}

export interface WorklistRowView extends CohortPatient {
  status: WorklistStatus;
  note: string;
  owner: string | null;
  version: number;
  updatedAt: string;
  updatedBy: string | null;
  action: ActionShown;
}

export interface WorklistView extends Worklist {
  progress: Progress;
  rows: WorklistRowView[];
  /** More rows the viewer may see than listed. */
  more: boolean;
}

const ROWS = 1_000;

async function progressOf(db: Db, worklists: readonly Worklist[]): Promise<Map<string, Progress>> {
  const out = new Map<string, Progress>();
  for (const worklist of worklists) {
    const params = new SqlParams();
    const action = actionSql(worklist.purpose, params);
    const rows = await db.query<{ status: WorklistStatus; action: string | null; n: number | string }>(
      `SELECT w.status, ${action} AS action, count(*) AS n FROM population_worklist_patient w LEFT JOIN population_patient_now p ON p.patient_id = w.patient_id
        WHERE w.worklist_id = ${params.add(worklist.id)} GROUP BY 1, 2`,
      params.values,
    );
    const progress: Progress = { 'to-contact': 0, contacted: 0, booked: 0, done: 0, declined: 0, total: 0, actionShown: 0 };
    for (const row of rows) {
      progress[row.status] += Number(row.n);
      progress.total += Number(row.n);
      if (row.action === 'closed') progress.actionShown += Number(row.n);
    }
    out.set(worklist.id, progress);
  }
  return out;
}

/** The worklists of the actor's PCNs (every PCN's for an admin), newest first, with their progress. */
export async function listWorklists(db: Db, actor: Actor): Promise<Array<Worklist & { progress: Progress }>> {
  const rows = await db.query<Parameters<typeof worklistOf>[0]>(`SELECT ${WORKLIST_COLUMNS} FROM population_worklist WHERE $1 OR pcn_code = ANY($2::text[]) ORDER BY created_at DESC, id`, [
    actor.role === 'admin',
    [...pcnCodesOf(actor)],
  ]);
  const worklists = rows.map(worklistOf);
  const progress = await progressOf(db, worklists);
  return worklists.map((w) => ({ ...w, progress: progress.get(w.id)! }));
}

interface WorklistExtra {
  status: WorklistStatus;
  note: string;
  owner_email: string | null;
  version: number;
  updated_at: Date | string;
  updated_by: string | null;
  action: ActionShown;
}

export async function readWorklist(db: Db, actor: Actor, id: string, request: { method: string; url: string; id?: string }): Promise<WorklistView> {
  const worklist = await loadWorklist(db, actor, id);
  if (!seesPatients(actor)) throw forbidden(`${roleWords(actor.role)} sees no patient-level rows, so does not work lists of patients`);
  const params = new SqlParams();
  const action = actionSql(worklist.purpose, params);
  const rows = await visiblePatients<WorklistExtra>(db, actor, params, {
    from: 'population_worklist_patient w JOIN population_patient_now p ON p.patient_id = w.patient_id',
    where: `w.worklist_id = ${params.add(worklist.id)}`,
    extraColumns: `w.status, w.note, w.owner_email, w.version, w.updated_at, w.updated_by, ${action} AS action`,
    limit: ROWS,
  });
  const shown = rows.slice(0, ROWS).map(({ extra, ...row }) => ({
    ...row,
    status: extra.status,
    note: extra.note,
    owner: extra.owner_email,
    version: extra.version,
    updatedAt: new Date(extra.updated_at).toISOString(),
    updatedBy: extra.updated_by,
    action: extra.action,
  }));
  await auditList(db, actor, request, { action: 'population.worklist.list', entityType: 'Worklist', entityId: worklist.id, pcnCode: worklist.pcnCode, what: `the worklist "${worklist.name}"` }, shown);
  const progress = (await progressOf(db, [worklist])).get(worklist.id)!;
  return { ...worklist, progress, rows: shown, more: rows.length > ROWS };
}
