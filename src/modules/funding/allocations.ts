import type { Db } from '../../storage/db.ts';

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
