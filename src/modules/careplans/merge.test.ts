import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedSections, mergePlans } from './merge.ts';
import { EMPTY_PLAN, type PlanSections } from './types.ts';

const base: PlanSections = {
  ...EMPTY_PLAN,
  whatMattersToMe: 'Staying in my own home with my cat.',
  goals: [{ id: 'g1', description: 'Walk to the shop', targetDate: '2027-03-01', status: 'active' }],
  actions: [{ description: 'Falls assessment', owner: { code: 'Z90101', name: 'Practice' }, dueDate: '2027-01-10', status: 'not-started' }],
  contingencyPlan: 'Call the practice.',
  reviewDate: '2027-06-01',
};

test('a section only one side changed takes that side; untouched sections stay', () => {
  const theirs = { ...base, contingencyPlan: 'Call the practice; out of hours 111.' };
  const yours = { ...base, goals: [...base.goals, { description: 'See my grandson at Christmas', targetDate: null, status: 'active' as const }] };
  const { merged, conflicts, outcome } = mergePlans(base, theirs, yours);
  assert.deepEqual(conflicts, []);
  assert.equal(merged.contingencyPlan, 'Call the practice; out of hours 111.');
  assert.equal(merged.goals.length, 2);
  assert.equal(outcome.contingencyPlan, 'theirs');
  assert.equal(outcome.goals, 'yours');
  assert.equal(outcome.whatMattersToMe, 'unchanged');
  assert.equal(merged.whatMattersToMe, base.whatMattersToMe);
});

test('a section both changed differently is flagged, and holds theirs until settled; both changing it alike is no conflict', () => {
  const theirs = { ...base, contingencyPlan: 'Ring the GP first.', reviewDate: '2027-05-01' };
  const yours = { ...base, contingencyPlan: 'Ring the social worker first.', reviewDate: '2027-05-01' };
  const { merged, conflicts, outcome } = mergePlans(base, theirs, yours);
  assert.deepEqual(conflicts, ['contingencyPlan']);
  assert.equal(outcome.contingencyPlan, 'conflict');
  assert.equal(merged.contingencyPlan, 'Ring the GP first.');
  assert.equal(outcome.reviewDate, 'both-same');
  assert.equal(merged.reviewDate, '2027-05-01');
});

test('actions and goals compare by content: an owner change is a change, key order is not', () => {
  const reordered = { ...base, actions: [{ status: 'not-started' as const, dueDate: '2027-01-10', owner: { name: 'Practice', code: 'Z90101' }, description: 'Falls assessment' }] };
  assert.deepEqual(changedSections(base, reordered), []);
  const moved = { ...base, actions: [{ ...base.actions[0]!, owner: { code: 'LA-NORFOLK', name: 'Council' } }] };
  assert.deepEqual(changedSections(base, moved), ['actions']);
  const { conflicts } = mergePlans(base, moved, { ...base, actions: [{ ...base.actions[0]!, status: 'completed' }] });
  assert.deepEqual(conflicts, ['actions']);
});

test('from no plan at all (base empty), two first drafts of the same section conflict', () => {
  const theirs = { ...EMPTY_PLAN, whatMattersToMe: 'My garden.' };
  const yours = { ...EMPTY_PLAN, whatMattersToMe: 'My garden and my dog.', aboutMe: 'I am deaf in one ear.' };
  const { merged, conflicts } = mergePlans(EMPTY_PLAN, theirs, yours);
  assert.deepEqual(conflicts, ['whatMattersToMe']);
  assert.equal(merged.aboutMe, 'I am deaf in one ear.');
});
