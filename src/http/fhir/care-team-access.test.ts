import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
let pharmacist: string;
let patientId: string;

const h = apiSuite(async () => {
  // A community pharmacist: their organisation is a pharmacy (serving U90001), not a PCN or practice. The
  // patient is registered in U90002, which the pharmacy does not serve: only a care team links them.
  pharmacist = await h.addUser({ email: 'pharmacist@fz011.example', name: 'Pat Pharmacist', role: 'clinician', org: 'FZ011' });
  const patient = await h.app.inject({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { authorization: h.admin },
    payload: { resourceType: 'Patient', name: [{ family: 'Careteam' }], generalPractitioner: [{ identifier: { system: ODS, value: 'Z90201' } }] },
  });
  patientId = patient.json<{ id: string }>().id;
});

test(`a partner organisation sees a patient outside the PCNs it serves only once it is on their care team (${testEngine})`, async () => {
  const read = () => h.app.inject({ url: `/fhir/Patient/${patientId}`, headers: { authorization: pharmacist } });
  const search = async () => (await h.app.inject({ url: '/fhir/Patient?family=careteam', headers: { authorization: pharmacist } })).json<{ entry?: unknown[] }>().entry?.length ?? 0;
  assert.equal((await read()).statusCode, 403);
  assert.equal(await search(), 0);
  const careTeam = await h.app.inject({
    method: 'POST',
    url: '/fhir/CareTeam',
    headers: { authorization: h.admin },
    payload: {
      resourceType: 'CareTeam',
      status: 'active',
      subject: { reference: `Patient/${patientId}` },
      participant: [{ member: { identifier: { system: ODS, value: 'FZ011' }, display: 'Cromer Pharmacy' } }],
    },
  });
  assert.equal(careTeam.statusCode, 201, careTeam.body);
  assert.equal((await read()).statusCode, 200);
  assert.equal(await search(), 1);
  const entry = await h.app.inject({
    method: 'POST',
    url: '/fhir/Procedure',
    headers: { authorization: pharmacist },
    payload: {
      resourceType: 'Procedure',
      status: 'completed',
      subject: { reference: `Patient/${patientId}` },
      code: { text: 'Medicines review' },
      performer: [{ actor: { identifier: { system: ODS, value: 'FZ011' } } }],
    },
  });
  assert.equal(entry.statusCode, 201, entry.body);
});

test('a postcode is found with or without its space', async () => {
  const created = await h.app.inject({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { authorization: h.admin },
    payload: { resourceType: 'Patient', address: [{ postalCode: 'NR1 3SR' }], generalPractitioner: [{ identifier: { system: ODS, value: 'Z90101' } }] },
  });
  const id = created.json<{ id: string }>().id;
  for (const query of ['NR1 3SR', 'nr13sr', 'NR1']) {
    const found = (await h.app.inject({ url: `/fhir/Patient?address-postalcode=${encodeURIComponent(query)}`, headers: { authorization: h.admin } })).json<{
      entry?: Array<{ resource: { id: string } }>;
    }>();
    assert.ok(
      found.entry?.some((e) => e.resource.id === id),
      query,
    );
  }
});
