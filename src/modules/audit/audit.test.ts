/**
 * The audit of every look and change (issue 10), as an IG lead would notice it: exactly one record per
 * request with the AuditEvent's fields, refusals recorded, the log append-only in the database, and the
 * hash chain catching an edited, deleted or reordered record while an intact log verifies.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { auditSince, create, type FhirHarness, fhirHarness, lastAuditId, nhsNumber, patient } from '../../../test/fhir.ts';
import { testEngine } from '../../../test/db.ts';
import { recordAuditGrouped, sealAudit, verifyAudit } from './index.ts';

let h: FhirHarness;
let gp: string;
const GP = 'dr.audit@u90001.example';
const mine: Array<Patient & { id: string }> = [];
let elsewhere: Patient & { id: string };

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: GP, name: 'Dr Audit', role: 'clinician', org: 'U90001' });
  for (let i = 0; i < 5; i++) mine.push(await create(h.fhir, patient(nhsNumber(700 + i), 'Z90101', { name: [{ family: 'Audittest', given: [`P${i}`] }] })));
  elsewhere = await create(h.fhir, patient(nhsNumber(720), 'Z90201', { name: [{ family: 'Audittest', given: ['Elsewhere'] }] }));
});
after(async () => {
  await h.close();
});

const observation = (subject: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] },
  subject: { reference: `Patient/${subject}` },
});

interface Stored {
  actor: string;
  action: string;
  outcome: string;
  org_code: string | null;
  role: string | null;
  purpose: string | null;
  break_glass_reason: string | null;
  request_id: string | null;
  patient_ids: string[];
}

async function recordsSince(id: number): Promise<Stored[]> {
  return h.db.query<Stored>('SELECT actor, action, outcome, org_code, role, purpose, break_glass_reason, request_id, patient_ids FROM audit_event WHERE id > $1 ORDER BY id', [id]);
}

test(`a search returning many patients is ONE record listing them, with who, organisation, role, purpose and request id (${testEngine})`, async () => {
  const from = await lastAuditId(h);
  const reply = await h.fhir<Bundle>('GET', '/fhir/Patient?family=Audittest&_count=100', { auth: gp, headers: { 'x-request-id': 'req-search-1' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.json.entry?.length, 5, 'the five patients of the GP’s PCN, not the one elsewhere');
  const records = await recordsSince(from);
  assert.equal(records.length, 1, JSON.stringify(records));
  const [record] = records as [Stored];
  assert.deepEqual(
    { actor: record.actor, outcome: record.outcome, org: record.org_code, role: record.role, purpose: record.purpose, requestId: record.request_id },
    { actor: GP, outcome: 'success', org: 'U90001', role: 'clinician', purpose: 'direct-care', requestId: 'req-search-1' },
  );
  assert.deepEqual([...record.patient_ids].sort(), mine.map((p) => p.id).sort());
  assert.ok(!record.patient_ids.includes(elsewhere.id), 'a patient the search did not return is not listed');
});

test('a read, a create, a conditional create and a batch are one record each; a request that touches no record leaves none', async () => {
  let from = await lastAuditId(h);
  await h.fhir('GET', `/fhir/Patient/${mine[0]!.id}`, { auth: gp });
  assert.equal((await recordsSince(from)).length, 1, 'read');

  from = await lastAuditId(h);
  const created = await h.fhir('POST', '/fhir/Observation', { auth: gp, body: observation(mine[0]!.id) });
  assert.equal(created.status, 201, created.text);
  const [createRecord, ...extra] = await recordsSince(from);
  assert.equal(extra.length, 0, 'create');
  assert.equal(createRecord?.action, 'fhir.create');
  assert.deepEqual(createRecord?.patient_ids, [mine[0]!.id]);

  from = await lastAuditId(h);
  const conditional = await h.fhir('POST', '/fhir/Observation', {
    auth: gp,
    body: { ...observation(mine[1]!.id), identifier: [{ system: 'urn:test', value: 'c1' }] },
    headers: { 'if-none-exist': 'identifier=urn:test|c1' },
  });
  assert.equal(conditional.status, 201, conditional.text);
  assert.equal((await recordsSince(from)).length, 1, 'conditional create: its search and its create are one record');

  from = await lastAuditId(h);
  const batch = await h.fhir<Bundle>('POST', '/fhir', {
    auth: gp,
    body: {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: observation(mine[2]!.id), request: { method: 'POST', url: 'Observation' } },
        { resource: observation(mine[3]!.id), request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: `Patient/${mine[4]!.id}` } },
      ],
    },
  });
  assert.equal(batch.status, 200, batch.text);
  const batchRecords = await recordsSince(from);
  assert.equal(batchRecords.length, 1, JSON.stringify(batchRecords));
  assert.deepEqual([...batchRecords[0]!.patient_ids].sort(), [mine[2]!.id, mine[3]!.id, mine[4]!.id].sort());

  from = await lastAuditId(h);
  await h.fhir('GET', '/fhir/Patient?family=Nobodyatall', { auth: gp });
  assert.equal((await recordsSince(from)).length, 0, 'a search that found nobody touched no record');
});

test('a refused look is recorded as denied; a break-glass look carries its reason', async () => {
  let from = await lastAuditId(h);
  const refused = await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gp });
  assert.equal(refused.status, 403);
  const [denied, ...more] = await recordsSince(from);
  assert.equal(more.length, 0);
  assert.deepEqual({ outcome: denied?.outcome, patients: denied?.patient_ids }, { outcome: 'denied', patients: [elsewhere.id] });

  from = await lastAuditId(h);
  const opened = await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gp, headers: { 'x-break-glass-reason': 'Unconscious in A&E' } });
  assert.equal(opened.status, 200);
  const [glass] = await recordsSince(from);
  assert.deepEqual({ outcome: glass?.outcome, reason: glass?.break_glass_reason }, { outcome: 'success', reason: 'Unconscious in A&E' });
  // The entries of the registry keep working next to the record's.
  const registry = await auditSince(h, 0);
  assert.ok(registry.length > 0);
});

test('looks written together: one entry the database refuses fails alone, the others grouped with it are stored', async () => {
  const look = (n: number, outcome = 'success') =>
    recordAuditGrouped(h.db, {
      actor: GP,
      action: 'fhir.read',
      entityType: 'Patient',
      entityId: `grouped-${n}`,
      summary: `read Patient/grouped-${n}`,
      outcome: outcome as 'success',
      patientIds: [`grouped-${n}`],
    });
  const settled = await Promise.allSettled([look(1), look(2), look(3, 'not-an-outcome'), look(4), look(5)]);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  const stored = await h.db.query<{ entity_id: string }>("SELECT entity_id FROM audit_event WHERE entity_id LIKE 'grouped-%' ORDER BY entity_id");
  assert.deepEqual(
    stored.map((r) => r.entity_id),
    ['grouped-1', 'grouped-2', 'grouped-4', 'grouped-5'],
  );
});

test('looks written together keep their values exactly: quotes, commas, braces and a lone surrogate (stored as U+FFFD), each its own record', async () => {
  const odd = ['a "quoted", {braced} \\ value', 'lone \ud800 surrogate', 'pair 😀 kept'];
  await Promise.all(
    odd.map((summary, n) =>
      recordAuditGrouped(h.db, { actor: GP, action: 'fhir.read', entityType: 'Patient', entityId: `odd-${n}`, summary, patientIds: [`odd-${n}`, 'x,"y"'], detail: { note: summary } }),
    ),
  );
  const stored = await h.db.query<{ summary: string; patient_ids: string[]; note: string }>(
    "SELECT summary, patient_ids, detail ->> 'note' AS note FROM audit_event WHERE entity_id LIKE 'odd-%' ORDER BY entity_id",
  );
  const expected = ['a "quoted", {braced} \\ value', 'lone \ufffd surrogate', 'pair 😀 kept'];
  assert.deepEqual(
    stored.map((r) => [r.summary, r.note, r.patient_ids]),
    expected.map((s, n) => [s, s, [`odd-${n}`, 'x,"y"']]),
  );
});

test('the database refuses UPDATE, DELETE and TRUNCATE of the audit log and its chain', async () => {
  await sealAudit(h.db);
  for (const sql of ["UPDATE audit_event SET actor = 'someone else'", 'DELETE FROM audit_event', 'TRUNCATE audit_event', 'DELETE FROM audit_chain', "UPDATE audit_chain SET hash = 'x'"]) {
    await assert.rejects(h.db.query(sql), /append-only/, sql);
  }
  const [{ n }] = (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event WHERE actor = $1', [GP])) as [{ n: number }];
  assert.ok(n > 0, 'the records are all still there');
});

test('many requests at once: every record lands in the chain once, and the chain verifies', async () => {
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      i % 2 ? h.fhir('GET', `/fhir/Patient/${mine[i % 5]!.id}`, { auth: gp }) : h.fhir('POST', '/fhir/Observation', { auth: gp, body: observation(mine[i % 5]!.id) }),
    ),
  );
  const result = await verifyAudit(h.db);
  assert.equal(result.ok, true, result.problem);
  const [{ events, links }] = (await h.db.query<{ events: number; links: number }>(
    'SELECT (SELECT count(*)::int FROM audit_event) AS events, (SELECT count(DISTINCT event_id)::int FROM audit_chain) AS links',
  )) as [{ events: number; links: number }];
  assert.equal(links, events, 'every record sealed exactly once');
  assert.equal(result.checked, events);
});

/** As the database owner: switch the guard off, tamper, switch it back on. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  await h.db.exec('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only; ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_append_only');
  try {
    await h.db.query(sql, params);
  } finally {
    await h.db.exec('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only; ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_append_only');
  }
}

/** The chain position of the n-th record the GP's requests left, and the record's id. */
async function link(n: number): Promise<{ seq: number; id: number }> {
  const rows = await h.db.query<{ seq: number; id: number }>(
    'SELECT c.seq::int AS seq, e.id::int AS id FROM audit_chain c JOIN audit_event e ON e.id = c.event_id WHERE e.actor = $1 ORDER BY c.seq LIMIT 1 OFFSET $2',
    [GP, n],
  );
  return rows[0]!;
}

test('an edited record is named by verify; the intact log beside it verified', async () => {
  assert.equal((await verifyAudit(h.db)).ok, true);
  const { seq, id } = await link(3);
  await tamper("UPDATE audit_event SET actor = 'nobody@example' WHERE id = $1", [id]);
  const result = await verifyAudit(h.db);
  assert.equal(result.ok, false);
  assert.match(result.problem!, new RegExp(`^audit record #${seq} \\(event ${id}, .*\\) has been edited`));
  await tamper('UPDATE audit_event SET actor = $2 WHERE id = $1', [id, GP]);
  assert.equal((await verifyAudit(h.db)).ok, true, 'put back as it was, the log verifies again');
});

test('a deleted record, a deleted link and two swapped records are each named', async () => {
  const first = await link(5);
  const second = await link(6);
  // Swap the two records: each sits where the other was sealed.
  const swap = async () => {
    await tamper('UPDATE audit_event SET id = -1 WHERE id = $1', [first.id]);
    await tamper('UPDATE audit_event SET id = $1 WHERE id = $2', [first.id, second.id]);
    await tamper('UPDATE audit_event SET id = $1 WHERE id = -1', [second.id]);
  };
  await swap();
  const swapped = await verifyAudit(h.db);
  assert.equal(swapped.ok, false);
  assert.match(swapped.problem!, new RegExp(`^audit record #${first.seq} \\(event ${first.id}, .*\\) has been edited or moved`));

  const third = await link(8);
  await tamper('DELETE FROM audit_event WHERE id = $1', [third.id]);
  const deleted = await verifyAudit(h.db);
  assert.match(deleted.problem!, new RegExp(`^audit record #${first.seq} `), 'still the first bad one');

  // With the swap put back, the delete is the first bad record.
  await swap();
  const onlyDeleted = await verifyAudit(h.db);
  assert.match(onlyDeleted.problem!, new RegExp(`^audit record #${third.seq} \\(event ${third.id}\\) has been deleted`));

  const fourth = await link(10);
  await tamper('DELETE FROM audit_chain WHERE seq = $1', [third.seq]);
  const cut = await verifyAudit(h.db);
  assert.match(cut.problem!, new RegExp(`^audit record #${third.seq} is missing`));
  assert.ok(fourth.seq > third.seq);
});
