/**
 * Plain creates that reach the store together are written together (one statement), as a user would notice it:
 * each request still gets its own answer — created, refused by the access rules, or unprocessable for a patient
 * not stored — and its own audit record; a create the database refuses fails alone, its neighbours are stored.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../test/db.ts';
import { auditSince, create, fhirHarness, lastAuditId, nhsNumber, patient, type FhirHarness } from '../../test/fhir.ts';
import { insertNewResource, prepareVersion } from './versions.ts';

let h: FhirHarness;
let gp: string; // a clinician of U90001
let mine: Patient & { id: string }; // registered in U90001
let elsewhere: Patient & { id: string }; // registered in U90002

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: 'dr.group@u90001.example', name: 'Dr Group', role: 'clinician', org: 'U90001' });
  mine = await create(h.fhir, patient(nhsNumber(601), 'Z90101'));
  elsewhere = await create(h.fhir, patient(nhsNumber(602), 'Z90201'));
});
after(() => h.close());

const observation = (subject: string, text: string): Observation => ({ resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: `Patient/${subject}` } });

test(`creates sent at once, by different people, each get their own answer and audit record: created, refused, or naming the missing patient (${testEngine})`, async () => {
  const since = await lastAuditId(h);
  const subjects = [mine.id, mine.id, elsewhere.id, mine.id, 'no-such-patient', mine.id, mine.id, elsewhere.id];
  // The admin (no relationship rule) sends the one naming a patient not stored: for a clinician that is a refusal.
  const replies = await Promise.all(
    subjects.map((subject, i) => h.fhir<Observation>('POST', '/fhir/Observation', { body: observation(subject, `reading ${i}`), auth: subject === 'no-such-patient' ? h.admin : gp })),
  );
  assert.deepEqual(
    replies.map((r) => r.status),
    [201, 201, 403, 201, 422, 201, 201, 403],
    'mine created; another PCN’s patient refused; a patient not stored unprocessable',
  );
  assert.match(replies[4]!.text, /no-such-patient/, 'the missing patient is named');
  for (const [i, reply] of replies.entries()) {
    if (reply.status !== 201) continue;
    const stored = await h.fhir<Observation>('GET', `/fhir/Observation/${reply.json.id}`, { auth: gp });
    assert.equal(stored.json.code?.text, `reading ${i}`, 'each create stored as sent, under its own id');
  }
  const stored = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Observation' AND content->'code'->>'text' LIKE 'reading %'");
  assert.equal(stored[0]!.n, 5, 'nothing stored for the refused and the unprocessable');

  const audit = await auditSince(h, since);
  const creates = audit.filter((a) => a.action === 'fhir.create');
  assert.equal(creates.length, 5, 'one audit record per create');
  assert.deepEqual([...new Set(creates.map((a) => a.entity_id))], [mine.id]);
  const refusals = await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_event WHERE id > $1 AND outcome = 'denied' AND entity_id = $2", [since, elsewhere.id]);
  assert.equal(refusals[0]!.n, 2, 'each refusal audited as such');
});

test(`a create the database refuses fails alone: those written with it are stored (${testEngine})`, async () => {
  const at = new Date().toISOString();
  const good = (n: number) => prepareVersion({ ...observation(mine.id, `together ${n}`), id: `together-${n}` } as Observation & { id: string }, 1, at);
  // Not a time the database can store: refused by the statement that would have held all three.
  const bad = prepareVersion({ ...observation(mine.id, 'together bad'), id: 'together-bad' } as Observation & { id: string }, 1, 'not a time');
  const outcomes = await Promise.allSettled([insertNewResource(h.db, good(1)), insertNewResource(h.db, bad), insertNewResource(h.db, good(2))]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const rows = await h.db.query<{ id: string }>("SELECT id FROM fhir_resource WHERE resource_type = 'Observation' AND id LIKE 'together-%' ORDER BY id");
  assert.deepEqual(
    rows.map((r) => r.id),
    ['together-1', 'together-2'],
  );
  const changes = await h.db.query<{ id: string }>("SELECT id FROM fhir_change WHERE resource_type = 'Observation' AND id LIKE 'together-%' ORDER BY id");
  assert.deepEqual(
    changes.map((r) => r.id),
    ['together-1', 'together-2'],
    'each stored create in the change feed once, the refused one not at all',
  );
});

test(`two creates of one id sent at once: the first is stored with its index and change rows once, the second told the id is taken (${testEngine})`, async () => {
  const at = new Date().toISOString();
  // Rounds, because on PostgreSQL the twins' statements could run on two connections in either order.
  for (let round = 1; round <= 30; round++) {
    const twin = (text: string) => prepareVersion({ ...observation(mine.id, text), id: `twin-${round}-a` } as Observation & { id: string }, 1, at);
    const other = prepareVersion({ ...observation(mine.id, 'beside the twins'), id: `twin-${round}-b` } as Observation & { id: string }, 1, at);
    const outcomes = await Promise.all([insertNewResource(h.db, twin('first twin')), insertNewResource(h.db, other), insertNewResource(h.db, twin('second twin'))]);
    assert.deepEqual(outcomes, [true, true, false], `round ${round}: the first of the twins is created, the second finds its id taken`);
    const [stored] = await h.db.query<{ text: string }>("SELECT content->'code'->>'text' AS text FROM fhir_resource WHERE resource_type = 'Observation' AND id = $1", [`twin-${round}-a`]);
    assert.equal(stored!.text, 'first twin');
    const counts = await h.db.query<{ id: string; changes: number; refs: number }>(
      `SELECT r.id, (SELECT count(*)::int FROM fhir_change c WHERE c.resource_type = 'Observation' AND c.id = r.id) AS changes,
              (SELECT count(*)::int FROM fhir_reference x WHERE x.resource_type = 'Observation' AND x.id = r.id) AS refs
         FROM fhir_resource r WHERE r.resource_type = 'Observation' AND r.id LIKE $1 ORDER BY r.id`,
      [`twin-${round}-%`],
    );
    assert.deepEqual(
      counts.map((c) => [c.id, c.changes]),
      [
        [`twin-${round}-a`, 1],
        [`twin-${round}-b`, 1],
      ],
      'one change row each',
    );
    assert.equal(counts[0]!.refs, counts[1]!.refs, 'the twin has the reference rows of one resource, not two');
  }
});
