import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { saveAllocations } from '../funding/index.ts';
import type { RegistrySnapshot } from './types.ts';

export type SaveProgress = (done: number, total: number) => void;

export interface SaveCounts {
  areas: number;
  pcns: number;
  practices: number;
  memberships: number;
  partners: number;
  allocations: number;
}

/**
 * Writes a whole registry (a seed, an import) in one transaction: all of it lands, or none.
 * Existing rows with the same codes are updated; a practice whose current PCN differs is moved,
 * its old membership ended the day before the new one starts, so history is kept.
 */
export async function saveRegistry(db: Db, actor: Actor, snapshot: RegistrySnapshot, progress?: SaveProgress): Promise<SaveCounts> {
  const steps = 7;
  let step = 0;
  const tick = () => progress?.(++step, steps);
  assertUniqueCodes(snapshot);
  return changeRegistry(db, async (tx) => {
    const json = (rows: unknown[]) => JSON.stringify(rows);
    await tx.query(
      `INSERT INTO area (code, name, size_min, size_max)
       SELECT code, name, "sizeMin", "sizeMax" FROM jsonb_to_recordset($1::jsonb)
         AS x(code text, name text, "sizeMin" int, "sizeMax" int)
       ON CONFLICT (code) DO UPDATE SET name = excluded.name, size_min = excluded.size_min, size_max = excluded.size_max`,
      [json(snapshot.areas)],
    );
    tick();
    await tx.query(
      `INSERT INTO practice (ods, name, postcode, town, latitude, longitude, list_size)
       SELECT ods, name, postcode, town, latitude, longitude, "listSize" FROM jsonb_to_recordset($1::jsonb)
         AS x(ods text, name text, postcode text, town text, latitude float8, longitude float8, "listSize" int)
       ON CONFLICT (ods) DO UPDATE SET name = excluded.name,
         postcode = COALESCE(excluded.postcode, practice.postcode), town = COALESCE(excluded.town, practice.town),
         latitude = COALESCE(excluded.latitude, practice.latitude), longitude = COALESCE(excluded.longitude, practice.longitude),
         list_size = COALESCE(excluded.list_size, practice.list_size)`,
      [json(snapshot.practices)],
    );
    tick();
    await tx.query(
      `INSERT INTO pcn (code, name, area_code, clinical_director, nominated_payee_ods, open_date, close_date)
       SELECT code, name, "areaCode", "clinicalDirector", "nominatedPayeeOds", "openDate", "closeDate" FROM jsonb_to_recordset($1::jsonb)
         AS x(code text, name text, "areaCode" text, "clinicalDirector" text, "nominatedPayeeOds" text, "openDate" date, "closeDate" date)
       ON CONFLICT (code) DO UPDATE SET name = excluded.name, area_code = excluded.area_code,
         clinical_director = COALESCE(excluded.clinical_director, pcn.clinical_director),
         nominated_payee_ods = COALESCE(excluded.nominated_payee_ods, pcn.nominated_payee_ods),
         open_date = excluded.open_date, close_date = excluded.close_date`,
      [json(snapshot.pcns)],
    );
    tick();
    const memberships = await saveMemberships(tx, snapshot);
    // A payee practice that has left its PCN cannot stay that PCN's payee (as in move-practice).
    await tx.query(
      `UPDATE pcn SET nominated_payee_ods = NULL
        WHERE nominated_payee_ods IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM practice_membership m
           WHERE m.practice_ods = pcn.nominated_payee_ods AND m.pcn_code = pcn.code
             AND (m.end_date IS NULL OR m.end_date >= registry_today()))`,
    );
    tick();
    await tx.query(
      `INSERT INTO partner (code, name, type, postcode, latitude, longitude)
       SELECT code, name, type, postcode, latitude, longitude FROM jsonb_to_recordset($1::jsonb)
         AS x(code text, name text, type text, postcode text, latitude float8, longitude float8)
       ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type,
         postcode = COALESCE(excluded.postcode, partner.postcode),
         latitude = COALESCE(excluded.latitude, partner.latitude), longitude = COALESCE(excluded.longitude, partner.longitude)`,
      [json(snapshot.partners)],
    );
    await tx.query(
      `INSERT INTO pcn_partner (pcn_code, partner_code, role)
       SELECT "pcnCode", "partnerCode", role FROM jsonb_to_recordset($1::jsonb) AS x("pcnCode" text, "partnerCode" text, role text)
       ON CONFLICT (pcn_code, partner_code) DO UPDATE SET role = COALESCE(excluded.role, pcn_partner.role)`,
      [json(snapshot.pcnPartners)],
    );
    tick();
    await saveAllocations(tx, snapshot.allocations);
    tick();
    const counts: SaveCounts = {
      areas: snapshot.areas.length,
      pcns: snapshot.pcns.length,
      practices: snapshot.practices.length,
      memberships,
      partners: snapshot.partners.length,
      allocations: snapshot.allocations.length,
    };
    await recordAudit(tx, {
      actor: actor.email,
      action: 'registry.import',
      entityType: 'registry',
      entityId: snapshot.areas.map((a) => a.code).join(',') || 'registry',
      summary: `Imported ${counts.pcns} PCNs and ${counts.practices} practices`,
      detail: { ...counts },
    });
    tick();
    return counts;
  });
}

/** Adds the memberships the database lacks; a new current one ends the practice's old current one. */
async function saveMemberships(tx: Db, snapshot: RegistrySnapshot): Promise<number> {
  let added = 0;
  const ordered = [...snapshot.memberships].sort((a, b) => a.startDate.localeCompare(b.startDate));
  for (const m of ordered) {
    const [exists] = await tx.query('SELECT 1 FROM practice_membership WHERE practice_ods = $1 AND pcn_code = $2 AND start_date = $3', [m.practiceOds, m.pcnCode, m.startDate]);
    if (exists) {
      // A file may end a membership we hold open; an older file never reopens one we have ended.
      if (m.endDate !== null) {
        await tx.query('UPDATE practice_membership SET end_date = $4 WHERE practice_ods = $1 AND pcn_code = $2 AND start_date = $3 AND end_date IS NULL', [
          m.practiceOds,
          m.pcnCode,
          m.startDate,
          m.endDate,
        ]);
      }
      continue;
    }
    if (m.endDate === null) {
      const [current] = await tx.query<{ id: number; startDate: string; pcnCode: string }>(
        `SELECT id, to_char(start_date, 'YYYY-MM-DD') AS "startDate", pcn_code AS "pcnCode"
           FROM practice_membership WHERE practice_ods = $1 AND end_date IS NULL`,
        [m.practiceOds],
      );
      if (current?.pcnCode === m.pcnCode) continue; // already there: not a move
      if (current && current.startDate >= m.startDate) {
        throw new AppError('invalid', `${m.practiceOds} joined ${current.pcnCode} on ${current.startDate}; a move to ${m.pcnCode} must start after that`, 'joined_date');
      }
      if (current) await tx.query('UPDATE practice_membership SET end_date = $2::date - 1 WHERE id = $1', [current.id, m.startDate]);
    }
    const [row] = (await tx.query<{ id: number }>('INSERT INTO practice_membership (practice_ods, pcn_code, start_date, end_date) VALUES ($1, $2, $3, $4) RETURNING id', [
      m.practiceOds,
      m.pcnCode,
      m.startDate,
      m.endDate,
    ])) as [{ id: number }];
    if (m.payeeAfterOds) {
      // The payee's successor in the PCN it left (the membership that ended the day before), as exported.
      await tx.query(
        `INSERT INTO pcn_payee_change (membership_id, pcn_code, practice_ods)
         SELECT $1, pcn_code, $3 FROM practice_membership WHERE practice_ods = $2 AND end_date = $4::date - 1`,
        [row.id, m.practiceOds, m.payeeAfterOds, m.startDate],
      );
    }
    added++;
  }
  return added;
}

/** Two rows with one code in a snapshot would make the upserts ambiguous: refuse them up front. */
function assertUniqueCodes(snapshot: RegistrySnapshot): void {
  const lists: Array<[string, string[]]> = [
    ['area', snapshot.areas.map((a) => a.code)],
    ['PCN', snapshot.pcns.map((p) => p.code)],
    ['practice', snapshot.practices.map((p) => p.ods)],
    ['partner', snapshot.partners.map((p) => p.code)],
    ['PCN partner link', snapshot.pcnPartners.map((p) => `${p.pcnCode}/${p.partnerCode}`)],
  ];
  for (const [what, codes] of lists) {
    const seen = new Set<string>();
    for (const code of codes) {
      if (seen.has(code)) throw new AppError('invalid', `the ${what} ${code} appears twice`, what);
      seen.add(code);
    }
  }
}
