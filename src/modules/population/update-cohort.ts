/** Changes a saved cohort's name or definition (its owner or an admin), naming the version it was changed from: a change in between is a 409, never lost. */
import { z } from 'zod';
import { conflict, forbidden } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { assertAnswerable, cohortDefinition } from './cohort-definition.ts';
import { auditChange, COHORT_COLUMNS, type Cohort, cohortOf, loadCohort } from './cohort-store.ts';
import { cohortName } from './save-cohort.ts';

export const updateCohortInput = z.object({ name: cohortName.optional(), definition: cohortDefinition.optional(), version: z.number().int().min(1) }).strict();
export type UpdateCohortInput = z.output<typeof updateCohortInput>;

/** Only the person who saved a cohort (or an admin) changes or deletes it; the rest of the PCN uses it. */
export function assertOwner(actor: Actor, cohort: Cohort): void {
  if (actor.role !== 'admin' && actor.email !== cohort.owner.email) throw forbidden(`only ${cohort.owner.name}, who saved the cohort "${cohort.name}", may change or delete it`);
}

export async function updateCohort(db: Db, actor: Actor, id: string, input: UpdateCohortInput, request: { method: string; url: string; id?: string }): Promise<Cohort> {
  if (input.definition) assertAnswerable(input.definition);
  const cohort = await loadCohort(db, actor, id);
  assertOwner(actor, cohort);
  return db.transaction(async (tx) => {
    const [row] = await tx.query<Parameters<typeof cohortOf>[0]>(
      `UPDATE population_cohort SET name = coalesce($2, name), definition = coalesce($3::jsonb, definition), version = version + 1, updated_at = now()
        WHERE id = $1 AND version = $4 RETURNING ${COHORT_COLUMNS}`,
      [id, input.name ?? null, input.definition ? JSON.stringify(input.definition) : null, input.version],
    );
    if (!row) {
      const [now] = await tx.query<{ version: number; updated_at: Date }>('SELECT version, updated_at FROM population_cohort WHERE id = $1', [id]);
      throw conflict(`the cohort was changed by someone else since version ${input.version}: it is now at version ${now?.version ?? 'deleted'}; reload it and make your change again`, 'version');
    }
    const saved = cohortOf(row);
    await auditChange(tx, actor, request, { action: 'population.cohort.update', entityType: 'Cohort', entityId: id, pcnCode: saved.pcnCode, summary: `Changed the cohort "${saved.name}"` });
    return saved;
  });
}
