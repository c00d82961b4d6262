/**
 * The access matrix (issue 10; docs/access.md): people of twelve job roles in seven organisations ×
 * patients with and without a relationship, with dissent from sharing, with the national data opt-out
 * and with sensitive entries × every door to the record (FHIR read, vread, history, search, counts,
 * _include, _revinclude, chains, type history, $everything, batch, writes, the CLI's export path,
 * Bulk $export). Each cell says allowed or denied, and a denied patient's or entry's id and name must
 * appear in no answer at all — body, count or link.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, issues, NHS_NUMBER_SYSTEM, nhsNumber, ODS_SYSTEM, patient, type FhirHarness } from '../../../test/fhir.ts';
import { exportNdjson } from '../../fhir-store/index.ts';
import { findActor, LOCAL_SENSITIVITY, NATIONAL_DATA_OPT_OUT, SYSTEM_ACTOR, V3_ACT_CODE, V3_CONFIDENTIALITY, type Role } from '../../modules/access/index.ts';
import { addPartner } from '../../modules/network/index.ts';
import { recordContext } from '../../modules/record/index.ts';

let h: FhirHarness;

// ------------------------------------------------------------------------------------------------
// Who: [name, role, organisation]. Z90101 and Z90105 are practices of U90001; Z90201 is in U90002;
// FZ011 the community pharmacy that serves U90001 (a partner: its users work for U90001), FZ031 one that
// serves U90003 only, LA940 and LA941 councils' adult social care, RMY01 a mental health trust.
// ------------------------------------------------------------------------------------------------
const USERS = {
  gp: ['gp', 'Z90101'],
  legacyClinician: ['clinician', 'U90001'],
  nurse: ['nurse', 'Z90105'],
  pharmacist: ['clinical-pharmacist', 'U90001'],
  linkWorker: ['social-prescribing-link-worker', 'U90001'],
  socialWorker: ['social-worker', 'LA940'],
  /** Named on Bob's care team as a person; their colleague at LA941 is not. */
  namedSocialWorker: ['social-worker', 'LA941'],
  colleagueOfNamed: ['social-worker', 'LA941'],
  mentalHealth: ['mental-health-practitioner', 'RMY01'],
  pharmacyTech: ['pharmacy-technician', 'FZ031'],
  partnerPharmacist: ['clinical-pharmacist', 'FZ011'],
  gpElsewhere: ['gp', 'Z90201'],
  analyst: ['analyst', 'U90001'],
  manager: ['pcn-manager', 'U90001'],
  igLead: ['ig-lead', 'U90001'],
} as const satisfies Record<string, readonly [Role, string]>;
type User = keyof typeof USERS;
const auth: Partial<Record<User, string>> = {};

// ------------------------------------------------------------------------------------------------
// Whose record: each patient's family name is unique, so a leak is found by searching any body for it.
// ------------------------------------------------------------------------------------------------
const PATIENTS = {
  /** Registered at Z90101; on the council's care team, an open referral to the trust, an open task for the pharmacy. */
  alice: { family: 'Matrixalice', practice: 'Z90101' },
  /** Registered at Z90101; dissented from sharing outside her practice. */
  dora: { family: 'Matrixdora', practice: 'Z90101' },
  /** Registered at Z90101; national data opt-out. */
  olive: { family: 'Matrixolive', practice: 'Z90101' },
  /** Registered at Z90201 (another PCN); a finished referral to the trust and a finished task for the pharmacy. */
  bob: { family: 'Matrixbob', practice: 'Z90201' },
} as const;
type PatientName = keyof typeof PATIENTS;
const ids: Partial<Record<PatientName, string>> = {};

/** Whose record each user may open (direct care). Everyone else's is a 403 and absent from searches. */
const SEES: Record<User, PatientName[]> = {
  gp: ['alice', 'dora', 'olive'], // dora's dissent does not shut out her own practice
  legacyClinician: ['alice', 'olive'], // clinician = GP, but works for the PCN, not dora's practice
  nurse: ['alice', 'olive'],
  pharmacist: ['alice', 'olive'],
  linkWorker: ['alice', 'olive'],
  socialWorker: ['alice'], // care team
  namedSocialWorker: ['bob'], // named on his care team themselves
  colleagueOfNamed: [], // the person is named, not their organisation
  mentalHealth: ['alice'], // open referral; bob's is completed
  pharmacyTech: ['alice'], // open task; bob's is completed
  partnerPharmacist: ['alice', 'olive'], // the PCN its pharmacy serves; not dora (dissent), not bob (another PCN)
  gpElsewhere: ['bob'],
  analyst: [],
  manager: [],
  igLead: [],
};

// ------------------------------------------------------------------------------------------------
// Alice's entries: one per category, and sensitive ones.
// ------------------------------------------------------------------------------------------------
const ENTRY_TEXT = {
  asthma: 'Matrix asthma', // Condition: summary
  bloodPressure: 'Matrix blood pressure', // Observation: clinical
  plan: 'Matrix care plan', // CarePlan: care plan
  matters: 'Matrix what matters', // QuestionnaireResponse: what matters to me
  hivTest: 'Matrix HIV viral load', // Observation labelled HIV
  psychosis: 'Matrix psychosis', // Condition labelled PSY
  privateNote: 'Matrix private note', // Observation marked restricted (R)
  safeguarding: 'Matrix safeguarding concern', // Flag labelled safeguarding (local code)
} as const;
type Entry = keyof typeof ENTRY_TEXT;
const ALL_ENTRIES = Object.keys(ENTRY_TEXT) as Entry[];
const entryIds: Partial<Record<Entry, string>> = {};
const entryTypes: Partial<Record<Entry, string>> = {};

/** Which of Alice's entries each user who sees Alice may see (role × category × label, docs/access.md). */
const SEES_ENTRIES: Partial<Record<User, Entry[]>> = {
  gp: ALL_ENTRIES,
  legacyClinician: ALL_ENTRIES,
  nurse: ['asthma', 'bloodPressure', 'plan', 'matters', 'hivTest', 'psychosis', 'safeguarding'],
  pharmacist: ['asthma', 'bloodPressure', 'plan', 'matters', 'hivTest'],
  linkWorker: ['asthma', 'plan', 'matters'],
  socialWorker: ['asthma', 'plan', 'matters', 'safeguarding'],
  mentalHealth: ['asthma', 'bloodPressure', 'plan', 'matters', 'psychosis', 'safeguarding'],
  pharmacyTech: ['asthma', 'plan'],
  partnerPharmacist: ['asthma', 'bloodPressure', 'plan', 'matters', 'hivTest'],
};

const USER_EMAIL = 'https://pcn-hub.example/Id/user';
const label = (system: string, code: string) => ({ meta: { security: [{ system, code }] } });

before(async () => {
  h = await fhirHarness();
  // A user's organisation must be known to the registry: the council and the trust are not in the demo's.
  await addPartner(h.db, SYSTEM_ACTOR, 'U90001', { code: 'LA940', name: 'Matrix Council Adult Social Care', type: 'social-care' });
  await addPartner(h.db, SYSTEM_ACTOR, 'U90001', { code: 'RMY01', name: 'Matrix Mental Health Trust', type: 'mental-health' });
  await addPartner(h.db, SYSTEM_ACTOR, 'U90002', { code: 'LA941', name: 'Matrix Borough Adult Social Care', type: 'social-care' });
  for (const [name, [role, org]] of Object.entries(USERS)) {
    auth[name as User] = await h.addUser({ email: `${name.toLowerCase()}@matrix.example`, name, role, org });
  }
  let n = 900;
  for (const [name, p] of Object.entries(PATIENTS)) {
    ids[name as PatientName] = (await create(h.fhir, patient(nhsNumber(n++), p.practice, { name: [{ family: p.family, given: ['Test'] }] }))).id;
  }
  const subject = (name: PatientName) => ({ reference: `Patient/${ids[name]}` });
  const org = (code: string) => ({ identifier: { system: ODS_SYSTEM, value: code } });
  const alice = subject('alice');
  const entries: Record<Entry, Resource> = {
    asthma: { resourceType: 'Condition', subject: alice, code: { text: ENTRY_TEXT.asthma } },
    bloodPressure: { resourceType: 'Observation', status: 'final', subject: alice, code: { text: ENTRY_TEXT.bloodPressure } },
    plan: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: alice, title: ENTRY_TEXT.plan },
    matters: { resourceType: 'QuestionnaireResponse', status: 'completed', subject: alice, item: [{ linkId: 'what-matters', text: ENTRY_TEXT.matters }] },
    hivTest: { resourceType: 'Observation', status: 'final', subject: alice, code: { text: ENTRY_TEXT.hivTest }, ...label(V3_ACT_CODE, 'HIV') },
    psychosis: { resourceType: 'Condition', subject: alice, code: { text: ENTRY_TEXT.psychosis }, ...label(V3_ACT_CODE, 'PSY') },
    privateNote: { resourceType: 'Observation', status: 'final', subject: alice, code: { text: ENTRY_TEXT.privateNote }, ...label(V3_CONFIDENTIALITY, 'R') },
    safeguarding: { resourceType: 'Flag', status: 'active', subject: alice, code: { text: ENTRY_TEXT.safeguarding }, ...label(LOCAL_SENSITIVITY, 'safeguarding') },
  };
  for (const [name, resource] of Object.entries(entries) as Array<[Entry, Resource]>) {
    entryIds[name] = (await create(h.fhir, resource)).id;
    entryTypes[name] = resource.resourceType;
  }
  // Relationships: the council on Alice's care team, an open referral to the trust, an open task for the pharmacy.
  await create(h.fhir, { resourceType: 'CareTeam', subject: alice, participant: [{ member: org('LA940') }] });
  await create(h.fhir, { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: alice, performer: [org('RMY01')], code: { text: 'Matrix referral' } });
  await create(h.fhir, { resourceType: 'Task', status: 'in-progress', intent: 'order', for: alice, owner: org('FZ031') });
  // Bob's care team names one social worker as a person (by email, in any case), not her council.
  await create(h.fhir, { resourceType: 'CareTeam', subject: subject('bob'), participant: [{ member: { identifier: { system: USER_EMAIL, value: 'NamedSocialWorker@Matrix.example' } } }] });
  // …and finished ones for Bob, which give no relationship.
  await create(h.fhir, { resourceType: 'ServiceRequest', status: 'completed', intent: 'order', subject: subject('bob'), performer: [org('RMY01')] });
  await create(h.fhir, { resourceType: 'Task', status: 'completed', intent: 'order', for: subject('bob'), owner: org('FZ031') });
  // Dora dissents (recorded by her practice); Olive opted out of secondary use.
  const consent = (who: PatientName, extra: Record<string, unknown>) =>
    create(h.fhir, {
      resourceType: 'Consent',
      status: 'active',
      patient: subject(who),
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      provision: { type: 'deny' },
      ...extra,
    } as Resource);
  await consent('dora', {
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    organization: [org('Z90101')],
  });
  await consent('olive', { scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] }, policy: [{ uri: NATIONAL_DATA_OPT_OUT }] });
});
after(async () => {
  await h.close();
});

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const ALL_PATIENTS = Object.keys(PATIENTS) as PatientName[];
const USERS_LIST = Object.keys(USERS) as User[];

async function get(user: User, url: string, headers: Record<string, string> = {}) {
  return h.fhir<Bundle>('GET', url, { auth: auth[user], headers });
}

/** No trace of a patient or entry the user may not see: not their id, not their name, not the text. */
function assertNoTrace(text: string, user: User, where: string) {
  for (const name of ALL_PATIENTS) {
    if (SEES[user].includes(name)) continue;
    assert.ok(!text.includes(ids[name]!), `${user} ${where}: ${name}'s id leaked`);
    assert.ok(!text.includes(PATIENTS[name].family), `${user} ${where}: ${name}'s name leaked`);
  }
  const entries = SEES[user].includes('alice') ? (SEES_ENTRIES[user] ?? []) : [];
  for (const entry of ALL_ENTRIES) {
    if (entries.includes(entry)) continue;
    assert.ok(!text.includes(entryIds[entry]!), `${user} ${where}: entry ${entry}'s id leaked`);
    assert.ok(!text.includes(ENTRY_TEXT[entry]), `${user} ${where}: entry ${entry}'s text leaked`);
  }
}

const idsIn = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource?.id).filter((id): id is string => !!id);

// ------------------------------------------------------------------------------------------------
// Patients × users × doors
// ------------------------------------------------------------------------------------------------

for (const user of USERS_LIST) {
  test(`${user} (${USERS[user][0]} at ${USERS[user][1]}) opens exactly the records they may, through every door (${testEngine})`, async () => {
    for (const name of ALL_PATIENTS) {
      const id = ids[name]!;
      const allowed = SEES[user].includes(name);
      const doors = [`/fhir/Patient/${id}`, `/fhir/Patient/${id}/_history/1`, `/fhir/Patient/${id}/_history`, `/fhir/Patient/${id}/$everything`];
      for (const url of doors) {
        const reply = await get(user, url);
        assert.equal(reply.status, allowed ? 200 : 403, `${user} ${url} (${name}): ${reply.text.slice(0, 200)}`);
        assertNoTrace(reply.text, user, url);
      }
      // A write into the record: allowed where the patient is and the role writes clinical entries.
      const write = await h.fhir('POST', '/fhir/Observation', {
        auth: auth[user],
        body: { resourceType: 'Observation', status: 'final', code: { text: 'Matrix written' }, subject: { reference: `Patient/${id}` } },
      });
      const writesClinical = ['gp', 'legacyClinician', 'nurse', 'pharmacist', 'partnerPharmacist', 'mentalHealth', 'gpElsewhere'].includes(user);
      assert.equal(write.status, allowed && writesClinical ? 201 : 403, `${user} writes into ${name}'s record: ${write.text.slice(0, 200)}`);
    }
    // Searches, counts, includes, chains, type history, batch: only the patients they may see, and no trace of others.
    const family = 'Matrix'; // every patient's family name starts so; the query itself must name nobody
    const searches = [
      `/fhir/Patient?family=${family}&_count=100`,
      `/fhir/Patient?family=${family}&_count=1`, // paging: the next link must not betray anything either
      `/fhir/Patient?family=${family}&_total=accurate`,
      `/fhir/Patient?family=${family}&_summary=count`,
      `/fhir/Condition?_count=100&_include=Condition:subject`,
      `/fhir/Patient?family=${family}&_revinclude=Observation:subject&_revinclude=Condition:subject&_revinclude=Flag:subject`,
      `/fhir/Observation?subject:Patient.family=${family}&_count=100`,
      `/fhir/Observation/_history?_count=100`,
      `/fhir/Flag?_count=100`,
      `/fhir/Observation?_security=${encodeURIComponent(`${V3_ACT_CODE}|HIV`)}`,
    ];
    for (const url of searches) {
      const reply = await get(user, url);
      assert.equal(reply.status, 200, `${user} ${url}: ${reply.text.slice(0, 200)}`);
      assertNoTrace(reply.text, user, url);
      if (url.includes('/Patient?') && !url.includes('_count=1&')) {
        const expected = SEES[user].length;
        if (url.includes('_summary=count') || url.includes('_total=accurate')) assert.equal(reply.json.total, expected, `${user} ${url}: total`);
        else if (!url.includes('_count=1')) assert.equal(idsIn(reply.json).filter((i) => Object.values(ids).includes(i)).length, expected, `${user} ${url}`);
      }
    }
    const batch = await h.fhir<Bundle>('POST', '/fhir', {
      auth: auth[user],
      body: { resourceType: 'Bundle', type: 'batch', entry: ALL_PATIENTS.map((n) => ({ request: { method: 'GET', url: `Patient/${ids[n]}` } })) },
    });
    assert.equal(batch.status, 200, batch.text.slice(0, 200));
    assert.deepEqual(
      batch.json.entry!.map((e) => e.response!.status.slice(0, 3)),
      ALL_PATIENTS.map((n) => (SEES[user].includes(n) ? '200' : '403')),
      `${user} batch`,
    );
    assertNoTrace(batch.text, user, 'batch');
  });
}

// ------------------------------------------------------------------------------------------------
// Entries × users: categories and sensitivity labels
// ------------------------------------------------------------------------------------------------

for (const [user, visible] of Object.entries(SEES_ENTRIES) as Array<[User, Entry[]]>) {
  test(`${user} sees exactly their role's part of Alice's record: ${visible.join(', ')} (${testEngine})`, async () => {
    const alice = ids.alice!;
    for (const entry of ALL_ENTRIES) {
      const url = `/fhir/${entryTypes[entry]}/${entryIds[entry]}`;
      for (const path of [url, `${url}/_history/1`, `${url}/_history`]) {
        const reply = await get(user, path);
        assert.equal(reply.status, visible.includes(entry) ? 200 : 404, `${user} ${path} (${entry}): ${reply.text.slice(0, 200)}`);
        assertNoTrace(reply.text, user, path);
      }
    }
    const everything = await get(user, `/fhir/Patient/${alice}/$everything`);
    const found = new Set(idsIn(everything.json));
    for (const entry of ALL_ENTRIES) assert.equal(found.has(entryIds[entry]!), visible.includes(entry), `${user} $everything: ${entry}`);
    assert.equal(everything.json.total, everything.json.entry?.length, `${user} $everything total counts only what is shown`);
    for (const type of ['Observation', 'Condition', 'Flag', 'CarePlan', 'QuestionnaireResponse']) {
      const counted = await get(user, `/fhir/${type}?subject=Patient/${alice}&_summary=count`);
      const shown = await get(user, `/fhir/${type}?subject=Patient/${alice}&_count=100`);
      assert.equal(counted.json.total, idsIn(shown.json).length, `${user} ${type}: the count matches what is shown`);
    }
  });
}

test(`a hidden entry cannot be changed or deleted either, and a role cannot write what it may not see (${testEngine})`, async () => {
  const hiv = entryIds.hivTest!;
  const put = await h.fhir('PUT', `/fhir/Observation/${hiv}`, {
    auth: auth.linkWorker,
    body: { resourceType: 'Observation', id: hiv, status: 'final', code: { text: 'overwritten' }, subject: { reference: `Patient/${ids.alice}` } },
  });
  assert.equal(put.status, 403, put.text); // a link worker writes no clinical entries at all
  assert.equal((await h.fhir('DELETE', `/fhir/Observation/${hiv}`, { auth: auth.linkWorker })).status, 404);
  assert.equal((await h.fhir('DELETE', `/fhir/Observation/${entryIds.privateNote}`, { auth: auth.nurse })).status, 404);
  assert.equal((await h.fhir('GET', `/fhir/Observation/${entryIds.privateNote}`)).status, 200, 'the private note is still there');
  const labelled = await h.fhir('POST', '/fhir/Observation', {
    auth: auth.pharmacist,
    body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${ids.alice}` }, ...label(V3_ACT_CODE, 'PSY') },
  });
  assert.equal(labelled.status, 403, labelled.text);
  const plan = await h.fhir('POST', '/fhir/CarePlan', {
    auth: auth.linkWorker,
    body: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${ids.alice}` }, title: 'Walking group' },
  });
  assert.equal(plan.status, 201, `a link worker writes care plans: ${plan.text}`);
});

// ------------------------------------------------------------------------------------------------
// Break-glass: one patient, for a while, never a wider search
// ------------------------------------------------------------------------------------------------

test(`break-glass opens ONE record for the user who gave the reason, never a search, and past dissent (${testEngine})`, async () => {
  const reason = 'Attending the urgent treatment centre, history needed now';
  const wide = await get('nurse', `/fhir/Patient?family=${PATIENTS.bob.family},${PATIENTS.dora.family}`, { 'x-break-glass-reason': reason });
  assert.deepEqual(idsIn(wide.json), [], 'a reason does not widen a search');
  const opened = await h.app.inject({ method: 'POST', url: `/api/patients/${ids.bob}/break-glass`, headers: { authorization: auth.nurse! }, payload: { reason } });
  assert.equal(opened.statusCode, 200, opened.body);
  const grant = opened.json<{ expiresAt: string; relationship: boolean }>();
  const hours = (Date.parse(grant.expiresAt) - Date.now()) / 3_600_000;
  assert.ok(hours > 3.9 && hours <= 4, `open for 4 hours: ${grant.expiresAt}`);
  assert.equal((await get('nurse', `/fhir/Patient/${ids.bob}`)).status, 200);
  const after = await get('nurse', `/fhir/Patient?family=${PATIENTS.bob.family},${PATIENTS.dora.family}`);
  assert.deepEqual(idsIn(after.json), [ids.bob], 'the search finds the one opened patient, not dora');
  assert.equal((await get('pharmacist', `/fhir/Patient/${ids.bob}`)).status, 403, 'the grant is the nurse’s alone');
  // Dissent is set aside by break-glass (audited as such), through the FHIR header on a read naming one patient.
  assert.equal((await get('nurse', `/fhir/Patient/${ids.dora}`)).status, 403);
  assert.equal((await get('nurse', `/fhir/Patient/${ids.dora}`, { 'x-break-glass-reason': reason })).status, 200);
  // Roles that may not break glass cannot, however they ask.
  const refused = await h.app.inject({ method: 'POST', url: `/api/patients/${ids.bob}/break-glass`, headers: { authorization: auth.linkWorker! }, payload: { reason } });
  assert.equal(refused.statusCode, 403, refused.body);
  assert.equal((await get('linkWorker', `/fhir/Patient/${ids.bob}`, { 'x-break-glass-reason': reason })).status, 403);
  const short = await h.app.inject({ method: 'POST', url: `/api/patients/${ids.bob}/break-glass`, headers: { authorization: auth.pharmacist! }, payload: { reason: 'because' } });
  assert.equal(short.statusCode, 422, short.body);
  // The IG lead's review lists both openings with who, whose and why; a nurse may not read it.
  const review = await h.app.inject({ method: 'GET', url: '/api/break-glass', headers: { authorization: auth.igLead! } });
  assert.equal(review.statusCode, 200, review.body);
  const items = review.json<{ items: Array<{ email: string; patientId: string; reason: string; open: boolean }> }>().items;
  assert.deepEqual(
    items.map((i) => [i.email, i.patientId, i.reason, i.open]).sort(),
    [
      ['nurse@matrix.example', ids.bob, reason, true],
      ['nurse@matrix.example', ids.dora, reason, true],
    ].sort(),
  );
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/break-glass', headers: { authorization: auth.nurse! } })).statusCode, 403);
  const audited = await h.db.query<{ summary: string }>(`SELECT summary FROM audit_event WHERE actor = 'nurse@matrix.example' AND entity_id = $1`, [ids.dora]);
  assert.ok(
    audited.some((row) => row.summary.includes(`BREAK GLASS: ${reason}`)),
    JSON.stringify(audited),
  );
});

test(`a search by one NHS number with a reason opens that one patient; a name search with a reason opens nobody (${testEngine})`, async () => {
  const reason = 'Patient collapsed at the pharmacy counter, medicines needed';
  const byName = await get('pharmacist', `/fhir/Patient?family=${PATIENTS.bob.family}`, { 'x-break-glass-reason': reason });
  assert.deepEqual(idsIn(byName.json), []);
  const nhs = nhsNumber(903); // bob's
  const found = await get('pharmacist', `/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`, { 'x-break-glass-reason': reason });
  assert.deepEqual(idsIn(found.json), [ids.bob]);
  const withoutReason = await get('legacyClinician', `/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`);
  assert.deepEqual(idsIn(withoutReason.json), []);
});

// ------------------------------------------------------------------------------------------------
// Secondary use: the national data opt-out
// ------------------------------------------------------------------------------------------------

test(`the national data opt-out leaves Olive out of secondary use and in direct care, through the export door (${testEngine})`, async () => {
  const exported = async (email: string | null, purpose: 'direct-care' | 'secondary-use') => {
    const actor = email ? await findActor(h.db, email) : SYSTEM_ACTOR;
    const context = await recordContext(h.db, actor!, { request: { method: 'CLI', url: 'pcn export fhir' }, purpose });
    const dir = await mkdtemp(join(tmpdir(), 'matrix-export-'));
    try {
      await exportNdjson(h.db, context.access, dir, {});
      const texts = await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f), 'utf8')));
      return texts.join('\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const present = (text: string) => ALL_PATIENTS.filter((n) => text.includes(ids[n]!));
  assert.deepEqual(present(await exported(null, 'direct-care')), ALL_PATIENTS, 'the system operator exports everyone for direct care (a backup)');
  assert.deepEqual(present(await exported(null, 'secondary-use')), ['alice', 'dora', 'bob'], 'but not Olive for planning');
  assert.deepEqual(present(await exported('gp@matrix.example', 'direct-care')), ['alice', 'dora', 'olive']);
  assert.deepEqual(present(await exported('gp@matrix.example', 'secondary-use')), ['alice', 'dora']);
  const linkWorkerExport = await exported('linkworker@matrix.example', 'direct-care');
  assert.deepEqual(present(linkWorkerExport), ['alice', 'olive']);
  assert.ok(!linkWorkerExport.includes(ENTRY_TEXT.hivTest) && !linkWorkerExport.includes(ENTRY_TEXT.bloodPressure), 'the export holds only the role’s entries');
  assert.equal(await exported('analyst@matrix.example', 'secondary-use').then((t) => present(t).length), 0, 'an analyst gets no patient-level rows');
});

// ------------------------------------------------------------------------------------------------
// Dissent binds the hub's admins too; only the machine's operator holds every record
// ------------------------------------------------------------------------------------------------

test(`an admin reads every record but Dora's: her dissent keeps them out, and an admin may not break glass (${testEngine})`, async () => {
  for (const name of ['alice', 'olive', 'bob'] as const) assert.equal((await h.fhir('GET', `/fhir/Patient/${ids[name]}`)).status, 200, `admin reads ${name}`);
  const dora = await h.fhir<OperationOutcome>('GET', `/fhir/Patient/${ids.dora}`);
  assert.equal(dora.status, 403);
  assert.match(issues(dora.json)[0]?.text ?? '', /dissented from sharing/);
  const search = await h.fhir<Bundle>('GET', `/fhir/Patient?family=${ALL_PATIENTS.map((n) => PATIENTS[n].family).join(',')}&_total=accurate`);
  assert.deepEqual(idsIn(search.json).sort(), [ids.alice, ids.olive, ids.bob].sort());
  assert.equal(search.json.total, 3, 'not even counted');
  assert.ok(!search.text.includes(ids.dora!), 'her id appears nowhere in the answer');
  const everything = await h.fhir<Bundle>('GET', `/fhir/Patient/${ids.dora}/$everything`);
  assert.equal(everything.status, 403, 'nor through $everything');
  const breakGlass = await h.fhir('GET', `/fhir/Patient/${ids.dora}`, { headers: { 'x-break-glass-reason': 'Admin wants to look, for no care reason' } });
  assert.equal(breakGlass.status, 403, 'an admin may not break glass');
});
