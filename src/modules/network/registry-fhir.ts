/**
 * The network registry published as FHIR R4 (UK Core flavoured): Organizations for the area (ICB),
 * PCNs, practices and partners; OrganizationAffiliations for practice→PCN memberships (ODS "RE8 Is
 * Partner To") and PCN→partner links; Locations for every site with a position; a Practitioner and
 * PractitionerRole for each PCN's clinical director. Pure: no I/O.
 *
 * Every id is derived from codes (never random, never a counter), so publishing the same registry
 * again — e.g. as the `registryFhirBundle` transaction of PUTs — updates resources rather than
 * duplicating them. References between the resources are relative (`Organization/ods-U90001`);
 * a reference to an organisation that is not in the snapshot becomes a logical reference by ODS
 * identifier instead, so nothing ever points at a resource that was not published.
 */
import type {
  Address,
  Bundle,
  BundleEntry,
  CodeableConcept,
  Coding,
  HumanName,
  Identifier,
  Location,
  Organization,
  OrganizationAffiliation,
  Period,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { registryToday } from '../../shared/dates.ts';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { PARTNER_TYPE_LABELS, type Membership, type Partner, type PartnerType, type Pcn, type PcnPartner, type RegistrySnapshot } from './types.ts';

export const ORGANISATION_ROLE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/organisation-role';
export const ORGANISATION_RELATIONSHIP_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/organisation-relationship';
export const PARTNER_TYPE_SYSTEM = 'https://pcn-hub.example/CodeSystem/partner-type';
export const LOCAL_PARTNER_SYSTEM = 'https://pcn-hub.example/Id/partner';
/** Area, PCN and practice codes that are not ODS-shaped (should not happen after import validation). */
export const LOCAL_ORGANISATION_SYSTEM = 'https://pcn-hub.example/Id/organisation';

const UK_CORE = 'https://fhir.hl7.org.uk/StructureDefinition/';
const PROFILE = {
  Organization: `${UK_CORE}UKCore-Organization`,
  Location: `${UK_CORE}UKCore-Location`,
  Practitioner: `${UK_CORE}UKCore-Practitioner`,
  PractitionerRole: `${UK_CORE}UKCore-PractitionerRole`,
} as const;

const ODS_PATTERNS: readonly RegExp[] = [
  /^[A-Z]\d{5}$/, // GP practice
  /^U\d{5}$/, // PCN
  /^Q[A-Z0-9]{2}$/, // ICB
  /^R[A-Z0-9]{2,4}$/, // NHS trust
  /^F[A-Z0-9]{4}$/, // community pharmacy
];

export const isOdsShaped = (code: string): boolean => ODS_PATTERNS.some((p) => p.test(code));

const role = (code: string, display: string): Coding => ({ system: ORGANISATION_ROLE_SYSTEM, code, display });
const ROLE_ICB = role('RO318', 'INTEGRATED CARE BOARD');
const ROLE_PCN = role('RO272', 'PRIMARY CARE NETWORK');
const ROLE_PRESCRIBING_COST_CENTRE = role('RO177', 'PRESCRIBING COST CENTRE');
const ROLE_GP_PRACTICE = role('RO76', 'GP PRACTICE');
const ROLE_PHARMACY = role('RO182', 'PHARMACY');
const ROLE_NHS_TRUST = role('RO197', 'NHS TRUST');

const RE8_IS_PARTNER_TO: Coding = { system: ORGANISATION_RELATIONSHIP_SYSTEM, code: 'RE8', display: 'Is Partner To' };

// ---------------------------------------------------------------------------------------------
// Deterministic ids
// ---------------------------------------------------------------------------------------------

/** FNV-1a, 32 bits, as 8 hex digits: a stable disambiguator for ids that had to be altered. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * A FHIR id ([A-Za-z0-9\-\.]{1,64}) from its parts joined by '-'. Ids made only of allowed characters
 * and short enough are kept as they are; otherwise characters are replaced and a hash of the raw id is
 * appended (so two codes that differ only in disallowed characters still get different ids).
 */
export function fhirId(...parts: string[]): string {
  const raw = parts.join('-');
  const clean = raw.replace(/[^A-Za-z0-9\-.]/g, '-');
  if (clean === raw && clean.length >= 1 && clean.length <= 64) return clean;
  return `${clean.slice(0, 55)}-${fnv1a(raw)}`;
}

type OrgKind = 'area' | 'pcn' | 'practice' | 'partner';

/** `ods-Z90101` for ODS-shaped codes; `partner-LA-NORFOLK` (or `local-…`) for local codes. */
export function organizationId(code: string, kind: OrgKind): string {
  if (isOdsShaped(code)) return fhirId('ods', code);
  return fhirId(kind === 'partner' ? 'partner' : 'local', code);
}

/** `site-Z90101` for an ODS-coded organisation, `site-partner-LA-NORFOLK` for a local one. */
const locationId = (orgId: string) => fhirId('site', orgId.startsWith('ods-') ? orgId.slice(4) : orgId);

const membershipId = (m: Membership) => fhirId('membership', m.practiceOds, m.pcnCode, m.startDate);
const pcnPartnerId = (link: PcnPartner) => fhirId('pcn-partner', link.pcnCode, link.partnerCode);
const clinicalDirectorId = (pcn: Pcn) => fhirId('cd', pcn.code);

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

function organizationIdentifier(code: string, kind: OrgKind, period?: Period): Identifier {
  const system = isOdsShaped(code) ? ODS_SYSTEM : kind === 'partner' ? LOCAL_PARTNER_SYSTEM : LOCAL_ORGANISATION_SYSTEM;
  return period ? { system, value: code, period } : { system, value: code };
}

function address(postcode: string | null, town: string | null): Address[] | undefined {
  if (postcode === null && town === null) return undefined;
  return [{ use: 'work', ...(town !== null ? { city: town } : {}), ...(postcode !== null ? { postalCode: postcode } : {}), country: 'GB' }];
}

function period(start: string | null | undefined, end: string | null | undefined): Period | undefined {
  if (!start && !end) return undefined;
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** "Dr Amelia Ashworth" → prefix Dr, given Amelia, family Ashworth. Simple on purpose. */
export function parseClinicianName(text: string): HumanName {
  const tokens = text
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  const prefix: string[] = [];
  while (tokens.length > 1 && /^(dr|mr|mrs|ms|miss|mx|prof|professor)\.?$/i.test(tokens[0] ?? '')) {
    prefix.push(tokens.shift() ?? '');
  }
  const family = tokens.pop();
  const name: HumanName = { use: 'official', text: text.trim() };
  if (family !== undefined) name.family = family;
  if (tokens.length > 0) name.given = tokens;
  if (prefix.length > 0) name.prefix = prefix;
  return name;
}

/** The ODS role of a partner, when its code says what kind of ODS organisation it is. */
function partnerOdsRole(partner: Partner): Coding | undefined {
  if (/^F[A-Z0-9]{4}$/.test(partner.code)) return ROLE_PHARMACY;
  if (/^R[A-Z0-9]{2,4}$/.test(partner.code)) return ROLE_NHS_TRUST;
  return undefined;
}

const partnerTypeCoding = (type: PartnerType): Coding => ({ system: PARTNER_TYPE_SYSTEM, code: type, display: PARTNER_TYPE_LABELS[type] });

// ---------------------------------------------------------------------------------------------
// The registry as FHIR
// ---------------------------------------------------------------------------------------------

/** Publishes the registry as FHIR R4 resources with deterministic ids (see the module comment). */
/** The registry as FHIR resources; a membership is `active` when it is in effect on `asOf` (default: today in England). */
export function registryAsFhir(snapshot: RegistrySnapshot, asOf: string = registryToday()): Resource[] {
  const out = new Map<string, Resource>();
  const add = (resource: Resource & { id: string }) => {
    const key = `${resource.resourceType}/${resource.id}`;
    if (!out.has(key)) out.set(key, resource); // the first wins: an organisation listed twice is published once
  };

  // Which organisations are published, by code, so references resolve or fall back to identifiers.
  const published = new Map<string, { id: string; name: string; kind: OrgKind }>();
  const note = (code: string, name: string, kind: OrgKind) => {
    if (!published.has(code)) published.set(code, { id: organizationId(code, kind), name, kind });
  };
  for (const a of snapshot.areas) note(a.code, a.name, 'area');
  for (const p of snapshot.pcns) note(p.code, p.name, 'pcn');
  for (const p of snapshot.practices) note(p.ods, p.name, 'practice');
  for (const p of snapshot.partners) note(p.code, p.name, 'partner');

  const orgRef = (code: string, kind: OrgKind): Reference<Organization> => {
    const known = published.get(code);
    if (known) return { reference: `Organization/${known.id}`, display: known.name };
    return { type: 'Organization', identifier: organizationIdentifier(code, kind) };
  };

  for (const area of snapshot.areas) {
    const org: Organization & { id: string } = {
      resourceType: 'Organization',
      id: organizationId(area.code, 'area'),
      meta: { profile: [PROFILE.Organization] },
      identifier: [organizationIdentifier(area.code, 'area')],
      active: true,
      type: [{ coding: [ROLE_ICB], text: 'Integrated care board' }],
      name: area.name,
    };
    add(org);
  }

  const pcnByCode = new Map<string, Pcn>();
  for (const pcn of snapshot.pcns) {
    pcnByCode.set(pcn.code, pcn);
    const org: Organization & { id: string } = {
      resourceType: 'Organization',
      id: organizationId(pcn.code, 'pcn'),
      meta: { profile: [PROFILE.Organization] },
      identifier: [organizationIdentifier(pcn.code, 'pcn', period(pcn.openDate, pcn.closeDate))],
      active: !pcn.closeDate,
      type: [{ coding: [ROLE_PCN], text: 'Primary care network' }],
      name: pcn.name,
      partOf: orgRef(pcn.areaCode, 'area'),
    };
    add(org);
  }

  const sites: { orgId: string; name: string; latitude: number | null; longitude: number | null; address: Address[] | undefined }[] = [];

  for (const practice of snapshot.practices) {
    const id = organizationId(practice.ods, 'practice');
    const addr = address(practice.postcode, practice.town);
    const org: Organization & { id: string } = {
      resourceType: 'Organization',
      id,
      meta: { profile: [PROFILE.Organization] },
      identifier: [organizationIdentifier(practice.ods, 'practice')],
      active: true,
      type: [{ coding: [ROLE_PRESCRIBING_COST_CENTRE, ROLE_GP_PRACTICE], text: 'GP practice' }],
      name: practice.name,
      ...(addr ? { address: addr } : {}),
    };
    add(org);
    sites.push({ orgId: id, name: practice.name, latitude: practice.latitude, longitude: practice.longitude, address: addr });
  }

  for (const partner of snapshot.partners) {
    const id = organizationId(partner.code, 'partner');
    const addr = address(partner.postcode, null);
    const odsRole = partnerOdsRole(partner);
    const org: Organization & { id: string } = {
      resourceType: 'Organization',
      id,
      meta: { profile: [PROFILE.Organization] },
      identifier: [organizationIdentifier(partner.code, 'partner')],
      active: true,
      type: [{ coding: [partnerTypeCoding(partner.type)], text: PARTNER_TYPE_LABELS[partner.type] }, ...(odsRole ? [{ coding: [odsRole] } satisfies CodeableConcept] : [])],
      name: partner.name,
      ...(addr ? { address: addr } : {}),
    };
    add(org);
    sites.push({ orgId: id, name: partner.name, latitude: partner.latitude, longitude: partner.longitude, address: addr });
  }

  for (const site of sites) {
    if (site.latitude === null || site.longitude === null) continue;
    const location: Location & { id: string } = {
      resourceType: 'Location',
      id: locationId(site.orgId),
      meta: { profile: [PROFILE.Location] },
      status: 'active',
      mode: 'instance',
      name: site.name,
      ...(site.address?.[0] ? { address: site.address[0] } : {}),
      position: { latitude: site.latitude, longitude: site.longitude },
      managingOrganization: { reference: `Organization/${site.orgId}`, display: site.name },
    };
    add(location);
  }

  for (const pcn of snapshot.pcns) {
    if (!pcn.clinicalDirector?.trim()) continue;
    const id = clinicalDirectorId(pcn);
    const name = parseClinicianName(pcn.clinicalDirector);
    const practitioner: Practitioner & { id: string } = {
      resourceType: 'Practitioner',
      id,
      meta: { profile: [PROFILE.Practitioner] },
      active: !pcn.closeDate,
      name: [name],
    };
    add(practitioner);
    const practitionerRole: PractitionerRole & { id: string } = {
      resourceType: 'PractitionerRole',
      id,
      meta: { profile: [PROFILE.PractitionerRole] },
      active: !pcn.closeDate,
      practitioner: { reference: `Practitioner/${id}`, display: name.text ?? pcn.clinicalDirector },
      organization: orgRef(pcn.code, 'pcn'),
      code: [{ text: 'Clinical director' }],
    };
    add(practitionerRole);
  }

  for (const m of snapshot.memberships) {
    const p = period(m.startDate, m.endDate);
    const affiliation: OrganizationAffiliation & { id: string } = {
      resourceType: 'OrganizationAffiliation',
      id: membershipId(m),
      active: m.startDate <= asOf && (m.endDate === null || m.endDate >= asOf),
      ...(p ? { period: p } : {}),
      organization: orgRef(m.pcnCode, 'pcn'),
      participatingOrganization: orgRef(m.practiceOds, 'practice'),
      code: [{ coding: [RE8_IS_PARTNER_TO], text: 'PCN member practice' }],
    };
    add(affiliation);
  }

  const partnerByCode = new Map(snapshot.partners.map((p) => [p.code, p]));
  for (const link of snapshot.pcnPartners) {
    const partner = partnerByCode.get(link.partnerCode);
    const typeLabel = partner ? PARTNER_TYPE_LABELS[partner.type] : 'Partner';
    const affiliation: OrganizationAffiliation & { id: string } = {
      resourceType: 'OrganizationAffiliation',
      id: pcnPartnerId(link),
      active: !pcnByCode.get(link.pcnCode)?.closeDate,
      organization: orgRef(link.pcnCode, 'pcn'),
      participatingOrganization: orgRef(link.partnerCode, 'partner'),
      code: [{ ...(partner ? { coding: [partnerTypeCoding(partner.type)] } : {}), text: link.role?.trim() || typeLabel }],
    };
    add(affiliation);
  }

  return [...out.values()];
}

/** The registry as a FHIR `transaction` of PUTs (`Organization/ods-Z90101`): publishing it again is idempotent. */
export function registryFhirBundle(snapshot: RegistrySnapshot, asOf?: string): Bundle {
  const entry: BundleEntry[] = registryAsFhir(snapshot, asOf).map((resource) => ({
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` },
  }));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
