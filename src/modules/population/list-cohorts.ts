/** The saved cohorts of the PCNs the actor works for (every PCN's for an admin or analyst), by name. */
import type { Db } from '../../storage/db.ts';
import { type Actor, pcnCodesOf } from '../access/index.ts';
import { COHORT_COLUMNS, type Cohort, cohortOf } from './cohort-store.ts';

export async function listCohorts(db: Db, actor: Actor): Promise<Cohort[]> {
  const everyPcn = actor.role === 'admin' || actor.role === 'analyst';
  const rows = await db.query<Parameters<typeof cohortOf>[0]>(`SELECT ${COHORT_COLUMNS} FROM population_cohort WHERE $1 OR pcn_code = ANY($2::text[]) ORDER BY pcn_code, lower(name), id`, [
    everyPcn,
    [...pcnCodesOf(actor)],
  ]);
  return rows.map(cohortOf);
}
