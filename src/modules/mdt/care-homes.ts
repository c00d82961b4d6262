/**
 * Care homes (Enhanced Health in Care Homes): each home is a registry partner of type `care-home`, aligned to ONE
 * PCN — the one migration 091 records, else the one PCN the registry links it to; a second alignment is refused.
 * Its residents are the Patients whose record names the home (extension care-home-resident, by the home's code, on
 * a resident's address at the home's postcode), found through the store under the viewer's access rules and audited.
 * The weekly home round lists the residents due a review this week, each with the reasons (ROUND_RULE).
 */
import type { Patient } from '@medplum/fhirtypes';
import { parseSearch } from '../../fhir-store/index.ts';
import { addDays, registryToday } from '../../shared/dates.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, assertCanEditPcn, policyOf } from '../access/index.ts';
import { loadRegistry, type Partner } from '../network/index.ts';
import { populationResultsVia, RESULTS_AT_ONCE } from '../population/index.ts';
import { type PatientListing, patientListing } from '../record/index.ts';
import { asActor } from '../record/index.ts';
import type { Request } from './meetings.ts';
import { CARE_HOME_EXTENSION } from './shapes.ts';

export interface CareHome {
  code: string;
  name: string;
  postcode: string | null;
  /** The PCN it is aligned to; null when the registry links it to several and none was chosen. */
  pcnCode: string | null;
  pcnName: string | null;
  /** Where the alignment comes from: chosen (migration 091's table) or the registry's one link. */
  alignedBy: 'chosen' | 'registry' | null;
  /** Every PCN the registry links it to. */
  linkedPcns: string[];
  /** The same PCNs with their names, for people. */
  linked: Array<{ code: string; name: string }>;
}

/** Who is due on this week's round, and why: the rule, as data the page shows. */
export const ROUND_RULE = {
  notSeenWeeks: 8,
  text: 'Due this week: severe frailty, any open care gap, or no contact with any service in the last 8 weeks.',
} as const;

export interface Resident extends PatientListing {
  efiCategory: string | null;
  openGaps: string[];
  lastContact: string | null;
  /** Why they are on this week's round (empty: not due). */
  dueBecause: string[];
}

async function homes(db: Db): Promise<{ list: CareHome[]; partners: Map<string, Partner> }> {
  const registry = await loadRegistry(db);
  const chosen = new Map((await db.query<{ partner_code: string; pcn_code: string }>('SELECT partner_code, pcn_code FROM mdt_care_home_alignment')).map((r) => [r.partner_code, r.pcn_code]));
  const pcnNames = new Map(registry.pcns.map((p) => [p.code, p.name]));
  const partners = new Map(registry.partners.filter((p) => p.type === 'care-home').map((p) => [p.code, p]));
  const list = [...partners.values()].map((home): CareHome => {
    const linkedPcns = registry.pcnPartners.filter((l) => l.partnerCode === home.code).map((l) => l.pcnCode);
    const pick = chosen.get(home.code) ?? (linkedPcns.length === 1 ? linkedPcns[0]! : null);
    return {
      code: home.code,
      name: home.name,
      postcode: home.postcode,
      pcnCode: pick,
      pcnName: pick ? (pcnNames.get(pick) ?? null) : null,
      alignedBy: chosen.has(home.code) ? 'chosen' : pick ? 'registry' : null,
      linkedPcns,
      linked: linkedPcns.map((code) => ({ code, name: pcnNames.get(code) ?? code })),
    };
  });
  return { list: list.sort((a, b) => a.name.localeCompare(b.name, 'en-GB')), partners };
}

/** The care homes aligned to a PCN (all of them, and those not yet aligned, when none is named). */
export async function listCareHomes(db: Db, pcnCode?: string): Promise<CareHome[]> {
  const { list } = await homes(db);
  return pcnCode ? list.filter((h) => h.pcnCode === pcnCode) : list;
}

/** Aligns a care home to a PCN (that PCN's manager, or an admin); a home already aligned elsewhere is refused. */
export async function alignCareHome(db: Db, actor: Actor, code: string, pcnCode: string): Promise<CareHome> {
  assertCanEditPcn(actor, pcnCode);
  const home = (await homes(db)).list.find((h) => h.code === code);
  if (!home) throw notFound(`The care home ${code}`);
  if (home.pcnCode && home.pcnCode !== pcnCode) throw new AppError('conflict', `${home.name} is aligned to ${home.pcnName ?? home.pcnCode}: a care home is aligned to one PCN`, 'pcnCode');
  if (!home.linkedPcns.includes(pcnCode)) throw new AppError('invalid', `${home.name} is not linked to ${pcnCode} in the registry: link it first`, 'pcnCode');
  await db.query('INSERT INTO mdt_care_home_alignment (partner_code, pcn_code, aligned_by) VALUES ($1, $2, $3) ON CONFLICT (partner_code) DO NOTHING', [code, pcnCode, actor.email]);
  const now = (await homes(db)).list.find((h) => h.code === code)!;
  if (now.pcnCode !== pcnCode) throw new AppError('conflict', `${home.name} is aligned to ${now.pcnName ?? now.pcnCode}: a care home is aligned to one PCN`, 'pcnCode');
  return now;
}

const livesAt = (patient: Patient, code: string) => (patient.extension ?? []).some((e) => e.url === CARE_HOME_EXTENSION && e.valueReference?.identifier?.value?.toUpperCase() === code.toUpperCase());

/** A care home, its residents whose record the viewer may open, and who is due on this week's round. */
export async function readCareHome(db: Db, actor: Actor, code: string, request: Request): Promise<CareHome & { residents: Resident[]; round: Resident[]; roundRule: string; weekOf: string }> {
  const home = (await homes(db)).list.find((h) => h.code === code.toUpperCase());
  if (!home) throw notFound(`The care home ${code}`);
  const weekOf = registryToday();
  const result = { ...home, residents: [] as Resident[], round: [] as Resident[], roundRule: ROUND_RULE.text, weekOf };
  if (!home.postcode || policyOf(actor.role).reach === 'none') return result;
  const { patients, scores } = await asActor(db, actor, request, async (repo) => {
    const bundle = await repo.search<Patient>(parseSearch('Patient', { 'address-postalcode': home.postcode!, _count: String(RESULTS_AT_ONCE) }) as never);
    const residents = (bundle.entry ?? []).map((e) => e.resource).filter((p): p is Patient & { id: string } => !!p && livesAt(p, home.code));
    return {
      patients: residents,
      scores: await populationResultsVia(
        db,
        repo,
        residents.map((p) => p.id),
      ),
    };
  });
  const notSeenSince = addDays(weekOf, -7 * ROUND_RULE.notSeenWeeks);
  for (const patient of patients) {
    const scored = scores.get(patient.id);
    const efiCategory = scored?.efi && 'category' in scored.efi ? scored.efi.category : null;
    const openGaps = (scored?.careGaps ?? []).filter((g) => 'status' in g && g.status === 'open').map((g) => g.name);
    const lastContact = scored?.profile.lastContact ?? null;
    const dueBecause = [
      ...(efiCategory === 'severe' ? ['severe frailty'] : []),
      ...openGaps.map((gap) => `open care gap: ${gap}`),
      ...(!lastContact || lastContact < notSeenSince ? [`no contact since ${lastContact ?? 'ever recorded'}`] : []),
    ];
    result.residents.push({ ...patientListing(patient), efiCategory, openGaps, lastContact, dueBecause });
  }
  result.residents.sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
  result.round = result.residents.filter((r) => r.dueBecause.length > 0);
  return result;
}
