import { z } from 'zod';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { isoDate, odsCode, personName } from '../../shared/schemas.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanCreatePcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';

export const createPcnInput = z.object({
  code: odsCode('pcn'),
  name: personName,
  areaCode: odsCode('icb'),
  clinicalDirector: personName.optional(),
  nominatedPayeeOds: odsCode('practice').optional(),
  openDate: isoDate.optional(),
});
export type CreatePcnInput = z.output<typeof createPcnInput>;

export async function createPcn(db: Db, actor: Actor, input: CreatePcnInput): Promise<void> {
  assertCanCreatePcn(actor);
  await changeRegistry(db, async (tx) => {
    const [area] = await tx.query('SELECT 1 FROM area WHERE code = $1', [input.areaCode]);
    if (!area) throw notFound(`Area ${input.areaCode}`);
    if (input.nominatedPayeeOds) {
      const [payee] = await tx.query('SELECT 1 FROM practice WHERE ods = $1', [input.nominatedPayeeOds]);
      if (!payee) throw invalid('nominatedPayeeOds', `practice ${input.nominatedPayeeOds} is not in the registry`);
    }
    const inserted = await tx.query(
      `INSERT INTO pcn (code, name, area_code, clinical_director, nominated_payee_ods, open_date)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::date, current_date))
       ON CONFLICT (code) DO NOTHING RETURNING code`,
      [input.code, input.name, input.areaCode, input.clinicalDirector ?? null, input.nominatedPayeeOds ?? null, input.openDate ?? null],
    );
    if (inserted.length === 0) throw conflict(`PCN ${input.code} already exists`, 'code');
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
