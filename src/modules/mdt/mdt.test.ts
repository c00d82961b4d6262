/**
 * MDT meetings and care homes (issue 12): an agenda built from a cohort lists exactly its patients; actions become
 * Tasks owned by the person or the role named; closing writes the minutes on each patient's record and not on one
 * taken off the agenda; a participant who may not open a record sees neither the patient nor their discussion; a care
 * home lists only its own residents, and its round only those due.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Procedure, Task } from '@medplum/fhirtypes';
import { apiSuite } from '../../../test/api.ts';
import { demoMembers } from '../../demo/seed-demo.ts';
import { nhsNumberFor } from '../../demo/synthetic-population.ts';
import { findActor } from '../access/index.ts';
import { loadRegistry } from '../network/index.ts';
import { populationResultsVia } from '../population/index.ts';
import { asActor } from '../record/index.ts';
import { RULES_VERSION } from '../population/index.ts';
import { CARE_HOME_EXTENSION, MDT_MEETING_SYSTEM, OWNER_ROLE_EXTENSION, TASK_KIND_SYSTEM, USER_EMAIL_SYSTEM } from './index.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const TODAY = new Date().toISOString().slice(0, 10);

type Who = 'gp' | 'socialWorker' | 'elsewhereGp';
let auth: Record<Who, string>;
let pcn: string;
let otherPcn: string;
let practice: string;
let homeA: { code: string; name: string; postcode: string };
let homeB: { code: string; name: string };
let gpEmail: string;
const ids: Record<string, string> = {};

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, authorization: string, payload?: object) =>
  h.app.inject({ method, url, headers: { authorization }, ...(payload ? { payload } : {}) });

interface Person {
  practice: string;
  efi: 'severe' | 'moderate' | null;
  careHome?: { code: string; name: string };
  postcode?: string;
  lastContact?: string;
  openGaps?: string[];
}

/** A patient on the record, and their population-health scores as a run would store them. */
async function patient(family: string, index: number, p: Person) {
  const created = await call('POST', '/fhir/Patient', h.admin, {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: nhsNumberFor(810_000 + index) }],
    name: [{ family, given: ['Ada'] }],
    birthDate: '1938-03-03',
    address: [{ line: [p.careHome?.name ?? '1 High Street'], postalCode: p.postcode ?? 'NR1 1AA' }],
    generalPractitioner: [{ identifier: { system: ODS, value: p.practice } }],
    ...(p.careHome
      ? { extension: [{ url: CARE_HOME_EXTENSION, valueReference: { identifier: { system: 'https://pcn-hub.example/Id/partner', value: p.careHome.code }, display: p.careHome.name } }] }
      : {}),
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json<{ id: string }>().id;
  ids[family] = id;
  await h.db.query(
    `INSERT INTO population_patient (patient_id, rules_version, as_of, practice_ods, birth_date, gender, postcode, efi_category, efi_score, smr_priority, ltc_count, open_gaps, closed_gaps, care_home, housebound, last_contact)
     VALUES ($1, $2, $3, $4, '1938-03-03', 'female', 'NR1 1AA', $5, $6, null, 0, $7, '{}', $8, false, $9)`,
    [id, RULES_VERSION, TODAY, p.practice, p.efi, p.efi ? 0.4 : null, p.openGaps ?? [], !!p.careHome, p.lastContact ?? null],
  );
  const result = {
    patientId: id,
    asOf: TODAY,
    rulesVersion: RULES_VERSION,
    efi: p.efi ? { category: p.efi, score: 0.4, deficits: [] } : null,
    smr: { priority: false, reasons: [] },
    multimorbidity: { count: 0, multimorbid: false, complex: false, conditions: [] },
    profile: { careHome: !!p.careHome, housebound: false, ...(p.lastContact ? { lastContact: p.lastContact } : {}) },
    careGaps: (p.openGaps ?? []).map((id) => ({ id, name: `Gap ${id}`, status: 'open', reason: 'test', entries: [] })),
  };
  await h.db.query(`INSERT INTO population_result (patient_id, rules_version, as_of, result) VALUES ($1, $2, $3, $4::jsonb)`, [id, RULES_VERSION, TODAY, JSON.stringify(result)]);
}

const h = apiSuite(async () => {
  const registry = await loadRegistry(h.db);
  const members = demoMembers(registry);
  const gp = members.find((m) => m.role === 'gp')!;
  gpEmail = gp.email;
  const social = members.find((m) => m.role === 'social-worker')!;
  practice = gp.org!;
  pcn = registry.memberships.find((m) => m.practiceOds === practice && m.endDate === null)!.pcnCode;
  const elsewhere = registry.memberships.find((m) => m.endDate === null && m.pcnCode !== pcn)!;
  otherPcn = elsewhere.pcnCode;
  auth = {
    gp: await h.addUser({ email: gp.email, name: gp.name, role: 'gp', org: practice }),
    socialWorker: await h.addUser({ email: social.email, name: social.name, role: 'social-worker', org: social.org! }),
    elsewhereGp: await h.addUser({ email: 'gp.elsewhere.mdt@pcn-hub.example', name: 'Dr Else Where', role: 'gp', org: elsewhere.practiceOds }),
  };
  const homeOf = (p: string) => registry.partners.find((x) => x.type === 'care-home' && registry.pcnPartners.some((l) => l.partnerCode === x.code && l.pcnCode === p))!;
  const a = homeOf(pcn);
  const b = homeOf(otherPcn);
  homeA = { code: a.code, name: a.name, postcode: a.postcode! };
  homeB = { code: b.code, name: b.name };

  await patient('Alpha', 1, { practice, efi: 'severe' });
  await patient('Bravo', 2, { practice, efi: 'severe' });
  await patient('Charlie', 3, { practice, efi: 'moderate' });
  await patient('Delta', 4, { practice: elsewhere.practiceOds, efi: 'severe' });
  // Care homes: two residents of home A (one due on the round, one not), a neighbour at the same postcode who does not
  // live there, and a resident of home B whose address shares home A's postcode.
  await patient('Resident', 5, { practice, efi: 'severe', careHome: homeA, postcode: homeA.postcode, lastContact: TODAY });
  await patient('Settled', 6, { practice, efi: 'moderate', careHome: homeA, postcode: homeA.postcode, lastContact: TODAY });
  await patient('Neighbour', 7, { practice, efi: null, postcode: homeA.postcode, lastContact: TODAY });
  await patient('Elsewhere', 8, { practice, efi: null, careHome: homeB, postcode: homeA.postcode, lastContact: TODAY });
});

let meetingId: string;
interface Item {
  id: string;
  removed: boolean;
  patient: { id: string; name: string } | null;
  discussion: { status: string; notes: string[] } | null;
  actions: Array<{ description: string; owner: string; due: string }>;
}
const agendaOf = async (who: string) => {
  const response = await call('GET', `/api/mdt/meetings/${meetingId}`, who);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ status: string; agenda: Item[]; attendance: Array<{ name: string; status: string }> }>();
};
const itemOf = async (family: string) => (await agendaOf(auth.gp)).agenda.find((i) => i.patient?.id === ids[family])!;
const search = async <T>(url: string) => {
  const response = await call('GET', url, h.admin);
  assert.equal(response.statusCode, 200, response.body);
  return ((response.json<Bundle>().entry ?? []).map((e) => e.resource) as T[]).filter(Boolean);
};

test('a PCN clinician schedules an MDT and builds its agenda from the severe-frailty cohort: exactly its patients', async () => {
  const scheduled = await call('POST', '/api/mdt/meetings', auth.gp, { title: 'Frailty MDT', startsAt: '2026-12-10T13:00:00Z', place: 'Teams link' });
  assert.equal(scheduled.statusCode, 201, scheduled.body);
  meetingId = scheduled.json<{ id: string }>().id;
  const missing = await call('POST', '/api/mdt/meetings', auth.gp, { startsAt: '2026-12-10T13:00:00Z' });
  assert.equal(missing.statusCode, 422, 'a meeting needs a title');
  assert.match(missing.body, /title/);

  const cohort = await call('POST', '/api/population/cohorts', auth.gp, { name: 'Severe frailty', definition: { efiCategories: ['severe'] } });
  assert.equal(cohort.statusCode, 201, cohort.body);
  const added = await call('POST', `/api/mdt/meetings/${meetingId}/agenda`, auth.gp, { cohortId: cohort.json<{ id: string }>().id });
  assert.equal(added.statusCode, 200, added.body);
  // Alpha, Bravo, and the severely frail care-home resident: not Charlie (moderate), not Delta (another PCN).
  const agenda = await agendaOf(auth.gp);
  assert.deepEqual(agenda.agenda.map((i) => i.patient?.id).sort(), [ids.Alpha, ids.Bravo, ids.Resident].sort());
  // Adding the same list again adds nobody twice; a patient by hand joins the end.
  const again = await call('POST', `/api/mdt/meetings/${meetingId}/agenda`, auth.gp, { cohortId: cohort.json<{ id: string }>().id });
  assert.deepEqual(again.json(), { added: 0, alreadyListed: 3 });
  const byHand = await call('POST', `/api/mdt/meetings/${meetingId}/agenda`, auth.gp, { nhsNumber: nhsNumberFor(810_003) });
  assert.deepEqual(byHand.json(), { added: 1, alreadyListed: 0 });
  assert.equal((await agendaOf(auth.gp)).agenda.at(-1)?.patient?.id, ids.Charlie);

  const attendance = await call('POST', `/api/mdt/meetings/${meetingId}/attendance`, auth.gp, { name: 'Sam Okafor', org: 'Adult Social Services', role: 'Social worker', status: 'present' });
  assert.equal(attendance.statusCode, 201, attendance.body);
  await call('POST', `/api/mdt/meetings/${meetingId}/attendance`, auth.gp, { name: 'Priya Shah', role: 'Clinical pharmacist', status: 'apologies' });
  const elsewhere = await call('GET', `/api/mdt/meetings/${meetingId}`, auth.elsewhereGp);
  assert.equal(elsewhere.statusCode, 403, 'another PCN’s GP does not open the meeting');
});

test('discussion and actions: each action is a Task of kind mdt-action owned by the person or the role named', async () => {
  const alpha = await itemOf('Alpha');
  const saved = await call('PUT', `/api/mdt/meetings/${meetingId}/agenda/${alpha.id}/discussion`, auth.gp, { notes: 'Falls twice this month; lives alone.' });
  assert.equal(saved.statusCode, 200, saved.body);
  const toPerson = await call('POST', `/api/mdt/meetings/${meetingId}/agenda/${alpha.id}/actions`, auth.gp, {
    description: 'Review medicines for falls risk',
    ownerEmail: 'Priya.Shah@pcn-hub.example',
    ownerName: 'Priya Shah',
    due: '2026-12-20',
  });
  assert.equal(toPerson.statusCode, 201, toPerson.body);
  const toRole = await call('POST', `/api/mdt/meetings/${meetingId}/agenda/${alpha.id}/actions`, auth.gp, {
    description: 'Falls prevention assessment',
    ownerOrg: 'LA-NORFOLK',
    ownerRole: 'social-worker',
    due: '2026-12-31',
  });
  assert.equal(toRole.statusCode, 201, toRole.body);
  const ownerless = await call('POST', `/api/mdt/meetings/${meetingId}/agenda/${alpha.id}/actions`, auth.gp, { description: 'Something', due: '2026-12-31' });
  assert.equal(ownerless.statusCode, 422);
  assert.match(ownerless.body, /owner/);

  const tasks = await search<Task>(`/fhir/Task?code=${encodeURIComponent(`${TASK_KIND_SYSTEM}|mdt-action`)}&patient=Patient/${ids.Alpha}`);
  assert.equal(tasks.length, 2);
  const person = tasks.find((t) => t.description === 'Review medicines for falls risk')!;
  assert.deepEqual(person.owner?.identifier, { system: USER_EMAIL_SYSTEM, value: 'priya.shah@pcn-hub.example' });
  assert.equal(person.restriction?.period?.end, '2026-12-20');
  assert.equal(person.intent, 'order');
  assert.equal(person.requester?.identifier?.value, practice);
  assert.match(person.requester?.display ?? '', /Grace Whitmore/, 'signed by who asked');
  const role = tasks.find((t) => t.description === 'Falls prevention assessment')!;
  assert.deepEqual(role.owner?.identifier, { system: 'https://pcn-hub.example/Id/partner', value: 'LA-NORFOLK' }, 'a council has no ODS code here: the registry’s own');
  assert.equal(role.owner?.extension?.find((e) => e.url === OWNER_ROLE_EXTENSION)?.valueCode, 'social-worker');
  assert.equal((await search<Task>(`/fhir/Task?patient=Patient/${ids.Bravo}`)).length, 0, 'no action for a patient nobody gave one');
  assert.deepEqual((await itemOf('Alpha')).actions.map((a) => a.description).sort(), ['Falls prevention assessment', 'Review medicines for falls risk']);
});

test('an action can be a referral: it reaches the receiving organisation’s inbox and names the meeting', async () => {
  const alpha = await itemOf('Alpha');
  const url = `/api/mdt/meetings/${meetingId}/agenda/${alpha.id}/referrals`;
  const noConsent = await call('POST', url, auth.gp, { performerOrg: 'LA-NORFOLK', reason: 'Care needs assessment', consentToShare: false });
  assert.equal(noConsent.statusCode, 422, noConsent.body);
  assert.equal(noConsent.json<{ error: { field: string } }>().error.field, 'consentToShare');
  const nowhere = await call('POST', url, auth.gp, { reason: 'Care needs assessment', consentToShare: true });
  assert.equal(nowhere.statusCode, 422, 'a referral names where it goes');
  const otherPatient = await call('POST', url, auth.gp, { performerOrg: 'LA-NORFOLK', reason: 'x', consentToShare: true, patientId: ids.Bravo });
  assert.equal(otherPatient.statusCode, 422, 'the patient is the agenda item’s, never the body’s');

  const sent = await call('POST', url, auth.gp, { performerOrg: 'LA-NORFOLK', reason: 'Care needs assessment after falls', priority: 'urgent', consentToShare: true });
  assert.equal(sent.statusCode, 201, sent.body);
  const action = sent.json<{ kind: string; id: string; owner: string; status: string; description: string }>();
  assert.equal(action.kind, 'referral');
  assert.equal(action.status, 'requested');
  assert.match(action.description, /Care needs assessment after falls \(urgent\)/);

  const inbox = await call('GET', '/api/referrals?box=received', auth.socialWorker);
  assert.equal(inbox.statusCode, 200, inbox.body);
  const received = inbox.json<{ items: Array<{ id: string; patient: { id: string } | null; priority: string }> }>().items;
  assert.deepEqual(
    received.map((r) => [r.id, r.patient?.id, r.priority]),
    [[action.id, ids.Alpha, 'urgent']],
    'the council’s inbox holds the MDT’s referral, and only it',
  );
  const requests = await search<{ identifier: Array<{ system: string; value: string }> }>(`/fhir/ServiceRequest?identifier=${encodeURIComponent(`${MDT_MEETING_SYSTEM}|${meetingId}`)}`);
  assert.equal(requests.length, 1);
  assert.ok(
    requests[0]!.identifier.some((i) => i.system === 'https://fhir.nhs.uk/Id/UBRN'),
    'a referral like any other: it has its UBRN',
  );
  const kinds = (await itemOf('Alpha')).actions.map((a) => `${(a as { kind?: string }).kind}:${a.description}`).sort();
  assert.deepEqual(kinds, [
    'referral:Referral to Norfolk County Council Adult Social Services: Care needs assessment after falls (urgent)',
    'task:Falls prevention assessment',
    'task:Review medicines for falls risk',
  ]);
  assert.equal((await itemOf('Charlie')).actions.length, 0, 'nobody else’s item lists it');
});

test('a participant who may not open a patient’s record sees the patient listed without any detail', async () => {
  const response = await call('GET', `/api/mdt/meetings/${meetingId}`, auth.socialWorker);
  assert.equal(response.statusCode, 200, response.body);
  const seen = response.json<{ agenda: Item[] }>();
  assert.equal(seen.agenda.length, 4, 'the agenda’s length');
  // The council now owns an open task for Alpha (a legitimate relationship): the social worker opens Alpha's record,
  // sees the actions, but not the discussion (a clinical entry, outside a social worker's part of the record).
  const alpha = seen.agenda.find((i) => i.patient?.id === ids.Alpha);
  assert.ok(alpha, 'Alpha is theirs through the open task');
  assert.equal(alpha.discussion, null);
  assert.equal(alpha.actions.length, 3);
  const others = seen.agenda.filter((i) => i !== alpha);
  assert.equal(others.length, 3);
  assert.ok(others.every((i) => i.patient === null && i.discussion === null && i.actions.length === 0));
  for (const secret of ['Falls twice', 'Bravo', ids.Bravo!, 'Charlie', ids.Charlie!, ids.Resident!]) assert.ok(!response.body.includes(secret), `${secret} is not shown`);
  // The GP who may open them sees the discussion.
  assert.deepEqual((await itemOf('Alpha')).discussion?.notes, ['Falls twice this month; lives alone.']);
  const write = await call('PUT', `/api/mdt/meetings/${meetingId}/agenda/${others[0]!.id}/discussion`, auth.socialWorker, { notes: 'x' });
  assert.equal(write.statusCode, 403, write.body);
});

test('closing writes the minutes on each patient’s record, and nothing on a patient taken off the agenda', async () => {
  const bravo = await itemOf('Bravo');
  await call('PUT', `/api/mdt/meetings/${meetingId}/agenda/${bravo.id}/discussion`, auth.gp, { notes: 'Draft about Bravo' });
  assert.equal((await search<Procedure>(`/fhir/Procedure?patient=Patient/${ids.Bravo}`)).length, 1, 'the draft is on the record while the meeting runs');
  const removed = await call('DELETE', `/api/mdt/meetings/${meetingId}/agenda/${bravo.id}`, auth.gp);
  assert.equal(removed.statusCode, 204, removed.body);
  assert.equal((await search<Procedure>(`/fhir/Procedure?patient=Patient/${ids.Bravo}`)).length, 0, 'the draft went with them');

  const closed = await call('POST', `/api/mdt/meetings/${meetingId}/close`, auth.gp);
  assert.equal(closed.statusCode, 200, closed.body);
  assert.equal(closed.json<{ status: string; minutesWritten: number }>().minutesWritten, 3);

  const [minutes, ...more] = await search<Procedure>(`/fhir/Procedure?patient=Patient/${ids.Alpha}&identifier=${encodeURIComponent(`${MDT_MEETING_SYSTEM}|${meetingId}`)}`);
  assert.equal(more.length, 0);
  assert.equal(minutes?.status, 'completed');
  const text = (minutes?.note ?? []).map((n) => n.text).join('\n');
  assert.match(text, /"Frailty MDT" on 10 Dec 2026, 13:00 \(Teams link\), chaired by Dr Grace Whitmore/, 'when and where in England’s time');
  assert.match(text, /Falls twice this month/);
  assert.match(text, /Review medicines for falls risk \(owner: Priya Shah; due 2026-12-20\)/);
  assert.match(text, /3\. Referral to Norfolk County Council Adult Social Services: Care needs assessment after falls \(urgent\), referral requested/);
  assert.match(text, /Present: Sam Okafor, Social worker, Adult Social Services/);
  assert.match(text, /Apologies: Priya Shah/);
  // Charlie, added by hand with no notes, still has the minutes; Bravo has none.
  const charlie = await search<Procedure>(`/fhir/Procedure?patient=Patient/${ids.Charlie}`);
  assert.equal(charlie.length, 1);
  assert.match((charlie[0]?.note ?? []).map((n) => n.text).join(' '), /no notes were recorded/);
  assert.equal((await search<Procedure>(`/fhir/Procedure?patient=Patient/${ids.Bravo}`)).length, 0, 'no minutes for a patient taken off');
  // The record's timeline lists it ($everything).
  const everything = await search<Procedure>(`/fhir/Patient/${ids.Alpha}/$everything`);
  assert.ok(everything.some((r) => r.resourceType === 'Procedure' && r.status === 'completed'));

  const late = await call('PUT', `/api/mdt/meetings/${meetingId}/agenda/${(await itemOf('Alpha')).id}/discussion`, auth.gp, { notes: 'after' });
  assert.equal(late.statusCode, 409, 'a closed meeting is not changed');
  const twice = await call('POST', `/api/mdt/meetings/${meetingId}/close`, auth.gp);
  assert.equal(twice.statusCode, 409);
  const listed = await call('GET', '/api/mdt/meetings', auth.gp);
  assert.equal(listed.json<{ items: Array<{ id: string; status: string }> }>().items.find((m) => m.id === meetingId)?.status, 'closed');
  assert.equal((await call('GET', '/api/mdt/meetings', auth.elsewhereGp)).json<{ items: unknown[] }>().items.length, 0, 'another PCN’s meetings are not listed');
});

test('a care home lists only its own residents, and its round those due this week', async () => {
  const list = await call('GET', `/api/care-homes?pcn=${pcn}`, auth.gp);
  assert.equal(list.statusCode, 200, list.body);
  const homes = list.json<{ items: Array<{ code: string; pcnCode: string }> }>().items;
  assert.ok(homes.some((x) => x.code === homeA.code));
  assert.ok(
    homes.every((x) => x.pcnCode === pcn),
    'only homes aligned to the PCN',
  );
  assert.ok(!homes.some((x) => x.code === homeB.code));

  const home = await call('GET', `/api/care-homes/${homeA.code}`, auth.gp);
  assert.equal(home.statusCode, 200, home.body);
  const read = home.json<{ residents: Array<{ id: string }>; round: Array<{ id: string; dueBecause: string[] }> }>();
  assert.deepEqual(read.residents.map((r) => r.id).sort(), [ids.Resident, ids.Settled].sort(), 'not the neighbour, not home B’s resident');
  assert.deepEqual(
    read.round.map((r) => r.id),
    [ids.Resident],
  );
  assert.deepEqual(read.round[0]?.dueBecause, ['severe frailty']);
  const elsewhere = await call('GET', `/api/care-homes/${homeA.code}`, auth.elsewhereGp);
  assert.equal(elsewhere.json<{ residents: unknown[] }>().residents.length, 0, 'residents whose record one may not open are not listed');

  const second = await call('PUT', `/api/care-homes/${homeA.code}/alignment`, h.admin, { pcnCode: otherPcn });
  assert.equal(second.statusCode, 409, 'a care home is aligned to one PCN');
  const same = await call('PUT', `/api/care-homes/${homeA.code}/alignment`, h.admin, { pcnCode: pcn });
  assert.equal(same.statusCode, 200, same.body);
});

test('several patients’ results at once come only for those the person may open', async () => {
  const resultsAs = async (email: string) => {
    const actor = (await findActor(h.db, email))!;
    return asActor(h.db, actor, { method: 'GET', url: '/test' }, (repo) => populationResultsVia(h.db, repo, [ids.Resident!, ids.Delta!, ids.Neighbour!]));
  };
  const gp = await resultsAs(gpEmail);
  assert.deepEqual([...gp.keys()].sort(), [ids.Resident, ids.Neighbour].sort(), 'Delta is another PCN’s patient');
  assert.equal((gp.get(ids.Resident!)?.efi as { category?: string } | null)?.category, 'severe', 'the stored result itself');
  const elsewhere = await resultsAs('gp.elsewhere.mdt@pcn-hub.example');
  assert.deepEqual([...elsewhere.keys()], [ids.Delta], 'only the patient of their own practice');
  // More patients than one search value takes (a large home): asked in groups, none lost.
  const many = [...Array.from({ length: 230 }, (_, i) => `no-such-patient-${i}`), ids.Resident!];
  const actor = (await findActor(h.db, gpEmail))!;
  const found = await asActor(h.db, actor, { method: 'GET', url: '/test' }, (repo) => populationResultsVia(h.db, repo, many));
  assert.deepEqual([...found.keys()], [ids.Resident]);
});

test('an agenda from a worklist lists the worklist’s patients; a list of another PCN is refused', async () => {
  const cohorts = (await call('GET', '/api/population/cohorts', auth.gp)).json<{ items: Array<{ id: string; name: string }> }>().items;
  const cohortId = cohorts.find((c) => c.name === 'Severe frailty')!.id;
  const worklist = await call('POST', '/api/population/worklists', auth.gp, { cohortId, name: 'Frailty reviews', purpose: 'smr', role: 'care-coordinator' });
  assert.equal(worklist.statusCode, 201, worklist.body);
  const meeting = await call('POST', '/api/mdt/meetings', auth.gp, { title: 'January MDT', startsAt: '2027-01-14T13:00:00Z' });
  const id = meeting.json<{ id: string }>().id;
  const added = await call('POST', `/api/mdt/meetings/${id}/agenda`, auth.gp, { worklistId: worklist.json<{ id: string }>().id });
  assert.equal(added.statusCode, 200, added.body);
  const agenda = (await call('GET', `/api/mdt/meetings/${id}`, auth.gp)).json<{ agenda: Item[] }>().agenda;
  assert.deepEqual(agenda.map((i) => i.patient?.id).sort(), [ids.Alpha, ids.Bravo, ids.Resident].sort());
  const theirs = await call('POST', `/api/mdt/meetings/${id}/agenda`, auth.elsewhereGp, { cohortId });
  assert.equal(theirs.statusCode, 403, 'another PCN’s GP neither opens the meeting nor uses its lists');
  const empty = await call('POST', '/api/mdt/meetings', auth.gp, { title: 'Empty', startsAt: '2027-01-21T13:00:00Z' });
  const closeEmpty = await call('POST', `/api/mdt/meetings/${empty.json<{ id: string }>().id}/close`, auth.gp);
  assert.equal(closeEmpty.statusCode, 409, 'a meeting with nobody on its agenda is not closed');
});

test('a care home the registry links to two PCNs is aligned to neither until one is chosen, then to that one only', async () => {
  const linked = await call('POST', `/api/pcns/${pcn}/partners`, h.admin, { code: homeB.code, name: homeB.name, type: 'care-home' });
  assert.ok(linked.statusCode < 300, linked.body);
  const before = (await call('GET', '/api/care-homes', auth.gp)).json<{ items: Array<{ code: string; pcnCode: string | null; linkedPcns: string[] }> }>().items.find((x) => x.code === homeB.code);
  assert.deepEqual([before?.pcnCode, before?.linkedPcns.sort()], [null, [pcn, otherPcn].sort()]);
  const registry = await loadRegistry(h.db);
  assert.deepEqual(
    (before as unknown as { linked: Array<{ code: string; name: string }> }).linked.map((l) => l.name).sort(),
    registry.pcns
      .filter((p) => p.code === pcn || p.code === otherPcn)
      .map((p) => p.name)
      .sort(),
    'named for people',
  );
  assert.ok(!(await call('GET', `/api/care-homes?pcn=${pcn}`, auth.gp)).body.includes(homeB.code), 'not listed under either PCN yet');
  const byGp = await call('PUT', `/api/care-homes/${homeB.code}/alignment`, auth.gp, { pcnCode: pcn });
  assert.equal(byGp.statusCode, 403, 'a GP does not change the network');
  const chosen = await call('PUT', `/api/care-homes/${homeB.code}/alignment`, h.admin, { pcnCode: otherPcn });
  assert.equal(chosen.statusCode, 200, chosen.body);
  assert.equal(chosen.json<{ pcnCode: string; alignedBy: string }>().alignedBy, 'chosen');
  const second = await call('PUT', `/api/care-homes/${homeB.code}/alignment`, h.admin, { pcnCode: pcn });
  assert.equal(second.statusCode, 409, second.body);
  assert.ok(!(await call('GET', `/api/care-homes?pcn=${pcn}`, auth.gp)).body.includes(homeB.code));
});
