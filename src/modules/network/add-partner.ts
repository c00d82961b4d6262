import { z } from 'zod';
import { conflict, notFound } from '../../shared/errors.ts';
import { forPeople, numberField, partnerCodeField, postcodeField, textField } from '../../shared/schemas.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanEditPcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { PARTNER_TYPES } from './types.ts';

export const addPartnerInput = z.object({
  /** The partner's ODS code where it has one; a local code is made from the name otherwise. */
  code: partnerCodeField('Enter an organisation code of 3 to 20 letters, digits or dashes, like FA123').optional(),
  name: textField('Enter the partner’s name', 'The partner’s name'),
  type: z.enum(PARTNER_TYPES, { error: forPeople('Select the type of partner') }),
  postcode: postcodeField('Enter a real postcode, like NR1 3SR').optional(),
  role: textField('Enter the partner’s role in the PCN', 'The role').optional(),
  latitude: numberField(-90, 90, 'The latitude must be a number from -90 to 90').optional(),
  longitude: numberField(-180, 180, 'The longitude must be a number from -180 to 180').optional(),
});
export type AddPartnerInput = z.output<typeof addPartnerInput>;

const localCode = (name: string) =>
  `P-${name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 18)}`;

/** Adds a partner organisation to a PCN's care community; an existing partner (same code) is linked, not copied. */
export async function addPartner(db: Db, actor: Actor, pcnCode: string, input: AddPartnerInput): Promise<{ code: string }> {
  return changeRegistry(db, async (tx) => {
    const [pcn] = await tx.query('SELECT 1 FROM pcn WHERE code = $1', [pcnCode]);
    if (!pcn) throw notFound(`PCN ${pcnCode}`);
    assertCanEditPcn(actor, pcnCode);
    const code = input.code ?? localCode(input.name);
    await tx.query(
      `INSERT INTO partner (code, name, type, postcode, latitude, longitude) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (code) DO NOTHING`,
      [code, input.name, input.type, input.postcode ?? null, input.latitude ?? null, input.longitude ?? null],
    );
    const linked = await tx.query('INSERT INTO pcn_partner (pcn_code, partner_code, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING partner_code', [pcnCode, code, input.role ?? null]);
    if (linked.length === 0) throw conflict(`${code} is already a partner of this PCN`, 'code');
    await recordAudit(tx, {
      actor: actor.email,
      action: 'partner.add',
      entityType: 'partner',
      entityId: code,
      pcnCode,
      summary: `Added ${input.name} (${input.type}) as a partner of ${pcnCode}`,
      detail: input,
    });
    return { code };
  });
}
