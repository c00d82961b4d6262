/**
 * Break-glass: a written reason opens ONE patient's record to ONE user for a limited time (4 hours
 * unless PCN_BREAK_GLASS_HOURS says otherwise). Each opening is a row here (who, whose record, why,
 * until when) and the request that opened it carries the reason into the audit; the IG lead reviews
 * them all. A grant never widens a search: it adds that one patient to what the user may see.
 */
import { AppError, forbidden, invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from './actor.ts';
import { policyOf, roleWords } from './policy.ts';

export const BREAK_GLASS_HOURS = 4;
export const MIN_BREAK_GLASS_REASON = 10;
export const MAX_BREAK_GLASS_REASON = 500;

export interface BreakGlassGrant {
  id: string;
  patientId: string;
  reason: string;
  openedAt: string;
  expiresAt: string;
}

/** The reason as given, or a 422 saying what is wrong with it. */
export function checkBreakGlassReason(reason: string | null | undefined): string {
  const text = (reason ?? '').trim();
  if (text.length < MIN_BREAK_GLASS_REASON) throw invalid('reason', `say why you need to see this record: at least ${MIN_BREAK_GLASS_REASON} characters`);
  if (text.length > MAX_BREAK_GLASS_REASON) throw invalid('reason', `the reason must be ${MAX_BREAK_GLASS_REASON} characters or fewer`);
  return text;
}

/**
 * Opens (or renews) the actor's break-glass grant for one patient, in the transaction given. The caller
 * has found the patient; the reason reaches the audit through the request context.
 */
export async function openBreakGlass(db: Db, actor: Actor, patientId: string, reason: string, hours = BREAK_GLASS_HOURS): Promise<BreakGlassGrant> {
  const policy = policyOf(actor.role);
  if (!policy.breakGlass) throw forbidden(`${roleWords(actor.role)} cannot open a record in an emergency (break-glass is for clinicians)`);
  const text = checkBreakGlassReason(reason);
  const [grant] = await db.query<BreakGlassGrant>(
    `INSERT INTO break_glass_grant (user_id, patient_id, reason, expires_at) VALUES ($1, $2, $3, now() + make_interval(mins => $4))
     RETURNING id, patient_id AS "patientId", reason,
               to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "openedAt",
               to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "expiresAt"`,
    [actor.id, patientId, text, Math.round(hours * 60)],
  );
  if (!grant) throw new AppError('unavailable', 'the break-glass grant was not stored');
  return grant;
}

/** The user's open grant for a patient, if any (the latest). */
export async function openGrantOf(db: Db, actor: Actor, patientId: string): Promise<BreakGlassGrant | undefined> {
  const [grant] = await db.query<BreakGlassGrant>(
    `SELECT id, patient_id AS "patientId", reason,
            to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "openedAt",
            to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "expiresAt"
       FROM break_glass_grant WHERE user_id = $1 AND patient_id = $2 AND expires_at > now() ORDER BY expires_at DESC LIMIT 1`,
    [actor.id, patientId],
  );
  return grant;
}

export interface BreakGlassReviewItem extends BreakGlassGrant {
  email: string;
  name: string;
  role: string;
  org: string | null;
  open: boolean;
}

/** Every break-glass opening since a time, newest first: the IG lead's review list. */
export async function breakGlassReview(db: Db, options: { since?: string; limit?: number } = {}): Promise<BreakGlassReviewItem[]> {
  return db.query<BreakGlassReviewItem>(
    `SELECT b.id, b.patient_id AS "patientId", b.reason,
            to_char(b.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "openedAt",
            to_char(b.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "expiresAt",
            u.email, u.name, u.role, u.org_code AS org, b.expires_at > now() AS open
       FROM break_glass_grant b JOIN app_user u ON u.id = b.user_id
      WHERE ($1::timestamptz IS NULL OR b.opened_at >= $1)
      ORDER BY b.opened_at DESC LIMIT $2`,
    [options.since ?? null, Math.min(options.limit ?? 1000, 10_000)],
  );
}
