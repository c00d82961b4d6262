/**
 * The stored results (population_result, migration 078) and their projection for cohorts and dashboards
 * (population_patient, migration 080): written together a batch at a time, read one patient at a time.
 */
import { createHash } from 'node:crypto';
import { jsonTexts, jsonTextsSql } from '../../shared/json.ts';
import type { Db } from '../../storage/db.ts';
import type { PopulationResult } from './results.ts';
import { isRefusal } from './types.ts';

/** The projection's row of one result, as the columns of population_patient. */
function projection(r: PopulationResult) {
  const efi = r.efi === null ? null : isRefusal(r.efi) ? { category: 'refused', score: null } : { category: r.efi.category, score: r.efi.score };
  const gaps = (status: string) => JSON.stringify(r.careGaps.filter((g) => 'status' in g && g.status === status).map((g) => g.id));
  return {
    practice: r.profile.practice ?? null,
    birthDate: r.profile.birthDate ?? null,
    gender: r.profile.gender ?? null,
    postcode: r.profile.postcode ?? null,
    efiCategory: efi?.category ?? null,
    efiScore: efi?.score ?? null,
    smrPriority: isRefusal(r.smr) ? null : r.smr.priority,
    ltcCount: r.multimorbidity.count,
    openGaps: gaps('open'),
    closedGaps: gaps('closed'),
    careHome: r.profile.careHome,
    housebound: r.profile.housebound,
    lastContact: r.profile.lastContact ?? null,
  };
}

/** What a result says, as a short hash: all of it but its as-of day (a run writes only results that say something new). */
export function resultSays(result: PopulationResult): string {
  return createHash('sha1')
    .update(JSON.stringify({ ...result, asOf: '' }))
    .digest('base64');
}

/** Replaces each patient's result under its rule set version (with what it says: resultSays), in one statement. */
export async function saveResults(tx: Db, items: readonly { result: PopulationResult; says: string }[]): Promise<void> {
  if (items.length === 0) return;
  const results = items.map((i) => i.result);
  await tx.query(
    `INSERT INTO population_result (patient_id, rules_version, as_of, result, says, computed_at)
     SELECT patient_id, rules_version, as_of::date, result::jsonb, says, now()
       FROM unnest($1::text[], $2::text[], $3::text[], ${jsonTextsSql('$4')}, $5::text[]) AS t(patient_id, rules_version, as_of, result, says)
     ON CONFLICT (patient_id, rules_version) DO UPDATE SET as_of = excluded.as_of, result = excluded.result, says = excluded.says, computed_at = excluded.computed_at`,
    [results.map((r) => r.patientId), results.map((r) => r.rulesVersion), results.map((r) => r.asOf), jsonTexts(results), items.map((i) => i.says)],
  );
  const rows = results.map(projection);
  const column = <K extends keyof ReturnType<typeof projection>>(key: K) => rows.map((row) => row[key]);
  await tx.query(
    `INSERT INTO population_patient (patient_id, rules_version, as_of, practice_ods, birth_date, gender, postcode, efi_category, efi_score, smr_priority,
                                     ltc_count, open_gaps, closed_gaps, care_home, housebound, last_contact, computed_at)
     SELECT t.patient_id, t.rules_version, t.as_of::date, t.practice_ods, t.birth_date::date, t.gender, t.postcode, t.efi_category, t.efi_score, t.smr_priority,
            t.ltc_count, ARRAY(SELECT jsonb_array_elements_text(t.open_gaps::jsonb)), ARRAY(SELECT jsonb_array_elements_text(t.closed_gaps::jsonb)),
            t.care_home, t.housebound, t.last_contact::date, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::numeric[], $10::boolean[],
                   $11::int[], $12::text[], $13::text[], $14::boolean[], $15::boolean[], $16::text[])
         AS t(patient_id, rules_version, as_of, practice_ods, birth_date, gender, postcode, efi_category, efi_score, smr_priority,
              ltc_count, open_gaps, closed_gaps, care_home, housebound, last_contact)
     ON CONFLICT (patient_id) DO UPDATE SET rules_version = excluded.rules_version, as_of = excluded.as_of, practice_ods = excluded.practice_ods,
       birth_date = excluded.birth_date, gender = excluded.gender, postcode = excluded.postcode, efi_category = excluded.efi_category,
       efi_score = excluded.efi_score, smr_priority = excluded.smr_priority, ltc_count = excluded.ltc_count, open_gaps = excluded.open_gaps,
       closed_gaps = excluded.closed_gaps, care_home = excluded.care_home, housebound = excluded.housebound, last_contact = excluded.last_contact,
       computed_at = excluded.computed_at`,
    [
      results.map((r) => r.patientId),
      results.map((r) => r.rulesVersion),
      results.map((r) => r.asOf),
      column('practice'),
      column('birthDate'),
      column('gender'),
      column('postcode'),
      column('efiCategory'),
      column('efiScore'),
      column('smrPriority'),
      column('ltcCount'),
      column('openGaps'),
      column('closedGaps'),
      column('careHome'),
      column('housebound'),
      column('lastContact'),
    ],
  );
}

/** Forgets these patients' results (their record is gone, or could not be scored: no stale answer is served). */
export async function removeResults(tx: Db, patientIds: readonly string[]): Promise<void> {
  if (patientIds.length === 0) return;
  await tx.query('DELETE FROM population_result WHERE patient_id = ANY($1::text[])', [patientIds]);
  await tx.query('DELETE FROM population_patient WHERE patient_id = ANY($1::text[])', [patientIds]);
}

export interface StoredResult {
  result: PopulationResult;
  computedAt: string;
}

/** A patient's result under this rule set version, or undefined when they have none yet. */
export async function storedResult(db: Db, patientId: string, rulesVersion: string): Promise<StoredResult | undefined> {
  return (await storedResults(db, [patientId], rulesVersion)).get(patientId);
}

/**
 * The stored results of several patients in one query, by patient id; a patient not yet scored is absent. A
 * result the latest finished run left as it was (it found the same) holds as of that run's day: its `asOf` says
 * so (as population_patient_now does for cohorts).
 */
export async function storedResults(db: Db, patientIds: string[], rulesVersion: string): Promise<Map<string, StoredResult>> {
  const out = new Map<string, StoredResult>();
  if (patientIds.length === 0) return out;
  const rows = await db.query<{ patient_id: string; result: PopulationResult | string; computed_at: Date | string; as_of: string }>(
    `SELECT p.patient_id, p.result, p.computed_at,
            to_char(CASE WHEN r.started_at > p.computed_at AND r.as_of > p.as_of THEN r.as_of ELSE p.as_of END, 'YYYY-MM-DD') AS as_of
       FROM population_result p
       LEFT JOIN (SELECT rules_version, as_of, started_at FROM population_run WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1) r
         ON r.rules_version = p.rules_version
      WHERE p.patient_id = ANY($1::text[]) AND p.rules_version = $2`,
    [patientIds, rulesVersion],
  );
  for (const row of rows) {
    const result = typeof row.result === 'string' ? (JSON.parse(row.result) as PopulationResult) : row.result;
    out.set(row.patient_id, { result: { ...result, asOf: row.as_of }, computedAt: new Date(row.computed_at).toISOString() });
  }
  return out;
}
