/**
 * The demo area's service directory: the templates of data/services.json offered by the registry's partners,
 * each covering the PCNs its partner is linked to. Pure: the same registry gives the same services (ids from
 * their slugs, so seeding again finds them there and adds nothing).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HealthcareService } from '@medplum/fhirtypes';
import { z } from 'zod';
import { serviceId, serviceInput, toHealthcareService } from '../modules/directory/index.ts';
import type { RegistrySnapshot } from '../modules/network/index.ts';

const Template = serviceInput
  .omit({ slug: true, providerCode: true, pcns: true, types: true })
  .extend({ partnerType: z.string().optional(), partner: z.string().optional(), type: z.string() })
  .refine((t) => !!t.partnerType !== !!t.partner, { message: 'a template names a partnerType or one partner' });
const ServicesFile = z.object({ services: z.array(Template).min(1) });
type Template = z.infer<typeof Template>;

const url = new URL('./data/services.json', import.meta.url);

function readTemplates(): Template[] {
  const parsed = ServicesFile.safeParse(JSON.parse(readFileSync(url, 'utf8')));
  if (!parsed.success) throw new Error(`demo directory: ${fileURLToPath(url)} is not a services file: ${parsed.error.message}`);
  return parsed.data.services;
}

/** A stable, synthetic six-digit local number for an organisation code. */
function phoneDigits(code: string): string {
  let h = 2166136261;
  for (const ch of code) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const n = String(100_000 + (h % 900_000));
  return `${n.slice(0, 3)} ${n.slice(3)}`;
}

/** Every demo service as a HealthcareService with its id. */
export function demoServices(registry: Pick<RegistrySnapshot, 'partners' | 'pcnPartners'>): Array<HealthcareService & { id: string }> {
  const services: Array<HealthcareService & { id: string }> = [];
  for (const template of readTemplates()) {
    const partners = registry.partners.filter((p) => (template.partner ? p.code === template.partner : p.type === template.partnerType));
    for (const partner of partners) {
      const pcns = registry.pcnPartners
        .filter((l) => l.partnerCode === partner.code)
        .map((l) => l.pcnCode)
        .sort();
      if (pcns.length === 0) continue;
      const slug = `${template.type}-${partner.code.toLowerCase()}`;
      const fill = (text: string) => text.replaceAll('{partner}', partner.name).replaceAll('{phone}', phoneDigits(partner.code));
      const { partnerType: _type, partner: _partner, type, ...words } = template;
      const resource = toHealthcareService({
        ...words,
        slug,
        name: fill(words.name),
        types: [type],
        providerCode: partner.code,
        providerName: partner.name,
        pcns,
        comment: words.comment ? fill(words.comment) : null,
        phone: words.phone ? fill(words.phone) : null,
      });
      services.push({ ...resource, id: serviceId(slug) });
    }
  }
  return services;
}
