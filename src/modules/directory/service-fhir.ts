/**
 * A HealthcareService in the shape docs/coordination.md fixes, read into the directory's words and written from
 * them. The FHIR resource stays the truth; this file only reads its elements and sets the ones the directory
 * edits, keeping anything else a FHIR client stored.
 */
import type { CodeableConcept, HealthcareService, HealthcareServiceAvailableTime, Extension } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { LOCAL_PARTNER_SYSTEM, isOdsShaped } from '../network/index.ts';
import {
  CAPACITY_EXTENSION,
  PCNS_COVERED_EXTENSION,
  REFERRAL_METHOD_SYSTEM,
  SERVICE_ID_SYSTEM,
  SERVICE_TYPE_SYSTEM,
  serviceTypeLabel,
  type DirectoryService,
  type OpeningTime,
  type ServiceFigures,
  type Weekday,
} from './types.ts';

export interface ServiceWords {
  slug?: string;
  name: string;
  active?: boolean;
  types: string[];
  providerCode: string;
  providerName: string;
  pcns: string[];
  eligibility: string[];
  howToRefer: string[];
  referralMethods?: string[];
  openingTimes: OpeningTime[];
  notAvailable?: string[];
  capacity?: number | null;
  comment?: string | null;
  phone?: string | null;
}

const REFERRAL_METHOD_LABELS: Record<string, string> = { elec: 'Secure messaging', phone: 'Phone', fax: 'Fax', semail: 'Secure email', mail: 'Mail' };

/** The ODS (or local) code of the organisation providing the service. */
export const providerCodeOf = (service: HealthcareService): string | null => service.providedBy?.identifier?.value?.toUpperCase() ?? null;

export const serviceTypesOf = (service: HealthcareService): string[] =>
  (service.type ?? []).flatMap((t) => (t.coding ?? []).filter((c) => c.system === SERVICE_TYPE_SYSTEM && c.code).map((c) => c.code!));

/** The PCN codes covered: the pcns-covered extension (valueCode or valueString each), else coverageArea's displays. */
export function pcnsCoveredOf(service: HealthcareService): string[] {
  const codes = (service.extension ?? [])
    .filter((e) => e.url === PCNS_COVERED_EXTENSION)
    .flatMap((e) => [e.valueCode, e.valueString, ...(e.valueCodeableConcept?.coding ?? []).map((c) => c.code)].filter((c): c is string => !!c));
  return [...new Set(codes.map((c) => c.toUpperCase()))];
}

export function capacityOf(service: HealthcareService): number | null {
  const value = service.extension?.find((e) => e.url === CAPACITY_EXTENSION)?.valueInteger;
  return typeof value === 'number' ? value : null;
}

const textOf = (concept: CodeableConcept | undefined): string | null => concept?.text ?? concept?.coding?.[0]?.display ?? null;

function openingTimesOf(service: HealthcareService): OpeningTime[] {
  return (service.availableTime ?? []).map((t) => ({
    days: (t.daysOfWeek ?? []) as Weekday[],
    ...(t.allDay ? { allDay: true } : {}),
    ...(t.availableStartTime ? { opens: t.availableStartTime.slice(0, 5) } : {}),
    ...(t.availableEndTime ? { closes: t.availableEndTime.slice(0, 5) } : {}),
  }));
}

/** What the registry knows of organisations and PCNs, to name and place a service. */
export interface DirectoryPlaces {
  organisation(code: string): { name: string; latitude: number | null; longitude: number | null; postcode: string | null } | undefined;
  pcnName(code: string): string | undefined;
}

export function toDirectoryService(service: HealthcareService, places: DirectoryPlaces, figures: Omit<ServiceFigures, 'capacity'>): DirectoryService {
  const providerCode = providerCodeOf(service) ?? '';
  const org = places.organisation(providerCode);
  return {
    id: service.id!,
    slug: service.identifier?.find((i) => i.system === SERVICE_ID_SYSTEM)?.value ?? null,
    name: service.name ?? '(unnamed service)',
    active: service.active !== false,
    types: serviceTypesOf(service).map((code) => ({ code, label: serviceTypeLabel(code) })),
    provider: { code: providerCode, name: service.providedBy?.display ?? org?.name ?? providerCode },
    pcns: pcnsCoveredOf(service).map((code) => ({ code, name: places.pcnName(code) ?? code })),
    eligibility: (service.eligibility ?? []).flatMap((e) => [textOf(e.code), e.comment].filter((t): t is string => !!t)),
    howToRefer: (service.referralMethod ?? []).map((m) => textOf(m)).filter((t): t is string => !!t),
    referralMethods: (service.referralMethod ?? []).flatMap((m) => (m.coding ?? []).filter((c) => c.system === REFERRAL_METHOD_SYSTEM && c.code).map((c) => c.code!)),
    openingTimes: openingTimesOf(service),
    notAvailable: (service.notAvailable ?? []).map((n) => n.description),
    comment: service.comment ?? null,
    phone: service.telecom?.find((t) => t.system === 'phone')?.value ?? null,
    latitude: org?.latitude ?? null,
    longitude: org?.longitude ?? null,
    postcode: org?.postcode ?? null,
    figures: { ...figures, capacity: capacityOf(service) },
    versionId: service.meta?.versionId ?? null,
  };
}

const DIRECTORY_EXTENSIONS = new Set([PCNS_COVERED_EXTENSION, CAPACITY_EXTENSION]);

/** The service in FHIR: `base` (the stored version, on an update) keeps every element the directory does not edit. */
export function toHealthcareService(words: ServiceWords, base: Partial<HealthcareService> = {}): HealthcareService {
  const otherIdentifiers = (base.identifier ?? []).filter((i) => i.system !== SERVICE_ID_SYSTEM);
  const slug = words.slug ?? base.identifier?.find((i) => i.system === SERVICE_ID_SYSTEM)?.value;
  const extension: Extension[] = [
    ...(base.extension ?? []).filter((e) => !DIRECTORY_EXTENSIONS.has(e.url)),
    ...words.pcns.map((code) => ({ url: PCNS_COVERED_EXTENSION, valueCode: code })),
    ...(words.capacity != null ? [{ url: CAPACITY_EXTENSION, valueInteger: words.capacity }] : []),
  ];
  const availableTime: HealthcareServiceAvailableTime[] = words.openingTimes.map((t) => ({
    daysOfWeek: t.days,
    ...(t.allDay ? { allDay: true } : {}),
    ...(!t.allDay && t.opens ? { availableStartTime: `${t.opens}:00` } : {}),
    ...(!t.allDay && t.closes ? { availableEndTime: `${t.closes}:00` } : {}),
  }));
  const methods = words.referralMethods ?? [];
  const service: HealthcareService = {
    ...base,
    resourceType: 'HealthcareService',
    identifier: [...(slug ? [{ system: SERVICE_ID_SYSTEM, value: slug }] : []), ...otherIdentifiers],
    active: words.active ?? true,
    // ODS where the organisation has an ODS code; a council or charity's local code otherwise (as the registry publishes it).
    providedBy: { identifier: { system: isOdsShaped(words.providerCode) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: words.providerCode }, display: words.providerName },
    category: [{ coding: [{ system: SERVICE_TYPE_SYSTEM, code: words.types[0] ?? 'other', display: serviceTypeLabel(words.types[0] ?? 'other') }] }],
    type: words.types.map((code) => ({ coding: [{ system: SERVICE_TYPE_SYSTEM, code, display: serviceTypeLabel(code) }], text: serviceTypeLabel(code) })),
    name: words.name,
    eligibility: words.eligibility.map((text) => ({ code: { text } })),
    referralMethod: [
      ...words.howToRefer.map((text, i) => ({
        ...(methods[i] ? { coding: [{ system: REFERRAL_METHOD_SYSTEM, code: methods[i], display: REFERRAL_METHOD_LABELS[methods[i]] ?? methods[i] }] } : {}),
        text,
      })),
      ...methods.slice(words.howToRefer.length).map((code) => ({ coding: [{ system: REFERRAL_METHOD_SYSTEM, code, display: REFERRAL_METHOD_LABELS[code] ?? code }] })),
    ],
    availableTime,
    notAvailable: (words.notAvailable ?? []).map((description) => ({ description })),
    extension,
  };
  if (words.comment) service.comment = words.comment;
  else delete service.comment;
  if (words.phone) service.telecom = [{ system: 'phone', value: words.phone, use: 'work' }];
  else delete service.telecom;
  if (service.notAvailable?.length === 0) delete service.notAvailable;
  if (service.referralMethod?.length === 0) delete service.referralMethod;
  return service;
}
