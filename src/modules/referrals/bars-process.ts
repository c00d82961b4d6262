/**
 * `$process-message` for BaRS referral messages, as the sender (a person or a backend client): a referral
 * (`servicerequest-request`, ServiceRequest active) is created for the patient found by NHS number and the
 * service named, its cancellation (ServiceRequest revoked, same UBRN) cancels it; either is answered with the
 * response message. The UBRN is the referral's identity: a message sent twice lands once, and is answered
 * again. And the export: any referral the actor may read as a BaRS message.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, HealthcareService, OperationOutcomeIssue, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { AppError, conflict } from '../../shared/errors.ts';
import { NHS_NUMBER_SYSTEM } from '../../shared/ids.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { asActor, type ReferralRequest } from './as-actor.ts';
import { hasBeenAnswered, requestMessage, requestMessageIdOf, responseMessage, type StoredReferral } from './bars-export.ts';
import { readBarsMessage, type BarsReferralMessage } from './bars-message.ts';
import { referralInput, writeReferral } from './create-referral.ts';
import { extensionValue, orgIdentifier, UBRN_SYSTEM } from './referral-fhir.ts';
import { moveReferral, readParts } from './transition-referral.ts';

/** On a ServiceRequest received by message: the sender's MessageHeader.id, which every response to it names. */
export const BARS_MESSAGE_ID_EXTENSION = 'https://pcn-hub.example/StructureDefinition/bars-message-id';
/** On a ServiceRequest received by message: where the sender takes responses (MessageHeader.source.endpoint). */
export const BARS_SOURCE_EXTENSION = 'https://pcn-hub.example/StructureDefinition/bars-source-endpoint';

export interface MessageRequest {
  request: ReferralRequest;
  /** The server's FHIR base (`https://…/fhir`). */
  baseUrl: string;
}

/** Where in the message each thing the referral needs came from, for an issue that names it. */
const AT = {
  identifier: 'identifier',
  status: 'status',
  subject: 'subject',
  performer: 'performer',
  requester: 'requester',
  reasonCode: 'reasonCode',
  extension: 'extension',
  requisition: 'requisition',
  priority: 'priority',
  note: 'note',
} as const;

/** A refusal as the one 422 outcome (`business-rule`), each issue naming entry and element. */
const unprocessable = (issues: OperationOutcomeIssue[]) => new OperationOutcomeError({ resourceType: 'OperationOutcome', id: 'business-rule', issue: issues });

/** Processes one BaRS message and answers the response message (200), or throws the refusal (422, 403, 409). */
export async function processBarsMessage(db: Db, actor: Actor, body: unknown, options: MessageRequest): Promise<Bundle> {
  const reading = readBarsMessage(body);
  if (!reading.ok) throw unprocessable(reading.issues);
  const message = reading.message;
  const index = message.focusEntry;
  const at = (element: keyof typeof AT) => `Bundle.entry[${index}].resource.${AT[element]}`;
  const refuse = (element: keyof typeof AT, text: string) =>
    unprocessable([{ severity: 'error', code: 'invalid', details: { text: `entry[${index}] ServiceRequest.${AT[element]}: ${text}` }, expression: [at(element)] }]);

  if (message.requester && message.requester.org !== actor.orgCode) {
    throw new AppError(
      'forbidden',
      `entry[${index}] ServiceRequest.requester: you send for ${actor.orgCode ?? 'no organisation'}; a message refers only on behalf of its sender’s own organisation, not ${message.requester.org}`,
      at('requester'),
    );
  }
  try {
    return await asActor(db, actor, options.request, (repo) =>
      repo.withTransaction(async (tx) => {
        // One message per UBRN at a time: of two copies sent at once, the second waits and finds the first's referral.
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`bars-ubrn\n${message.ubrn}`]);
        const existing = await referralWithUbrn(repo, message.ubrn);
        if (existing && existing.requester?.identifier?.value !== actor.orgCode) {
          throw conflict(`entry[${index}] ServiceRequest.identifier: UBRN ${message.ubrn} is already a referral from another organisation; a UBRN names one referral`, at('identifier'));
        }
        let referralId: string;
        if (message.kind === 'request') {
          referralId = existing?.id ?? (await createFromMessage(tx, repo, actor, message, refuse));
        } else {
          if (!existing) throw refuse('identifier', `no referral with UBRN ${message.ubrn} is held here to cancel`);
          referralId = existing.id!;
          await cancelFromMessage(repo, actor, referralId);
        }
        return responseMessage(await storedReferral(repo, referralId), { baseUrl: options.baseUrl, now: new Date(), requestMessageId: message.messageId });
      }),
    );
  } catch (error) {
    throw inMessageWords(error, index);
  }
}

async function referralWithUbrn(repo: FhirStoreRepository, ubrn: string): Promise<ServiceRequest | undefined> {
  const found = await repo.search(parseSearch('ServiceRequest', { identifier: `${UBRN_SYSTEM}|${ubrn}`, _count: '1' }));
  return found.entry?.map((e) => e.resource).find((r): r is ServiceRequest & { id: string } => r?.resourceType === 'ServiceRequest');
}

type Refuse = (element: keyof typeof AT, text: string) => OperationOutcomeError;

async function createFromMessage(db: Db, repo: FhirStoreRepository, actor: Actor, message: BarsReferralMessage, refuse: Refuse): Promise<string> {
  const patients = await repo.search(parseSearch('Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${message.nhsNumber}`, _count: '2' }));
  const patient = patients.entry?.map((e) => e.resource).find((r): r is Patient & { id: string } => r?.resourceType === 'Patient');
  if (!patient) throw refuse('subject', `no patient with NHS number ${message.nhsNumber} is held here for you to refer`);
  const receiver = await serviceOf(repo, message, refuse);
  if (message.consentToShare === false) throw refuse('extension', 'the patient has not consented to share their information with the service, so the referral cannot be sent');
  const input = referralInput.parse({
    patientId: patient.id,
    ...receiver,
    reason: message.reason,
    priority: message.priority,
    ...(message.notes.length ? { whatMatters: message.notes.join('\n') } : {}),
    // A BaRS sender refers with the patient's agreement, recorded in its own system; our extension, when sent, is read.
    consentToShare: message.consentToShare ?? true,
    ubrn: message.ubrn,
    ...(message.journey ? { journeyId: message.journey.value } : {}),
  });
  const referral = await writeReferral(db, repo, actor, input, {
    extension: [{ url: BARS_MESSAGE_ID_EXTENSION, valueId: message.messageId }, ...(message.sourceEndpoint ? [{ url: BARS_SOURCE_EXTENSION, valueUrl: message.sourceEndpoint }] : [])],
  });
  return referral.id;
}

/** The service referred to: the one named (by id or directory identifier), else the only one the organisation offers, else the organisation itself. */
async function serviceOf(repo: FhirStoreRepository, message: BarsReferralMessage, refuse: Refuse): Promise<{ serviceId: string } | { performerOrg: string }> {
  const performer = message.performer!;
  if (performer.serviceId) return { serviceId: performer.serviceId };
  if (performer.serviceIdentifier) {
    const { system, value } = performer.serviceIdentifier;
    const found = await services(repo, { identifier: `${system}|${value}` });
    if (found.length === 0) throw refuse('performer', `no service with the identifier ${value} is in the directory`);
    return { serviceId: found[0]!.id };
  }
  const { system, value } = orgIdentifier(performer.org!);
  const offered = await services(repo, { 'organization:identifier': `${system}|${value}` });
  if (offered.length === 1) return { serviceId: offered[0]!.id };
  if (offered.length > 1) {
    const names = offered.map((s) => `${s.name ?? s.id} (HealthcareService/${s.id})`).join(', ');
    throw refuse('performer', `${performer.org} offers ${offered.length} services: name the one referred to (${names})`);
  }
  return { performerOrg: performer.org! };
}

async function services(repo: FhirStoreRepository, query: Record<string, string>): Promise<(HealthcareService & { id: string })[]> {
  const found = await repo.search(parseSearch('HealthcareService', { ...query, _count: '20' }));
  return (found.entry ?? []).map((e) => e.resource).filter((r): r is HealthcareService & { id: string } => r?.resourceType === 'HealthcareService');
}

/** Cancels the referral (its Task `cancelled`, the ServiceRequest `revoked`); one already cancelled is left as it is. */
async function cancelFromMessage(repo: FhirStoreRepository, actor: Actor, referralId: string): Promise<void> {
  const { task } = await readParts(repo, referralId);
  if (task.status === 'cancelled') return;
  await moveReferral(repo, actor, { referralId, to: 'cancelled', reason: 'Cancelled by the referrer’s system (BaRS cancellation)' });
}

/** The referral's resources as the actor may see them: the patient and service when readable. */
async function storedReferral(repo: FhirStoreRepository, referralId: string): Promise<StoredReferral> {
  const { serviceRequest, task } = await readParts(repo, referralId);
  const patientId = (serviceRequest.subject?.reference ?? '').replace(/^Patient\//, '');
  const patient = await repo.readResource<Patient>('Patient', patientId).catch(() => undefined);
  const serviceRef = serviceRequest.performer?.find((p) => p.reference?.startsWith('HealthcareService/'))?.reference;
  const service = serviceRef ? await repo.readResource<HealthcareService>('HealthcareService', serviceRef.slice('HealthcareService/'.length)).catch(() => undefined) : undefined;
  return {
    serviceRequest: serviceRequest as StoredReferral['serviceRequest'],
    task: task as StoredReferral['task'],
    ...(patient ? { patient } : {}),
    ...(service ? { service } : {}),
  };
}

/** A use case's refusal of a field of its input, said of the message's element instead (`serviceId` → the performer). */
function inMessageWords(error: unknown, index: number): unknown {
  if (!(error instanceof AppError) || !error.field) return error;
  const element: Record<string, keyof typeof AT> = {
    patientId: 'subject',
    serviceId: 'performer',
    performerOrg: 'performer',
    consentToShare: 'extension',
    reason: 'reasonCode',
    ubrn: 'identifier',
    journeyId: 'requisition',
    whatMatters: 'note',
    priority: 'priority',
    to: 'status',
  };
  const name = element[error.field.split('.')[0]!];
  if (!name) return error;
  const text = error.message.replace(new RegExp(`^${error.field}: `), '');
  return new AppError(error.code, `entry[${index}] ServiceRequest.${AT[name]}: ${text}`, `Bundle.entry[${index}].resource.${AT[name]}`);
}

export type BarsExportKind = 'request' | 'response';

/**
 * A stored referral as a BaRS message: its response once the receiving service has answered (or when asked
 * for), else its request (a revoked one as its cancellation). A response names the message it answers: the
 * sender's, for a referral received by message; this server's request message, for one made here.
 */
export async function exportBarsMessage(db: Db, actor: Actor, referralId: string, kind: BarsExportKind | undefined, options: MessageRequest): Promise<Bundle> {
  return asActor(db, actor, options.request, async (repo) => {
    const referral = await storedReferral(repo, referralId);
    const wanted = kind ?? (hasBeenAnswered(referral.task) ? 'response' : 'request');
    const now = new Date();
    if (wanted === 'request') return requestMessage(referral, { baseUrl: options.baseUrl, now });
    if (!hasBeenAnswered(referral.task)) throw conflict(`the receiving service has not answered this referral yet: it is ${referral.task.status}`, 'kind');
    const requestMessageId = extensionValue(referral.serviceRequest, BARS_MESSAGE_ID_EXTENSION)?.valueId ?? requestMessageIdOf(referral.serviceRequest.id);
    return responseMessage(referral, { baseUrl: options.baseUrl, now, requestMessageId });
  });
}
