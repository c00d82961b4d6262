/**
 * Makes a worklist from a saved cohort: the cohort's patients now (every one it matches in its PCN, whoever makes
 * the list; each person working it sees only the rows whose record they may open), assigned to a role, for a purpose
 * (a care gap or a medication review), each patient "to contact". Audited.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SqlParams } from '../../fhir-store/index.ts';
import { AppError } from '../../shared/errors.ts';
import { forPeople, wordsField } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { careGapNames } from './care-gaps.ts';
import { cohortSql } from './cohort-definition.ts';
import { auditChange, loadCohort, practicesOf } from './cohort-store.ts';
import { SMR_PURPOSE, type Worklist, WORKLIST_COLUMNS, WORKLIST_ROLES, worklistOf } from './worklist-store.ts';

/** A list is a piece of work, not the area: a cohort bigger than this is narrowed first. */
export const WORKLIST_LIMIT = 5_000;

export const createWorklistInput = z
  .object({
    cohortId: z.uuid(forPeople('Select the cohort the worklist is made from')),
    name: wordsField('Enter a name for the worklist', 200),
    purpose: z
      .string()
      .refine((p) => p === SMR_PURPOSE || careGapNames().some((gap) => gap.id === p), { message: forPeople('Select what the worklist is for: a care gap, or a structured medication review (smr)') }),
    role: z.enum(WORKLIST_ROLES, forPeople('Select the role the worklist is for: care coordinator, clinical pharmacist, social prescribing link worker or social worker')),
    orgCode: z.string().trim().toUpperCase().max(20).optional(),
  })
  .strict();
export type CreateWorklistInput = z.output<typeof createWorklistInput>;

export async function createWorklist(db: Db, actor: Actor, input: CreateWorklistInput, request: { method: string; url: string; id?: string }): Promise<Worklist & { patients: number }> {
  const cohort = await loadCohort(db, actor, input.cohortId);
  if (actor.role === 'analyst') throw new AppError('forbidden', 'an analyst sees aggregates only, so does not make worklists of patients');
  const params = new SqlParams();
  const where = cohortSql(cohort.definition, params.add(await practicesOf(db, cohort.pcnCode)), params);
  return db.transaction(async (tx) => {
    const [{ n }] = (await tx.query<{ n: number | string }>(`SELECT count(*) AS n FROM population_patient_now p WHERE ${where}`, params.values)) as [{ n: number | string }];
    if (Number(n) > WORKLIST_LIMIT) throw new AppError('invalid', `the cohort "${cohort.name}" holds ${n} patients: narrow it to ${WORKLIST_LIMIT} or fewer to make a worklist`, 'cohortId');
    const [row] = await tx.query<Parameters<typeof worklistOf>[0]>(
      `INSERT INTO population_worklist (id, name, cohort_id, purpose, role, pcn_code, org_code, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${WORKLIST_COLUMNS}`,
      [randomUUID(), input.name, cohort.id, input.purpose, input.role, cohort.pcnCode, input.orgCode ?? actor.orgCode, actor.email],
    );
    const worklist = worklistOf(row!);
    const id = params.add(worklist.id);
    const added = await tx.query(
      `INSERT INTO population_worklist_patient (worklist_id, patient_id) SELECT ${id}::uuid, p.patient_id FROM population_patient_now p WHERE ${where} RETURNING patient_id`,
      params.values,
    );
    await auditChange(tx, actor, request, {
      action: 'population.worklist.create',
      entityType: 'Worklist',
      entityId: worklist.id,
      pcnCode: cohort.pcnCode,
      summary: `Made the worklist "${worklist.name}" of ${added.length} patient(s) from the cohort "${cohort.name}" for the ${input.role} role`,
    });
    return { ...worklist, patients: added.length };
  });
}
