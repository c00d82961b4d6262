/**
 * A label removed from an entry does not open its earlier, labelled versions: history, vread and type
 * history judge every version by its own labels (issue 10, sensitive entries), not only the current one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Condition } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { V3_ACT_CODE } from '../../modules/access/index.ts';

let h: FhirHarness;
let gp: string;
let coordinator: string;
let conditionId: string;

const LABELLED_TEXT = 'Labelledhistory HIV infection';
const PLAIN_TEXT = 'Labelledhistory long-term condition';

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: 'gp.history@pcn-hub.example', name: 'History GP', role: 'gp', org: 'Z90101' });
  coordinator = await h.addUser({ email: 'coordinator.history@pcn-hub.example', name: 'History Coordinator', role: 'care-coordinator', org: 'U90001' });
  const alice = await create(h.fhir, patient(nhsNumber(4711), 'Z90101'), gp);
  const labelled: Condition = {
    resourceType: 'Condition',
    subject: { reference: `Patient/${alice.id}` },
    code: { text: LABELLED_TEXT },
    meta: { security: [{ system: V3_ACT_CODE, code: 'HIV' }] },
  };
  const created = await create(h.fhir, labelled, gp);
  conditionId = created.id;
  // Version 2: the label and the sensitive text taken off.
  const updated = await h.fhir('PUT', `/fhir/Condition/${conditionId}`, { auth: gp, body: { resourceType: 'Condition', id: conditionId, subject: labelled.subject, code: { text: PLAIN_TEXT } } });
  assert.equal(updated.status, 200, updated.text);
});
after(() => h.close());

test(`a care coordinator sees the unlabelled version and nothing of the labelled one; the GP sees both (${testEngine})`, async () => {
  const history = await h.fhir<Bundle>('GET', `/fhir/Condition/${conditionId}/_history`, { auth: coordinator });
  assert.equal(history.status, 200);
  assert.deepEqual(
    history.json.entry?.map((e) => e.resource?.meta?.versionId),
    ['2'],
  );
  assert.ok(!history.text.includes(LABELLED_TEXT));
  assert.equal((await h.fhir('GET', `/fhir/Condition/${conditionId}/_history/1`, { auth: coordinator })).status, 404);
  assert.equal((await h.fhir('GET', `/fhir/Condition/${conditionId}/_history/2`, { auth: coordinator })).status, 200);
  const typeHistory = await h.fhir<Bundle>('GET', '/fhir/Condition/_history', { auth: coordinator });
  assert.equal(typeHistory.status, 200);
  assert.ok(typeHistory.text.includes(PLAIN_TEXT));
  assert.ok(!typeHistory.text.includes(LABELLED_TEXT));

  const gpHistory = await h.fhir<Bundle>('GET', `/fhir/Condition/${conditionId}/_history`, { auth: gp });
  assert.deepEqual(
    gpHistory.json.entry?.map((e) => e.resource?.meta?.versionId),
    ['2', '1'],
  );
  const gpVersion1 = await h.fhir<Condition>('GET', `/fhir/Condition/${conditionId}/_history/1`, { auth: gp });
  assert.equal(gpVersion1.status, 200);
  assert.equal(gpVersion1.json.code?.text, LABELLED_TEXT);
});
