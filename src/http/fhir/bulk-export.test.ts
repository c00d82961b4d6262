import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

const h = apiSuite(async () => {
  for (const nhs of ['9990000018', '9990000026', '9990000034']) {
    const patient = await h.app.inject({
      method: 'POST',
      url: '/fhir/Patient',
      headers: { authorization: h.admin },
      payload: { resourceType: 'Patient', identifier: [{ system: NHS, value: nhs }], generalPractitioner: [{ identifier: { system: ODS, value: 'Z90101' } }] },
    });
    assert.equal(patient.statusCode, 201, patient.body);
    const id = patient.json<{ id: string }>().id;
    await h.app.inject({
      method: 'POST',
      url: '/fhir/Condition',
      headers: { authorization: h.admin },
      payload: { resourceType: 'Condition', subject: { reference: `Patient/${id}` }, code: { text: 'Hypertension' } },
    });
  }
});

async function waitForManifest(location: string) {
  const path = new URL(location).pathname;
  for (let i = 0; i < 100; i++) {
    const status = await h.app.inject({ url: path, headers: { authorization: h.admin } });
    if (status.statusCode === 200) return status.json<{ output: Array<{ type: string; url: string; count: number }>; requiresAccessToken: boolean }>();
    assert.equal(status.statusCode, 202, status.body);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('export did not finish');
}

test(`$export kicks off with 202, is polled, and yields NDJSON per type (${testEngine})`, async () => {
  const kickOff = await h.app.inject({ url: '/fhir/$export?_type=Patient,Condition', headers: { authorization: h.admin, prefer: 'respond-async' } });
  assert.equal(kickOff.statusCode, 202, kickOff.body);
  const manifest = await waitForManifest(kickOff.headers['content-location'] as string);
  assert.equal(manifest.requiresAccessToken, true);
  assert.deepEqual(
    manifest.output.map((o) => [o.type, o.count]),
    [
      ['Patient', 3],
      ['Condition', 3],
    ],
  );
  const file = await h.app.inject({ url: new URL(manifest.output[0]!.url).pathname, headers: { authorization: h.admin } });
  assert.equal(file.statusCode, 200);
  assert.match(file.headers['content-type'] as string, /ndjson/);
  const lines = file.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { resourceType: string });
  assert.equal(lines.length, 3);
  assert.ok(lines.every((r) => r.resourceType === 'Patient'));
});

test('Group/$export exports only the group members’ records', async () => {
  const patients = (await h.app.inject({ url: '/fhir/Patient?_count=2', headers: { authorization: h.admin } })).json<{ entry: Array<{ resource: { id: string } }> }>().entry;
  const group = await h.app.inject({
    method: 'POST',
    url: '/fhir/Group',
    headers: { authorization: h.admin },
    payload: { resourceType: 'Group', type: 'person', actual: true, member: patients.map((p) => ({ entity: { reference: `Patient/${p.resource.id}` } })) },
  });
  assert.equal(group.statusCode, 201, group.body);
  const kickOff = await h.app.inject({ url: `/fhir/Group/${group.json<{ id: string }>().id}/$export`, headers: { authorization: h.admin } });
  assert.equal(kickOff.statusCode, 202, kickOff.body);
  const manifest = await waitForManifest(kickOff.headers['content-location'] as string);
  assert.deepEqual(Object.fromEntries(manifest.output.map((o) => [o.type, o.count])), { Condition: 2, Patient: 2 });
});

test('only an admin may export in bulk, and the files need a token', async () => {
  const clinician = await h.addUser({ email: 'gp@u90001.example', name: 'Dr Gee Pee', role: 'clinician', org: 'U90001' });
  const refused = await h.app.inject({ url: '/fhir/$export', headers: { authorization: clinician } });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json<{ resourceType: string }>().resourceType, 'OperationOutcome');
  assert.equal((await h.app.inject({ url: '/fhir/$export-status/whatever' })).statusCode, 401);
});
