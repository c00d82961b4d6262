import { z } from 'zod';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { dateField, odsCodeField, textField } from '../../shared/schemas.ts';
import { payeeField } from './payee.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanCreatePcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';

export const createPcnInput = z.object({
  code: odsCodeField('pcn', { missing: 'Enter the PCN code', wrong: 'Enter a PCN code that is U followed by 5 digits, like U12345' }),
  name: textField('Enter the PCN name', 'The PCN name'),
  areaCode: odsCodeField('icb', { missing: 'Enter the area (ICB) code', wrong: 'Enter an area (ICB) code that is Q followed by 2 letters or digits, like QMM' }),
  clinicalDirector: textField('Enter the clinical director’s name', 'The clinical director’s name').optional(),
  nominatedPayeeOds: payeeField.optional(),
  openDate: dateField('The date the PCN opened must be a real date, written yyyy-mm-dd').optional(),
});
export type CreatePcnInput = z.output<typeof createPcnInput>;

export async function createPcn(db: Db, actor: Actor, input: CreatePcnInput): Promise<void> {
  assertCanCreatePcn(actor);
  await changeRegistry(db, async (tx) => {
    const [area] = await tx.query('SELECT 1 FROM area WHERE code = $1', [input.areaCode]);
    if (!area) throw notFound(`Area ${input.areaCode}`);
    if (input.nominatedPayeeOds) {
      const [payee] = await tx.query('SELECT 1 FROM practice WHERE ods = $1', [input.nominatedPayeeOds]);
      if (!payee) throw invalid('nominatedPayeeOds', `There is no practice with the code ${input.nominatedPayeeOds}: enter the ODS code of a practice in the registry`);
    }
    const inserted = await tx.query(
      `INSERT INTO pcn (code, name, area_code, clinical_director, nominated_payee_ods, open_date)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::date, current_date))
       ON CONFLICT (code) DO NOTHING RETURNING code`,
      [input.code, input.name, input.areaCode, input.clinicalDirector ?? null, input.nominatedPayeeOds ?? null, input.openDate ?? null],
    );
    if (inserted.length === 0) throw conflict(`There is already a PCN with the code ${input.code}`, 'code');
    await recordAudit(tx, {
      actor: actor.email,
      action: 'pcn.create',
      entityType: 'pcn',
      entityId: input.code,
      pcnCode: input.code,
      summary: `Created PCN ${input.code} ${input.name}`,
      detail: input,
    });
  });
}
