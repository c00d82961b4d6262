/**
 * Partner organisations as members (issue 13): a partner's user works for the PCNs the partner serves; a
 * social worker reaches the patients whose care team names their council; entries are signed "Name, role,
 * Organisation name"; "My patients" and the inbox; and who a patient outside one's care is, shown (audited)
 * only to roles that may break glass, only for an exact NHS number, before breaking glass once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { testEngine } from '../../../test/db.ts';
import { demoMembers, type DemoMember } from '../../demo/seed-demo.ts';
import { nhsNumberFor } from '../../demo/synthetic-population.ts';
import { loadRegistry } from '../../modules/network/index.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const COUNCIL = 'Norfolk County Council Adult Social Services';

let member: Record<'gp' | 'pharmacist' | 'socialWorker' | 'analyst', DemoMember>;
let auth: Record<'gp' | 'pharmacist' | 'socialWorker' | 'analyst' | 'technician', string>;
/** Registered at the demo practice (in the pharmacy's PCN), with no care team yet. */
let home: { id: string; nhs: string };
/** Registered in another PCN, which the pharmacy does not serve. */
let away: { id: string; nhs: string };
/** A practice of a PCN the pharmacy does not serve. */
let elsewherePractice: string;

const call = (method: 'GET' | 'POST', url: string, authorization: string, payload?: object) => h.app.inject({ method, url, headers: { authorization }, ...(payload ? { payload } : {}) });
const read = (who: string, id: string) => call('GET', `/fhir/Patient/${id}`, who);

async function patient(family: string, practice: string, index: number) {
  const nhs = nhsNumberFor(900_000 + index);
  const created = await call('POST', '/fhir/Patient', h.admin, {
    resourceType: 'Patient',
    identifier: [{ system: NHS, value: nhs }],
    name: [{ family, given: ['Ada'] }],
    birthDate: '1938-04-02',
    generalPractitioner: [{ identifier: { system: ODS, value: practice } }],
  });
  assert.equal(created.statusCode, 201, created.body);
  return { id: created.json<{ id: string }>().id, nhs };
}

const h = apiSuite(async () => {
  const registry = await loadRegistry(h.db);
  const members = demoMembers(registry);
  const byRole = (role: string) => members.find((m) => m.role === role)!;
  member = { gp: byRole('gp'), pharmacist: byRole('clinical-pharmacist'), socialWorker: byRole('social-worker'), analyst: byRole('analyst') };
  auth = {
    gp: await h.addUser({ ...member.gp, org: member.gp.org! }),
    pharmacist: await h.addUser({ ...member.pharmacist, org: member.pharmacist.org! }),
    socialWorker: await h.addUser({ ...member.socialWorker, org: member.socialWorker.org! }),
    analyst: await h.addUser({ email: member.analyst.email, name: member.analyst.name, role: 'analyst' }),
    // A pharmacy technician at the same pharmacy: PCN-wide reach, no break-glass.
    technician: await h.addUser({ email: 'technician.members@pcn-hub.example', name: 'Tam Tech', role: 'pharmacy-technician', org: member.pharmacist.org! }),
  };
  const pharmacyPcns = registry.pcnPartners.filter((l) => l.partnerCode === member.pharmacist.org).map((l) => l.pcnCode);
  const elsewhere = registry.memberships.find((m) => m.endDate === null && !pharmacyPcns.includes(m.pcnCode))!;
  home = await patient('Homefield', member.gp.org!, 1);
  elsewherePractice = elsewhere.practiceOds;
  away = await patient('Faraway', elsewhere.practiceOds, 2);
});

test(`a partner's user works for the PCNs the partner serves: a community pharmacy's clinical pharmacist reaches that PCN's patients and no others (${testEngine})`, async () => {
  const me = (await call('GET', '/api/me', auth.pharmacist)).json<{ pcnCodes: string[]; orgName: string; orgKind: string; signature: string }>();
  assert.equal(me.orgKind, 'community-pharmacy');
  assert.equal(me.pcnCodes.length, 1, 'a community pharmacy serves its one PCN');
  assert.equal(me.orgName, member.pharmacist.where);
  assert.equal(me.signature, `Priya Shah, clinical pharmacist, ${member.pharmacist.where}`);
  assert.equal((await read(auth.pharmacist, home.id)).statusCode, 200, 'registered at a practice of the PCN the pharmacy serves');
  const refused = await read(auth.pharmacist, away.id);
  assert.equal(refused.statusCode, 403, 'registered in a PCN the pharmacy does not serve');
  assert.match(refused.body, new RegExp(`not registered in ${me.pcnCodes[0]}`));
  assert.equal((await read(auth.technician, home.id)).statusCode, 200, 'a technician of the same pharmacy reaches the same PCN');
});

test(`a social worker of the council reaches a patient only once their care team names the council; the PCNs it serves alone do not (${testEngine})`, async () => {
  const me = (await call('GET', '/api/me', auth.socialWorker)).json<{ pcnCodes: string[] }>();
  assert.ok(me.pcnCodes.length > 1, 'the council serves many PCNs');
  assert.equal((await read(auth.socialWorker, home.id)).statusCode, 403, 'relationship reach: registration in a PCN the council serves is not enough');
  assert.deepEqual((await call('GET', '/api/my/patients', auth.socialWorker)).json<{ patients: unknown[] }>().patients, []);

  const team = await call('POST', '/fhir/CareTeam', h.admin, {
    resourceType: 'CareTeam',
    status: 'active',
    name: 'Proactive care team (frailty)',
    subject: { reference: `Patient/${home.id}` },
    participant: [{ member: { identifier: { system: 'https://pcn-hub.example/Id/partner', value: 'LA-NORFOLK' }, display: COUNCIL } }],
  });
  assert.equal(team.statusCode, 201, team.body);
  assert.equal((await read(auth.socialWorker, home.id)).statusCode, 200);
  assert.equal((await read(auth.socialWorker, away.id)).statusCode, 403, 'no care team names the council for the other patient');

  const mine = await call('GET', '/api/my/patients', auth.socialWorker);
  assert.equal(mine.statusCode, 200, mine.body);
  const caseload = mine.json<{ basis: string; orgName: string; patients: Array<{ id: string; name: string; nhsNumber: string; careTeam: string }> }>();
  assert.equal(caseload.orgName, COUNCIL);
  assert.deepEqual(
    caseload.patients.map((p) => [p.id, p.name, p.nhsNumber, p.careTeam]),
    [[home.id, 'HOMEFIELD, Ada', home.nhs, 'Proactive care team (frailty)']],
  );
  // The pharmacy is on no care team: its caseload is empty even though it reaches the patient PCN-wide.
  assert.deepEqual((await call('GET', '/api/my/patients', auth.pharmacist)).json<{ patients: unknown[] }>().patients, []);
  const audited = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE actor = $1 AND $2 = ANY(patient_ids)`, [member.socialWorker.email, home.id]);
  assert.ok(audited[0]!.n >= 1, 'the caseload look is audited');
});

test(`a care team that names the person (by email) is their relationship and lists the patient on their My patients; their colleague is not named (${testEngine})`, async () => {
  const named = await patient('Namedperson', elsewherePractice, 77);
  const colleague = await h.addUser({ email: 'colleague.members@pcn-hub.example', name: 'Cal Colleague', role: 'social-worker', org: member.socialWorker.org! });
  assert.equal((await read(auth.socialWorker, named.id)).statusCode, 403);
  const team = await call('POST', '/fhir/CareTeam', h.admin, {
    resourceType: 'CareTeam',
    status: 'active',
    name: 'Hospital discharge team',
    subject: { reference: `Patient/${named.id}` },
    participant: [{ member: { identifier: { system: 'https://pcn-hub.example/Id/user', value: member.socialWorker.email }, display: member.socialWorker.name } }],
  });
  assert.equal(team.statusCode, 201, team.body);
  assert.equal((await read(auth.socialWorker, named.id)).statusCode, 200, 'named in person');
  assert.equal((await read(colleague, named.id)).statusCode, 403, 'the same council, not named');
  const mine = (await call('GET', '/api/my/patients', auth.socialWorker)).json<{ patients: Array<{ id: string; careTeam: string }> }>().patients;
  assert.ok(
    mine.some((p) => p.id === named.id && p.careTeam === 'Hospital discharge team'),
    JSON.stringify(mine),
  );
  const theirs = (await call('GET', '/api/my/patients', colleague)).json<{ patients: Array<{ id: string }> }>().patients;
  assert.ok(!theirs.some((p) => p.id === named.id));
});

test(`entries are signed with the person's name, role and organisation's name, never a bare code (${testEngine})`, async () => {
  const written = await call('POST', '/fhir/QuestionnaireResponse', auth.socialWorker, {
    resourceType: 'QuestionnaireResponse',
    status: 'completed',
    questionnaire: 'https://pcn-hub.example/Questionnaire/what-matters-to-me',
    subject: { reference: `Patient/${home.id}` },
    authored: '2026-11-20',
    author: { identifier: { system: 'https://pcn-hub.example/Id/partner', value: 'LA-NORFOLK' }, display: 'LA-NORFOLK' },
    source: { reference: `Patient/${home.id}`, display: 'Ada Homefield' },
    item: [{ linkId: 'what-matters', text: 'What matters to me', answer: [{ valueString: 'Staying in my own home' }] }],
  });
  assert.equal(written.statusCode, 201, written.body);
  const entry = written.json<{ id: string; author: { display: string }; source: { display: string } }>();
  assert.equal(entry.author.display, `Sam Okafor, social worker, ${COUNCIL}`);
  assert.equal(entry.source.display, 'Ada Homefield', 'a reference to someone else is left as written');
  // As stored: what every later reader (the GP, an export) sees.
  const seen = await call('GET', `/fhir/QuestionnaireResponse/${entry.id}`, auth.gp);
  assert.equal(seen.json<{ author: { display: string } }>().author.display, `Sam Okafor, social worker, ${COUNCIL}`);

  // A GP's entry naming their practice, as performer: signed with the practice's name.
  const procedure = await call('POST', '/fhir/Procedure', auth.gp, {
    resourceType: 'Procedure',
    status: 'completed',
    code: { text: 'Medicines review' },
    subject: { reference: `Patient/${home.id}` },
    performer: [{ actor: { identifier: { system: ODS, value: member.gp.org } } }],
  });
  assert.equal(procedure.statusCode, 201, procedure.body);
  assert.equal(procedure.json<{ performer: Array<{ actor: { display: string } }> }>().performer[0]!.actor.display, `Dr Grace Whitmore, GP, ${member.gp.where}`);

  // A referral's performer is whom it is sent to: not signed as the GP.
  const referral = await call('POST', '/fhir/ServiceRequest', auth.gp, {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { text: 'Care needs assessment' },
    subject: { reference: `Patient/${home.id}` },
    authoredOn: '2026-11-21',
    requester: { identifier: { system: ODS, value: member.gp.org } },
    performer: [{ identifier: { system: 'https://pcn-hub.example/Id/partner', value: 'LA-NORFOLK' }, display: COUNCIL }],
  });
  assert.equal(referral.statusCode, 201, referral.body);
  const sent = referral.json<{ requester: { display: string }; performer: Array<{ display: string }> }>();
  assert.equal(sent.requester.display, `Dr Grace Whitmore, GP, ${member.gp.where}`);
  assert.equal(sent.performer[0]!.display, COUNCIL);
});

test(`the inbox holds the organisation's open referrals and tasks; a finished one and another organisation's are not there (${testEngine})`, async () => {
  const task = (status: string, owner: string) =>
    call('POST', '/fhir/Task', h.admin, {
      resourceType: 'Task',
      status,
      intent: 'order',
      description: `Review home care (${status})`,
      for: { reference: `Patient/${home.id}` },
      authoredOn: '2026-11-22',
      owner: { identifier: { value: owner } },
    });
  assert.equal((await task('requested', 'LA-NORFOLK')).statusCode, 201);
  assert.equal((await task('completed', 'LA-NORFOLK')).statusCode, 201);
  assert.equal((await task('requested', 'LA-SUFFOLK')).statusCode, 201);
  const inbox = await call('GET', '/api/my/inbox', auth.socialWorker);
  assert.equal(inbox.statusCode, 200, inbox.body);
  const items = inbox.json<{ items: Array<{ kind: string; what: string; from: string | null; patient: { name: string } | null }> }>().items;
  assert.deepEqual(
    items.map((i) => [i.kind, i.what, i.patient?.name]),
    [
      ['task', 'Review home care (requested)', 'HOMEFIELD, Ada'],
      ['referral', 'Care needs assessment', 'HOMEFIELD, Ada'],
    ],
  );
  assert.equal(items[1]!.from, `Dr Grace Whitmore, GP, ${member.gp.where}`, 'who sent it, by name');
  // An analyst sees no patient-level rows: an empty home, not an error.
  assert.deepEqual((await call('GET', '/api/my/inbox', auth.analyst)).json<{ items: unknown[] }>().items, []);
  assert.deepEqual((await call('GET', '/api/my/patients', auth.analyst)).json<{ patients: unknown[] }>().patients, []);
});

test(`an exact NHS number outside the GP's care shows who the patient is (audited), then one break-glass reason opens the record (${testEngine})`, async () => {
  const search = await call('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${NHS}|${away.nhs}`)}`, auth.gp);
  assert.equal(search.json<{ entry?: unknown[] }>().entry?.length ?? 0, 0, 'the search itself finds nobody');
  const byName = await call('GET', '/fhir/Patient?family=faraway&birthdate=1938-04-02', auth.gp);
  assert.equal(byName.json<{ entry?: unknown[] }>().entry?.length ?? 0, 0, 'a name search never finds a patient outside one’s care');

  const reveal = await call('GET', `/api/patients/reveal?nhsNumber=${away.nhs}`, auth.gp);
  assert.equal(reveal.statusCode, 200, reveal.body);
  assert.deepEqual(reveal.json(), {
    found: true,
    related: false,
    patient: { id: away.id, name: 'FARAWAY, Ada', nhsNumber: away.nhs, birthDate: '1938-04-02', practice: reveal.json<{ patient: { practice: string } }>().patient.practice },
  });
  const [audit] = await h.db.query<{ action: string; patient_ids: string[]; summary: string }>(`SELECT action, patient_ids, summary FROM audit_event WHERE actor = $1 AND action = 'record.reveal'`, [
    member.gp.email,
  ]);
  assert.ok(audit, 'the reveal is audited');
  assert.deepEqual(audit.patient_ids, [away.id]);

  // Their own patient is not "revealed": the search found them already.
  assert.deepEqual((await call('GET', `/api/patients/reveal?nhsNumber=${home.nhs}`, auth.gp)).json(), { found: true, related: true, patientId: home.id });
  assert.deepEqual((await call('GET', `/api/patients/reveal?nhsNumber=${nhsNumberFor(900_099)}`, auth.gp)).json(), { found: false });

  const opened = await call('POST', `/api/patients/${away.id}/break-glass`, auth.gp, { reason: 'Attending the out-of-hours clinic, no GP record' });
  assert.equal(opened.statusCode, 200, opened.body);
  assert.equal((await read(auth.gp, away.id)).statusCode, 200, 'no second reason: the grant opens the record');

  // The GP's home lists what they opened recently, most recent first, while they may still open it.
  const recent = async () => (await call('GET', '/api/my/patients', auth.gp)).json<{ recent: Array<{ id: string }> }>().recent.map((p) => p.id);
  const until = Date.now() + 3000;
  while ((await recent())[0] !== away.id && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(await recent(), [away.id, home.id], 'the record opened by break-glass, then the entry read in their own patient’s record');
  await h.db.query("UPDATE break_glass_grant SET expires_at = now() - interval '1 second'");
  assert.deepEqual(await recent(), [home.id], 'once the grant has run out, no longer listed');
});

test(`only roles that may break glass are shown who a patient outside their care is; a bad NHS number is refused naming the field (${testEngine})`, async () => {
  const refused = await call('GET', `/api/patients/reveal?nhsNumber=${away.nhs}`, auth.socialWorker);
  assert.equal(refused.statusCode, 403);
  assert.doesNotMatch(refused.body, /FARAWAY|Faraway|1938/);
  assert.equal((await call('GET', `/api/patients/reveal?nhsNumber=${away.nhs}`, auth.technician)).statusCode, 403);
  assert.equal((await call('GET', `/api/patients/reveal?nhsNumber=${away.nhs}`, auth.analyst)).statusCode, 403);
  const bad = await call('GET', '/api/patients/reveal?nhsNumber=9990000019', auth.gp);
  assert.equal(bad.statusCode, 422, bad.body);
  assert.equal(bad.json<{ error: { field: string } }>().error.field, 'nhsNumber');
  const [count] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'record.reveal' AND actor <> $1`, [member.gp.email]);
  assert.equal(count!.n, 0, 'nothing was revealed to anyone else');
});
