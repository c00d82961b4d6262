/**
 * Saved cohorts as the use cases read them, who may use one, and the practices a cohort spans: a cohort belongs to
 * a PCN and is shared within it (its members read and use it; its owner changes it); analysts and admins work
 * across the area, analysts with aggregates and pseudonymised rows only.
 */
import { registryToday } from '../../shared/dates.ts';
import { AppError, forbidden, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, pcnCodesOf, policyOf, roleWords } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { auditAgent } from '../record/index.ts';
import type { CohortDefinition } from './cohort-definition.ts';

export interface Cohort {
  id: string;
  name: string;
  definition: CohortDefinition;
  pcnCode: string;
  owner: { email: string; name: string };
  version: number;
  createdAt: string;
  updatedAt: string;
}

interface CohortRow {
  id: string;
  name: string;
  definition: CohortDefinition | string;
  pcn_code: string;
  owner_email: string;
  owner_name: string;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export const COHORT_COLUMNS = 'id, name, definition, pcn_code, owner_email, owner_name, version, created_at, updated_at';

export const cohortOf = (row: CohortRow): Cohort => ({
  id: row.id,
  name: row.name,
  definition: typeof row.definition === 'string' ? (JSON.parse(row.definition) as CohortDefinition) : row.definition,
  pcnCode: row.pcn_code,
  owner: { email: row.owner_email, name: row.owner_name },
  version: row.version,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

/** Works across the area's PCNs: the hub's admin, and analysts (who never see a patient-level row that names anyone). */
const areaWide = (actor: Actor) => actor.role === 'admin' || actor.role === 'analyst';

/** May see identifiable rows at all (their rows are then each filtered by the access policy). */
export const seesPatients = (actor: Actor): boolean => policyOf(actor.role).reach !== 'none';

/** The actor works for this PCN (or across the area): may read and use its cohorts and worklists. */
export function assertInPcn(actor: Actor, pcnCode: string): void {
  if (areaWide(actor) || pcnCodesOf(actor).includes(pcnCode)) return;
  throw forbidden(`cohorts and worklists of ${pcnCode} are shared within that PCN; ${roleWords(actor.role)} of ${pcnCodesOf(actor).join(', ') || 'no PCN'} does not work for it`);
}

/** The PCN a new cohort or worklist belongs to: the one asked for (if the actor works for it), else the actor's own. */
export function pcnFor(actor: Actor, asked: string | undefined): string {
  const pcn = asked ?? pcnCodesOf(actor)[0];
  if (!pcn) throw new AppError('invalid', 'Select the PCN this is for', 'pcnCode');
  assertInPcn(actor, pcn);
  return pcn;
}

/** A cohort the actor may use, or a 404 / 403 naming why not. */
export async function loadCohort(db: Db, actor: Actor, id: string): Promise<Cohort> {
  const [row] = await db.query<CohortRow>(`SELECT ${COHORT_COLUMNS} FROM population_cohort WHERE id = $1`, [id]);
  if (!row) throw notFound('The cohort');
  const cohort = cohortOf(row);
  assertInPcn(actor, cohort.pcnCode);
  return cohort;
}

/** The practices of a PCN in effect today (the registry's rule), which a cohort of that PCN spans. */
export async function practicesOf(db: Db, pcnCode: string): Promise<string[]> {
  const rows = await db.query<{ ods: string }>('SELECT practice_ods AS ods FROM practice_membership_in_effect WHERE pcn_code = $1 ORDER BY 1', [pcnCode]);
  if (rows.length === 0) {
    const [pcn] = await db.query('SELECT 1 FROM pcn WHERE code = $1', [pcnCode]);
    if (!pcn) throw new AppError('not-found', `There is no PCN with the code ${pcnCode}`, 'pcnCode');
  }
  return rows.map((r) => r.ods);
}

/** Who did it and why, as the record's audit names them (a cohort is never opened with a break-glass reason). */
export const auditBy = (actor: Actor, request: { method: string; url: string; id?: string }, purpose: 'direct-care' | 'secondary-use' = 'direct-care') => auditAgent(actor, request, null, purpose);

/** One audit record of a change to a cohort or a worklist (not to anyone's record). */
export const auditChange = (
  tx: Db,
  actor: Actor,
  request: { method: string; url: string; id?: string },
  what: { action: string; entityType: string; entityId: string; pcnCode: string; summary: string },
) => recordAudit(tx, { ...auditBy(actor, request), ...what, detail: { request: `${request.method} ${request.url.slice(0, 500)}` } });

export const today = (): string => registryToday();
