import { z } from 'zod';
import { invalid, notFound } from '../../shared/errors.ts';
import { registryToday, spokenDay } from '../../shared/dates.ts';
import { forPeople, textField } from '../../shared/schemas.ts';
import { payeeField, stayingMembers } from './payee.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanEditPcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';

export const updatePcnInput = z
  .object({
    name: textField('Enter the PCN name', 'The PCN name').optional(),
    clinicalDirector: textField('Enter the clinical director’s name', 'The clinical director’s name').nullable().optional(),
    nominatedPayeeOds: payeeField.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: forPeople('Say what to change: name, clinicalDirector or nominatedPayeeOds') });
export type UpdatePcnInput = z.output<typeof updatePcnInput>;

/** Renames a PCN, sets its clinical director or its nominated payee practice (which must be a member). */
export async function updatePcn(db: Db, actor: Actor, code: string, input: UpdatePcnInput): Promise<void> {
  await changeRegistry(db, async (tx) => {
    const [pcn] = await tx.query<{ code: string }>('SELECT code FROM pcn WHERE code = $1 FOR UPDATE', [code]);
    if (!pcn) throw notFound(`PCN ${code}`);
    assertCanEditPcn(actor, code);
    if (input.nominatedPayeeOds) {
      // A member today that is not moving out, so the PCN keeps a payee; changes a payee's move scheduled give way to it.
      const today = registryToday();
      if (!(await stayingMembers(tx, code, today)).some((p) => p.ods === input.nominatedPayeeOds)) {
        const [leaving] = await tx.query<{ date: string }>(
          `SELECT to_char(end_date + 1, 'YYYY-MM-DD') AS date FROM practice_membership
            WHERE practice_ods = $1 AND pcn_code = $2 AND start_date <= $3::date AND end_date >= $3::date`,
          [input.nominatedPayeeOds, code, today],
        );
        throw invalid(
          'nominatedPayeeOds',
          leaving ? `That practice leaves this PCN on ${spokenDay(leaving.date)}: choose a practice that is staying` : 'The nominated payee must be a member practice of this PCN',
        );
      }
      await tx.query('DELETE FROM pcn_payee_change WHERE pcn_code = $1', [code]);
    }
    await tx.query(
      `UPDATE pcn SET name = COALESCE($2, name),
              clinical_director = CASE WHEN $3::boolean THEN $4 ELSE clinical_director END,
              nominated_payee_ods = COALESCE($5, nominated_payee_ods)
        WHERE code = $1`,
      [code, input.name ?? null, input.clinicalDirector !== undefined, input.clinicalDirector ?? null, input.nominatedPayeeOds ?? null],
    );
    const said = [
      input.name && `renamed to ${input.name}`,
      input.clinicalDirector !== undefined && `clinical director set to ${input.clinicalDirector ?? 'nobody'}`,
      input.nominatedPayeeOds && `nominated payee set to ${input.nominatedPayeeOds}`,
    ].filter(Boolean);
    await recordAudit(tx, {
      actor: actor.email,
      action: 'pcn.update',
      entityType: 'pcn',
      entityId: code,
      pcnCode: code,
      summary: `${code}: ${said.join('; ')}`,
      detail: input,
    });
  });
}
