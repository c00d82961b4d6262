/**
 * The figures of each service from its own referrals (docs/coordination.md, "Timing carried on the workflow
 * Task"), read from the projection kept by keep-current.ts: one grouped statement over the services' rows,
 * by the (service_id, status) index, so a page of services costs one query however many referrals they hold.
 */
import type { Db } from '../../storage/db.ts';
import type { ServiceFigures } from './types.ts';

/** A referral is open in these Task states (sent, not yet finished). */
export const OPEN_STATES = ['requested', 'received', 'accepted', 'in-progress', 'on-hold'] as const;
/** Accepted or later: the service took it on (whatever happened after). */
export const ACCEPTED_STATES = ['accepted', 'in-progress', 'completed', 'failed'] as const;

type Counts = Omit<ServiceFigures, 'capacity'>;

export const NO_FIGURES: Counts = { medianHoursToAccept: null, shareAccepted: null, accepted: 0, rejected: 0, openReferrals: 0 };

interface FiguresRow {
  service_id: string;
  open: number;
  accepted: number;
  rejected: number;
  median_seconds: number | null;
}

/** Figures per service id (services without referrals get NO_FIGURES). */
export async function serviceFigures(db: Db, serviceIds: readonly string[]): Promise<Map<string, Counts>> {
  const figures = new Map<string, Counts>(serviceIds.map((id) => [id, NO_FIGURES]));
  if (serviceIds.length === 0) return figures;
  const rows = await db.query<FiguresRow>(
    `SELECT service_id,
            count(*) FILTER (WHERE status = ANY($2::text[]))::int AS open,
            count(*) FILTER (WHERE accepted_at IS NOT NULL OR status = ANY($3::text[]))::int AS accepted,
            count(*) FILTER (WHERE status = 'rejected' AND accepted_at IS NULL)::int AS rejected,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM accepted_at - authored_on))
              FILTER (WHERE accepted_at IS NOT NULL AND authored_on IS NOT NULL AND accepted_at >= authored_on) AS median_seconds
       FROM service_referral WHERE service_id = ANY($1::text[]) GROUP BY service_id`,
    [serviceIds, OPEN_STATES, ACCEPTED_STATES],
  );
  for (const row of rows) {
    const decided = row.accepted + row.rejected;
    figures.set(row.service_id, {
      medianHoursToAccept: row.median_seconds === null ? null : Math.round((Number(row.median_seconds) / 3600) * 10) / 10,
      shareAccepted: decided === 0 ? null : row.accepted / decided,
      accepted: row.accepted,
      rejected: row.rejected,
      openReferrals: row.open,
    });
  }
  return figures;
}
