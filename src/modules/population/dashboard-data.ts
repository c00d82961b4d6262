/**
 * The population dashboards' counts, per practice and measure, from the projection population_patient
 * (migration 080): read live for the current view (one GROUP BY over the practices' rows by the practice
 * index), and written at the end of each run as that month's point of the trend (population_dashboard_month,
 * migration 083). Secondary use leaves out patients with the national data opt-out, decided by the access
 * module's own probe (`access_opted_out`, migration 062), the same rule every other secondary-use read asks.
 */
import type { Db } from '../../storage/db.ts';
import { RULES_VERSION } from './rules-version.ts';

export type DashboardPurpose = 'direct-care' | 'secondary-use';

/** A practice's counts by measure (`patients`, `efi:<band>`, `smr:priority`, `smr:refused`, `gap:<id>:open|closed`). */
export type PracticeCounts = Map<string, Map<string, number>>;

/** Each patient once per measure they count in; with the opt-out, `o.opted` is asked once a patient, not once a measure. */
const measuresFrom = (optOut: boolean) => `population_patient p${optOut ? '\n  CROSS JOIN LATERAL (SELECT access_opted_out(p.patient_id) AS opted) o' : ''}
  CROSS JOIN LATERAL (
    SELECT 'patients'
    UNION ALL SELECT 'efi:' || p.efi_category WHERE p.efi_category IS NOT NULL
    UNION ALL SELECT 'smr:priority' WHERE p.smr_priority
    UNION ALL SELECT 'smr:refused' WHERE p.smr_priority IS NULL
    UNION ALL SELECT 'gap:' || g || ':open' FROM unnest(p.open_gaps) g
    UNION ALL SELECT 'gap:' || g || ':closed' FROM unnest(p.closed_gaps) g
  ) m(measure)`;

/** The practices' counts now (the results as last stored), for one purpose. */
export async function practiceCounts(db: Db, practices: readonly string[], purpose: DashboardPurpose, signal?: AbortSignal): Promise<PracticeCounts> {
  const rows = await db.query<{ practice_ods: string; measure: string; n: number }>(
    `SELECT p.practice_ods, m.measure, count(*)::int AS n
       FROM ${measuresFrom(purpose === 'secondary-use')}
      WHERE p.practice_ods = ANY($1::text[]) AND p.rules_version = $2${purpose === 'secondary-use' ? ' AND NOT o.opted' : ''}
      GROUP BY 1, 2`,
    [practices, RULES_VERSION],
    { signal },
  );
  return byPractice(rows.map((r) => ({ practice: r.practice_ods, measure: r.measure, n: r.n })));
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
         FROM (SELECT p.practice_ods, m.measure, count(*)::int AS direct, (count(*) FILTER (WHERE NOT o.opted))::int AS secondary
                 FROM ${measuresFrom(true)}
                WHERE p.practice_ods IS NOT NULL AND p.rules_version = $3
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
