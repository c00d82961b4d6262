/**
 * Reading the audit log: a patient's "who looked at my record", and the IG lead's review of break-glass
 * uses and unusual access.
 */
import { spreadsheetCsv } from '../../shared/csv.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { organisationNameSql } from './organisation-names.ts';
import { recordAudit } from './record.ts';

/** Who may review the audit log of anyone's record: one place to add a role (the IG lead's `ig-lead`). */
export function mayReviewAudit(actor: Pick<Actor, 'role'>): boolean {
  return actor.role === 'admin' || actor.role === 'ig-lead';
}

export interface AccessLogEntry {
  at: string;
  organisation: string | null;
  /** The registry's name for the organisation (PCN, practice or partner), so no one reads a bare code. */
  organisationName: string | null;
  role: string | null;
  /** read, search, create, update, delete, history (one request may do several), or 'viewed the access log' */
  action: string;
  outcome: 'success' | 'denied' | 'error';
  purpose: string | null;
  breakGlassReason: string | null;
}

export interface AccessLogPage {
  entries: AccessLogEntry[];
  page: number;
  pageSize: number;
  hasMore: boolean;
}

const AT = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** Who reads the audit log, as the audit names them (a person, or a backend client acting), and the request. */
export interface AuditReader {
  actor: Pick<Actor, 'email' | 'orgCode' | 'role'> & { clientId?: string | null };
  requestId?: string | null;
}

const ACCESS_LOG_VIEW = 'audit.access-log';

/**
 * Every request that touched this patient's record, newest first: the organisation, role, when and why (not
 * who by name). Seeing who looked is itself a look at the record's story, so the view is recorded too (and
 * appears on the log from the next view on).
 */
export async function accessLog(db: Db, reader: AuditReader, patientId: string, page = 1, pageSize = 50): Promise<AccessLogPage> {
  const rows = await db.query<AccessLogEntry>(
    `SELECT ${AT} AS at, org_code AS organisation, ${organisationNameSql('org_code')} AS "organisationName", role,
            CASE WHEN action = '${ACCESS_LOG_VIEW}' THEN 'viewed the access log' ELSE replace(substr(action, 6), '+', ', ') END AS action,
            outcome, purpose, break_glass_reason AS "breakGlassReason"
       FROM audit_event WHERE patient_ids @> ARRAY[$1]::text[] ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3`,
    [patientId, pageSize + 1, (page - 1) * pageSize],
  );
  await recordAudit(db, {
    ...readerOf(reader),
    action: ACCESS_LOG_VIEW,
    entityType: 'Patient',
    entityId: patientId,
    summary: `Viewed the access log of Patient/${patientId} (page ${page})`,
    purpose: mayReviewAudit(reader.actor) ? 'audit-review' : 'direct-care',
    patientIds: [patientId],
  });
  return { entries: rows.slice(0, pageSize), page, pageSize, hasMore: rows.length > pageSize };
}

function readerOf({ actor, requestId }: AuditReader) {
  return { actor: actor.email, orgCode: actor.orgCode, role: actor.role, clientId: actor.clientId ?? null, requestId: requestId ?? null };
}

/**
 * Unusual access, as the review page declares it: one user whose requests touched the records of more
 * than this many different patients in one day (UTC). Search result lists count too, so a user who
 * pages through the population shows up; a clinician's day of consultations stays well below it.
 */
export const UNUSUAL_PATIENTS_PER_DAY = 50;
/** How far back the review looks, unless asked otherwise. */
export const REVIEW_DAYS = 30;
const REVIEW_LIMIT = 1000;

export interface BreakGlassUse {
  at: string;
  actor: string;
  organisation: string | null;
  /** The registry's name for the organisation (PCN, practice or partner), so no one reads a bare code. */
  organisationName: string | null;
  role: string | null;
  patients: string[];
  reason: string;
  action: string;
  outcome: string;
}

export interface UnusualAccess {
  day: string;
  actor: string;
  organisation: string | null;
  /** The registry's name for the organisation (PCN, practice or partner), so no one reads a bare code. */
  organisationName: string | null;
  role: string | null;
  patients: number;
}

export interface AuditReview {
  days: number;
  threshold: number;
  breakGlass: BreakGlassUse[];
  unusual: UnusualAccess[];
}

/**
 * The IG lead's review of the last `days` days: break-glass uses, and users over the unusual-access
 * threshold. The review is recorded too (without its patients: reviewing is not a look at their records,
 * and would otherwise put every reviewer on the unusual list).
 */
export async function auditReview(db: Db, reader: AuditReader, days = REVIEW_DAYS, threshold = UNUSUAL_PATIENTS_PER_DAY): Promise<AuditReview> {
  const breakGlass = await db.query<BreakGlassUse>(
    `SELECT ${AT} AS at, actor, org_code AS organisation, ${organisationNameSql('org_code')} AS "organisationName", role, patient_ids AS patients, break_glass_reason AS reason,
            replace(substr(action, 6), '+', ', ') AS action, outcome
       FROM audit_event WHERE break_glass_reason IS NOT NULL AND at >= now() - make_interval(days => $1)
      ORDER BY at DESC, id DESC LIMIT ${REVIEW_LIMIT}`,
    [days],
  );
  const unusual = await db.query<UnusualAccess>(
    `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, actor, min(org_code) AS organisation, ${organisationNameSql('min(org_code)')} AS "organisationName",
            min(role) AS role, count(DISTINCT p)::int AS patients
       FROM audit_event, unnest(patient_ids) AS p
      WHERE at >= now() - make_interval(days => $1)
      GROUP BY 1, actor HAVING count(DISTINCT p) > $2
      ORDER BY 1 DESC, 6 DESC LIMIT ${REVIEW_LIMIT}`,
    [days, threshold],
  );
  await recordAudit(db, {
    ...readerOf(reader),
    action: 'audit.review',
    entityType: 'audit',
    entityId: `last ${days} days`,
    summary: `Reviewed the audit log of the last ${days} days: ${breakGlass.length} break-glass use(s), ${unusual.length} unusual day(s)`,
    purpose: 'audit-review',
  });
  return { days, threshold, breakGlass, unusual };
}

/** The review as one CSV (a row per break-glass use and per unusual day), for the IG lead's own records. */
export function auditReviewCsv(review: AuditReview): string {
  const rows = [
    ...review.breakGlass.map((b) => ({
      kind: 'break-glass',
      when: b.at,
      user: b.actor,
      organisation: b.organisation,
      role: b.role,
      patients: b.patients.join(' '),
      reason: b.reason,
      action: b.action,
    })),
    ...review.unusual.map((u) => ({
      kind: 'unusual access',
      when: u.day,
      user: u.actor,
      organisation: u.organisation,
      role: u.role,
      patients: String(u.patients),
      reason: `more than ${review.threshold} patients in a day`,
      action: '',
    })),
  ];
  // A reason is free text: spreadsheetCsv quotes one that starts like a formula.
  return spreadsheetCsv(rows, ['kind', 'when', 'user', 'organisation', 'role', 'patients', 'reason', 'action']);
}

/**
 * The patients whose record this person opened on their own (requests that read one patient's record, not
 * searches listing many) in the last `days`, most recent first: their "recently viewed". Only ids: the record
 * module reads the patients through the access policy, so one no longer theirs drops out.
 */
export async function recentlyViewedPatients(db: Db, actorEmail: string, options: { days?: number; limit?: number } = {}): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT patient_ids[1] AS id FROM audit_event
      WHERE actor = $1 AND cardinality(patient_ids) = 1 AND at > now() - make_interval(days => $2)
        AND outcome = 'success' AND action LIKE 'fhir.%' AND action LIKE '%read%'
      GROUP BY patient_ids[1] ORDER BY max(at) DESC LIMIT $3`,
    [actorEmail, options.days ?? 30, Math.min(options.limit ?? 20, 100)],
  );
  return rows.map((r) => r.id);
}
