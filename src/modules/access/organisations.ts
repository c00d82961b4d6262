import { z } from 'zod';
import { invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';

/** The organisation a user or client belongs to: a PCN, a practice or a partner (which may have a local code such as LA-NORFOLK). */
export const orgCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9-]{3,20}$/, 'org must be the code of a PCN, practice or partner organisation: 3 to 20 letters, digits or dashes');

/** Refuses, naming the field `org`, a code that no PCN, practice or partner organisation in the registry has. */
export async function assertKnownOrganisation(db: Db, code: string): Promise<void> {
  const rows = await db.query(`SELECT 1 FROM pcn WHERE code = $1 UNION ALL SELECT 1 FROM practice WHERE ods = $1 UNION ALL SELECT 1 FROM partner WHERE code = $1 LIMIT 1`, [code]);
  if (rows.length === 0) throw invalid('org', `org: no PCN, practice or partner organisation has the code ${code}`);
}
