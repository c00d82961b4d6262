/**
 * A PCN's nominated payee (the member practice that receives its money) is never left unset by a move:
 * moving the payee out needs the PCN's new payee in the same step, from the day the payee leaves.
 */
import { spokenDay } from '../../shared/dates.ts';
import { conflict, invalid } from '../../shared/errors.ts';
import { odsCodeField } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';

export const payeeField = odsCodeField('practice', {
  missing: 'Select the nominated payee practice',
  wrong: 'Enter the nominated payee as a practice ODS code: 1 letter and 5 digits, like D82001',
});

/** Member practices of a PCN on a day that are not moving out after it: the practices that can be its payee. */
export async function stayingMembers(db: Db, pcnCode: string, day: string): Promise<Array<{ ods: string; name: string }>> {
  return db.query<{ ods: string; name: string }>(
    `SELECT pr.ods, pr.name FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
      WHERE m.pcn_code = $1 AND m.start_date <= $2::date AND m.end_date IS NULL ORDER BY pr.name`,
    [pcnCode, day],
  );
}

/** The PCN's nominated payee on a day (migration 071's pcn_payee_on: the latest change by then, else the one set). */
export async function payeeOn(db: Db, pcnCode: string, day: string): Promise<string | null> {
  const [row] = await db.query<{ payee: string | null }>('SELECT pcn_payee_on($1, $2::date) AS payee', [pcnCode, day]);
  return row?.payee ?? null;
}

export interface Leaving {
  practice: { ods: string; name: string };
  pcn: { code: string; name: string };
  /** The day it is in its new PCN. */
  date: string;
  /** Its membership row that starts on `date` (the move). */
  membershipId: number;
}

/**
 * When the practice leaving is the PCN's payee on the day it goes, the PCN's new payee from that day is
 * recorded with the move; without one the move is refused (409 naming `newPayeeOds`). Answers the new payee.
 */
export async function handOverPayee(tx: Db, leaving: Leaving, newPayeeOds: string | undefined): Promise<{ ods: string; name: string } | null> {
  const { practice, pcn, date } = leaving;
  // Named as the successor of a payee leaving on this day or later: it would take over a PCN it had left.
  const [successor] = await tx.query<{ from: string }>(
    `SELECT to_char(m.start_date, 'YYYY-MM-DD') AS "from" FROM pcn_payee_change c JOIN practice_membership m ON m.id = c.membership_id
      WHERE c.pcn_code = $1 AND c.practice_ods = $2 AND m.start_date >= $3::date AND m.id <> $4`,
    [pcn.code, practice.ods, date, leaving.membershipId],
  );
  if (successor) {
    throw conflict(`${practice.name} is to become the nominated payee of ${pcn.name} on ${spokenDay(successor.from)}: choose another practice for that first`);
  }
  if ((await payeeOn(tx, pcn.code, date)) !== practice.ods) {
    if (newPayeeOds) throw invalid('newPayeeOds', `${practice.name} is not the nominated payee of ${pcn.name}, so it needs no new payee`);
    return null;
  }
  if (!newPayeeOds) {
    throw conflict(`${practice.name} is the nominated payee of ${pcn.name}: choose the practice that will be its nominated payee from ${spokenDay(date)}`, 'newPayeeOds');
  }
  const payee = (await stayingMembers(tx, pcn.code, date)).find((p) => p.ods === newPayeeOds && p.ods !== practice.ods);
  if (!payee) throw invalid('newPayeeOds', `The new nominated payee must be a practice staying in ${pcn.name}`);
  await tx.query('INSERT INTO pcn_payee_change (membership_id, pcn_code, practice_ods) VALUES ($1, $2, $3)', [leaving.membershipId, pcn.code, payee.ods]);
  return payee;
}
