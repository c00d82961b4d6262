/**
 * Reading the directory: services are read through the store with the actor's request context (so /fhir edits
 * show at once and the store's audit holds), filtered by need, PCN and place in memory — a directory is hundreds
 * of services, not millions — and given their figures in one grouped query (figures.ts).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { HealthcareService } from '@medplum/fhirtypes';
import { FhirStoreRepository, parseSearch, type RequestContext } from '../../fhir-store/index.ts';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { fhirId } from '../network/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';
import { NO_FIGURES, serviceFigures } from './figures.ts';
import { directoryRegistry, distanceKm, type Registry } from './places.ts';
import { pcnsCoveredOf, providerCodeOf, serviceTypesOf, toDirectoryService } from './service-fhir.ts';
import { serviceTypeLabel, type DirectoryService } from './types.ts';

/** The most services a directory holds (one search page of the store). */
export const MAX_SERVICES = 1000;

/** The HealthcareService id of a slug: `service-<slug>`. */
export const serviceId = (slug: string): string => fhirId('service', slug);

export interface ServiceQuery {
  /** A service type code (e.g. falls-prevention), or words matched against the types' names. */
  need?: string;
  /** Free text: every word must appear in the name, types, eligibility, provider or description. */
  q?: string;
  /** Only services covering this PCN. */
  pcn?: string;
  /** A town, postcode, district or "lat,lon": results ordered by distance from it. */
  near?: string;
  /** Also services marked inactive. */
  includeInactive?: boolean;
}

export interface ServiceSearch {
  items: DirectoryService[];
  near: { label: string; latitude: number; longitude: number } | null;
}

const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter(Boolean);

function searchableText(service: HealthcareService, registry: Registry): string {
  const provider = providerCodeOf(service);
  return [
    service.name,
    service.comment,
    ...serviceTypesOf(service).flatMap((code) => [code.replaceAll('-', ' '), serviceTypeLabel(code)]),
    ...(service.eligibility ?? []).flatMap((e) => [e.code?.text, e.comment]),
    provider ? registry.organisation(provider)?.name : null,
    service.providedBy?.display,
  ]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

function matchesNeed(service: HealthcareService, need: string): boolean {
  const codes = serviceTypesOf(service);
  const wanted = need.trim().toLowerCase();
  if (codes.includes(wanted)) return true;
  const needWords = words(wanted);
  return codes.some((code) => {
    const label = `${code.replaceAll('-', ' ')} ${serviceTypeLabel(code)}`.toLowerCase();
    return needWords.every((w) => label.includes(w));
  });
}

/** Every service in the store, as the actor reads it. */
async function allServices(db: Db, context: RequestContext): Promise<HealthcareService[]> {
  const repo = new FhirStoreRepository(db, context);
  return repo.searchResources<HealthcareService>(parseSearch('HealthcareService', new URLSearchParams({ _count: String(MAX_SERVICES) })) as never);
}

/** The directory searched by need, text, PCN and place; nearest first when a place is given, else by name. */
export async function searchServices(db: Db, actor: Actor, query: ServiceQuery, request: RecordRequest['request']): Promise<ServiceSearch> {
  const registry = await directoryRegistry(db);
  const near = query.near?.trim() ? registry.locate(query.near) : null;
  const context = await recordContext(db, actor, { request });
  const pcn = query.pcn?.trim().toUpperCase();
  const textWords = words(query.q ?? '');
  const found = (await allServices(db, context)).filter(
    (s) =>
      (query.includeInactive || s.active !== false) &&
      (!query.need?.trim() || matchesNeed(s, query.need)) &&
      (!pcn || pcnsCoveredOf(s).includes(pcn)) &&
      (textWords.length === 0 || textWords.every((w) => searchableText(s, registry).includes(w))),
  );
  const figures = await serviceFigures(
    db,
    found.map((s) => s.id!),
  );
  const items = found.map((s) => {
    const item = toDirectoryService(s, registry, figures.get(s.id!) ?? NO_FIGURES);
    if (near && item.latitude !== null && item.longitude !== null) item.distanceKm = Math.round(distanceKm(near, { latitude: item.latitude, longitude: item.longitude }) * 10) / 10;
    return item;
  });
  items.sort((a, b) => (near ? (a.distanceKm ?? Infinity) - (b.distanceKm ?? Infinity) : 0) || a.name.localeCompare(b.name));
  return { items, near };
}

/** One stored HealthcareService as the context reads it; a 404 / 410 AppError naming the service otherwise. */
export async function readHealthcareService(db: Db, context: RequestContext, id: string): Promise<HealthcareService> {
  try {
    return await new FhirStoreRepository(db, context).readResource<HealthcareService>('HealthcareService', id);
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    const code = error.outcome.issue?.[0]?.code;
    if (code === 'deleted') throw new AppError('gone', `service ${id} was deleted`);
    if (code === 'not-found') throw new AppError('not-found', `service ${id} was not found`);
    throw error;
  }
}

/** One service with its figures. */
export async function readService(db: Db, actor: Actor, id: string, request: RecordRequest['request']): Promise<DirectoryService> {
  const context = await recordContext(db, actor, { request });
  const service = await readHealthcareService(db, context, id);
  const [registry, figures] = await Promise.all([directoryRegistry(db), serviceFigures(db, [id])]);
  return toDirectoryService(service, registry, figures.get(id) ?? NO_FIGURES);
}

/**
 * The organisation providing a service (its ODS or local code and name), for other modules (a referral's
 * performer identifier): read through the caller's request context. Null when the service names none.
 */
export async function serviceProvider(db: Db, context: RequestContext, id: string): Promise<{ code: string; name: string } | null> {
  const service = await readHealthcareService(db, context, id);
  const code = providerCodeOf(service);
  if (!code) return null;
  const registry = await directoryRegistry(db);
  return { code, name: service.providedBy?.display ?? registry.organisation(code)?.name ?? code };
}
