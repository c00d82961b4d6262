import { z } from 'zod';
import { invalid, notFound } from '../../shared/errors.ts';
import { isoDate, odsCode } from '../../shared/schemas.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanEditPcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';

export const movePracticeInput = z.object({
  pcnCode: odsCode('pcn'),
  /** The day the practice joins the new PCN; its old membership ends the day before. Default: today. */
  date: isoDate.optional(),
});
export type MovePracticeInput = z.output<typeof movePracticeInput>;

/**
 * Moves a practice to another PCN. The old membership is ended, not deleted, so history stays;
 * list sizes follow because they are summed from current memberships. A PCN manager may move a
 * practice out of their own PCN.
 */
export async function movePractice(db: Db, actor: Actor, ods: string, input: MovePracticeInput): Promise<void> {
  await changeRegistry(db, async (tx) => {
    const [practice] = await tx.query<{ name: string }>('SELECT name FROM practice WHERE ods = $1 FOR UPDATE', [ods]);
    if (!practice) throw notFound(`Practice ${ods}`);
    const [target] = await tx.query<{ name: string }>('SELECT name FROM pcn WHERE code = $1', [input.pcnCode]);
    if (!target) throw notFound(`PCN ${input.pcnCode}`);
    const [current] = await tx.query<{ id: number; pcnCode: string; startDate: string }>(
      `SELECT id, pcn_code AS "pcnCode", to_char(start_date, 'YYYY-MM-DD') AS "startDate"
         FROM practice_membership WHERE practice_ods = $1 AND end_date IS NULL`,
      [ods],
    );
    assertCanEditPcn(actor, current?.pcnCode ?? input.pcnCode);
    if (current?.pcnCode === input.pcnCode) throw invalid('pcnCode', `${ods} is already a member of ${input.pcnCode}`);
    const [{ today }] = (await tx.query<{ today: string }>("SELECT to_char(current_date, 'YYYY-MM-DD') AS today")) as [{ today: string }];
    const date = input.date ?? today;
    if (current && date <= current.startDate) {
      throw invalid('date', `the move must come after ${ods} joined ${current.pcnCode} on ${current.startDate}`);
    }
    if (current) {
      await tx.query(`UPDATE practice_membership SET end_date = $2::date - 1 WHERE id = $1`, [current.id, date]);
      // A payee that leaves cannot stay the old PCN's payee.
      await tx.query('UPDATE pcn SET nominated_payee_ods = NULL WHERE code = $1 AND nominated_payee_ods = $2', [current.pcnCode, ods]);
    }
    await tx.query('INSERT INTO practice_membership (practice_ods, pcn_code, start_date) VALUES ($1, $2, $3)', [ods, input.pcnCode, date]);
    const summary = `${practice.name} (${ods}) moved ${current ? `from ${current.pcnCode} ` : ''}to ${input.pcnCode} on ${date}`;
    for (const pcnCode of new Set([current?.pcnCode, input.pcnCode])) {
      if (!pcnCode) continue;
      await recordAudit(tx, {
        actor: actor.email,
        action: 'practice.move',
        entityType: 'practice',
        entityId: ods,
        pcnCode,
        summary,
        detail: { from: current?.pcnCode ?? null, to: input.pcnCode, date },
      });
    }
  });
}
