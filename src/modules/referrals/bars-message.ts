/**
 * Reading a referral message in the shape of the NHS Booking and Referral Standard (BaRS): a Bundle of type
 * `message` whose first entry is a MessageHeader (event `servicerequest-request`), whose focus is the
 * ServiceRequest in the bundle, carrying a UBRN, the patient (NHS number), the requester (ODS), the service
 * asked for and the journey. Pure: every rule broken is one issue naming the entry and element
 * (`entry[2] ServiceRequest.identifier: no UBRN`), so the sender can put it right without guessing.
 */
import type { Bundle, BundleEntry, MessageHeader, OperationOutcomeIssue, Reference, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { validateR4 } from '../../fhir/validator.ts';
import { NHS_NUMBER_SYSTEM, nhsNumberProblem, ODS_SYSTEM } from '../../shared/ids.ts';
import { CONSENT_EXTENSION, orgCodeOf, UBRN_SYSTEM } from './referral-fhir.ts';

export const BARS_EVENT_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';
export const BARS_REASON_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-reason-bars';
export const SERVICE_ID_SYSTEM = 'https://pcn-hub.example/Id/service';

export type BarsEvent = 'servicerequest-request' | 'servicerequest-response';
export type Priority = 'routine' | 'urgent' | 'asap';
const PRIORITIES: readonly string[] = ['routine', 'urgent', 'asap'];
const INTENTS: readonly string[] = ['order', 'original-order', 'plan', 'proposal'];

/** Where the referral is sent: any of a service in this store, a service by its directory identifier, or an organisation by ODS code. */
export interface BarsPerformer {
  /** `HealthcareService/<id>` named by the sender: that service in this store. */
  serviceId?: string;
  /** The service's directory identifier (`https://pcn-hub.example/Id/service`). */
  serviceIdentifier?: { system: string; value: string };
  /** The receiving organisation's code: ODS, or the registry's local partner code (its service is found by it when no service is named). */
  org?: string;
  display?: string;
}

/** A valid message, read: what the referrals module needs to create or cancel the referral. */
export interface BarsReferralMessage {
  /** MessageHeader.id: what a response names (MessageHeader.response.identifier). */
  messageId: string;
  /** The index of the focus ServiceRequest's entry, for a refusal found later to name it. */
  focusEntry: number;
  /** A new referral, or the cancellation of one already sent (ServiceRequest.status `revoked`). */
  kind: 'request' | 'cancellation';
  /** MessageHeader.source.endpoint: where the sender takes responses. */
  sourceEndpoint?: string;
  ubrn: string;
  /** The journey the referral belongs to (ServiceRequest.requisition). */
  journey?: { system?: string; value: string };
  /** Absent only in a cancellation, which may be stripped back to the ServiceRequest. */
  nhsNumber?: string;
  requester?: { org: string; display?: string };
  performer?: BarsPerformer;
  priority: Priority;
  reason?: string;
  notes: string[];
  consentToShare?: boolean;
  authoredOn?: string;
}

export type BarsReading = { ok: true; message: BarsReferralMessage } | { ok: false; issues: OperationOutcomeIssue[] };

/** One problem, at a FHIRPath into the message and in words that start with the entry and element. */
function problem(expression: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', details: { text }, expression: [expression] };
}

/**
 * Reads a BaRS referral message. Every rule broken is reported (not just the first), each naming the entry
 * and element: the whole list is what a 422 OperationOutcome carries.
 */
export function readBarsMessage(body: unknown): BarsReading {
  const issues: OperationOutcomeIssue[] = [];
  if (!isObject(body) || body.resourceType !== 'Bundle') return fail(problem('Bundle', 'the body must be a message Bundle (resourceType Bundle, type message)'));
  const bundle = body as unknown as Bundle;
  // FHIR R4 first (types, cardinality, codes), so the rules below read well-formed JSON.
  const structural = validateR4(bundle).filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  if (structural.length > 0) return { ok: false, issues: structural.map((issue) => inWords(issue, bundle)) };
  if (bundle.type !== 'message') issues.push(problem('Bundle.type', `Bundle.type: a message is a Bundle of type 'message', not '${String(bundle.type ?? '')}'`));
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const header = entries[0]?.resource;
  if (header?.resourceType !== 'MessageHeader') {
    return fail(...issues, problem('Bundle.entry[0]', 'entry[0]: the first entry of a message must be its MessageHeader'));
  }
  const at = (index: number, element?: string) => `Bundle.entry[${index}].resource${element ? `.${element}` : ''}`;

  // The header: id, event, reason, focus.
  const messageHeader = header as MessageHeader;
  if (!messageHeader.id || !/^[A-Za-z0-9\-.]{1,64}$/.test(messageHeader.id)) {
    issues.push(problem(at(0, 'id'), 'entry[0] MessageHeader.id: the message needs an id (1 to 64 letters, digits, - or .), which the response names'));
  }
  const event = messageHeader.eventCoding;
  if (event?.system !== BARS_EVENT_SYSTEM || event.code !== 'servicerequest-request') {
    const said = event ? `${event.system ?? '(no system)'}|${event.code ?? '(no code)'}` : 'none';
    issues.push(
      problem(at(0, 'eventCoding'), `entry[0] MessageHeader.eventCoding: this server accepts ${BARS_EVENT_SYSTEM}|servicerequest-request (a referral or its cancellation); the message says ${said}`),
    );
  }
  const reasonCoding = messageHeader.reason?.coding?.find((c) => c.system === BARS_REASON_SYSTEM);
  const reasonCode = reasonCoding?.code;
  if (reasonCode !== undefined && reasonCode !== 'new' && reasonCode !== 'update') {
    issues.push(problem(at(0, 'reason'), `entry[0] MessageHeader.reason: '${reasonCode}' is not handled; a referral is 'new', its cancellation an 'update'`));
  }
  const focus = messageHeader.focus ?? [];
  if (focus.length !== 1) return fail(...issues, problem(at(0, 'focus'), `entry[0] MessageHeader.focus: a referral message focuses on exactly one ServiceRequest; it names ${focus.length}`));
  const focusIndex = resolve(entries, focus[0]!);
  if (focusIndex === -1 || entries[focusIndex]!.resource?.resourceType !== 'ServiceRequest') {
    return fail(...issues, problem(at(0, 'focus'), `entry[0] MessageHeader.focus: '${focus[0]!.reference ?? ''}' is not a ServiceRequest in this message`));
  }

  // The ServiceRequest.
  const i = focusIndex;
  const request = entries[i]!.resource as ServiceRequest;
  const where = (element: string) => `entry[${i}] ServiceRequest.${element}`;
  const ubrns = (request.identifier ?? []).filter((id) => id.system === UBRN_SYSTEM);
  const ubrn = ubrns[0]?.value;
  if (!ubrn) issues.push(problem(at(i, 'identifier'), `${where('identifier')}: no UBRN (an identifier with system ${UBRN_SYSTEM})`));
  else if (!/^\d{12}$/.test(ubrn)) issues.push(problem(at(i, 'identifier'), `${where('identifier')}: the UBRN '${ubrn}' is not 12 digits`));
  else if (ubrns.length > 1) issues.push(problem(at(i, 'identifier'), `${where('identifier')}: more than one UBRN`));

  const status = request.status;
  if (status !== 'active' && status !== 'revoked') {
    issues.push(problem(at(i, 'status'), `${where('status')}: a referral is sent 'active' and cancelled 'revoked'; '${String(status ?? '')}' is neither`));
  }
  const kind = status === 'revoked' ? 'cancellation' : 'request';
  if (kind === 'cancellation' && reasonCode === 'new')
    issues.push(problem(at(0, 'reason'), "entry[0] MessageHeader.reason: a cancellation follows the referral, so its reason is 'update', not 'new'"));
  if (kind === 'request' && reasonCode === 'update' && status === 'active') {
    issues.push(problem(at(0, 'reason'), "entry[0] MessageHeader.reason: changing a referral already sent is not supported; cancel it (status 'revoked') and send a new one"));
  }
  if (!request.intent || !INTENTS.includes(request.intent)) issues.push(problem(at(i, 'intent'), `${where('intent')}: must be one of ${INTENTS.join(', ')}`));
  const priority = request.priority ?? 'routine';
  if (!PRIORITIES.includes(priority)) issues.push(problem(at(i, 'priority'), `${where('priority')}: '${priority}' is not one of ${PRIORITIES.join(', ')}`));

  const journeyId = request.requisition;
  if (journeyId !== undefined && !journeyId.value) issues.push(problem(at(i, 'requisition'), `${where('requisition')}: the journey identifier has no value`));

  // A cancellation may be stripped back to the ServiceRequest (BaRS); whatever it does carry is still checked.
  const needed = kind === 'request';
  const nhsNumber = readSubject(entries, request, i, needed, issues);
  const requester = readRequester(entries, request, i, needed, issues);
  const performer = readPerformer(entries, request, i, needed, issues);
  const reason = (request.reasonCode ?? []).map((c) => c.text ?? c.coding?.find((coding) => coding.display)?.display).find((text) => !!text?.trim());
  if (needed && !reason) issues.push(problem(at(i, 'reasonCode'), `${where('reasonCode')}: the reason for the referral is needed (reasonCode text, or a coding with a display)`));
  const consent = request.extension?.find((e) => e.url === CONSENT_EXTENSION);
  if (consent && typeof consent.valueBoolean !== 'boolean') issues.push(problem(at(i, 'extension'), `${where('extension')}: consent-to-share is a valueBoolean`));
  if (request.authoredOn !== undefined && Number.isNaN(Date.parse(request.authoredOn))) issues.push(problem(at(i, 'authoredOn'), `${where('authoredOn')}: not a dateTime`));

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    message: {
      messageId: messageHeader.id!,
      focusEntry: i,
      kind,
      ...(messageHeader.source?.endpoint ? { sourceEndpoint: messageHeader.source.endpoint } : {}),
      ubrn: ubrn!,
      ...(journeyId?.value ? { journey: { ...(journeyId.system ? { system: journeyId.system } : {}), value: journeyId.value } } : {}),
      ...(nhsNumber ? { nhsNumber } : {}),
      ...(requester ? { requester } : {}),
      ...(performer ? { performer } : {}),
      priority: priority as Priority,
      ...(reason ? { reason: reason.trim() } : {}),
      notes: (request.note ?? []).map((n) => n.text?.trim() ?? '').filter(Boolean),
      ...(consent ? { consentToShare: consent.valueBoolean as boolean } : {}),
      ...(request.authoredOn ? { authoredOn: request.authoredOn } : {}),
    },
  };
}

/** The patient's NHS number: on subject.identifier, or on the Patient entry the subject references. */
function readSubject(entries: BundleEntry[], request: ServiceRequest, i: number, needed: boolean, issues: OperationOutcomeIssue[]): string | undefined {
  const subject = request.subject;
  const path = `Bundle.entry[${i}].resource.subject`;
  if (!subject) {
    if (needed) issues.push(problem(path, `entry[${i}] ServiceRequest.subject: the patient is needed (a reference to the Patient entry)`));
    return undefined;
  }
  if (subject.identifier?.system === NHS_NUMBER_SYSTEM && subject.identifier.value) return nhsNumberOf(subject.identifier.value, path, `entry[${i}] ServiceRequest.subject.identifier`, issues);
  const index = resolve(entries, subject);
  if (index === -1 && !needed) return undefined; // a cancellation names the patient the receiver already knows
  if (index === -1 || entries[index]!.resource?.resourceType !== 'Patient') {
    issues.push(problem(path, `entry[${i}] ServiceRequest.subject: '${subject.reference ?? ''}' is not a Patient in this message`));
    return undefined;
  }
  const nhs = (entries[index]!.resource as { identifier?: { system?: string; value?: string }[] }).identifier?.find((id) => id.system === NHS_NUMBER_SYSTEM)?.value;
  const at = `Bundle.entry[${index}].resource.identifier`;
  if (!nhs) {
    issues.push(problem(at, `entry[${index}] Patient.identifier: no NHS number (system ${NHS_NUMBER_SYSTEM})`));
    return undefined;
  }
  return nhsNumberOf(nhs, at, `entry[${index}] Patient.identifier`, issues);
}

function nhsNumberOf(value: string, path: string, where: string, issues: OperationOutcomeIssue[]): string | undefined {
  const wrong = /^\d{10}$/.test(value) ? nhsNumberProblem(value) : 'an NHS number in a FHIR identifier is its 10 digits';
  if (!wrong) return value;
  issues.push(problem(path, `${where}: '${value}' is not a valid NHS number: ${wrong}`));
  return undefined;
}

/** The referring organisation's ODS code: on requester.identifier, or on the Organization (or PractitionerRole's organisation) it references. */
function readRequester(entries: BundleEntry[], request: ServiceRequest, i: number, needed: boolean, issues: OperationOutcomeIssue[]): { org: string; display?: string } | undefined {
  const requester = request.requester;
  const path = `Bundle.entry[${i}].resource.requester`;
  const where = `entry[${i}] ServiceRequest.requester`;
  if (!requester) {
    if (needed) issues.push(problem(path, `${where}: who refers is needed (the referring organisation's ODS code)`));
    return undefined;
  }
  const org = orgCodeIn(entries, requester);
  if (!org) {
    issues.push(problem(path, `${where}: the referring organisation's ODS code (system ${ODS_SYSTEM}) is needed, on the reference or on the Organization or PractitionerRole it names`));
    return undefined;
  }
  return { org, ...(requester.display ? { display: requester.display } : {}) };
}

function readPerformer(entries: BundleEntry[], request: ServiceRequest, i: number, needed: boolean, issues: OperationOutcomeIssue[]): BarsPerformer | undefined {
  const performers = request.performer ?? [];
  const path = `Bundle.entry[${i}].resource.performer`;
  const where = `entry[${i}] ServiceRequest.performer`;
  const found: BarsPerformer = {};
  for (const performer of performers) {
    found.display ??= performer.display;
    const local = /^HealthcareService\/([A-Za-z0-9\-.]{1,64})$/.exec(performer.reference ?? '');
    const index = resolve(entries, performer);
    const resource = index === -1 ? undefined : entries[index]!.resource;
    if (resource?.resourceType === 'HealthcareService') {
      const identifier = resource.identifier?.find((id) => id.system === SERVICE_ID_SYSTEM && id.value);
      if (identifier) found.serviceIdentifier ??= { system: SERVICE_ID_SYSTEM, value: identifier.value! };
      found.org ??= resource.providedBy ? orgCodeIn(entries, resource.providedBy) : undefined;
      found.display ??= resource.name;
    } else if (local) {
      found.serviceId ??= local[1];
    }
    if (performer.identifier?.system === SERVICE_ID_SYSTEM && performer.identifier.value) found.serviceIdentifier ??= { system: SERVICE_ID_SYSTEM, value: performer.identifier.value };
    found.org ??= resource?.resourceType === 'HealthcareService' ? undefined : orgCodeIn(entries, performer);
  }
  if (found.serviceId || found.serviceIdentifier || found.org) return Object.fromEntries(Object.entries(found).filter(([, value]) => value !== undefined)) as BarsPerformer;
  if (needed || performers.length > 0) {
    issues.push(problem(path, `${where}: the service referred to is needed: a HealthcareService (reference or ${SERVICE_ID_SYSTEM} identifier) or the receiving organisation's ODS (or partner) code`));
  }
  return undefined;
}

/** An organisation's code (ODS, or a local partner code) from a reference: its own identifier, or the Organization / PractitionerRole entry it points at. */
function orgCodeIn(entries: BundleEntry[], reference: Reference, depth = 0): string | undefined {
  const own = orgCodeOf(reference.identifier);
  if (own) return own;
  if (depth > 1) return undefined;
  const index = resolve(entries, reference);
  const resource = index === -1 ? undefined : entries[index]!.resource;
  if (resource?.resourceType === 'Organization') return (resource.identifier ?? []).map(orgCodeOf).find((code) => !!code);
  if (resource?.resourceType === 'PractitionerRole' && resource.organization) return orgCodeIn(entries, resource.organization, depth + 1);
  return undefined;
}

/** The index of the entry a reference names: by fullUrl (`urn:uuid:…`, absolute) or by `Type/id`; -1 when none. */
export function resolve(entries: BundleEntry[], reference: Reference): number {
  const target = reference.reference;
  if (!target) return -1;
  return entries.findIndex((entry) => {
    if (entry.fullUrl && entry.fullUrl === target) return true;
    const resource = entry.resource as Resource | undefined;
    if (!resource?.id) return false;
    const local = `${resource.resourceType}/${resource.id}`;
    return target === local || (!!entry.fullUrl && entry.fullUrl.endsWith(`/${local}`) && target.endsWith(`/${local}`));
  });
}

/** An R4 validation issue, its text led by the entry and element (`entry[1] ServiceRequest.status: …`). */
function inWords(issue: OperationOutcomeIssue, bundle: Bundle): OperationOutcomeIssue {
  const expression = issue.expression?.[0] ?? 'Bundle';
  const text = issue.details?.text ?? issue.diagnostics ?? 'is not valid FHIR R4';
  const inEntry = /^Bundle\.entry\[(\d+)\]\.resource(.*)$/.exec(expression);
  const type = inEntry ? bundle.entry?.[Number(inEntry[1])]?.resource?.resourceType : undefined;
  const where = inEntry && type ? `entry[${inEntry[1]}] ${type}${inEntry[2]}` : expression;
  return { ...issue, details: { text: `${where}: ${text}` } };
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

const fail = (...issues: OperationOutcomeIssue[]): BarsReading => ({ ok: false, issues });
