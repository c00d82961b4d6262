/** The allocation table (migration 004) is this module's: other modules read and write it only through these. */
import type { Db } from '../../storage/db.ts';

/** Money given to the area or a PCN, always integer pence. */
export interface Allocation {
  areaCode: string;
  pcnCode: string | null;
  amountPence: number;
  purpose: string;
  financialYear: string; // e.g. "2019/20"
  source: string;
}

export interface AllocationView {
  pcnCode: string | null;
  amountPence: number;
  purpose: string;
  financialYear: string;
  source: string;
}

export async function allocationsForArea(db: Db, areaCode: string): Promise<AllocationView[]> {
  return db.query<AllocationView>(
    `SELECT pcn_code AS "pcnCode", amount_pence AS "amountPence", purpose, financial_year AS "financialYear", source
       FROM allocation WHERE area_code = $1 ORDER BY financial_year, id`,
    [areaCode],
  );
}

/** Every allocation, in the order they were made (for a registry snapshot). */
export async function listAllocations(db: Db): Promise<Allocation[]> {
  return db.query<Allocation>(
    `SELECT area_code AS "areaCode", pcn_code AS "pcnCode", amount_pence AS "amountPence", purpose, financial_year AS "financialYear", source
       FROM allocation ORDER BY id`,
  );
}

/** Adds the allocations not already held (same area, PCN, purpose, year and source); call it inside the caller's transaction. */
export async function saveAllocations(tx: Db, allocations: readonly Allocation[]): Promise<void> {
  await tx.query(
    `INSERT INTO allocation (area_code, pcn_code, amount_pence, purpose, financial_year, source)
     SELECT "areaCode", "pcnCode", "amountPence", purpose, "financialYear", source FROM jsonb_to_recordset($1::jsonb)
       AS x("areaCode" text, "pcnCode" text, "amountPence" bigint, purpose text, "financialYear" text, source text)
     WHERE NOT EXISTS (SELECT 1 FROM allocation a WHERE a.area_code = x."areaCode" AND a.pcn_code IS NOT DISTINCT FROM x."pcnCode"
                         AND a.purpose = x.purpose AND a.financial_year = x."financialYear" AND a.source = x.source)`,
    [JSON.stringify(allocations)],
  );
}

/** The columns of allocations.csv, in file order. */
export const ALLOCATION_CSV_COLUMNS = ['area_code', 'pcn_code', 'amount_pence', 'purpose', 'financial_year', 'source'] as const;

/** Every allocation as allocations.csv rows, in a stable order (run it in the export's snapshot transaction). */
export async function allocationCsvRows(tx: Db): Promise<Record<(typeof ALLOCATION_CSV_COLUMNS)[number], unknown>[]> {
  return tx.query(
    `SELECT area_code, pcn_code, amount_pence, purpose, financial_year, source FROM allocation
      ORDER BY area_code COLLATE "C", pcn_code COLLATE "C" NULLS FIRST, financial_year, purpose COLLATE "C",
               source COLLATE "C", amount_pence`,
  );
}
