/**
 * Many resources written at once (a population run's RiskAssessments): new ones created at version 1 and
 * searchable, stored ones replaced as updates with the old version kept in history and the old index rows
 * gone, each change in the change feed; an actor limited to some patients may not write in another's record.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, RiskAssessment } from '@medplum/fhirtypes';
import { testEngine } from '../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';
import { findActor } from '../modules/access/index.ts';
import { recordContext, systemContext } from '../modules/record/index.ts';
import { writeResources } from './bulk-write.ts';
import type { RequestContext } from './context.ts';

let h: FhirHarness;
let system: RequestContext;
let gp: RequestContext;
let mine: string; // Z90101, the GP's PCN
let theirs: string; // Z90201

const assessment = (id: string, patientId: string, risk: string): RiskAssessment & { id: string } => ({
  resourceType: 'RiskAssessment',
  id,
  status: 'final',
  subject: { reference: `Patient/${patientId}` },
  occurrenceDateTime: '2026-12-01',
  prediction: [{ qualitativeRisk: { coding: [{ system: 'https://pcn-hub.example/CodeSystem/frailty-category', code: risk }] } }],
});

before(async () => {
  h = await fhirHarness();
  mine = (await create(h.fhir, patient(nhsNumber(501), 'Z90101'))).id;
  theirs = (await create(h.fhir, patient(nhsNumber(502), 'Z90201'))).id;
  system = await systemContext(h.db, 'test bulk write');
  await h.addUser({ email: 'dr.bulk@u90001.example', name: 'Dr Bulk', role: 'gp', org: 'U90001' });
  gp = await recordContext(h.db, (await findActor(h.db, 'dr.bulk@u90001.example'))!, { request: { method: 'POST', url: '/test' } });
});
after(() => h.close());

const search = async (query: string) => ((await h.fhir<Bundle>('GET', `/fhir/RiskAssessment?${query}`)).json.entry ?? []).map((e) => e.resource!.id).sort();
const changes = async (id: string) =>
  (await h.db.query<{ kind: string; version_id: string }>("SELECT kind, version_id::text FROM fhir_change WHERE resource_type = 'RiskAssessment' AND id = $1 ORDER BY position", [id])).map(
    (c) => `${c.kind} ${c.version_id}`,
  );

test(`new resources are created at version 1, stored ones replaced as updates with history, index rows and the change feed kept (${testEngine})`, async () => {
  const first = await h.db.transaction((tx) => writeResources(tx, system, [assessment('bulk-a', mine, 'mild'), assessment('bulk-b', theirs, 'severe')]));
  assert.deepEqual(
    first.map((t) => `${t.action} ${t.id} ${t.patientId}`),
    [`create bulk-a ${mine}`, `create bulk-b ${theirs}`],
  );
  assert.deepEqual(await search(`subject=Patient/${mine}`), ['bulk-a']);
  const second = await h.db.transaction((tx) => writeResources(tx, system, [assessment('bulk-a', mine, 'severe'), assessment('bulk-c', mine, 'fit')]));
  assert.deepEqual(
    second.map((t) => `${t.action} ${t.id}`),
    ['update bulk-a', 'create bulk-c'],
  );
  const read = (await h.fhir<RiskAssessment>('GET', '/fhir/RiskAssessment/bulk-a')).json;
  assert.equal(read.meta?.versionId, '2');
  assert.equal(read.prediction?.[0]?.qualitativeRisk?.coding?.[0]?.code, 'severe');
  const v1 = (await h.fhir<RiskAssessment>('GET', '/fhir/RiskAssessment/bulk-a/_history/1')).json;
  assert.equal(v1.prediction?.[0]?.qualitativeRisk?.coding?.[0]?.code, 'mild', 'the old version is kept in history');
  assert.deepEqual(await search(`subject=Patient/${mine}`), ['bulk-a', 'bulk-c']);
  // The old index rows went with the old version: searched by the patient it no longer names, it is not found.
  await h.db.transaction((tx) => writeResources(tx, system, [assessment('bulk-b', mine, 'severe')]));
  assert.deepEqual(await search(`subject=Patient/${theirs}`), []);
  assert.deepEqual(await search(`subject=Patient/${mine}`), ['bulk-a', 'bulk-b', 'bulk-c']);
  assert.deepEqual(await changes('bulk-a'), ['create 1', 'update 2']);
  assert.deepEqual(await changes('bulk-b'), ['create 1', 'update 2']);
});

test(`an actor limited to their PCN's patients may not write in another patient's record, and nothing of the call is written (${testEngine})`, async () => {
  await assert.rejects(
    h.db.transaction((tx) => writeResources(tx, gp, [assessment('bulk-gp-mine', mine, 'fit'), assessment('bulk-gp-theirs', theirs, 'fit')])),
    /no legitimate relationship/,
  );
  assert.equal((await h.fhir('GET', '/fhir/RiskAssessment/bulk-gp-mine')).status, 404);
  await h.db.transaction((tx) => writeResources(tx, gp, [assessment('bulk-gp-mine', mine, 'fit')]));
  assert.equal((await h.fhir('GET', '/fhir/RiskAssessment/bulk-gp-mine')).status, 200);
});

test(`a resource that is not valid FHIR is refused, naming the element, and nothing is written (${testEngine})`, async () => {
  const bad = { ...assessment('bulk-bad', mine, 'fit'), status: undefined } as unknown as RiskAssessment & { id: string };
  await assert.rejects(
    h.db.transaction((tx) => writeResources(tx, system, [assessment('bulk-ok', mine, 'fit'), bad])),
    (error: Error & { outcome?: { issue?: Array<{ expression?: string[] }> } }) => JSON.stringify(error.outcome ?? error.message).includes('RiskAssessment.status'),
  );
  assert.equal((await h.fhir('GET', '/fhir/RiskAssessment/bulk-ok')).status, 404);
});
