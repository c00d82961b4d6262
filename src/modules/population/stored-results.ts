/** The stored results (population_result, migration 078): written a batch at a time, read one patient at a time. */
import type { Db } from '../../storage/db.ts';
import type { PopulationResult } from './results.ts';

/** Replaces each patient's result under its rule set version, in one statement. */
export async function saveResults(tx: Db, results: readonly PopulationResult[]): Promise<void> {
  if (results.length === 0) return;
  await tx.query(
    `INSERT INTO population_result (patient_id, rules_version, as_of, result, computed_at)
     SELECT patient_id, rules_version, as_of::date, result::jsonb, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(patient_id, rules_version, as_of, result)
     ON CONFLICT (patient_id, rules_version) DO UPDATE SET as_of = excluded.as_of, result = excluded.result, computed_at = excluded.computed_at`,
    [results.map((r) => r.patientId), results.map((r) => r.rulesVersion), results.map((r) => r.asOf), results.map((r) => JSON.stringify(r))],
  );
}

/** Forgets these patients' results (their record is gone, or could not be scored: no stale answer is served). */
export async function removeResults(tx: Db, patientIds: readonly string[]): Promise<void> {
  if (patientIds.length > 0) await tx.query('DELETE FROM population_result WHERE patient_id = ANY($1::text[])', [patientIds]);
}

export interface StoredResult {
  result: PopulationResult;
  computedAt: string;
}

/** A patient's result under this rule set version, or undefined when they have none yet. */
export async function storedResult(db: Db, patientId: string, rulesVersion: string): Promise<StoredResult | undefined> {
  const [row] = await db.query<{ result: PopulationResult | string; computed_at: Date | string }>('SELECT result, computed_at FROM population_result WHERE patient_id = $1 AND rules_version = $2', [
    patientId,
    rulesVersion,
  ]);
  if (!row) return undefined;
  const result = typeof row.result === 'string' ? (JSON.parse(row.result) as PopulationResult) : row.result;
  return { result, computedAt: new Date(row.computed_at).toISOString() };
}
