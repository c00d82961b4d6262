/** Deletes a saved cohort (its owner or an admin) with its size history; worklists made from it stay, no longer linked. */
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { auditChange, loadCohort } from './cohort-store.ts';
import { assertOwner } from './update-cohort.ts';

export async function deleteCohort(db: Db, actor: Actor, id: string, request: { method: string; url: string; id?: string }): Promise<void> {
  const cohort = await loadCohort(db, actor, id);
  assertOwner(actor, cohort);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM population_cohort WHERE id = $1', [id]);
    await auditChange(tx, actor, request, { action: 'population.cohort.delete', entityType: 'Cohort', entityId: id, pcnCode: cohort.pcnCode, summary: `Deleted the cohort "${cohort.name}"` });
  });
}
