/**
 * The population dashboards' counts, per practice and measure, from the projection population_patient
 * (migration 080), counted at the end of each run as that month's point (population_dashboard_month,
 * migration 083): the latest month is the dashboards' "now", the months together their trend. Secondary use
 * leaves out patients with the national data opt-out, by the access module's own rule (OPTED_OUT_PATIENTS_SQL).
 */
import type { Db } from '../../storage/db.ts';
import { OPTED_OUT_PATIENTS_SQL } from '../access/index.ts';
import { RULES_VERSION } from './rules-version.ts';

export type DashboardPurpose = 'direct-care' | 'secondary-use';

/** A practice's counts by measure (`patients`, `efi:<band>`, `smr:priority`, `smr:refused`, `gap:<id>:open|closed`). */
export type PracticeCounts = Map<string, Map<string, number>>;

/**
 * Each scored patient of a practice once per measure they count in, with whether they opted out: set-wise (one
 * pass over the projection; the few opted-out patients found once, by OPTED_OUT_PATIENTS_SQL, and hash-joined),
 * where asking the opt-out probe of each patient took most of a minute at 1.1M.
 */
const MEASURE_ROWS = `WITH opted AS MATERIALIZED (${OPTED_OUT_PATIENTS_SQL}),
  p AS (SELECT p.practice_ods, p.efi_category, p.smr_priority, p.open_gaps, p.closed_gaps, o.patient_id IS NOT NULL AS opted
          FROM population_patient p LEFT JOIN opted o ON o.patient_id = p.patient_id
         WHERE p.practice_ods IS NOT NULL AND p.rules_version = $3)
  SELECT practice_ods, opted, 'patients' AS measure FROM p
  UNION ALL SELECT practice_ods, opted, 'efi:' || efi_category FROM p WHERE efi_category IS NOT NULL
  UNION ALL SELECT practice_ods, opted, 'smr:priority' FROM p WHERE smr_priority
  UNION ALL SELECT practice_ods, opted, 'smr:refused' FROM p WHERE smr_priority IS NULL
  UNION ALL SELECT practice_ods, opted, 'gap:' || g || ':open' FROM p CROSS JOIN LATERAL unnest(p.open_gaps) g
  UNION ALL SELECT practice_ods, opted, 'gap:' || g || ':closed' FROM p CROSS JOIN LATERAL unnest(p.closed_gaps) g`;

export interface CurrentCounts {
  counts: PracticeCounts;
  /** The as-of day of the run the counts are from; null before any run. */
  asOf: string | null;
}

/**
 * The practices' counts as the latest run left them (this month's point of the trend): a read of a few hundred
 * rows by the table's key, whatever the population's size. A live GROUP BY over population_patient took 0.5 s
 * for a PCN and 9 s for the area at 1.1M patients (30 s with the opt-out probe per patient), far over the 300 ms
 * the dashboards may take; the cost is that a change the follower re-scores shows at the next run.
 */
export async function practiceCounts(db: Db, practices: readonly string[], purpose: DashboardPurpose, signal?: AbortSignal): Promise<CurrentCounts> {
  const rows = await db.query<{ practice_ods: string; measure: string; count: number; as_of: string }>(
    `SELECT d.practice_ods, d.measure, d.count, to_char(r.as_of, 'YYYY-MM-DD') AS as_of
       FROM population_dashboard_month d JOIN population_run r ON r.id = d.run_id
      WHERE d.practice_ods = ANY($1::text[]) AND d.purpose = $2
        AND d.month = (SELECT max(month) FROM population_dashboard_month WHERE practice_ods = ANY($1::text[]) AND purpose = $2)`,
    [practices, purpose],
    { signal },
  );
  const asOf = rows.reduce<string | null>((latest, r) => (latest === null || r.as_of > latest ? r.as_of : latest), null);
  return { counts: byPractice(rows.map((r) => ({ practice: r.practice_ods, measure: r.measure, n: r.count }))), asOf };
}

function byPractice(rows: Iterable<{ practice: string; measure: string; n: number }>): PracticeCounts {
  const counts: PracticeCounts = new Map();
  for (const { practice, measure, n } of rows) {
    let measures = counts.get(practice);
    if (!measures) counts.set(practice, (measures = new Map()));
    measures.set(measure, n);
  }
  return counts;
}

/**
 * This month's point of every practice's trend, from the results as they stand at the end of run `runId`
 * (both purposes in one pass): replaces any earlier run's point for the month, in one transaction.
 */
export async function snapshotDashboardMonth(db: Db, runId: number, asOf: string): Promise<void> {
  const month = `${asOf.slice(0, 7)}-01`;
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM population_dashboard_month WHERE month = $1::date', [month]);
    await tx.query(
      `INSERT INTO population_dashboard_month (month, practice_ods, purpose, measure, count, run_id, rules_version)
       SELECT $1::date, c.practice_ods, u.purpose, c.measure, u.n, $2, $3
         FROM (SELECT m.practice_ods, m.measure, count(*)::int AS direct, (count(*) FILTER (WHERE NOT m.opted))::int AS secondary
                 FROM (${MEASURE_ROWS}) m
                GROUP BY 1, 2) c
         CROSS JOIN LATERAL (VALUES ('direct-care', c.direct), ('secondary-use', c.secondary)) u(purpose, n)`,
      [month, runId, RULES_VERSION],
    );
  });
}

/** The practices' monthly counts, oldest month first: month (`YYYY-MM`) → practice → measure → count. */
export async function practiceSeries(db: Db, practices: readonly string[], purpose: DashboardPurpose, signal?: AbortSignal): Promise<Map<string, PracticeCounts>> {
  const rows = await db.query<{ month: string; practice_ods: string; measure: string; count: number }>(
    `SELECT to_char(month, 'YYYY-MM') AS month, practice_ods, measure, count FROM population_dashboard_month
      WHERE practice_ods = ANY($1::text[]) AND purpose = $2 ORDER BY month`,
    [practices, purpose],
    { signal },
  );
  const series = new Map<string, Array<{ practice: string; measure: string; n: number }>>();
  for (const row of rows) {
    const month = series.get(row.month) ?? [];
    month.push({ practice: row.practice_ods, measure: row.measure, n: row.count });
    series.set(row.month, month);
  }
  return new Map([...series].map(([month, monthRows]) => [month, byPractice(monthRows)]));
}
