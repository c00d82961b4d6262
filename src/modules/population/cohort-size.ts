/**
 * How many patients a cohort holds now, and its size over time. Counting is an aggregate: a direct-care role sees the
 * exact count over the cohort's practices; a role that sees no patient-level rows (an analyst, a manager) sees a
 * secondary-use count — patients who opted out of secondary use (the national data opt-out) left out — with 1 to 4
 * suppressed. A saved cohort's size is kept once a day (the day's last count), so the trend needs no job.
 */
import { z } from 'zod';
import { SqlParams } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { assertAnswerable, type CohortDefinition, cohortDefinition, cohortSql } from './cohort-definition.ts';
import { type Cohort, loadCohort, pcnFor, practicesOf, seesPatients, today } from './cohort-store.ts';

/** Counts below this (and above zero) are not shown to those who see aggregates only. */
export const SUPPRESS_BELOW = 5;

/** A count as the viewer may see it: `size` null when suppressed. */
export interface CohortCount {
  size: number | null;
  suppressed: boolean;
  /** direct-care: everyone the definition matches; secondary-use: those who opted out left out. */
  purpose: 'direct-care' | 'secondary-use';
}

export interface CohortSize extends CohortCount {
  trend: Array<{ day: string; size: number | null; suppressed: boolean }>;
}

const shown = (size: number, aggregatesOnly: boolean) => (aggregatesOnly && size > 0 && size < SUPPRESS_BELOW ? { size: null, suppressed: true } : { size, suppressed: false });

/** The national data opt-out on a population_patient row (`p`), as the access module's probe answers it. */
export const NOT_OPTED_OUT = 'NOT access_opted_out(p.patient_id)';

async function count(db: Db, definition: CohortDefinition, pcnCode: string, purpose: CohortCount['purpose']): Promise<number> {
  const params = new SqlParams();
  const where = cohortSql(definition, params.add(await practicesOf(db, pcnCode)), params);
  const [row] = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM population_patient_now p WHERE ${where}${purpose === 'secondary-use' ? ` AND ${NOT_OPTED_OUT}` : ''}`, params.values);
  return Number(row?.n ?? 0);
}

const purposeOf = (actor: Actor): CohortCount['purpose'] => (seesPatients(actor) ? 'direct-care' : 'secondary-use');

export const previewCohortInput = z.object({ definition: cohortDefinition, pcnCode: z.string().trim().toUpperCase().optional() }).strict();
export type PreviewCohortInput = z.output<typeof previewCohortInput>;

/** The size of a definition not saved yet (the builder's "how many now"). */
export async function previewCohortSize(db: Db, actor: Actor, input: PreviewCohortInput): Promise<CohortCount> {
  assertAnswerable(input.definition);
  const purpose = purposeOf(actor);
  const size = await count(db, input.definition, pcnFor(actor, input.pcnCode), purpose);
  return { ...shown(size, purpose === 'secondary-use'), purpose };
}

/** A saved cohort with its size now (kept as today's size) and its sizes on earlier days. */
export async function readCohort(db: Db, actor: Actor, id: string): Promise<Cohort & { size: CohortSize }> {
  const cohort = await loadCohort(db, actor, id);
  return { ...cohort, size: await sizeOf(db, actor, cohort) };
}

export async function sizeOf(db: Db, actor: Actor, cohort: Cohort): Promise<CohortSize> {
  const purpose = purposeOf(actor);
  const aggregatesOnly = purpose === 'secondary-use';
  const size = await count(db, cohort.definition, cohort.pcnCode, purpose);
  // The history keeps the direct-care size (everyone matched), whoever asked; suppression is applied when shown.
  const kept = aggregatesOnly ? await count(db, cohort.definition, cohort.pcnCode, 'direct-care') : size;
  await db.query(
    `INSERT INTO population_cohort_size (cohort_id, day, size, at) VALUES ($1, $2::date, $3, now())
     ON CONFLICT (cohort_id, day) DO UPDATE SET size = excluded.size, at = excluded.at`,
    [cohort.id, today(), kept],
  );
  const history = await db.query<{ day: string; size: number }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day, size FROM population_cohort_size WHERE cohort_id = $1 ORDER BY day`, [cohort.id]);
  // An aggregates-only viewer's trend is of everyone matched (the opt-out applies to their current count and any rows).
  return { ...shown(size, aggregatesOnly), purpose, trend: history.map((h) => ({ day: h.day, ...shown(h.size, aggregatesOnly) })) };
}
