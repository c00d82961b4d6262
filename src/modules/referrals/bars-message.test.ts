/**
 * Reading BaRS referral messages: the example message (docs/examples) reads into what a referral needs, and
 * each rule broken is refused with the entry and element named, next to the valid message that passes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Bundle, MessageHeader, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { validateR4 } from '../../fhir/validator.ts';
import { hasBeenAnswered, requestMessage, requestMessageIdOf, responseMessage, type StoredReferral } from './bars-export.ts';
import { BARS_EVENT_SYSTEM, readBarsMessage, type BarsReferralMessage } from './bars-message.ts';
import { UBRN_SYSTEM } from './referral-fhir.ts';

const EXAMPLE = JSON.parse(readFileSync(new URL('../../../docs/examples/bars-referral-request.json', import.meta.url), 'utf8')) as Bundle;
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** A copy of the example with one change made to it. */
function example(change: (bundle: Bundle, header: MessageHeader, request: ServiceRequest, patient: Patient) => void = () => {}): Bundle {
  const bundle = structuredClone(EXAMPLE);
  const [header, request, patient] = bundle.entry!.map((e) => e.resource) as [MessageHeader, ServiceRequest, Patient];
  change(bundle, header, request, patient);
  return bundle;
}

function read(bundle: unknown): BarsReferralMessage {
  const reading = readBarsMessage(bundle);
  assert.ok(reading.ok, JSON.stringify(!reading.ok && reading.issues));
  return reading.message;
}

/** The message is refused, and one issue's text starts with `starts` at the FHIRPath `at`. */
function refused(bundle: unknown, at: string, starts: string | RegExp) {
  const reading = readBarsMessage(bundle);
  assert.equal(reading.ok, false, `should be refused: ${starts}`);
  const issues = !reading.ok ? reading.issues : [];
  const hit = issues.find((i) => i.expression?.[0] === at && (typeof starts === 'string' ? i.details?.text?.startsWith(starts) : starts.test(i.details?.text ?? '')));
  assert.ok(hit, `expected an issue at ${at} saying ${starts}; got ${JSON.stringify(issues.map((i) => [i.expression?.[0], i.details?.text]))}`);
  assert.equal(hit.severity, 'error');
  return issues;
}

describe('reading a BaRS referral message', () => {
  it('reads the example: message id, UBRN, journey, patient, requester, service, priority, reason, notes and consent', () => {
    const message = read(EXAMPLE);
    assert.deepEqual(message, {
      messageId: '1a0e9a55-8c3e-4b7a-9d61-3f0f1a2b4c5d',
      focusEntry: 1,
      kind: 'request',
      sourceEndpoint: 'https://gp-system.example/fhir/$process-message',
      ubrn: '000012345678',
      journey: { system: 'https://pcn-hub.example/Id/journey', value: 'journey-2026-12-04-0001' },
      nhsNumber: '9990162026',
      requester: { org: 'Z90101', display: 'Dr A Example, Example Surgery' },
      performer: { display: 'Pharmacy First', serviceIdentifier: { system: 'https://pcn-hub.example/Id/service', value: 'fz011-pharmacy-first' }, org: 'FZ011' },
      priority: 'urgent',
      reason: 'Urgent repeat medicine: salbutamol inhaler run out',
      notes: ['Prefers a call after 4pm'],
      consentToShare: true,
      authoredOn: '2026-12-04T09:29:00Z',
    });
  });

  it('finds the service, requester and patient however the sender names them: a stored HealthcareService, ODS identifiers, a PractitionerRole', () => {
    const byReference = read(
      example((bundle, _h, request) => {
        request.performer = [{ reference: 'HealthcareService/svc-1' }];
        request.subject = { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990162026' } };
        request.requester = { reference: 'PractitionerRole/pr-1' };
        bundle.entry!.push({
          fullUrl: 'https://gp.example/fhir/PractitionerRole/pr-1',
          resource: { resourceType: 'PractitionerRole', id: 'pr-1', organization: { identifier: { system: ODS, value: 'Z90102' } } },
        });
      }),
    );
    assert.deepEqual(byReference.performer, { serviceId: 'svc-1' });
    assert.equal(byReference.nhsNumber, '9990162026');
    assert.deepEqual(byReference.requester, { org: 'Z90102' });
    const byOds = read(example((_b, _h, request) => (request.performer = [{ identifier: { system: ODS, value: 'FZ021' }, display: 'Town Pharmacy' }])));
    assert.deepEqual(byOds.performer, { org: 'FZ021', display: 'Town Pharmacy' });
    const byPartnerCode = read(example((_b, _h, request) => (request.performer = [{ identifier: { system: 'https://pcn-hub.example/Id/partner', value: 'LA-NORFOLK' } }])));
    assert.deepEqual(byPartnerCode.performer, { org: 'LA-NORFOLK' }, 'a partner without an ODS code, by its registry code');
    assert.equal(read(example((_b, _h, request) => delete request.priority)).priority, 'routine', 'no priority is routine');
  });

  it('reads a cancellation stripped back to the ServiceRequest (status revoked, reason update)', () => {
    const cancellation = example((bundle, header, request) => {
      request.status = 'revoked';
      header.reason = { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'update' }] };
      request.subject = { reference: 'Patient/known-to-the-receiver' };
      delete request.requester;
      delete request.performer;
      delete request.reasonCode;
      bundle.entry = bundle.entry!.slice(0, 2);
    });
    const message = read(cancellation);
    assert.equal(message.kind, 'cancellation');
    assert.equal(message.ubrn, '000012345678');
    assert.equal(message.nhsNumber, undefined);
    refused(
      example((_b, _h, request) => (request.status = 'revoked')),
      'Bundle.entry[0].resource.reason',
      "entry[0] MessageHeader.reason: a cancellation follows the referral, so its reason is 'update'",
    );
  });

  it('refuses what is not a message Bundle, naming Bundle, Bundle.type or entry[0]', () => {
    refused({ resourceType: 'Patient' }, 'Bundle', 'the body must be a message Bundle');
    refused([], 'Bundle', 'the body must be a message Bundle');
    refused(
      example((bundle) => (bundle.type = 'collection')),
      'Bundle.type',
      "Bundle.type: a message is a Bundle of type 'message', not 'collection'",
    );
    refused(
      example((bundle) => bundle.entry!.reverse()),
      'Bundle',
      /A message must have a MessageHeader as the first resource/,
    );
  });

  it('refuses a MessageHeader without an id, with another event, or whose focus is not a ServiceRequest in the message', () => {
    refused(
      example((_b, header) => delete header.id),
      'Bundle.entry[0].resource.id',
      'entry[0] MessageHeader.id: the message needs an id',
    );
    refused(
      example((_b, header) => (header.eventCoding = { system: BARS_EVENT_SYSTEM, code: 'booking-request' })),
      'Bundle.entry[0].resource.eventCoding',
      /^entry\[0\] MessageHeader.eventCoding: this server accepts .*servicerequest-request.*the message says .*booking-request$/,
    );
    refused(
      example((_b, header) => (header.eventCoding = { system: 'http://example.org/events', code: 'servicerequest-request' })),
      'Bundle.entry[0].resource.eventCoding',
      'entry[0] MessageHeader.eventCoding',
    );
    refused(
      example((_b, header) => (header.focus = [{ reference: 'urn:uuid:0b1c2d3e-4f50-4617-8899-aabbccddeeff' }])),
      'Bundle.entry[0].resource.focus',
      "entry[0] MessageHeader.focus: 'urn:uuid:0b1c2d3e-4f50-4617-8899-aabbccddeeff' is not a ServiceRequest in this message",
    );
    refused(
      example((_b, header) => header.focus!.push({ reference: 'urn:uuid:0b1c2d3e-4f50-4617-8899-aabbccddeeff' })),
      'Bundle.entry[0].resource.focus',
      'entry[0] MessageHeader.focus: a referral message focuses on exactly one ServiceRequest; it names 2',
    );
    refused(
      example((_b, header) => (header.reason = { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'update' }] })),
      'Bundle.entry[0].resource.reason',
      'entry[0] MessageHeader.reason: changing a referral already sent is not supported',
    );
  });

  it('refuses a ServiceRequest without a UBRN, with a UBRN of the wrong shape, in another status, or of another priority', () => {
    refused(
      example((_b, _h, request) => (request.identifier = [{ system: 'https://example.org/referral', value: '000012345678' }])),
      'Bundle.entry[1].resource.identifier',
      `entry[1] ServiceRequest.identifier: no UBRN (an identifier with system ${UBRN_SYSTEM})`,
    );
    refused(
      example((_b, _h, request) => (request.identifier = [{ system: UBRN_SYSTEM, value: '1234-5678' }])),
      'Bundle.entry[1].resource.identifier',
      "entry[1] ServiceRequest.identifier: the UBRN '1234-5678' is not 12 digits",
    );
    refused(
      example((_b, _h, request) => (request.status = 'draft')),
      'Bundle.entry[1].resource.status',
      "entry[1] ServiceRequest.status: a referral is sent 'active' and cancelled 'revoked'; 'draft' is neither",
    );
    refused(
      example((_b, _h, request) => (request.priority = 'stat')),
      'Bundle.entry[1].resource.priority',
      "entry[1] ServiceRequest.priority: 'stat' is not one of routine, urgent, asap",
    );
    refused(
      example((_b, _h, request) => delete (request as Partial<ServiceRequest>).intent),
      'Bundle.entry[1].resource.intent',
      /^entry\[1\] ServiceRequest.intent: .*required/,
    );
    refused(
      example((_b, _h, request) => (request.reasonCode = [{ coding: [{ code: '123' }] }])),
      'Bundle.entry[1].resource.reasonCode',
      'entry[1] ServiceRequest.reasonCode: the reason for the referral is needed',
    );
  });

  it('refuses a patient without a valid NHS number (Modulus 11), or a subject that is not in the message', () => {
    refused(
      example((_b, _h, _r, patient) => (patient.identifier = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990162027' }])),
      'Bundle.entry[2].resource.identifier',
      "entry[2] Patient.identifier: '9990162027' is not a valid NHS number: the NHS number check digit (Modulus 11) does not match",
    );
    refused(
      example((_b, _h, _r, patient) => (patient.identifier = [{ system: 'https://example.org/mrn', value: 'A1' }])),
      'Bundle.entry[2].resource.identifier',
      'entry[2] Patient.identifier: no NHS number',
    );
    refused(
      example((_b, _h, request) => (request.subject = { reference: 'Patient/elsewhere' })),
      'Bundle.entry[1].resource.subject',
      "entry[1] ServiceRequest.subject: 'Patient/elsewhere' is not a Patient in this message",
    );
    refused(
      example((_b, _h, request) => delete (request as Partial<ServiceRequest>).subject),
      'Bundle.entry[1].resource.subject',
      /^entry\[1\] ServiceRequest.subject: .*required/,
    );
  });

  it('refuses a requester without an ODS code and a referral naming no service', () => {
    refused(
      example((_b, _h, request) => (request.requester = { display: 'Dr Nobody' })),
      'Bundle.entry[1].resource.requester',
      "entry[1] ServiceRequest.requester: the referring organisation's ODS code",
    );
    refused(
      example((_b, _h, request) => delete request.performer),
      'Bundle.entry[1].resource.performer',
      'entry[1] ServiceRequest.performer: the service referred to is needed',
    );
    refused(
      example((_b, _h, request) => (request.performer = [{ display: 'a pharmacy somewhere' }])),
      'Bundle.entry[1].resource.performer',
      'entry[1] ServiceRequest.performer',
    );
  });

  it('refuses what is not FHIR R4 (a list given as a string, an unknown code), naming the entry and element', () => {
    refused(
      example((_b, _h, request) => ((request as unknown as { identifier: string }).identifier = '000012345678')),
      'Bundle.entry[1].resource.identifier',
      /^entry\[1\] ServiceRequest.identifier: Expected an array/,
    );
    refused(
      example((_b, _h, request) => ((request as unknown as { status: string }).status = 'sent')),
      'Bundle.entry[1].resource.status',
      /^entry\[1\] ServiceRequest.status: 'sent' is not one of/,
    );
    refused({ resourceType: 'Bundle', type: 'message', entry: [null] }, 'Bundle.entry[0]', /^Bundle.entry\[0\]/);
  });

  it('reports every problem at once, each at its own element', () => {
    const issues = refused(
      example((_b, _h, request, patient) => {
        request.identifier = [{ system: 'https://example.org/referral', value: '1' }];
        request.priority = 'stat';
        patient.identifier = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' }];
      }),
      'Bundle.entry[1].resource.identifier',
      'entry[1] ServiceRequest.identifier: no UBRN',
    );
    assert.deepEqual(issues.map((i) => i.expression?.[0]).sort(), ['Bundle.entry[1].resource.identifier', 'Bundle.entry[1].resource.priority', 'Bundle.entry[2].resource.identifier']);
  });
});

describe('a stored referral as a BaRS message', () => {
  const referral = (taskStatus: Task['status'], srStatus: ServiceRequest['status'] = 'active'): StoredReferral => ({
    serviceRequest: {
      resourceType: 'ServiceRequest',
      id: 'sr-1',
      status: srStatus,
      intent: 'order',
      identifier: [{ system: UBRN_SYSTEM, value: '000012345678' }],
      subject: { reference: 'Patient/p-1' },
      requester: { identifier: { system: ODS, value: 'Z90101' }, display: 'Dr A Example' },
      performer: [{ reference: 'HealthcareService/svc-1' }, { identifier: { system: ODS, value: 'FZ011' }, display: 'Aylsham Pharmacy' }],
      reasonCode: [{ text: 'Urgent repeat medicine' }],
    },
    task: {
      resourceType: 'Task',
      id: 'task-1',
      meta: { versionId: '3' },
      status: taskStatus,
      intent: 'order',
      focus: { reference: 'ServiceRequest/sr-1' },
      ...(taskStatus === 'completed' ? { output: [{ type: { text: 'outcome' }, valueString: 'Salbutamol supplied under Pharmacy First' }] } : {}),
    },
    patient: { resourceType: 'Patient', id: 'p-1', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990162026' }] },
  });
  const options = { baseUrl: 'https://hub.example/fhir', now: new Date('2026-12-04T10:00:00Z') };

  it('the request is a message this server itself reads back: same UBRN, patient, requester and service', () => {
    const bundle = requestMessage(referral('requested'), options);
    const header = bundle.entry![0]!.resource as MessageHeader;
    assert.equal(bundle.type, 'message');
    assert.deepEqual(header.eventCoding, { system: BARS_EVENT_SYSTEM, code: 'servicerequest-request' });
    assert.equal(header.id, requestMessageIdOf('sr-1'), 'a stable id, which responses name');
    assert.equal(header.focus?.[0]?.reference, 'https://hub.example/fhir/ServiceRequest/sr-1');
    assert.equal(header.destination?.[0]?.receiver?.identifier?.value, 'FZ011', 'sent to the service’s organisation');
    const back = read(bundle);
    assert.equal(back.ubrn, '000012345678');
    assert.equal(back.nhsNumber, '9990162026');
    assert.deepEqual(back.requester, { org: 'Z90101', display: 'Dr A Example' });
    assert.equal(back.performer?.serviceId, 'svc-1');
    assert.equal(requestMessage(referral('requested'), options).entry![0]!.resource!.id, header.id, 'the same referral, the same message id');
    assert.notEqual(requestMessageIdOf('sr-2'), header.id);
  });

  it('a revoked referral exports as its cancellation (reason update)', () => {
    const bundle = requestMessage(referral('cancelled', 'revoked'), options);
    const header = bundle.entry![0]!.resource as MessageHeader;
    assert.equal(header.reason?.coding?.[0]?.code, 'update');
    assert.notEqual(header.id, requestMessageIdOf('sr-1'));
    assert.equal(read(bundle).kind, 'cancellation');
  });

  it('the response names the request message, answers ok and carries the ServiceRequest and Task with the outcome', () => {
    const done = referral('completed', 'completed');
    const bundle = responseMessage(done, { ...options, requestMessageId: 'msg-from-gp' });
    const header = bundle.entry![0]!.resource as MessageHeader;
    assert.deepEqual(header.eventCoding, { system: BARS_EVENT_SYSTEM, code: 'servicerequest-response' });
    assert.deepEqual(header.response, { identifier: 'msg-from-gp', code: 'ok' });
    assert.equal(header.destination?.[0]?.receiver?.identifier?.value, 'Z90101', 'back to the referrer');
    const task = bundle.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource as Task;
    assert.deepEqual(
      validateR4(bundle).filter((i) => i.severity === 'error'),
      [],
      'a valid FHIR R4 message',
    );
    assert.equal(task.status, 'completed');
    assert.equal(task.output?.[0]?.valueString, 'Salbutamol supplied under Pharmacy First');
    assert.equal((bundle.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest).status, 'completed');
    const accepted = responseMessage({ ...referral('accepted'), task: { ...referral('accepted').task, meta: { versionId: '2' } } }, { ...options, requestMessageId: 'msg-from-gp' });
    assert.notEqual(accepted.entry![0]!.resource!.id, header.id, 'each answer (Task version) is its own message');
  });

  it('a referral has been answered once the service accepted, rejected, started or finished it; not while requested or received', () => {
    for (const status of ['accepted', 'rejected', 'in-progress', 'completed', 'failed'] as const) assert.equal(hasBeenAnswered({ resourceType: 'Task', status, intent: 'order' }), true, status);
    for (const status of ['draft', 'requested', 'received', 'cancelled'] as const) assert.equal(hasBeenAnswered({ resourceType: 'Task', status, intent: 'order' }), false, status);
  });
});
