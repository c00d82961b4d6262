/** What people look at: the area, its PCNs with list sizes against the rule, a PCN, a practice. */
import { registryToday } from '../../shared/dates.ts';
import { notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { changesForPcn, type AuditRow } from '../audit/index.ts';
import { allocationsForArea, type AllocationView } from '../funding/index.ts';
import { dayOf, inEffect } from './in-effect.ts';
import { sizeVerdict } from './size-rule.ts';
import type { PartnerType, SizeStatus } from './types.ts';

export interface AreaSummary {
  code: string;
  name: string;
  sizeMin: number;
  sizeMax: number | null;
  pcnCount: number;
  practiceCount: number;
  listSize: number;
  allocatedPence: number;
  allocations: AllocationView[];
}

export interface PcnSummary {
  code: string;
  name: string;
  areaCode: string;
  listSize: number;
  practiceCount: number;
  sizeStatus: SizeStatus;
  clinicalDirector: string | null;
}

/** Each PCN's totals on the day bound at `day`: its members then, and its nominated payee then. */
const pcnTotals = (day: string) => `
  SELECT p.code, p.name, p.area_code AS "areaCode", p.clinical_director AS "clinicalDirector",
         pcn_payee_on(p.code, ${day}) AS "nominatedPayeeOds", to_char(p.open_date, 'YYYY-MM-DD') AS "openDate",
         a.size_min AS "sizeMin", a.size_max AS "sizeMax",
         COALESCE(sum(pr.list_size), 0)::bigint AS "listSize", count(pr.ods)::int AS "practiceCount"
    FROM pcn p
    JOIN area a ON a.code = p.area_code
    LEFT JOIN practice_membership m ON m.pcn_code = p.code AND ${inEffect('m', day)}
    LEFT JOIN practice pr ON pr.ods = m.practice_ods`;

interface PcnTotalsRow {
  code: string;
  name: string;
  areaCode: string;
  clinicalDirector: string | null;
  nominatedPayeeOds: string | null;
  openDate: string;
  sizeMin: number;
  sizeMax: number | null;
  listSize: number;
  practiceCount: number;
}

/** Every area with its totals on `asOf` (default: today in England). */
export async function listAreas(db: Db, asOf?: string): Promise<AreaSummary[]> {
  const rows = await db.query<Omit<AreaSummary, 'allocations' | 'allocatedPence'>>(
    `SELECT a.code, a.name, a.size_min AS "sizeMin", a.size_max AS "sizeMax",
            (SELECT count(*)::int FROM pcn WHERE pcn.area_code = a.code) AS "pcnCount",
            count(pr.ods)::int AS "practiceCount", COALESCE(sum(pr.list_size), 0)::bigint AS "listSize"
       FROM area a
       LEFT JOIN pcn p ON p.area_code = a.code
       LEFT JOIN practice_membership m ON m.pcn_code = p.code AND ${inEffect('m', '$1::date')}
       LEFT JOIN practice pr ON pr.ods = m.practice_ods
      GROUP BY a.code ORDER BY a.name`,
    [dayOf(asOf)],
  );
  return Promise.all(
    rows.map(async (area) => {
      const allocations = await allocationsForArea(db, area.code);
      const allocatedPence = allocations.reduce((sum, a) => sum + a.amountPence, 0);
      return { ...area, allocatedPence, allocations };
    }),
  );
}

export interface PcnPage {
  items: PcnSummary[];
  total: number;
}

/** PCNs with their list sizes on `filter.asOf` (default: today in England). */
export async function listPcns(db: Db, filter: { area?: string; limit: number; offset: number; asOf?: string }): Promise<PcnPage> {
  const rows = await db.query<PcnTotalsRow & { total: number }>(
    `${pcnTotals('$4::date')}
      WHERE ($1::text IS NULL OR p.area_code = $1)
      GROUP BY p.code, a.code
      ORDER BY p.code
      LIMIT $2 OFFSET $3`,
    [filter.area ?? null, filter.limit, filter.offset, dayOf(filter.asOf)],
  );
  const [{ total } = { total: 0 }] = await db.query<{ total: number }>('SELECT count(*)::int AS total FROM pcn WHERE ($1::text IS NULL OR area_code = $1)', [filter.area ?? null]);
  return { items: rows.map(toSummary), total };
}

function toSummary(row: PcnTotalsRow): PcnSummary {
  return {
    code: row.code,
    name: row.name,
    areaCode: row.areaCode,
    listSize: row.listSize,
    practiceCount: row.practiceCount,
    sizeStatus: sizeVerdict(row.listSize, row).status,
    clinicalDirector: row.clinicalDirector,
  };
}

export interface PcnDetail extends PcnSummary {
  area: { code: string; name: string; sizeMin: number; sizeMax: number | null };
  sizeReason: string | null;
  nominatedPayee: { ods: string; name: string } | null;
  openDate: string;
  practices: Array<{ ods: string; name: string; postcode: string | null; town: string | null; listSize: number | null; latitude: number | null; longitude: number | null; joinedDate: string }>;
  partners: Array<{ code: string; name: string; type: PartnerType; role: string | null; postcode: string | null }>;
  history: Array<{ practiceOds: string; practiceName: string; startDate: string; endDate: string | null }>;
  changes: AuditRow[];
  /** Practices moving in after the day read: each joins on `date`. */
  joining: Array<ScheduledPractice & { fromPcn: { code: string; name: string } | null }>;
  /** Member practices moving out after the day read: each is in another PCN from `date`. */
  leaving: Array<ScheduledPractice & { toPcn: { code: string; name: string } }>;
}

interface ScheduledPractice {
  ods: string;
  name: string;
  listSize: number | null;
  date: string;
}

/** A PCN as it stands on `asOf` (default: today in England), with the moves scheduled after that day. */
export async function getPcn(db: Db, code: string, asOf?: string): Promise<PcnDetail> {
  const day = dayOf(asOf);
  const [row] = await db.query<PcnTotalsRow>(`${pcnTotals('$2::date')} WHERE p.code = $1 GROUP BY p.code, a.code`, [code, day]);
  if (!row) throw notFound(`PCN ${code}`);
  const [area, practices, partners, history, changes, joining, leaving] = await Promise.all([
    db.query<PcnDetail['area']>('SELECT code, name, size_min AS "sizeMin", size_max AS "sizeMax" FROM area WHERE code = $1', [row.areaCode]),
    db.query<PcnDetail['practices'][number]>(
      `SELECT pr.ods, pr.name, pr.postcode, pr.town, pr.list_size AS "listSize", pr.latitude, pr.longitude,
              to_char(m.start_date, 'YYYY-MM-DD') AS "joinedDate"
         FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
        WHERE m.pcn_code = $1 AND ${inEffect('m', '$2::date')} ORDER BY pr.name`,
      [code, day],
    ),
    db.query<PcnDetail['partners'][number]>(
      `SELECT pa.code, pa.name, pa.type, pp.role, pa.postcode
         FROM pcn_partner pp JOIN partner pa ON pa.code = pp.partner_code
        WHERE pp.pcn_code = $1 ORDER BY pa.type, pa.name`,
      [code],
    ),
    db.query<PcnDetail['history'][number]>(
      `SELECT m.practice_ods AS "practiceOds", pr.name AS "practiceName",
              to_char(m.start_date, 'YYYY-MM-DD') AS "startDate", to_char(m.end_date, 'YYYY-MM-DD') AS "endDate"
         FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
        WHERE m.pcn_code = $1 ORDER BY m.start_date DESC, pr.name`,
      [code],
    ),
    changesForPcn(db, code),
    db.query<{ ods: string; name: string; listSize: number | null; date: string; fromCode: string | null; fromName: string | null }>(
      `SELECT pr.ods, pr.name, pr.list_size AS "listSize", to_char(m.start_date, 'YYYY-MM-DD') AS date, f.pcn_code AS "fromCode", fp.name AS "fromName"
         FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
         LEFT JOIN practice_membership f ON f.practice_ods = m.practice_ods AND f.end_date = m.start_date - 1
         LEFT JOIN pcn fp ON fp.code = f.pcn_code
        WHERE m.pcn_code = $1 AND m.start_date > $2::date ORDER BY m.start_date, pr.name`,
      [code, day],
    ),
    db.query<{ ods: string; name: string; listSize: number | null; date: string; toCode: string; toName: string }>(
      `SELECT pr.ods, pr.name, pr.list_size AS "listSize", to_char(n.start_date, 'YYYY-MM-DD') AS date, n.pcn_code AS "toCode", np.name AS "toName"
         FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
         JOIN practice_membership n ON n.practice_ods = m.practice_ods AND n.start_date = m.end_date + 1
         JOIN pcn np ON np.code = n.pcn_code
        WHERE m.pcn_code = $1 AND ${inEffect('m', '$2::date')} AND m.end_date IS NOT NULL ORDER BY n.start_date, pr.name`,
      [code, day],
    ),
  ]);
  const verdict = sizeVerdict(row.listSize, row);
  const payee = practices.find((p) => p.ods === row.nominatedPayeeOds);
  const payeeName = payee?.name ?? (row.nominatedPayeeOds ? await practiceName(db, row.nominatedPayeeOds) : null);
  return {
    ...toSummary(row),
    area: area[0]!,
    sizeReason: verdict.reason,
    nominatedPayee: row.nominatedPayeeOds && payeeName ? { ods: row.nominatedPayeeOds, name: payeeName } : null,
    openDate: row.openDate,
    practices,
    partners,
    history,
    changes,
    joining: joining.map(({ fromCode, fromName, ...p }) => ({ ...p, fromPcn: fromCode && fromName ? { code: fromCode, name: fromName } : null })),
    leaving: leaving.map(({ toCode, toName, ...p }) => ({ ...p, toPcn: { code: toCode, name: toName } })),
  };
}

async function practiceName(db: Db, ods: string): Promise<string | null> {
  const [row] = await db.query<{ name: string }>('SELECT name FROM practice WHERE ods = $1', [ods]);
  return row?.name ?? null;
}

export interface PracticeDetail {
  ods: string;
  name: string;
  postcode: string | null;
  town: string | null;
  listSize: number | null; // null: not known (imported from an ePCN file)
  latitude: number | null;
  longitude: number | null;
  pcn: { code: string; name: string } | null;
  history: Array<{ pcnCode: string; pcnName: string; startDate: string; endDate: string | null }>;
  /** Its latest move while it can still be corrected or cancelled (not yet in effect, or recorded today); else null. */
  move: PracticeMove | null;
}

/** A move recorded in PCN Hub. */
export interface PracticeMove {
  /** The PCN it leaves; null when it was in none. */
  from: { code: string; name: string } | null;
  to: { code: string; name: string };
  /** The day it joins `to` (it leaves `from` the day before). */
  date: string;
  /** Not yet in effect: the date is after today. */
  scheduled: boolean;
  /** When the move was recorded (UTC). */
  movedAt: string;
  /** The practice `from` has as its nominated payee from `date`, given because the practice moving was its payee. */
  newPayee: { ods: string; name: string } | null;
}

/** The practice's move that can still be corrected or cancelled on `today`, with its membership row's id. */
export async function correctableMove(db: Db, ods: string, today: string): Promise<(PracticeMove & { id: number; fromId: number | null }) | null> {
  const [row] = await db.query<{
    id: number;
    fromId: number | null;
    toCode: string;
    toName: string;
    fromCode: string | null;
    fromName: string | null;
    date: string;
    movedAt: string;
    payeeOds: string | null;
    payeeName: string | null;
  }>(
    `SELECT m.id, f.id AS "fromId", m.pcn_code AS "toCode", t.name AS "toName", f.pcn_code AS "fromCode", fp.name AS "fromName",
            to_char(m.start_date, 'YYYY-MM-DD') AS date, to_char(m.moved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "movedAt",
            c.practice_ods AS "payeeOds", cp.name AS "payeeName"
       FROM practice_membership m JOIN pcn t ON t.code = m.pcn_code
       LEFT JOIN practice_membership f ON f.practice_ods = m.practice_ods AND f.end_date = m.start_date - 1
       LEFT JOIN pcn fp ON fp.code = f.pcn_code
       LEFT JOIN pcn_payee_change c ON c.membership_id = m.id
       LEFT JOIN practice cp ON cp.ods = c.practice_ods
      WHERE m.practice_ods = $1 AND m.end_date IS NULL AND m.moved_at IS NOT NULL
        AND (m.start_date > $2::date OR (m.moved_at AT TIME ZONE 'Europe/London')::date = $2::date)`,
    [ods, today],
  );
  if (!row) return null;
  return {
    id: row.id,
    fromId: row.fromId,
    from: row.fromCode && row.fromName ? { code: row.fromCode, name: row.fromName } : null,
    to: { code: row.toCode, name: row.toName },
    date: row.date,
    scheduled: row.date > today,
    movedAt: row.movedAt,
    newPayee: row.payeeOds && row.payeeName ? { ods: row.payeeOds, name: row.payeeName } : null,
  };
}

/** A practice and its PCN on `asOf` (default: today in England), its membership history and any move still open to change. */
export async function getPractice(db: Db, ods: string, asOf?: string): Promise<PracticeDetail> {
  const day = dayOf(asOf);
  const [practice] = await db.query<Omit<PracticeDetail, 'pcn' | 'history'>>('SELECT ods, name, postcode, town, list_size AS "listSize", latitude, longitude FROM practice WHERE ods = $1', [ods]);
  if (!practice) throw notFound(`Practice ${ods}`);
  const history = await db.query<PracticeDetail['history'][number]>(
    `SELECT m.pcn_code AS "pcnCode", p.name AS "pcnName",
            to_char(m.start_date, 'YYYY-MM-DD') AS "startDate", to_char(m.end_date, 'YYYY-MM-DD') AS "endDate"
       FROM practice_membership m JOIN pcn p ON p.code = m.pcn_code
      WHERE m.practice_ods = $1 ORDER BY m.start_date DESC, m.id DESC`,
    [ods],
  );
  const current = history.find((h) => h.startDate <= day && (h.endDate === null || h.endDate >= day));
  const move = await correctableMove(db, ods, registryToday());
  return {
    ...practice,
    pcn: current ? { code: current.pcnCode, name: current.pcnName } : null,
    history,
    move: move && { from: move.from, to: move.to, date: move.date, scheduled: move.scheduled, movedAt: move.movedAt, newPayee: move.newPayee },
  };
}
