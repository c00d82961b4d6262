/**
 * Care teams and the shared personalised care and support plan over /api (issue 12): who may change the team,
 * that a person added gains the record's care-plan part and one removed loses it, a social worker on the team
 * editing the plan without seeing the clinical record, and two agencies' concurrent saves: the stale one refused
 * with both versions, merged and saved, both edits in the plan's history with who and when.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { auditSince, create, fhirHarness, type FhirHarness, lastAuditId, nhsNumber, patient } from '../../../test/fhir.ts';
import { SYSTEM_ACTOR } from '../../modules/access/index.ts';
import type { CarePlanVersion, CarePlanView, CareTeamView, PlanConflict, PlanSections } from '../../modules/careplans/index.ts';
import { addPartner } from '../../modules/network/index.ts';

let h: FhirHarness;
const auth: Record<string, string> = {};
let patientId = '';
let observationId = '';
const SOCIAL_WORKER = 'sam.social@careplans.example';

before(async () => {
  h = await fhirHarness();
  await addPartner(h.db, SYSTEM_ACTOR, 'U90001', { code: 'LA940', name: 'Careplan Council Adult Social Care', type: 'social-care' });
  auth.gp = await h.addUser({ email: 'grace.gp@careplans.example', name: 'Grace Gee', role: 'gp', org: 'Z90101' });
  auth.social = await h.addUser({ email: SOCIAL_WORKER, name: 'Sam Social', role: 'social-worker', org: 'LA940' });
  auth.colleague = await h.addUser({ email: 'cara.colleague@careplans.example', name: 'Cara Colleague', role: 'social-worker', org: 'LA940' });
  auth.manager = await h.addUser({ email: 'mo.manager@careplans.example', name: 'Mo Manager', role: 'pcn-manager', org: 'U90001' });
  patientId = (await create(h.fhir, patient(nhsNumber(7101), 'Z90101', { name: [{ family: 'Planner', given: ['Peggy'] }] }))).id;
  observationId = (await create<Observation>(h.fhir, { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${patientId}` }, code: { text: 'Careplan blood pressure' } })).id;
});
after(() => h.close());

const call = async <T>(who: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await h.app.inject({ method, url, headers: { authorization: auth[who] ?? who, ...headers }, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, json: (response.body ? JSON.parse(response.body) : undefined) as T, headers: response.headers };
};
const team = (who: string) => call<CareTeamView>(who, 'GET', `/api/patients/${patientId}/care-team`);
const plan = (who: string) => call<CarePlanView>(who, 'GET', `/api/patients/${patientId}/care-plan`);
const save = (who: string, version: string | null, sections: PlanSections) =>
  call<CarePlanView & { error?: { code: string; message: string; field?: string }; conflict?: PlanConflict }>(
    who,
    'PUT',
    `/api/patients/${patientId}/care-plan`,
    { sections },
    version === null ? {} : { 'if-match': `W/"${version}"` },
  );

test('only someone who may write care-plan entries for the patient changes the care team', async () => {
  const refused = await call<{ error: { message: string } }>('manager', 'POST', `/api/patients/${patientId}/care-team/members`, { ods: 'LA940', role: 'Adult social care' });
  assert.equal(refused.status, 403);
  // The social worker has no relationship yet: they cannot put themselves on the team.
  const selfInvited = await call('social', 'POST', `/api/patients/${patientId}/care-team/members`, { email: SOCIAL_WORKER, role: 'Social worker' });
  assert.equal(selfInvited.status, 403);
  const unknown = await call<{ error: { field: string } }>('gp', 'POST', `/api/patients/${patientId}/care-team/members`, { ods: 'ZZZ999', role: 'Nobody' });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.error.field, 'ods');
  assert.equal((await team('gp')).json.members.length, 0);
});

test('a social worker added to the team by name reads and edits the plan but not the clinical record; a colleague not named gets 403', async () => {
  assert.equal((await plan('social')).status, 403);
  const added = await call<CareTeamView>('gp', 'POST', `/api/patients/${patientId}/care-team/members`, { email: SOCIAL_WORKER.toUpperCase(), role: 'Social worker', careCoordinator: true });
  assert.equal(added.status, 200, JSON.stringify(added.json));
  await call('gp', 'POST', `/api/patients/${patientId}/care-team/members`, { ods: 'Z90101', role: 'GP practice' });
  const seen = await team('social');
  assert.equal(seen.status, 200);
  assert.deepEqual(
    seen.json.members.map((m) => [m.key, m.name, m.role, m.organisation, m.careCoordinator]),
    [
      [SOCIAL_WORKER, 'Sam Social', 'Social worker', 'Careplan Council Adult Social Care', true],
      ['Z90101', seen.json.members[1]!.name, 'GP practice', null, false],
    ],
  );
  assert.equal(seen.json.careCoordinator?.key, SOCIAL_WORKER);
  assert.equal((await plan('social')).status, 200);
  // The clinical record stays closed to the role: the observation is as if it did not exist.
  assert.equal((await h.fhir('GET', `/fhir/Observation/${observationId}`, { auth: auth.social })).status, 404);
  assert.equal((await h.fhir('GET', `/fhir/Observation/${observationId}`, { auth: auth.gp })).status, 200);
  // The person is named, not their organisation: a colleague at the same council is refused.
  assert.equal((await plan('colleague')).status, 403);
  assert.equal((await team('colleague')).status, 403);
});

test('the care coordinator can be moved to another member, never to someone off the team', async () => {
  const moved = await call<CareTeamView>('gp', 'PUT', `/api/patients/${patientId}/care-team/coordinator`, { member: 'z90101' });
  assert.equal(moved.status, 200);
  assert.equal(moved.json.careCoordinator?.key, 'Z90101');
  assert.equal(moved.json.members.filter((m) => m.careCoordinator).length, 1);
  const stranger = await call<{ error: { field: string } }>('gp', 'PUT', `/api/patients/${patientId}/care-team/coordinator`, { member: 'nobody@careplans.example' });
  assert.equal(stranger.status, 422);
  await call('gp', 'PUT', `/api/patients/${patientId}/care-team/coordinator`, { member: SOCIAL_WORKER });
});

const FIRST: PlanSections = {
  whatMattersToMe: 'Staying at home with my cat, Biscuit.',
  aboutMe: 'I was a primary school teacher. I hear better on my left side.',
  goals: [{ description: 'Walk to the corner shop on my own', targetDate: '2027-04-01', status: 'active' }],
  actions: [{ description: 'Falls risk assessment at home', owner: { code: 'Z90101', name: '' }, dueDate: '2027-01-15', status: 'not-started' }],
  contingencyPlan: 'If I fall, call my daughter Jane.',
  reviewDate: '2027-06-01',
  peopleInvolved: 'Jane (daughter)',
};

test('two agencies save at once: the stale save is refused with both versions, merged section by section, and the merge saved', async () => {
  const missing = await save('gp', null, FIRST);
  assert.equal(missing.status, 428);
  assert.equal(missing.json.error?.field, 'If-Match');
  const first = await save('gp', '0', FIRST);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(first.json.versionId, '1');
  assert.ok(first.json.sections.goals[0]?.id);
  assert.ok((first.json.sections.actions[0]?.owner.name.length ?? 0) > 0);
  // A second "first plan" from someone who saw none is stale too, not a second plan.
  assert.equal((await save('social', '0', { ...FIRST, aboutMe: 'Another' })).status, 412);

  // Both open version 1. The social worker saves first: the contingency plan and a council action.
  const opened = (await plan('social')).json;
  assert.equal(opened.versionId, '1');
  const theirs: PlanSections = {
    ...opened.sections,
    contingencyPlan: 'If I fall, call my daughter Jane; if she cannot come, the council’s emergency duty team.',
    actions: [...opened.sections.actions, { description: 'Carer’s assessment for Jane', owner: { code: 'LA940', name: '' }, dueDate: '2027-02-01', status: 'scheduled' }],
  };
  const before = await lastAuditId(h);
  const socialSaved = await save('social', '1', theirs);
  assert.equal(socialSaved.status, 200, JSON.stringify(socialSaved.json));
  assert.equal(socialSaved.json.versionId, '2');
  // The save is on the audit trail: who, the patient, the plan.
  const audited = (await auditSince(h, before)).filter((row) => row.actor === SOCIAL_WORKER);
  assert.ok(
    audited.some((row) => row.detail.patients.includes(patientId) && row.detail.resources.some((r) => r.startsWith('update CarePlan/'))),
    JSON.stringify(audited),
  );

  // The GP saves from version 1: the contingency plan (differently) and a new goal.
  const yours: PlanSections = {
    ...opened.sections,
    contingencyPlan: 'If I fall, call my daughter Jane, then the practice.',
    goals: [...opened.sections.goals, { description: 'Go to my grandson’s school play', targetDate: null, status: 'active' }],
  };
  const stale = await save('gp', '1', yours);
  assert.equal(stale.status, 412);
  assert.equal(stale.json.error?.code, 'precondition-failed');
  assert.match(stale.json.error?.message ?? '', /Sam Social, social worker, Careplan Council Adult Social Care/);
  const conflict = stale.json.conflict!;
  assert.equal(conflict.base.versionId, '1');
  assert.equal(conflict.theirs.versionId, '2');
  assert.equal(conflict.base.sections.contingencyPlan, FIRST.contingencyPlan);
  assert.equal(conflict.theirs.sections.contingencyPlan, theirs.contingencyPlan);
  assert.equal(conflict.yours.contingencyPlan, yours.contingencyPlan);
  assert.deepEqual(conflict.conflicts, ['contingencyPlan']);
  assert.equal(conflict.outcome.goals, 'yours');
  assert.equal(conflict.outcome.actions, 'theirs');
  assert.equal(conflict.merged.goals.length, 2);
  assert.equal(conflict.merged.actions.length, 2);
  assert.equal(conflict.base.sections.goals[0]?.description, FIRST.goals[0]?.description);
  // Nothing of the stale save was written.
  assert.equal((await plan('gp')).json.versionId, '2');

  // The GP settles the contingency plan and saves the merge against version 2.
  const merged = { ...conflict.merged, contingencyPlan: 'If I fall, call my daughter Jane, then the practice; if neither, the council’s emergency duty team.' };
  assert.equal((await save('gp', '1', merged)).status, 412); // still from the old version: refused again
  const saved = await save('gp', conflict.theirs.versionId, merged);
  assert.equal(saved.status, 200, JSON.stringify(saved.json));
  assert.equal(saved.json.versionId, '3');
  const now = (await plan('social')).json;
  assert.deepEqual(
    now.sections.goals.map((g) => g.description),
    ['Walk to the corner shop on my own', 'Go to my grandson’s school play'],
  );
  assert.deepEqual(
    now.sections.actions.map((a) => [a.owner.code, a.owner.name]),
    [
      ['Z90101', now.sections.actions[0]!.owner.name],
      ['LA940', 'Careplan Council Adult Social Care'],
    ],
  );
  assert.match(now.sections.contingencyPlan, /practice; if neither, the council/);
  assert.match(now.edits.actions?.by ?? '', /Sam Social/);
  assert.match(now.edits.goals?.by ?? '', /Grace Gee/);
  assert.equal(now.sections.whatMattersToMe, FIRST.whatMattersToMe);
});

test('the plan’s history shows each agency’s edits with who, when and which sections', async () => {
  const history = await call<{ versions: CarePlanVersion[] }>('social', 'GET', `/api/patients/${patientId}/care-plan/history`);
  assert.equal(history.status, 200);
  const versions = history.json.versions;
  assert.deepEqual(
    versions.map((v) => v.versionId),
    ['3', '2', '1'],
  );
  assert.match(versions[0]!.by ?? '', /^Grace Gee, GP, /);
  assert.deepEqual(versions[0]!.sections, ['goals', 'contingencyPlan']);
  assert.match(versions[1]!.by ?? '', /^Sam Social, social worker, Careplan Council Adult Social Care$/);
  assert.deepEqual(versions[1]!.sections, ['actions', 'contingencyPlan']);
  assert.ok(versions.every((v) => /^\d{4}-\d\d-\d\dT/.test(v.at)));
  assert.ok(versions[0]!.at >= versions[1]!.at);
  // Saving what is already stored writes no new version.
  const current = (await plan('gp')).json;
  assert.equal((await save('gp', current.versionId, current.sections)).json.versionId, '3');
  const unknownOwner = await save('gp', '3', { ...current.sections, actions: [{ description: 'x', owner: { code: 'NOPE1', name: '' }, dueDate: null, status: 'not-started' }] });
  assert.equal(unknownOwner.status, 422);
  assert.equal(unknownOwner.json.error?.field, 'sections.actions.0.owner.code');
});

test('a person removed from the team loses the access it gave them', async () => {
  const removed = await call<CareTeamView>('gp', 'DELETE', `/api/patients/${patientId}/care-team/members/${encodeURIComponent(SOCIAL_WORKER)}`);
  assert.equal(removed.status, 200);
  assert.deepEqual(
    removed.json.members.map((m) => m.key),
    ['Z90101'],
  );
  assert.equal((await plan('social')).status, 403);
  assert.equal((await save('social', '3', FIRST)).status, 403);
  assert.equal((await plan('gp')).status, 200);
});

test('the whole team can be set at once, with one care coordinator at most', async () => {
  const two = await call<{ error: { field: string } }>('gp', 'PUT', `/api/patients/${patientId}/care-team`, {
    members: [
      { ods: 'Z90101', role: 'GP practice', careCoordinator: true },
      { ods: 'LA940', role: 'Adult social care', careCoordinator: true },
    ],
  });
  assert.equal(two.status, 422);
  assert.equal(two.json.error.field, 'members');
  const set = await call<CareTeamView>('gp', 'PUT', `/api/patients/${patientId}/care-team`, {
    members: [
      { ods: 'Z90101', role: 'GP practice' },
      { ods: 'LA940', role: 'Adult social care', careCoordinator: true },
    ],
  });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  assert.deepEqual(
    set.json.members.map((m) => [m.key, m.careCoordinator]),
    [
      ['Z90101', false],
      ['LA940', true],
    ],
  );
  // The council is on the team now: its colleague social worker sees the plan through their organisation.
  assert.equal((await plan('colleague')).status, 200);
});

test('two saves from the same version at the same moment: exactly one is saved, the other is told of it with both versions', async () => {
  const current = (await plan('gp')).json;
  const [a, b] = await Promise.all([
    save('gp', current.versionId, { ...current.sections, aboutMe: 'Written by the GP at the same moment.' }),
    save('social', current.versionId, { ...current.sections, aboutMe: 'Written by the council at the same moment.' }),
  ]);
  assert.deepEqual([a.status, b.status].sort(), [200, 412]);
  const refused = a.status === 412 ? a : b;
  assert.deepEqual(refused.json.conflict?.conflicts, ['aboutMe']);
  assert.equal(refused.json.conflict?.theirs.versionId, String(Number(current.versionId) + 1));
  assert.equal((await plan('gp')).json.versionId, String(Number(current.versionId) + 1));
});

test('a care team another system sent, naming people only in words, lists them (not changeable here) and keeps them when a member is added', async () => {
  const sent = (await create(h.fhir, patient(nhsNumber(7102), 'Z90101', { name: [{ family: 'Sent', given: ['Sally'] }] }))).id;
  await create(h.fhir, {
    resourceType: 'CareTeam',
    status: 'active',
    subject: { reference: `Patient/${sent}` },
    participant: [
      { member: { display: 'Jo Reed' }, role: [{ text: 'Social worker' }], onBehalfOf: { display: 'Careplan Council Adult Social Care' } },
      { member: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Z90101' }, display: 'Oak Street' }, role: [{ text: 'GP practice' }] },
    ],
  } as never);
  const url = `/api/patients/${sent}/care-team`;
  const listed = await call<CareTeamView>('gp', 'GET', url);
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.json.members.map((m) => [m.kind, m.key, m.name, m.role]),
    [
      ['named', '', 'Jo Reed', 'Social worker'],
      ['organisation', 'Z90101', 'Oak Street', 'GP practice'],
    ],
  );
  const added = await call<CareTeamView>('gp', 'POST', `${url}/members`, { ods: 'LA940', role: 'Adult social care' });
  assert.equal(added.status, 200, JSON.stringify(added.json));
  assert.deepEqual(
    added.json.members.map((m) => m.name),
    ['Jo Reed', 'Oak Street', 'Careplan Council Adult Social Care'],
  );
});
