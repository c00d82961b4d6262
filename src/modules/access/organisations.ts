import { z } from 'zod';
import { invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { organisationNameSql } from '../audit/index.ts';

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

/**
 * The organisation columns of an actor whose organisation code is the SQL expression `org`: `pcnCode` (the
 * PCN it is, or its practice's current PCN), `pcnCodes` (that PCN, or every PCN a partner organisation
 * serves), `orgName` (the registry's name for it) and `orgKind` (`pcn`, `gp-practice` or the partner's type).
 * Used by every query that makes an Actor.
 */
export const actorOrganisationColumns = (org: string): string => `
  COALESCE((SELECT p.code FROM pcn p WHERE p.code = ${org}),
           (SELECT m.pcn_code FROM practice_membership_in_effect m WHERE m.practice_ods = ${org} LIMIT 1)) AS "pcnCode",
  ARRAY(SELECT p.code FROM pcn p WHERE p.code = ${org}
        UNION SELECT m.pcn_code FROM practice_membership_in_effect m WHERE m.practice_ods = ${org}
        UNION SELECT l.pcn_code FROM pcn_partner l WHERE l.partner_code = ${org}
        ORDER BY 1) AS "pcnCodes",
  ${organisationNameSql(org)} AS "orgName",
  COALESCE((SELECT 'pcn' FROM pcn p WHERE p.code = ${org}), (SELECT 'gp-practice' FROM practice pr WHERE pr.ods = ${org}),
           (SELECT pa.type FROM partner pa WHERE pa.code = ${org})) AS "orgKind"`;
