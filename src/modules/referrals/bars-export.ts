/**
 * A stored referral (ServiceRequest + workflow Task) as a BaRS message: the request as it was sent (or its
 * cancellation), or the receiving service's response (event `servicerequest-response`, MessageHeader.response
 * naming the request message, the ServiceRequest and Task with their status and outcome). Pure.
 */
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, HealthcareService, MessageHeader, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { BARS_EVENT_SYSTEM, BARS_REASON_SYSTEM, type BarsEvent } from './bars-message.ts';

/** Where a message about a stored referral comes from, and the resources it carries. */
export interface StoredReferral {
  serviceRequest: ServiceRequest & { id: string };
  task: Task & { id: string };
  /** The patient, when the reader may see them (a cancellation or response is complete without). */
  patient?: Patient & { id: string };
  service?: HealthcareService & { id: string };
}

export interface MessageOptions {
  /** The server's FHIR base (`https://…/fhir`): stored resources are entries by their own URL. */
  baseUrl: string;
  /** When the message is made (MessageHeader timestamp). */
  now: Date;
  /** Where responses go: this server's $process-message. */
  sourceEndpoint?: string;
}

export interface ResponseOptions extends MessageOptions {
  /** MessageHeader.id of the request this answers (FHIR R4 MessageHeader.response.identifier). */
  requestMessageId: string;
  /** ok unless the message could not be processed. */
  code?: 'ok' | 'transient-error' | 'fatal-error';
}

/** Task states in which the receiving service has answered (a response message exists). */
const ANSWERED: ReadonlySet<string> = new Set(['accepted', 'rejected', 'in-progress', 'on-hold', 'completed', 'failed']);

/** Whether the receiving service has answered the referral, so the message to export is its response. */
export const hasBeenAnswered = (task: Task) => ANSWERED.has(task.status);

/**
 * The id of the request message for a referral made here: stable (a name-based UUID of the ServiceRequest),
 * so every export of the request carries the id its responses name.
 */
export const requestMessageIdOf = (serviceRequestId: string) => nameUuid(`bars-request\n${serviceRequestId}`);

/** The request (or, for a revoked ServiceRequest, the cancellation) as a BaRS message. */
export function requestMessage(referral: StoredReferral, options: MessageOptions): Bundle {
  const cancelled = referral.serviceRequest.status === 'revoked';
  const id = cancelled ? nameUuid(`bars-cancel\n${referral.serviceRequest.id}`) : requestMessageIdOf(referral.serviceRequest.id);
  const resources: Resource[] = [referral.serviceRequest, ...(referral.patient ? [referral.patient] : []), ...(referral.service ? [referral.service] : [])];
  return message(id, 'servicerequest-request', cancelled ? 'update' : 'new', referral, resources, options);
}

/** The receiving service's response: the ServiceRequest and Task as they stand, outcome included. */
export function responseMessage(referral: StoredReferral, options: ResponseOptions): Bundle {
  const version = referral.task.meta?.versionId ?? '';
  const id = nameUuid(`bars-response\n${options.requestMessageId}\n${referral.task.id}\n${version}`);
  const bundle = message(id, 'servicerequest-response', 'update', referral, [referral.serviceRequest, referral.task, ...(referral.patient ? [referral.patient] : [])], options);
  const header = bundle.entry![0]!.resource as MessageHeader;
  header.response = { identifier: options.requestMessageId, code: options.code ?? 'ok' };
  return bundle;
}

function message(id: string, event: BarsEvent, reason: 'new' | 'update', referral: StoredReferral, resources: Resource[], options: MessageOptions): Bundle {
  const urlOf = (resource: Resource) => `${options.baseUrl}/${resource.resourceType}/${resource.id}`;
  const request = referral.serviceRequest;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id,
    eventCoding: { system: BARS_EVENT_SYSTEM, code: event },
    reason: { coding: [{ system: BARS_REASON_SYSTEM, code: reason }] },
    source: { name: 'PCN Hub', endpoint: options.sourceEndpoint ?? `${options.baseUrl}/$process-message` },
    // A response goes back to whoever referred; a request goes to the service's organisation.
    ...(event === 'servicerequest-response' ? { destination: destinationOf(request.requester) } : { destination: destinationOf(request.performer?.find((p) => p.identifier)) }),
    focus: [{ reference: urlOf(request) }],
  };
  const entries: BundleEntry[] = [{ fullUrl: `urn:uuid:${id}`, resource: header }, ...resources.map((resource) => ({ fullUrl: urlOf(resource), resource }))];
  return { resourceType: 'Bundle', id: nameUuid(`bundle\n${id}`), type: 'message', timestamp: options.now.toISOString(), entry: entries };
}

function destinationOf(who: { identifier?: { system?: string; value?: string }; display?: string } | undefined): MessageHeader['destination'] {
  if (!who?.identifier?.value) return undefined;
  return [
    {
      name: who.display ?? who.identifier.value,
      endpoint: `urn:ods:${who.identifier.value}`,
      receiver: { identifier: { system: who.identifier.system, value: who.identifier.value }, ...(who.display ? { display: who.display } : {}) },
    },
  ];
}

/** A UUID named by text (SHA-1, RFC 4122 version 5 layout): the same referral gives the same message id. */
function nameUuid(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
