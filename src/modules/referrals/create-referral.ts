/**
 * Refer a patient to a service (or an organisation with no directory entry): the ServiceRequest (what is asked)
 * and its workflow Task (where it is) written in ONE store transaction as the referring person, so the access
 * policy and the audit hold. Sending needs the patient's consent to share; attachments must be the same
 * patient's entries. A draft is kept by the referrer alone (its Task names no owner until it is sent).
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { CodeableConcept, Extension, HealthcareService, Identifier, Organization, Patient, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { z } from 'zod';
import { parseSearch, type FhirStoreRepository } from '../../fhir-store/index.ts';
import { AppError, forbidden, invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, signatureOf } from '../access/index.ts';
import { cachedRead, loadRegistry } from '../network/index.ts';
import { asActor, readOr, type ReferralRequest } from './as-actor.ts';
import { CHANGED_BY_EXTENSION, CONSENT_EXTENSION, JOURNEY_SYSTEM, orgCodeOf, orgReference, referralView, TASK_CODE_SYSTEM, UBRN_SYSTEM } from './referral-fhir.ts';
import { PRIORITIES, type Referral } from './types.ts';

const resourceId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'an id is 1 to 64 letters, digits, dashes or dots');

/** A referral's fields; `referralInput` adds the rule that it names one receiver. */
export const referralFields = z.object({
  patientId: resourceId,
  serviceId: resourceId.optional(),
  performerOrg: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9-]{3,20}$/, 'performerOrg is the receiving organisation’s ODS (or local) code: 3 to 20 letters, digits or dashes')
    .optional(),
  reason: z.string().trim().min(1, 'reason: say why the patient is referred').max(4000),
  priority: z.enum(PRIORITIES).default('routine'),
  whatMatters: z.string().trim().max(4000).optional(),
  consentToShare: z.boolean(),
  attachments: z
    .array(z.string().regex(/^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/, 'an attachment is a reference into the patient’s record, e.g. Condition/123'))
    .max(50)
    .default([]),
  draft: z.boolean().default(false),
  ubrn: z
    .string()
    .regex(/^\d{12}$/, 'ubrn is 12 digits')
    .optional(),
  journeyId: z.string().trim().min(1).max(128).optional(),
});

/** The rule every referral keeps, on `referralFields` or a part of it: one receiver, a service or an organisation. */
export const withOneReceiver = <T extends z.ZodType<{ serviceId?: string; performerOrg?: string }>>(schema: T) =>
  schema.refine((input) => !!input.serviceId !== !!input.performerOrg, {
    message: 'name the service (serviceId) or, when it has no directory entry, the receiving organisation (performerOrg): one of them',
    path: ['serviceId'],
  });

export const referralInput = withOneReceiver(referralFields);

export type ReferralInput = z.input<typeof referralInput>;

/** A new UBRN: 12 digits (the BaRS Unique Booking Reference Number's shape). */
export const newUbrn = (): string => String(randomInt(1, 10 ** 6)).padStart(6, '0') + String(randomInt(0, 10 ** 6)).padStart(6, '0');

export const consentMissing = () => invalid('consentToShare', 'consentToShare: the patient’s consent to share their information with the service must be recorded before the referral is sent');

interface Receiver {
  service: Reference<HealthcareService> | null;
  org: { code: string; display: string };
}

/** The service's providing organisation, or the organisation named (from the registry), as the referral's performer. */
async function receiverOf(db: Db, repo: FhirStoreRepository, input: z.output<typeof referralInput>): Promise<Receiver> {
  if (input.serviceId) {
    const service = await readOr(
      () => repo.readResource<HealthcareService>('HealthcareService', input.serviceId!),
      () => invalid('serviceId', `serviceId: no service ${input.serviceId} in the directory`),
    );
    const code = orgCodeOf(service.providedBy?.identifier);
    if (!code) throw invalid('serviceId', `serviceId: the service ${service.name ?? service.id} names no providing organisation by ODS code`);
    return { service: { reference: `HealthcareService/${service.id}`, display: service.name ?? 'Service' }, org: { code, display: service.providedBy?.display ?? code } };
  }
  const code = input.performerOrg!;
  const names = await cachedRead(db, 'referrals:organisation-names', async () => {
    const registry = await loadRegistry(db);
    return new Map<string, string>([
      ...registry.practices.map((p) => [p.ods, p.name] as const),
      ...registry.partners.map((p) => [p.code, p.name] as const),
      ...registry.pcns.map((p) => [p.code, p.name] as const),
    ]);
  });
  const name = names.get(code);
  if (!name) throw invalid('performerOrg', `performerOrg: no practice, PCN or partner organisation has the code ${code}`);
  return { service: null, org: { code, display: name } };
}

/** The patient a record entry is about (its subject, patient or for), as `Patient/<id>`. */
function patientOfEntry(entry: Resource): string | undefined {
  if (entry.resourceType === 'Patient') return `Patient/${entry.id}`;
  const record = entry as Resource & { subject?: Reference; patient?: Reference; for?: Reference };
  return (record.subject ?? record.patient ?? record.for)?.reference;
}

/** Words for an attached entry: its code's text or display, else its kind ("Condition"). */
const entryWords = (entry: Resource): string => {
  const code = (entry as Resource & { code?: CodeableConcept }).code;
  return code?.text ?? code?.coding?.find((c) => c.display)?.display ?? entry.resourceType;
};

/** The attachments as references with words, each checked to be one of this patient's entries. */
async function attachedEntries(repo: FhirStoreRepository, patientId: string, attachments: string[]): Promise<Reference[]> {
  const attached: Reference[] = [];
  for (const [i, reference] of attachments.entries()) {
    const [type, id] = reference.split('/') as [string, string];
    const field = `attachments.${i}`;
    const entry = await readOr(
      () => repo.readResource(type, id),
      () => invalid(field, `${field}: ${reference} is not in the patient’s record`),
    );
    if (patientOfEntry(entry) !== `Patient/${patientId}`) throw invalid(field, `${field}: ${reference} belongs to another patient’s record; attach only this patient’s entries`);
    attached.push({ reference, display: entryWords(entry) });
  }
  return attached;
}

export async function createReferral(db: Db, actor: Actor, given: ReferralInput, request: ReferralRequest): Promise<Referral> {
  const input = referralInput.parse(given);
  return asActor(db, actor, request, (repo) => writeReferral(db, repo, actor, input));
}

/**
 * The referral written through `repo` (one transaction, nested in the caller's when there is one). `requester`
 * is the referring organisation when it is not the actor's own (a redirect keeps the original referrer); `identifier`
 * adds the ServiceRequest's identifiers beside its UBRN (an MDT action names its meeting).
 */
export async function writeReferral(
  db: Db,
  repo: FhirStoreRepository,
  actor: Actor,
  input: z.output<typeof referralInput>,
  options: { requester?: Reference<Organization>; extension?: Extension[]; identifier?: Identifier[] } = {},
): Promise<Referral> {
  if (!actor.orgCode) throw forbidden('you refer on behalf of your organisation, and you have none recorded');
  if (!input.draft && !input.consentToShare) throw consentMissing();
  const patient = await readOr(
    () => repo.readResource<Patient>('Patient', input.patientId),
    () => invalid('patientId', `patientId: no patient ${input.patientId}`),
  );
  const receiver = await receiverOf(db, repo, input);
  const attached = await attachedEntries(repo, input.patientId, input.attachments);
  const ubrn = input.ubrn ?? newUbrn();
  if (input.ubrn) {
    const held = await repo.search(parseSearch('ServiceRequest', { identifier: `${UBRN_SYSTEM}|${ubrn}`, _count: '1', _summary: 'count' }));
    if ((held.total ?? 0) > 0) throw new AppError('conflict', `a referral with UBRN ${ubrn} already exists`, 'ubrn');
  }
  const now = new Date().toISOString();
  const signature = signatureOf(actor);
  const requester = (options.requester ?? orgReference(actor.orgCode, signature)) as Reference<Organization>;
  const owner = orgReference(receiver.org.code, receiver.org.display) as Reference<Organization>;
  const subject = { reference: `Patient/${input.patientId}` };
  const serviceName = receiver.service?.display ?? receiver.org.display;

  const written = await repo.withTransaction(async () => {
    const serviceRequest = await repo.createResource<ServiceRequest>({
      resourceType: 'ServiceRequest',
      identifier: [{ system: UBRN_SYSTEM, value: ubrn }, ...(options.identifier ?? [])],
      requisition: { system: JOURNEY_SYSTEM, value: input.journeyId ?? randomUUID() },
      status: input.draft ? 'draft' : 'active',
      intent: 'order',
      priority: input.priority,
      code: { text: `Referral to ${serviceName}` },
      subject,
      authoredOn: now,
      requester,
      performer: [...(receiver.service ? [receiver.service] : []), owner],
      reasonCode: [{ text: input.reason }],
      ...(input.whatMatters ? { note: [{ text: input.whatMatters }] } : {}),
      ...(attached.length ? { supportingInfo: attached } : {}),
      extension: [{ url: CONSENT_EXTENSION, valueBoolean: input.consentToShare }, ...(options.extension ?? [])],
    });
    const task = await repo.createResource<Task>({
      resourceType: 'Task',
      identifier: [{ system: UBRN_SYSTEM, value: ubrn }],
      status: input.draft ? 'draft' : 'requested',
      intent: 'order',
      priority: input.priority,
      code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'fulfill' }], text: `Referral to ${serviceName}` },
      focus: { reference: `ServiceRequest/${serviceRequest.id}` },
      basedOn: [{ reference: `ServiceRequest/${serviceRequest.id}` }],
      for: subject,
      authoredOn: now,
      lastModified: now,
      requester,
      // A draft is the referrer's alone: the receiving organisation is named (and gains the relationship) when it is sent.
      ...(input.draft ? {} : { owner }),
      extension: [{ url: CHANGED_BY_EXTENSION, valueString: signature }],
    });
    return { serviceRequest, task };
  });
  return referralView(written.serviceRequest, written.task, patient, [{ status: written.task.status as Referral['status'], at: now, by: signature, reason: null }]);
}
