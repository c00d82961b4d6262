import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Goal } from '@medplum/fhirtypes';
import { carePlanResource, changedByOf, changedSectionsOf, editsOf, goalResource, PLAN_CATEGORY_TOKEN, sectionsOf } from './plan-fhir.ts';
import { EMPTY_PLAN, type PlanSections } from './types.ts';

const sections: PlanSections = {
  whatMattersToMe: 'My garden.',
  aboutMe: 'I used to drive buses.',
  goals: [{ id: 'g1', description: 'Plant the beans', targetDate: '2027-05-01', status: 'active' }],
  actions: [{ description: 'Carer’s assessment', owner: { code: 'LA-NORFOLK', name: 'Norfolk County Council' }, dueDate: '2027-02-01', status: 'scheduled' }],
  contingencyPlan: '',
  reviewDate: '2027-06-01',
  peopleInvolved: 'My son Tom',
};
const save = (changed: (keyof PlanSections)[], signature: string, org: { code: string; name: string }, at: string) => ({
  patientId: 'p1',
  sections,
  goalIds: ['g1'],
  changed,
  signature,
  organisation: org,
  careTeamId: 't1',
  at,
});
const goals: Goal[] = [{ ...goalResource('p1', sections.goals[0]!), id: 'g1' }];

test('a plan written as FHIR reads back as the same sections; an empty section is left out, not an empty string', () => {
  const plan = carePlanResource(undefined, save(['whatMattersToMe', 'goals'], 'Ann, GP, Practice', { code: 'Z90101', name: 'Practice' }, '2026-12-01T10:00:00.000Z'));
  assert.deepEqual(sectionsOf(plan, goals), sections);
  assert.equal(`${plan.category?.[0]?.coding?.[0]?.system}|${plan.category?.[0]?.coding?.[0]?.code}`, PLAN_CATEGORY_TOKEN);
  assert.ok(!JSON.stringify(plan).includes('""'), 'no empty strings (FHIR forbids them)');
  assert.equal(plan.activity?.[0]?.detail?.performer?.[0]?.identifier?.value, 'LA-NORFOLK');
  assert.equal(plan.careTeam?.[0]?.reference, 'CareTeam/t1');
  assert.deepEqual(sectionsOf(undefined, []), EMPTY_PLAN);
});

test('each version says who saved it and what changed; each section keeps who last changed it; contributors are listed once', () => {
  const practice = { code: 'Z90101', name: 'Practice' };
  const council = { code: 'LA-NORFOLK', name: 'Council' };
  const first = carePlanResource(undefined, save(['whatMattersToMe'], 'Ann, GP, Practice', practice, '2026-12-01T10:00:00.000Z'));
  const second = carePlanResource(first, save(['actions'], 'Sam, social worker, Council', council, '2026-12-02T10:00:00.000Z'));
  const third = carePlanResource(second, save(['actions'], 'Ann, GP, Practice', practice, '2026-12-03T10:00:00.000Z'));
  assert.deepEqual(
    third.contributor?.map((c) => c.identifier?.value),
    ['Z90101', 'LA-NORFOLK'],
  );
  assert.equal(third.author?.identifier?.value, 'Z90101');
  assert.equal(changedByOf(second), 'Sam, social worker, Council');
  assert.deepEqual(changedSectionsOf(second), ['actions']);
  assert.deepEqual(editsOf(second), { whatMattersToMe: { by: 'Ann, GP, Practice', at: '2026-12-01T10:00:00.000Z' }, actions: { by: 'Sam, social worker, Council', at: '2026-12-02T10:00:00.000Z' } });
  assert.equal(editsOf(third).actions?.by, 'Ann, GP, Practice');
  assert.equal(third.extension?.filter((e) => e.url.endsWith('changed-by')).length, 1, 'one changed-by per version, not accumulated');
  assert.equal(third.created, '2026-12-01T10:00:00.000Z');
});
