/** Saves a new cohort for a PCN: its name and definition (checked, and refused when it asks for data the hub lacks), owned by the actor; audited. */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { assertAnswerable, cohortDefinition } from './cohort-definition.ts';
import { auditChange, COHORT_COLUMNS, type Cohort, cohortOf, pcnFor } from './cohort-store.ts';
import { wordsField } from '../../shared/schemas.ts';

export const cohortName = wordsField('Enter a name for the cohort', 200, 'A cohort name is at most 200 characters');

export const saveCohortInput = z.object({ name: cohortName, definition: cohortDefinition, pcnCode: z.string().trim().toUpperCase().optional() }).strict();
export type SaveCohortInput = z.output<typeof saveCohortInput>;

export async function saveCohort(db: Db, actor: Actor, input: SaveCohortInput, request: { method: string; url: string; id?: string }): Promise<Cohort> {
  assertAnswerable(input.definition);
  const pcnCode = pcnFor(actor, input.pcnCode);
  return db.transaction(async (tx) => {
    const [row] = await tx.query<Parameters<typeof cohortOf>[0]>(
      `INSERT INTO population_cohort (id, name, definition, pcn_code, owner_email, owner_name, pseudonym_key) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) RETURNING ${COHORT_COLUMNS}`,
      [randomUUID(), input.name, JSON.stringify(input.definition), pcnCode, actor.email, actor.name, randomBytes(32).toString('base64url')],
    );
    const cohort = cohortOf(row!);
    await auditChange(tx, actor, request, { action: 'population.cohort.create', entityType: 'Cohort', entityId: cohort.id, pcnCode, summary: `Saved the cohort "${cohort.name}" for ${pcnCode}` });
    return cohort;
  });
}
