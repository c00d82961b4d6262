/**
 * Who may see which record over FHIR, as a clinician, an analyst or a PCN manager would notice it:
 * registered-in-my-PCN patients are visible, others are 403 (and silently absent from searches)
 * unless a break-glass reason is given; secondary-use roles see no patient-level data; and every
 * look, search and change leaves an audit_event naming who and whose record.
 */
import { test, before, after } from 'node:test';
import { registryChanged } from '../../modules/network/index.ts';
import assert from 'node:assert/strict';
import type { Bundle, Condition, OperationOutcome, Organization, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { auditSince, create, fhirHarness, ids, issues, lastAuditId, matches, NHS_NUMBER_SYSTEM, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';

let h: FhirHarness;
let gp: string; // a clinician of U90001 (Z90101 … Z90108)
let gpAtPractice: string; // a clinician whose organisation is a practice of U90001
let analyst: string;
let manager: string;
const GP_EMAIL = 'dr.gee@u90001.example';
let mine: Patient & { id: string }; // registered at Z90101, in U90001
let elsewhere: Patient & { id: string }; // registered at Z90201, in U90002
let myCondition: Condition & { id: string };
let theirCondition: Condition & { id: string };
const FAMILY = 'Accesstest';

before(async () => {
  h = await fhirHarness();
  gp = await h.addUser({ email: GP_EMAIL, name: 'Dr Gee', role: 'clinician', org: 'U90001' });
  gpAtPractice = await h.addUser({ email: 'nurse@z90105.example', name: 'Nurse Ness', role: 'clinician', org: 'Z90105' });
  analyst = await h.addUser({ email: 'analyst@icb.example', name: 'Ana Lyst', role: 'analyst', org: 'U90001' });
  manager = await h.addUser({ email: 'manager@u90001.example', name: 'Man Ager', role: 'pcn-manager', org: 'U90001' });
  const [membership] = await h.db.query<{ pcn_code: string }>('SELECT pcn_code FROM practice_membership WHERE practice_ods = $1 AND end_date IS NULL', ['Z90201']);
  assert.equal(membership?.pcn_code, 'U90002', 'the demo registry has Z90201 in another PCN');
  mine = await create(h.fhir, patient(nhsNumber(1), 'Z90101', { name: [{ family: FAMILY, given: ['Mine'] }] }));
  elsewhere = await create(h.fhir, patient(nhsNumber(2), 'Z90201', { name: [{ family: FAMILY, given: ['Elsewhere'] }] }));
  const condition = (subject: string): Condition => ({
    resourceType: 'Condition',
    subject: { reference: `Patient/${subject}` },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '195967001' }], text: 'Asthma' },
  });
  myCondition = await create(h.fhir, condition(mine.id));
  theirCondition = await create(h.fhir, condition(elsewhere.id));
});
after(async () => {
  await h.close();
});

function assertForbidden(reply: { status: number; text: string; json: unknown }, what: string) {
  assert.equal(reply.status, 403, `${what}: ${reply.text}`);
  const [issue] = issues(reply.json as OperationOutcome);
  assert.equal(issue?.code, 'forbidden', what);
}

test(`a clinician reads their PCN's patients and is refused others (${testEngine})`, async () => {
  for (const auth of [gp, gpAtPractice]) {
    const read = await h.fhir<Patient>('GET', `/fhir/Patient/${mine.id}`, { auth });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.id, mine.id);
    assert.equal((await h.fhir('GET', `/fhir/Condition/${myCondition.id}`, { auth })).status, 200);
    const refused = await h.fhir<OperationOutcome>('GET', `/fhir/Patient/${elsewhere.id}`, { auth });
    assertForbidden(refused, 'read elsewhere');
    assert.match(issues(refused.json)[0]!.text, /break-glass/);
    assertForbidden(await h.fhir('GET', `/fhir/Condition/${theirCondition.id}`, { auth }), 'read their condition');
    assertForbidden(await h.fhir('GET', `/fhir/Patient/${elsewhere.id}/_history/1`, { auth }), 'vread elsewhere');
    assertForbidden(await h.fhir('GET', `/fhir/Patient/${elsewhere.id}/_history`, { auth }), 'history elsewhere');
    assertForbidden(await h.fhir('GET', `/fhir/Patient/${elsewhere.id}/$everything`, { auth }), '$everything elsewhere');
    const everything = await h.fhir<Bundle>('GET', `/fhir/Patient/${mine.id}/$everything`, { auth });
    assert.deepEqual(everything.json.entry?.map((e) => e.resource?.id).sort(), [mine.id, myCondition.id].sort());
  }
});

test('searches silently leave out patients a clinician may not see, however they are asked for', async () => {
  const search = async (query: string) => {
    const reply = await h.fhir<Bundle>('GET', `/fhir/${query}`, { auth: gp });
    assert.equal(reply.status, 200, `${query}: ${reply.text}`);
    return reply.json;
  };
  assert.deepEqual(ids(await search(`Patient?family=${FAMILY}`)), [mine.id]);
  assert.equal((await search(`Patient?family=${FAMILY}&_total=accurate`)).total, 1);
  assert.equal((await search(`Patient?family=${FAMILY}&_summary=count`)).total, 1);
  assert.deepEqual(ids(await search(`Patient?identifier=${NHS_NUMBER_SYSTEM}|${elsewhere.identifier![0]!.value}`)), []);
  assert.deepEqual(ids(await search(`Patient?_id=${elsewhere.id}`)), []);
  assert.deepEqual(ids(await search('Condition?code=195967001')), [myCondition.id]);
  assert.deepEqual(ids(await search(`Condition?subject=Patient/${elsewhere.id}`)), []);
  assert.deepEqual(ids(await search(`Condition?subject:Patient.identifier=${elsewhere.identifier![0]!.value}`)), []);
  const included = await search('Condition?code=195967001&_include=Condition:subject');
  assert.deepEqual((included.entry ?? []).map((e) => e.resource!.id).sort(), [mine.id, myCondition.id].sort());
  const revIncluded = await search(`Patient?family=${FAMILY}&_revinclude=Condition:subject`);
  assert.deepEqual((revIncluded.entry ?? []).map((e) => e.resource!.id).sort(), [mine.id, myCondition.id].sort());
  const history = await search('Condition/_history');
  assert.ok(!JSON.stringify(history).includes(elsewhere.id), 'type history leaks no one else');
  assert.ok(matches<Organization>(await search('Organization?identifier=Z90201')).length === 1, 'non-patient data stays visible');
});

test('a clinician cannot write to another PCN’s patients, nor register one there', async () => {
  const before = await lastAuditId(h);
  assertForbidden(
    await h.fhir('POST', '/fhir/Condition', { auth: gp, body: { resourceType: 'Condition', subject: { reference: `Patient/${elsewhere.id}` }, code: { text: 'Sneaky' } } }),
    'add to their record',
  );
  assertForbidden(await h.fhir('PUT', `/fhir/Patient/${elsewhere.id}`, { auth: gp, body: { ...elsewhere, gender: 'male' } }), 'update them');
  assertForbidden(
    await h.fhir('PATCH', `/fhir/Patient/${elsewhere.id}`, { auth: gp, contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/gender', value: 'male' }] }),
    'patch them',
  );
  assertForbidden(await h.fhir('DELETE', `/fhir/Condition/${theirCondition.id}`, { auth: gp }), 'delete their condition');
  assertForbidden(await h.fhir('POST', '/fhir/Patient', { auth: gp, body: patient(nhsNumber(3), 'Z90202') }), 'register elsewhere');
  assertForbidden(await h.fhir('PUT', `/fhir/Condition/${myCondition.id}`, { auth: gp, body: { ...myCondition, subject: { reference: `Patient/${elsewhere.id}` } } }), 'move an entry to their record');
  const transaction = await h.fhir<OperationOutcome>('POST', '/fhir', {
    auth: gp,
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Condition', subject: { reference: `Patient/${mine.id}` }, code: { text: 'Fine' } }, request: { method: 'POST', url: 'Condition' } },
        { resource: { resourceType: 'Condition', subject: { reference: `Patient/${elsewhere.id}` }, code: { text: 'Not fine' } }, request: { method: 'POST', url: 'Condition' } },
      ],
    },
  });
  assertForbidden(transaction, 'a transaction touching them');
  assert.ok(
    issues(transaction.json).some((i) => i.expression.includes('Bundle.entry[1]')),
    transaction.text,
  );
  // Refusals are audited (who tried to see or change whose record); a rolled-back write is not recorded as done.
  const audit = await auditSince(h, before);
  assert.equal(audit.length, 7, JSON.stringify(audit.map((a) => a.action)));
  assert.ok(audit.every((a) => a.actor === GP_EMAIL));
  assert.ok(
    audit.every((a) => a.action === 'fhir.denied'),
    JSON.stringify(audit.map((a) => a.action)),
  );
  assert.equal(audit.filter((a) => a.detail.patients.includes(elsewhere.id)).length, 6);

  const current = await h.fhir<Patient>('GET', `/fhir/Patient/${elsewhere.id}`);
  assert.equal(current.json.meta?.versionId, '1');
  assert.equal((await h.fhir('GET', `/fhir/Condition/${theirCondition.id}`)).status, 200);
  assert.equal((await h.fhir<Bundle>('GET', '/fhir/Condition?code:text=Fine&_summary=count')).json.total ?? 0, 0);
  assert.equal((await h.fhir<Bundle>(`GET`, `/fhir/Condition?patient=${mine.id}&_summary=count`)).json.total, 1, 'the rolled-back entry for their own patient is gone too');

  const allowed = await h.fhir('POST', '/fhir/Patient', { auth: gp, body: patient(nhsNumber(4), 'Z90103', { name: [{ family: FAMILY, given: ['New'] }] }) });
  assert.equal(allowed.status, 201, allowed.text);
});

test('a practice that has left the PCN no longer gives a relationship', async () => {
  const leaver = await create(h.fhir, patient(nhsNumber(5), 'Z90108', { name: [{ family: 'Leaver' }] }));
  assert.equal((await h.fhir('GET', `/fhir/Patient/${leaver.id}`, { auth: gp })).status, 200);
  await h.db.query("UPDATE practice_membership SET end_date = start_date WHERE practice_ods = 'Z90108' AND end_date IS NULL");
  registryChanged(h.db); // as a move through the registry's use cases does (within 5 s when another process made it)
  try {
    assertForbidden(await h.fhir('GET', `/fhir/Patient/${leaver.id}`, { auth: gp }), 'after the practice left');
    assert.deepEqual(ids((await h.fhir<Bundle>('GET', '/fhir/Patient?family=Leaver', { auth: gp })).json), []);
  } finally {
    await h.db.query("UPDATE practice_membership SET end_date = NULL WHERE practice_ods = 'Z90108' AND end_date = start_date");
    registryChanged(h.db);
  }
});

test('break glass: with X-Break-Glass-Reason the read works and the audit says BREAK GLASS with the reason', async () => {
  const reason = 'Unconscious in A&E at the Norfolk and Norwich; no other record available';
  const before = await lastAuditId(h);
  const read = await h.fhir<Patient>('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gp, headers: { 'x-break-glass-reason': reason } });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.id, elsewhere.id);
  const everything = await h.fhir<Bundle>('GET', `/fhir/Patient/${elsewhere.id}/$everything`, { auth: gp, headers: { 'x-break-glass-reason': reason } });
  assert.equal(everything.status, 200);
  assert.ok(everything.json.entry?.some((e) => e.resource?.id === theirCondition.id));

  const audit = await auditSince(h, before);
  assert.equal(audit.length, 2);
  for (const row of audit) {
    assert.equal(row.actor, GP_EMAIL);
    assert.equal(row.entity_type, 'Patient');
    assert.equal(row.entity_id, elsewhere.id);
    assert.match(row.summary, /BREAK GLASS/);
    assert.ok(row.summary.includes(reason), row.summary);
    assert.equal(row.detail.breakGlassReason, reason);
  }
  // The glass stays broken for this user and this patient for a while (a grant the IG lead reviews)…
  assert.equal((await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gp })).status, 200, 'the grant outlives the request');
  const [grant] = await h.db.query<{ reason: string; hours: number }>(
    'SELECT reason, round(extract(epoch FROM expires_at - opened_at) / 3600)::int AS hours FROM break_glass_grant WHERE patient_id = $1',
    [elsewhere.id],
  );
  assert.deepEqual(grant, { reason, hours: 4 });
  // …but for nobody else, and an empty reason opens nothing.
  assertForbidden(await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gpAtPractice }), 'another clinician');
  assertForbidden(await h.fhir('GET', `/fhir/Patient/${elsewhere.id}`, { auth: gpAtPractice, headers: { 'x-break-glass-reason': '' } }), 'an empty reason is no reason');
});

test('an analyst and a PCN manager get 403 on patient reads and no patient-level rows from searches', async () => {
  for (const [auth, role] of [
    [analyst, 'analyst'],
    [manager, 'pcn-manager'],
  ] as const) {
    for (const id of [mine.id, elsewhere.id]) {
      const read = await h.fhir<OperationOutcome>('GET', `/fhir/Patient/${id}`, { auth });
      assertForbidden(read, `${role} read`);
      assert.match(issues(read.json)[0]!.text, new RegExp(role));
      assertForbidden(await h.fhir('GET', `/fhir/Patient/${id}`, { auth, headers: { 'x-break-glass-reason': 'curious' } }), `${role} breaking glass`);
      assertForbidden(await h.fhir('GET', `/fhir/Patient/${id}/$everything`, { auth }), `${role} $everything`);
    }
    assertForbidden(await h.fhir('GET', `/fhir/Condition/${myCondition.id}`, { auth }), `${role} condition read`);
    for (const query of [`Patient?family=${FAMILY}`, 'Patient', 'Condition', 'Condition?code=195967001', `Condition?subject=${mine.id}`, 'Patient/_history', 'Condition/_history']) {
      const reply = await h.fhir<Bundle>('GET', `/fhir/${query}`, { auth });
      assert.equal(reply.status, 200, `${role} ${query}: ${reply.text}`);
      assert.equal(reply.json.entry?.filter((e) => e.resource?.resourceType !== 'OperationOutcome').length ?? 0, 0, `${role} ${query}`);
    }
    assert.equal((await h.fhir<Bundle>('GET', `/fhir/Patient?_summary=count`, { auth })).json.total, 0, `${role} count`);
    assertForbidden(await h.fhir('POST', '/fhir/Patient', { auth, body: patient(nhsNumber(6), 'Z90101') }), `${role} create`);
    assert.ok(matches((await h.fhir<Bundle>('GET', '/fhir/Organization?_count=5', { auth })).json).length > 0, `${role} still sees organisations`);
  }
});

test('every read, search and write leaves an audit_event naming the actor and the patient', async () => {
  const patientId = mine.id;
  const steps: Array<[label: string, action: RegExp, run: () => Promise<{ status: number; text: string }>]> = [
    [
      'create',
      /create/,
      () => h.fhir('POST', '/fhir/Observation', { auth: gp, body: { resourceType: 'Observation', status: 'final', code: { text: 'Peak flow' }, subject: { reference: `Patient/${patientId}` } } }),
    ],
    ['read', /read/, () => h.fhir('GET', `/fhir/Patient/${patientId}`, { auth: gp })],
    ['vread', /read/, () => h.fhir('GET', `/fhir/Patient/${patientId}/_history/1`, { auth: gp })],
    ['history', /history/, () => h.fhir('GET', `/fhir/Patient/${patientId}/_history`, { auth: gp })],
    ['search', /search/, () => h.fhir('GET', `/fhir/Patient?_id=${patientId}`, { auth: gp })],
    ['search by identifier', /search/, () => h.fhir('GET', `/fhir/Patient?identifier=${mine.identifier![0]!.value}`, { auth: gp })],
    ['search conditions', /search/, () => h.fhir('GET', `/fhir/Condition?patient=${patientId}`, { auth: gp })],
    ['$everything', /read/, () => h.fhir('GET', `/fhir/Patient/${patientId}/$everything`, { auth: gp })],
    ['update', /update/, () => h.fhir('PUT', `/fhir/Condition/${myCondition.id}`, { auth: gp, body: { ...myCondition, meta: undefined, note: [{ text: 'Reviewed' }] } })],
    ['patch', /update/, () => h.fhir('PATCH', `/fhir/Patient/${patientId}`, { auth: gp, contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/gender', value: 'female' }] })],
    ['type history', /history/, () => h.fhir('GET', '/fhir/Condition/_history', { auth: gp })],
    [
      'transaction',
      /create/,
      () =>
        h.fhir('POST', '/fhir', {
          auth: gp,
          body: {
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              { resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, subject: { reference: `Patient/${patientId}` } }, request: { method: 'POST', url: 'Observation' } },
            ],
          },
        }),
    ],
    [
      'delete',
      /delete/,
      async () => {
        const made = await create(h.fhir, { resourceType: 'Observation', status: 'final', code: { text: 'Typo' }, subject: { reference: `Patient/${patientId}` } });
        return h.fhir('DELETE', `/fhir/Observation/${made.id}`, { auth: gp });
      },
    ],
  ];
  for (const [label, action, run] of steps) {
    const before = await lastAuditId(h);
    const reply = await run();
    assert.ok(reply.status < 300, `${label}: ${reply.status} ${reply.text.slice(0, 300)}`);
    const rows = (await auditSince(h, before)).filter((row) => row.actor === GP_EMAIL);
    assert.equal(rows.length, 1, `${label}: one audit row, got ${rows.length}`);
    const [row] = rows as [(typeof rows)[number]];
    assert.match(row.action, /^fhir\./, label);
    assert.match(row.action, action, `${label}: ${row.action}`);
    assert.ok(row.detail.patients.includes(patientId), `${label}: ${JSON.stringify(row.detail)}`);
    if (row.detail.patients.length === 1) assert.deepEqual([row.entity_type, row.entity_id], ['Patient', patientId], label);
    assert.ok(row.detail.request.length > 0);
  }
});

test('looks made at the same moment each leave their own audit entry, stored before the answer', async () => {
  const before = await lastAuditId(h);
  const urls = Array.from({ length: 30 }, (_, i) => (i % 2 ? `/fhir/Patient/${mine.id}` : `/fhir/Condition?patient=${mine.id}&_count=${i + 1}`));
  const replies = await Promise.all(urls.map((url) => h.fhir('GET', url, { auth: gp })));
  assert.ok(replies.every((r) => r.status === 200));
  // Every answer above was sent: each look's entry must already be there.
  const rows = (await auditSince(h, before)).filter((row) => row.actor === GP_EMAIL);
  assert.equal(rows.length, 30);
  assert.deepEqual(rows.map((row) => row.detail.request).sort(), urls.map((url) => `GET ${url}`).sort());
  assert.ok(rows.every((row) => row.detail.patients.includes(mine.id)));
});
