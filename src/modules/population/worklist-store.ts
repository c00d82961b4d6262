/** Worklists as the use cases read them: statuses, the roles a list is for, what it is for (a care gap, or a medication review). */
import { notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor, Role } from '../access/index.ts';
import { assertInPcn } from './cohort-store.ts';

export const WORKLIST_STATUSES = ['to-contact', 'contacted', 'booked', 'done', 'declined'] as const;
export type WorklistStatus = (typeof WORKLIST_STATUSES)[number];

/** The roles a worklist is assigned to: those who contact patients for proactive care. */
export const WORKLIST_ROLES = ['care-coordinator', 'clinical-pharmacist', 'social-prescribing-link-worker', 'social-worker'] as const satisfies readonly Role[];
export type WorklistRole = (typeof WORKLIST_ROLES)[number];

/** What a list is for: a care gap's id (the row shows "gap closed" when the record closes it) or `smr` (a structured medication review). */
export const SMR_PURPOSE = 'smr';

export interface Worklist {
  id: string;
  name: string;
  cohortId: string | null;
  purpose: string;
  role: WorklistRole;
  pcnCode: string;
  orgCode: string | null;
  createdBy: string;
  createdAt: string;
}

interface WorklistRow {
  id: string;
  name: string;
  cohort_id: string | null;
  purpose: string;
  role: WorklistRole;
  pcn_code: string;
  org_code: string | null;
  created_by: string;
  created_at: Date | string;
}

export const WORKLIST_COLUMNS = 'id, name, cohort_id, purpose, role, pcn_code, org_code, created_by, created_at';

export const worklistOf = (row: WorklistRow): Worklist => ({
  id: row.id,
  name: row.name,
  cohortId: row.cohort_id,
  purpose: row.purpose,
  role: row.role,
  pcnCode: row.pcn_code,
  orgCode: row.org_code,
  createdBy: row.created_by,
  createdAt: new Date(row.created_at).toISOString(),
});

/** A worklist the actor may use (they work for its PCN), or a 404 / 403. */
export async function loadWorklist(db: Db, actor: Actor, id: string): Promise<Worklist> {
  const [row] = await db.query<WorklistRow>(`SELECT ${WORKLIST_COLUMNS} FROM population_worklist WHERE id = $1`, [id]);
  if (!row) throw notFound('The worklist');
  const worklist = worklistOf(row);
  assertInPcn(actor, worklist.pcnCode);
  return worklist;
}
