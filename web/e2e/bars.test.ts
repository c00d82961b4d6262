/**
 * A BaRS-shaped referral from an outside system (issue 12), then in Chromium: a GP practice's system — a SMART
 * backend client of Z90101, no person at a keyboard — sends the example message (docs/examples) to the demo
 * directory's Pharmacy First at Norwich Pharmacy (FZ011) through POST /fhir/$process-message and is answered with
 * the response message; the pharmacist finds the referral in the pharmacy's inbox and opens it. Sending the same
 * message again lands nothing new. Screenshots: test-results/bars-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/bars.test.ts
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Bundle, HealthcareService, MessageHeader, ServiceRequest } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { addClient, addUser, SYSTEM_ACTOR } from '../../src/modules/access/index.ts';
import type { Db } from '../../src/storage/db.ts';
import { createPatient, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const PHARMACIST = { email: 'pharmacist.bars@pcn-hub.example', password: 'a long bars pharmacist password', name: 'Bea Pharmacist' };
const EXAMPLE = JSON.parse(readFileSync(new URL('../../docs/examples/bars-referral-request.json', import.meta.url), 'utf8')) as Bundle;

let gpSystem: string;

/** A backend client of the practice, and a bearer token it got with a signed assertion (SMART Backend Services). */
async function clientToken(db: Db, url: string, org: string, scopes: string[]): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  const client = await addClient(db, SYSTEM_ACTOR, { name: `${org} GP system`, org, role: 'clinician', scopes, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384' }] } });
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .setIssuer(client.id)
    .setSubject(client.id)
    .setAudience(`${url}/oauth/token`)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
    .setJti(randomUUID())
    .sign(privateKey);
  const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: scopes.join(' ') };
  const reply = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  assert.equal(reply.status, 200, await reply.clone().text());
  return `Bearer ${((await reply.json()) as { access_token: string }).access_token}`;
}

const running = journeyServer(ADMIN.password, async (server) => {
  await addUser(server.db, { email: PHARMACIST.email, name: PHARMACIST.name, role: 'clinical-pharmacist', org: 'FZ011', password: PHARMACIST.password });
  await createPatient(server.url, ADMIN, { nhsNumber: '9990162026', family: 'Example', given: 'Bars', birthDate: '1950-03-03', practiceOds: 'Z90101', problem: 'Asthma' });
  gpSystem = await clientToken(server.db, server.url, 'Z90101', ['system/ServiceRequest.cru', 'system/Task.cru']);
});

/** The example message, addressed to the demo directory's Pharmacy First at FZ011 by its identifier. */
function message(): Bundle {
  const bundle = structuredClone(EXAMPLE);
  const service = bundle.entry!.find((e) => e.resource?.resourceType === 'HealthcareService')!.resource as HealthcareService;
  service.identifier = [{ system: 'https://pcn-hub.example/Id/service', value: 'pharmacy-first-fz011' }];
  return bundle;
}

const send = (bundle: Bundle) =>
  fetch(`${running.server.url}/fhir/$process-message`, { method: 'POST', headers: { authorization: gpSystem, 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });

test('a GP system’s BaRS message is answered, lands once in the pharmacy’s inbox, and the pharmacist opens it', async () => {
  const sent = message();
  const reply = await send(sent);
  assert.equal(reply.status, 200, await reply.clone().text());
  const answer = (await reply.json()) as Bundle;
  const header = answer.entry![0]!.resource as MessageHeader;
  assert.equal(header.eventCoding?.code, 'servicerequest-response');
  assert.deepEqual(header.response, { identifier: (sent.entry![0]!.resource as MessageHeader).id, code: 'ok' });
  const request = answer.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
  assert.equal(request.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/UBRN')?.value, '000012345678');

  const again = await send(message());
  assert.equal(again.status, 200, 'the same message again is answered too');
  const againRequest = ((await again.json()) as Bundle).entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
  assert.equal(againRequest.id, request.id, '…with the referral it made the first time');

  const { page, context } = await running.openPage();
  try {
    await running.signIn(page, PHARMACIST);
    await page.getByRole('link', { name: 'Referrals', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor();
    const rows = page.locator('.pcn-referrals-inbox tr', { hasText: 'EXAMPLE, Bars' });
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, 'one referral, not two');
    await screenshot(page, 'bars-1-pharmacy-inbox');
    await rows.first().getByRole('link').first().click();
    await page.getByText('Urgent repeat medicine: salbutamol inhaler run out').first().waitFor();
    await screenshot(page, 'bars-2-referral-from-outside');
  } finally {
    await context.close();
  }
});
