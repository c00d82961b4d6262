/**
 * No patient-identifying data in the application log: the log of a whole journey (sign in, search by
 * NHS number, name and birth date, read, create) holds none of the patient's values, nor the token —
 * and still holds what an operator needs (the request id, the route, the status).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp, type ZodApp } from './app.ts';
import { seedDemoIfEmpty } from '../demo/seed-demo.ts';
import type { Db } from '../storage/db.ts';
import { testDb, testEngine } from '../../test/db.ts';
import { nhsNumber, patient } from '../../test/fhir.ts';
import { redactUrl } from './log-redaction.ts';

const PASSWORD = 'correct horse battery staple';
const NHS = nhsNumber(4242);
const FAMILY = 'Throckmorton';
const GIVEN = 'Philippa';
const BIRTH = '1957-03-14';
const STREET = '12 Quayside Lane';
const POSTCODE = 'NR3 1QX';

let db: Db;
let app: ZodApp;
let log = '';

before(async () => {
  db = await testDb();
  await seedDemoIfEmpty(db, { adminPassword: PASSWORD });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      log += String(chunk);
      done();
    },
  });
  app = await buildApp({ db, logger: pino({ level: 'info' }, sink) });
});
after(async () => {
  await app.close();
  await db.close();
});

test(`a full journey leaves no NHS number, name, birth date, address or token in the log (${testEngine})`, async () => {
  const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'admin@pcn-hub.example', password: PASSWORD } });
  const token = login.json<{ token: string }>().token;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', 'x-request-id': 'journey-request-1' };
  const created = await app.inject({
    method: 'POST',
    url: '/fhir/Patient',
    headers,
    payload: patient(NHS, 'Z90101', { name: [{ family: FAMILY, given: [GIVEN] }], birthDate: BIRTH, address: [{ line: [STREET], postalCode: POSTCODE }] }),
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json<{ id: string }>().id;
  for (const url of [
    `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
    `/fhir/Patient?family=${FAMILY}&given=${GIVEN}`,
    `/fhir/Patient?birthdate=${BIRTH}`,
    `/fhir/Patient?address-postalcode=${encodeURIComponent(POSTCODE)}`,
    `/fhir/Patient/${id}`,
    `/api/pcns?access_token=${token}`,
  ]) {
    const reply = await app.inject({ method: 'GET', url, headers });
    assert.ok(reply.statusCode < 500, `${url}: ${reply.body}`);
  }
  assert.ok(log.length > 0, 'the journey was logged');
  for (const value of [NHS, FAMILY, GIVEN, BIRTH, STREET, 'Quayside', POSTCODE, encodeURIComponent(POSTCODE), token]) {
    assert.ok(!log.includes(value), `the log holds ${value}`);
  }
  // What an operator needs is still there: the request id, the route and parameter names, the status.
  assert.ok(log.includes('journey-request-1'));
  assert.ok(log.includes('/fhir/Patient?identifier=…'));
  assert.ok(log.includes('/fhir/Patient?family=…&given=…'));
  assert.ok(log.includes(`/fhir/Patient/${id}`), 'a server-given id is kept: it identifies no one without the database');
  assert.ok(log.includes('"statusCode":201'));
});

test('redactUrl keeps paths and parameter names, masks NHS numbers and dates in paths', () => {
  assert.equal(redactUrl('/fhir/Patient?identifier=x|9434765919&birthdate=1957-03-14'), '/fhir/Patient?identifier=…&birthdate=…');
  assert.equal(redactUrl('/fhir/Patient/943 476 5919/_history/2'), '/fhir/Patient/[nhs-number]/_history/2');
  assert.equal(redactUrl('/fhir/Patient/0190a3b2-1c4d-7e8f-9a0b-1c2d3e4f5a6b'), '/fhir/Patient/0190a3b2-1c4d-7e8f-9a0b-1c2d3e4f5a6b');
  assert.equal(redactUrl('/api/pcns'), '/api/pcns');
});
