/**
 * BaRS-shaped referral messages over /fhir: a GP practice's system (a SMART backend client) sends the example
 * message (docs/examples) to a community pharmacy's service; the referral lands in that pharmacy's inbox and not
 * another's, and the answer is the response message. Invalid messages are refused naming the entry, the same
 * message twice lands once, a cancellation revokes it, and once the pharmacy completes it the exported response
 * carries the outcome back to the practice.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Bundle, CapabilityStatement, MessageHeader, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, issues, type FhirHarness, matches, nhsNumber, patient } from '../../../test/fhir.ts';
import { type Actor, addClient, findActor, SYSTEM_ACTOR } from '../../modules/access/index.ts';
import { createReferral, listReferrals, transitionReferral } from '../../modules/referrals/index.ts';

const EXAMPLE = JSON.parse(readFileSync(new URL('../../../docs/examples/bars-referral-request.json', import.meta.url), 'utf8')) as Bundle;
const UBRN = 'https://fhir.nhs.uk/Id/UBRN';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const REQUEST = { method: 'TEST', url: 'process-message.test' };

let h: FhirHarness;
/** The GP practice Z90101's system: a backend client's bearer token. */
let gpSystem: string;
/** A client of the same practice allowed only to read patients. */
let readOnlySystem: string;
let serviceId: string;
/** People at the pharmacy the referrals go to (FZ011, in U90001), at another pharmacy (FZ021) and at the practice. */
let pharmacist: Actor;
let otherPharmacist: Actor;
let gp: Actor;

async function clientToken(org: string, scopes: string[]): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  const client = await addClient(h.db, SYSTEM_ACTOR, { name: `${org} system`, org, role: 'clinician', scopes, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384' }] } });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .setIssuer(client.id)
    .setSubject(client.id)
    .setAudience('http://localhost:80/oauth/token')
    .setExpirationTime(now + 240)
    .setJti(randomUUID())
    .sign(privateKey);
  const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: scopes.join(' ') };
  const reply = await h.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
  assert.equal(reply.statusCode, 200, reply.body);
  return `Bearer ${reply.json<{ access_token: string }>().access_token}`;
}

/** The example message with its own message id and UBRN, and any change made to it. */
function message(ubrn: string, change: (header: MessageHeader, request: ServiceRequest, bundle: Bundle) => void = () => {}): Bundle {
  const bundle = structuredClone(EXAMPLE);
  const header = bundle.entry![0]!.resource as MessageHeader;
  const request = bundle.entry![1]!.resource as ServiceRequest;
  header.id = randomUUID();
  request.identifier = [{ system: UBRN, value: ubrn }];
  change(header, request, bundle);
  return bundle;
}

function cancellation(ubrn: string): Bundle {
  return message(ubrn, (header, request) => {
    header.reason = { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars', code: 'update' }] };
    request.status = 'revoked';
  });
}

const send = (bundle: unknown, auth = gpSystem) => h.fhir<Bundle>('POST', '/fhir/$process-message', { body: bundle, auth });
/** The issues of a refusal's OperationOutcome. */
const refusal = (reply: { json: unknown }) => issues(reply.json as OperationOutcome);

function responseParts(bundle: Bundle) {
  const header = bundle.entry![0]!.resource as MessageHeader;
  const request = bundle.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest & { id: string };
  const task = bundle.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource as Task & { id: string };
  return { header, request, task };
}

async function referralsWithUbrn(ubrn: string) {
  const found = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest?identifier=${UBRN}|${ubrn}`);
  return matches<ServiceRequest>(found.json);
}

async function actorOf(email: string, org: string, role: 'clinical-pharmacist' | 'gp') {
  await h.addUser({ email, name: email.split('@')[0]!, role, org });
  return (await findActor(h.db, email))!;
}

before(async () => {
  h = await fhirHarness();
  await create(h.fhir, patient('9990162026', 'Z90101', { name: [{ family: 'Example', given: ['Bars'] }] }));
  const service = await create(h.fhir, {
    resourceType: 'HealthcareService',
    active: true,
    identifier: [{ system: 'https://pcn-hub.example/Id/service', value: 'fz011-pharmacy-first' }],
    providedBy: { identifier: { system: ODS, value: 'FZ011' }, display: 'Aylsham Pharmacy' },
    name: 'Pharmacy First',
  });
  serviceId = service.id;
  gpSystem = await clientToken('Z90101', ['system/ServiceRequest.cru', 'system/Task.cru']);
  readOnlySystem = await clientToken('Z90101', ['system/Patient.rs']);
  pharmacist = await actorOf('pharmacist@fz011.example', 'FZ011', 'clinical-pharmacist');
  otherPharmacist = await actorOf('pharmacist@fz021.example', 'FZ021', 'clinical-pharmacist');
  gp = await actorOf('gp@z90101.example', 'Z90101', 'gp');
});
after(() => h.close());

describe(`POST /fhir/$process-message (${testEngine})`, () => {
  it('a GP system’s message to a pharmacy service creates the referral, answered with the response message; it is in that pharmacy’s inbox and not another’s', async () => {
    const sent = message('100000000001');
    const reply = await send(sent);
    assert.equal(reply.status, 200, reply.text);
    assert.match(String(reply.headers['content-type']), /application\/fhir\+json/);
    const { header, request, task } = responseParts(reply.json);
    assert.equal(reply.json.type, 'message');
    assert.deepEqual(header.eventCoding, { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-response' });
    assert.deepEqual(header.response, { identifier: (sent.entry![0]!.resource as MessageHeader).id, code: 'ok' });
    assert.deepEqual(request.identifier?.find((i) => i.system === UBRN)?.value, '100000000001');
    assert.equal(request.status, 'active');
    assert.equal(request.requisition?.value, 'journey-2026-12-04-0001', 'the journey is kept');
    assert.equal(request.priority, 'urgent');
    assert.equal(request.performer?.[0]?.reference, `HealthcareService/${serviceId}`, 'the service named by its directory identifier');
    assert.equal(request.requester?.identifier?.value, 'Z90101');
    assert.equal(task.status, 'requested');
    assert.equal(task.focus?.reference, `ServiceRequest/${request.id}`);

    const inbox = await listReferrals(h.db, pharmacist, { box: 'received', service: serviceId }, REQUEST);
    const mine = inbox.items.find((r) => r.ubrn === '100000000001');
    assert.ok(mine, 'in the pharmacy’s inbox');
    assert.equal(mine.reason, 'Urgent repeat medicine: salbutamol inhaler run out');
    assert.equal(mine.patient.nhsNumber, '9990162026');
    assert.equal((await listReferrals(h.db, otherPharmacist, { box: 'received' }, REQUEST)).items.filter((r) => r.ubrn === '100000000001').length, 0, 'not in another pharmacy’s inbox');
  });

  it('the same message sent twice lands once, and is answered again with the same referral', async () => {
    const sent = message('100000000002');
    const first = await send(sent);
    const second = await send(sent);
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.equal(responseParts(second.json).request.id, responseParts(first.json).request.id);
    assert.equal((await referralsWithUbrn('100000000002')).length, 1);
    const resent = await send(message('100000000002'));
    assert.equal(resent.status, 200, 'a new message id with the same UBRN is the same referral too');
    assert.equal((await referralsWithUbrn('100000000002')).length, 1);
    const twins = message('100000000006');
    const atOnce = await Promise.all([send(twins), send(twins), send(twins)]);
    assert.deepEqual(
      atOnce.map((r) => r.status),
      [200, 200, 200],
      atOnce.map((r) => r.text).join('\n'),
    );
    assert.equal(new Set(atOnce.map((r) => responseParts(r.json).request.id)).size, 1, 'three copies at once: one referral');
    assert.equal((await referralsWithUbrn('100000000006')).length, 1);
    const other = await send(message('100000000003'));
    assert.notEqual(responseParts(other.json).request.id, responseParts(first.json).request.id, 'another UBRN is another referral');
  });

  it('a cancellation (status revoked, same UBRN) cancels the referral; again is harmless; an unknown UBRN is refused naming the identifier', async () => {
    const created = await send(message('100000000004'));
    assert.equal(created.status, 200, created.text);
    const cancelled = await send(cancellation('100000000004'));
    assert.equal(cancelled.status, 200, cancelled.text);
    const { request, task } = responseParts(cancelled.json);
    assert.equal(request.status, 'revoked');
    assert.equal(task.status, 'cancelled');
    assert.equal(request.id, responseParts(created.json).request.id);
    assert.equal((await send(cancellation('100000000004'))).status, 200, 'a cancellation sent twice');
    const untouched = await send(message('100000000005'));
    assert.equal(responseParts(untouched.json).task.status, 'requested', 'another referral is not cancelled');

    const unknown = await send(cancellation('100000000099'));
    assert.equal(unknown.status, 422, unknown.text);
    assert.deepEqual(refusal(unknown)[0]!.expression, ['Bundle.entry[1].resource.identifier']);
    assert.match(refusal(unknown)[0]!.text, /^entry\[1\] ServiceRequest.identifier: no referral with UBRN 100000000099/);
  });

  it('invalid messages are refused 422, naming the entry and element; nothing is created', async () => {
    const refused = async (bundle: unknown, expression: string, text: RegExp, status = 422) => {
      const reply = await send(bundle);
      assert.equal(reply.status, status, reply.text);
      const found = refusal(reply).find((i) => i.expression.includes(expression));
      assert.ok(found, `an issue at ${expression}: ${reply.text}`);
      assert.match(found.text, text);
    };
    await refused(
      message('100000000010', (_h, request) => (request.identifier = [{ system: 'https://example.org/ref', value: 'x' }])),
      'Bundle.entry[1].resource.identifier',
      /^entry\[1\] ServiceRequest.identifier: no UBRN/,
    );
    await refused(
      message('100000000011', (_h, _r, bundle) => ((bundle.entry![2]!.resource as { identifier: unknown }).identifier = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990162027' }])),
      'Bundle.entry[2].resource.identifier',
      /^entry\[2\] Patient.identifier: '9990162027' is not a valid NHS number/,
    );
    await refused(
      message('100000000012', (_h, _r, bundle) => ((bundle.entry![2]!.resource as { identifier: unknown }).identifier = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber(8102) }])),
      'Bundle.entry[1].resource.subject',
      /^entry\[1\] ServiceRequest.subject: no patient with NHS number \d{10} is held here/,
    );
    await refused(
      message('100000000013', (_h, _r, bundle) => ((bundle.entry![4]!.resource as { identifier: unknown }).identifier = [{ system: 'https://pcn-hub.example/Id/service', value: 'no-such-service' }])),
      'Bundle.entry[1].resource.performer',
      /^entry\[1\] ServiceRequest.performer: no service with the identifier no-such-service/,
    );
    await refused(
      message('100000000014', (header) => (header.eventCoding = { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'booking-request' })),
      'Bundle.entry[0].resource.eventCoding',
      /^entry\[0\] MessageHeader.eventCoding/,
    );
    await refused({ resourceType: 'Patient' }, 'Bundle', /message Bundle/);
    await refused(
      message('100000000015', (_h, _r, bundle) => ((bundle.entry![3]!.resource as { identifier: unknown }).identifier = [{ system: ODS, value: 'Z90102' }])),
      'Bundle.entry[1].resource.requester',
      /you send for Z90101.*not Z90102/,
      403,
    );
    for (const ubrn of ['100000000010', '100000000011', '100000000012', '100000000013', '100000000014', '100000000015']) assert.equal((await referralsWithUbrn(ubrn)).length, 0, ubrn);
  });

  it('finds the service by the receiving organisation’s code: its only service, or the organisation itself when it has none; several → 422 listing them', async () => {
    const byOrg = (ubrn: string, org: string) =>
      message(ubrn, (_h, request, bundle) => {
        request.performer = [{ identifier: { system: ODS, value: org } }];
        bundle.entry!.splice(4, 1);
      });
    // Practices have no demo directory entries (pharmacies have theirs): one offering a single service, one offering two.
    const single = await create(h.fhir, { resourceType: 'HealthcareService', active: true, providedBy: { identifier: { system: ODS, value: 'Z90103' } }, name: 'Phlebotomy' });
    const only = await send(byOrg('100000000040', 'Z90103'));
    assert.equal(only.status, 200, only.text);
    assert.equal(responseParts(only.json).request.performer?.[0]?.reference, `HealthcareService/${single.id}`);
    const none = await send(byOrg('100000000041', 'Z90102'));
    assert.equal(none.status, 200, none.text);
    const performers = responseParts(none.json).request.performer ?? [];
    assert.deepEqual(
      performers.map((p) => p.identifier?.value ?? p.reference),
      ['Z90102'],
      'a practice with no directory entry: the organisation itself',
    );
    for (const name of ['Minor illness', 'Blood pressure check']) {
      await create(h.fhir, { resourceType: 'HealthcareService', active: true, providedBy: { identifier: { system: ODS, value: 'Z90104' } }, name });
    }
    const several = await send(byOrg('100000000042', 'Z90104'));
    assert.equal(several.status, 422, several.text);
    assert.deepEqual(refusal(several)[0]!.expression, ['Bundle.entry[1].resource.performer']);
    assert.match(refusal(several)[0]!.text, /Z90104 offers 2 services: name the one referred to \((?=.*Minor illness)(?=.*Blood pressure check)/);
  });

  it('is authenticated and scoped like every /fhir route: no token 401, a client without ServiceRequest and Task writes 403', async () => {
    const anonymous = await h.app.inject({ method: 'POST', url: '/fhir/$process-message', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(message('100000000020')) });
    assert.equal(anonymous.statusCode, 401);
    const reply = await send(message('100000000021'), readOnlySystem);
    assert.equal(reply.status, 403, reply.text);
    assert.match(refusal(reply)[0]!.text, /system\/ServiceRequest\.c/);
    assert.equal((await referralsWithUbrn('100000000021')).length, 0);
  });

  it('the CapabilityStatement lists $process-message and ServiceRequest $bars-message', async () => {
    const metadata = await h.fhir<CapabilityStatement>('GET', '/fhir/metadata');
    const rest = metadata.json.rest![0]!;
    assert.ok(rest.operation?.some((o) => o.name === 'process-message' && o.definition === 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message'));
    assert.ok(rest.resource?.find((r) => r.type === 'ServiceRequest')?.operation?.some((o) => o.name === 'bars-message'));
  });
});

describe(`GET /fhir/ServiceRequest/:id/$bars-message (${testEngine})`, () => {
  it('GP practice → community pharmacy: the request until the pharmacy answers; then the response, which carries the pharmacy’s outcome back', async () => {
    const sent = message('100000000030');
    const created = await send(sent);
    assert.equal(created.status, 200, created.text);
    const id = responseParts(created.json).request.id;

    const before = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${id}/$bars-message`, { auth: gpSystem });
    assert.equal(before.status, 200, before.text);
    assert.equal((before.json.entry![0]!.resource as MessageHeader).eventCoding?.code, 'servicerequest-request', 'not answered yet: the request');
    const early = await h.fhir<OperationOutcome>('GET', `/fhir/ServiceRequest/${id}/$bars-message?kind=response`, { auth: gpSystem });
    assert.equal(early.status, 409, early.text);
    assert.match(issues(early.json)[0]!.text, /has not answered .* requested/);

    await transitionReferral(h.db, pharmacist, { referralId: id, to: 'accepted' }, REQUEST);
    await transitionReferral(h.db, pharmacist, { referralId: id, to: 'in-progress' }, REQUEST);
    await transitionReferral(h.db, pharmacist, { referralId: id, to: 'completed', outcome: 'Salbutamol 100mcg inhaler supplied; inhaler technique checked' }, REQUEST);

    const answered = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${id}/$bars-message`, { auth: gpSystem });
    assert.equal(answered.status, 200, answered.text);
    const { header, request, task } = responseParts(answered.json);
    assert.equal(header.eventCoding?.code, 'servicerequest-response');
    assert.deepEqual(header.response, { identifier: (sent.entry![0]!.resource as MessageHeader).id, code: 'ok' }, 'names the practice’s own request message');
    assert.equal(header.destination?.[0]?.receiver?.identifier?.value, 'Z90101', 'back to the practice');
    assert.equal(request.status, 'completed');
    assert.equal(task.status, 'completed');
    assert.ok(
      task.output?.some((o) => o.valueString === 'Salbutamol 100mcg inhaler supplied; inhaler technique checked'),
      JSON.stringify(task.output),
    );
    const late = await send(cancellation('100000000030'));
    assert.equal(late.status, 409, 'a finished referral cannot be cancelled');
    assert.deepEqual(refusal(late)[0]!.expression, ['Bundle.entry[1].resource.status']);
    assert.match(refusal(late)[0]!.text, /^entry\[1\] ServiceRequest.status: the referral is completed; it cannot go to cancelled/);
    const asRequest = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${id}/$bars-message?kind=request`, { auth: gpSystem });
    assert.equal((asRequest.json.entry![0]!.resource as MessageHeader).eventCoding?.code, 'servicerequest-request', 'the request can still be asked for');

    const missing = await h.fhir<OperationOutcome>('GET', '/fhir/ServiceRequest/no-such-referral/$bars-message', { auth: gpSystem });
    assert.equal(missing.status, 404, missing.text);
  });

  it('a referral made in the app exports as a request message with a stable id, which its response names', async () => {
    const patients = await h.fhir<Bundle>('GET', '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990162026');
    const made = await createReferral(h.db, gp, { patientId: matches(patients.json)[0]!.id, serviceId, reason: 'Minor illness: sore throat', consentToShare: true }, REQUEST);
    const first = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${made.id}/$bars-message`);
    const again = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${made.id}/$bars-message`);
    const requestId = (first.json.entry![0]!.resource as MessageHeader).id;
    assert.equal((again.json.entry![0]!.resource as MessageHeader).id, requestId);
    await transitionReferral(h.db, pharmacist, { referralId: made.id, to: 'rejected', reason: 'Needs a GP appointment: symptoms for three weeks' }, REQUEST);
    const response = await h.fhir<Bundle>('GET', `/fhir/ServiceRequest/${made.id}/$bars-message`);
    const { header, task } = responseParts(response.json);
    assert.equal(header.response?.identifier, requestId);
    assert.equal(task.status, 'rejected');
    assert.equal(task.statusReason?.text, 'Needs a GP appointment: symptoms for three weeks');
  });
});
