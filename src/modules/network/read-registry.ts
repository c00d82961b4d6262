/** What people look at: the area, its PCNs with list sizes against the rule, a PCN, a practice. */
import { notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { changesForPcn, type AuditRow } from '../audit/index.ts';
import { allocationsForArea, type AllocationView } from '../funding/index.ts';
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

const PCN_TOTALS = `
  SELECT p.code, p.name, p.area_code AS "areaCode", p.clinical_director AS "clinicalDirector",
         p.nominated_payee_ods AS "nominatedPayeeOds", to_char(p.open_date, 'YYYY-MM-DD') AS "openDate",
         a.size_min AS "sizeMin", a.size_max AS "sizeMax",
         COALESCE(sum(pr.list_size), 0)::bigint AS "listSize", count(pr.ods)::int AS "practiceCount"
    FROM pcn p
    JOIN area a ON a.code = p.area_code
    LEFT JOIN practice_membership m ON m.pcn_code = p.code AND m.end_date IS NULL
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

export async function listAreas(db: Db): Promise<AreaSummary[]> {
  const rows = await db.query<Omit<AreaSummary, 'allocations' | 'allocatedPence'>>(
    `SELECT a.code, a.name, a.size_min AS "sizeMin", a.size_max AS "sizeMax",
            (SELECT count(*)::int FROM pcn WHERE pcn.area_code = a.code) AS "pcnCount",
            count(pr.ods)::int AS "practiceCount", COALESCE(sum(pr.list_size), 0)::bigint AS "listSize"
       FROM area a
       LEFT JOIN pcn p ON p.area_code = a.code
       LEFT JOIN practice_membership m ON m.pcn_code = p.code AND m.end_date IS NULL
       LEFT JOIN practice pr ON pr.ods = m.practice_ods
      GROUP BY a.code ORDER BY a.name`,
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

export async function listPcns(db: Db, filter: { area?: string; limit: number; offset: number }): Promise<PcnPage> {
  const rows = await db.query<PcnTotalsRow & { total: number }>(
    `${PCN_TOTALS}
      WHERE ($1::text IS NULL OR p.area_code = $1)
      GROUP BY p.code, a.code
      ORDER BY p.code
      LIMIT $2 OFFSET $3`,
    [filter.area ?? null, filter.limit, filter.offset],
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
}

export async function getPcn(db: Db, code: string): Promise<PcnDetail> {
  const [row] = await db.query<PcnTotalsRow>(`${PCN_TOTALS} WHERE p.code = $1 GROUP BY p.code, a.code`, [code]);
  if (!row) throw notFound(`PCN ${code}`);
  const [area, practices, partners, history, changes] = await Promise.all([
    db.query<PcnDetail['area']>('SELECT code, name, size_min AS "sizeMin", size_max AS "sizeMax" FROM area WHERE code = $1', [row.areaCode]),
    db.query<PcnDetail['practices'][number]>(
      `SELECT pr.ods, pr.name, pr.postcode, pr.town, pr.list_size AS "listSize", pr.latitude, pr.longitude,
              to_char(m.start_date, 'YYYY-MM-DD') AS "joinedDate"
         FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
        WHERE m.pcn_code = $1 AND m.end_date IS NULL ORDER BY pr.name`,
      [code],
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
}

export async function getPractice(db: Db, ods: string): Promise<PracticeDetail> {
  const [practice] = await db.query<Omit<PracticeDetail, 'pcn' | 'history'>>('SELECT ods, name, postcode, town, list_size AS "listSize", latitude, longitude FROM practice WHERE ods = $1', [ods]);
  if (!practice) throw notFound(`Practice ${ods}`);
  const history = await db.query<PracticeDetail['history'][number]>(
    `SELECT m.pcn_code AS "pcnCode", p.name AS "pcnName",
            to_char(m.start_date, 'YYYY-MM-DD') AS "startDate", to_char(m.end_date, 'YYYY-MM-DD') AS "endDate"
       FROM practice_membership m JOIN pcn p ON p.code = m.pcn_code
      WHERE m.practice_ods = $1 ORDER BY m.start_date DESC, m.id DESC`,
    [ods],
  );
  const current = history.find((h) => h.endDate === null);
  return { ...practice, pcn: current ? { code: current.pcnCode, name: current.pcnName } : null, history };
}
