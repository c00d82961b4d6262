/**
 * Editing the directory: an admin edits any service; a PCN manager the services of their PCN's partners and
 * practices; anyone the services of their own organisation. Services are not patient data, so the record's
 * write policy (which entry categories a job role may write) does not decide here: this use case decides, then
 * writes through the store as the actor, so the version history and the audit name them.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { HealthcareService } from '@medplum/fhirtypes';
import { FhirStoreRepository, type RequestContext } from '../../fhir-store/index.ts';
import { AppError, forbidden, invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';
import { NO_FIGURES, serviceFigures } from './figures.ts';
import { directoryRegistry, type Registry } from './places.ts';
import { readHealthcareService, serviceId } from './read-services.ts';
import { providerCodeOf, toDirectoryService, toHealthcareService } from './service-fhir.ts';
import type { ServiceInput } from './service-input.ts';
import type { DirectoryService } from './types.ts';

/** May the actor edit the services of this organisation? Throws 403 saying why not. */
export function assertCanEditServicesOf(actor: Actor, providerCode: string, registry: Registry): void {
  const code = providerCode.toUpperCase();
  if (actor.role === 'admin') return;
  if (actor.orgCode?.toUpperCase() === code) return;
  if (actor.role === 'pcn-manager' && actor.pcnCode && registry.pcnsOf(code).includes(actor.pcnCode)) return;
  const whose = actor.role === 'pcn-manager' ? `the partners and practices of ${actor.pcnCode ?? 'your PCN'}` : `your own organisation${actor.orgCode ? ` (${actor.orgCode})` : ''}`;
  throw forbidden(`you may edit the services of ${whose}, not of ${providerCode}`);
}

function checkReferences(input: ServiceInput, registry: Registry): string {
  const provider = registry.organisation(input.providerCode);
  if (!provider) throw invalid('providerCode', `${input.providerCode} is not a practice or partner in the registry`);
  const unknown = input.pcns.find((code) => !registry.pcnName(code));
  if (unknown) throw invalid('pcns', `${unknown} is not a PCN in the registry`);
  return provider.name;
}

/** The actor's context, its write check left to this use case (HealthcareService only). */
async function editingContext(db: Db, actor: Actor, request: RecordRequest['request']): Promise<RequestContext> {
  const context = await recordContext(db, actor, { request });
  return {
    ...context,
    access: {
      ...context.access,
      assertWrite(resource) {
        if (resource.resourceType !== 'HealthcareService') context.access.assertWrite(resource);
      },
    },
  };
}

async function answer(db: Db, service: HealthcareService, registry: Registry): Promise<DirectoryService> {
  const figures = await serviceFigures(db, [service.id!]);
  return toDirectoryService(service, registry, figures.get(service.id!) ?? NO_FIGURES);
}

const defaultSlug = (input: ServiceInput) => `${input.types[0]}-${input.providerCode.toLowerCase()}`;

/** Adds a service (id `service-<slug>`); 409 when that slug is taken. */
export async function createService(db: Db, actor: Actor, input: ServiceInput, request: RecordRequest['request']): Promise<DirectoryService> {
  const registry = await directoryRegistry(db);
  const providerName = checkReferences(input, registry);
  assertCanEditServicesOf(actor, input.providerCode, registry);
  const slug = input.slug ?? defaultSlug(input);
  const context = await editingContext(db, actor, request);
  const id = serviceId(slug);
  const taken = await readHealthcareService(db, context, id).then(
    () => true,
    (error: unknown) => (error instanceof AppError && error.code === 'not-found' ? false : Promise.reject(error)),
  );
  // A deleted service's slug stays taken too (its history keeps it): the store answers that as gone.
  if (taken) throw new AppError('conflict', `a service with slug ${slug} is already in the directory`, 'slug');
  const created = await new FhirStoreRepository(db, context).createResource(
    { ...toHealthcareService({ ...input, slug, providerCode: input.providerCode.toUpperCase(), providerName }), id },
    { assignedId: true },
  );
  return answer(db, created, registry);
}

/**
 * Changes a service: the directory's fields are replaced, anything else a FHIR client stored is kept. With
 * `ifMatch` (the versionId read), a change made since is a 412 rather than overwritten.
 */
export async function updateService(db: Db, actor: Actor, id: string, input: ServiceInput, request: RecordRequest['request'], ifMatch?: string): Promise<DirectoryService> {
  const registry = await directoryRegistry(db);
  const context = await editingContext(db, actor, request);
  const stored = await readHealthcareService(db, context, id);
  const providerName = checkReferences(input, registry);
  assertCanEditServicesOf(actor, providerCodeOf(stored) ?? input.providerCode, registry);
  assertCanEditServicesOf(actor, input.providerCode, registry);
  const repo = new FhirStoreRepository(db, context);
  try {
    const updated = await repo.updateResource(
      { ...toHealthcareService({ ...input, providerCode: input.providerCode.toUpperCase(), providerName }, stored), id },
      ifMatch === undefined ? undefined : { ifMatch },
    );
    return await answer(db, updated, registry);
  } catch (error) {
    if (error instanceof OperationOutcomeError && error.outcome.id === 'precondition-failed') {
      throw new AppError('precondition-failed', `service ${id} was changed since version ${ifMatch}: read it again`, 'versionId');
    }
    throw error;
  }
}
