/**
 * Care teams and the shared care and support plan (issue 12), in a real browser on a fresh demo (the engine chosen
 * by PCN_TEST_ENGINE): the demo GP puts the council's social worker on a patient's care team as care coordinator
 * and starts the plan; then the GP and the social worker change the same section at once. The second to save is
 * shown both versions side by side, writes one from the two and saves it; the plan shows both changes and its
 * history both agencies, by name. Screenshots: test-results/careplans-*.png.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/careplans.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { type DemoMember, demoMembers } from '../../src/demo/seed-demo.ts';
import { loadRegistry } from '../../src/modules/network/index.ts';
import { createPatient, DESKTOP, journeyServer, PHONE, screenshot } from './harness.ts';

const ADMIN_PASSWORD = 'correct horse battery staple';
const DEMO_PASSWORD = 'a long demo members password';
let members: DemoMember[];
let patientId = '';

const running = journeyServer({ adminPassword: ADMIN_PASSWORD, demoMembers: true, demoPassword: DEMO_PASSWORD }, async (server) => {
  members = demoMembers(await loadRegistry(server.db));
  patientId = await createPatient(
    server.url,
    { email: 'admin@pcn-hub.example', password: ADMIN_PASSWORD },
    { nhsNumber: '9990007128', family: 'Ashworth', given: 'Edna', birthDate: '1936-05-14', practiceOds: member('gp').org!, problem: 'Moderate frailty' },
  );
});
const { openPage, signIn } = running;

function member(role: string) {
  const found = members.find((m) => m.role === role);
  assert.ok(found, `a demo ${role}`);
  return { ...found, password: DEMO_PASSWORD };
}
const text = async (locator: { textContent(): Promise<string | null> }) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const planSection = (page: Page, title: string) => page.getByRole('region', { name: title, exact: true });

/** Opens the section's form, writes `words` and saves. */
async function changeSection(page: Page, title: string, words: string) {
  await page.getByRole('button', { name: `Change ${title}` }).click();
  await page.getByRole('textbox', { name: title, exact: true }).fill(words);
  await page.getByRole('button', { name: `Save ${title}` }).click();
}

test('C1. a GP and a social worker change the same plan at once: the second sees both versions, merges them and saves', async () => {
  const gp = await openPage();
  const social = await openPage();
  try {
    // The GP puts the council's social worker on the care team, as care coordinator.
    await signIn(gp.page, member('gp'));
    await gp.page.goto(`${running.server.url}/patients/${patientId}`);
    const team = planSection(gp.page, 'Care team');
    await team.waitFor();
    assert.match(await text(team), /No one is on this patient’s care team yet/);
    await team.getByText('Add someone to the care team').click();
    await team.getByLabel('Their email address').fill(member('social-worker').email);
    await team.getByLabel('Their role on the team').fill('Social worker');
    await team.getByLabel('Make them the care coordinator').check();
    await team.getByRole('button', { name: 'Add to the care team' }).click();
    await team.getByText('Sam Okafor was added to the care team.').waitFor();
    assert.match(await text(team), /Care coordinator: Sam Okafor \(Social worker\)/);
    await screenshot(gp.page, 'careplans-record-care-team');

    // … and starts the plan with what matters to the patient, in her own words.
    await gp.page.getByRole('link', { name: 'Start the care and support plan' }).click();
    await gp.page.getByRole('heading', { level: 1, name: /Personalised care and support plan/ }).waitFor();
    await changeSection(gp.page, 'What matters to me', 'Staying in my own home with my cat, and seeing my grandson on Sundays.');
    await gp.page.getByText('Your changes to “What matters to me” were saved.').waitFor();

    // Both now have version 1 open.
    await signIn(social.page, member('social-worker'));
    await social.page.goto(`${running.server.url}/patients/${patientId}/care-plan`);
    await social.page.getByRole('heading', { level: 1, name: /Personalised care and support plan/ }).waitFor();
    const sections = await social.page.locator('main h2').allTextContents();
    assert.equal(sections[0], 'What matters to me', 'the person’s own words come first');
    assert.match(await text(planSection(social.page, 'What matters to me')), /my cat, and seeing my grandson on Sundays\.\s*In the person’s own words/);

    // The GP saves first …
    await changeSection(gp.page, 'Contingency and escalation plan', 'If Edna falls, call her daughter Jane, then the practice.');
    await gp.page.getByText('Your changes to “Contingency and escalation plan” were saved.').waitFor();
    await screenshot(gp.page, 'careplans-gp-saved');

    // … the social worker, still on version 1, saves the same section and is shown both versions.
    await changeSection(social.page, 'Contingency and escalation plan', 'If Jane cannot come, call the council’s emergency duty team.');
    const merge = social.page.getByRole('form', { name: /changed this plan while you were editing it/ });
    await merge.waitFor();
    assert.match(await text(merge), /Dr Grace Whitmore, GP, .* changed this plan while you were editing it/);
    const conflict = merge.getByRole('group', { name: 'Contingency and escalation plan: you both changed this' });
    assert.match(await text(conflict), /Their version.*call her daughter Jane, then the practice\.\s*Your version\s*If Jane cannot come, call the council’s emergency duty team\./);
    await screenshot(social.page, 'careplans-conflict-side-by-side');
    // On a phone the two versions stack, and nothing scrolls sideways.
    await social.page.setViewportSize(PHONE);
    await screenshot(social.page, 'careplans-conflict-phone');
    await social.page.setViewportSize(DESKTOP);

    // They write one version from the two, and save it against the version stored now.
    await conflict
      .getByLabel('Contingency and escalation plan: the version to save')
      .fill('If Edna falls, call her daughter Jane, then the practice. If Jane cannot come, call the council’s emergency duty team.');
    await merge.getByRole('button', { name: 'Save the merged plan' }).click();
    await social.page.getByText('The merged plan was saved. It keeps both sets of changes.').waitFor();
    const contingency = await text(planSection(social.page, 'Contingency and escalation plan'));
    assert.match(contingency, /then the practice\. If Jane cannot come, call the council’s emergency duty team\./);
    assert.match(contingency, /Last changed by Sam Okafor, social worker, /);
    assert.match(await text(planSection(social.page, 'What matters to me')), /grandson on Sundays/);
    const history = await text(social.page.getByRole('table', { name: 'Changes to this plan' }));
    assert.match(history, /Sam Okafor, social worker, .*Contingency and escalation plan.*Dr Grace Whitmore, GP, .*Contingency and escalation plan.*Dr Grace Whitmore, GP, .*What matters to me/);
    await screenshot(social.page, 'careplans-merged');

    // Each agency owns its actions: the social worker adds the council's, the GP a goal in Edna's words.
    const actions = planSection(social.page, 'Actions agreed');
    await actions.getByRole('button', { name: 'Change Actions agreed' }).click();
    await actions.getByRole('button', { name: 'Add an action' }).click();
    await actions.getByLabel('Action 1', { exact: true }).fill('Carer’s assessment for Jane');
    await actions.getByLabel('Action 1: organisation code of the agency that owns it').fill(member('social-worker').org!);
    await actions.getByLabel('Action 1: due by').fill('2027-02-01');
    await actions.getByLabel('Action 1: status').selectOption('scheduled');
    await screenshot(social.page, 'careplans-action-form');
    await actions.getByRole('button', { name: 'Save Actions agreed' }).click();
    await social.page.getByText('Your changes to “Actions agreed” were saved.').waitFor();
    assert.match(await text(actions.getByRole('table')), /Carer’s assessment for Jane\s*Norfolk County Council Adult Social Services\s*1 February 2027\s*Scheduled/);

    // The GP, on the version before both the merge and the action, adds a goal: merged for them without a question.
    const goals = planSection(gp.page, 'My goals');
    await goals.getByRole('button', { name: 'Change My goals' }).click();
    await goals.getByRole('button', { name: 'Add a goal' }).click();
    await goals.getByLabel('Goal 1', { exact: true }).fill('Walk to the corner shop on my own by spring');
    await goals.getByRole('button', { name: 'Save My goals' }).click();
    const merged = gp.page.getByRole('form', { name: /Sam Okafor, social worker, .* changed this plan while you were editing it/ });
    await merged.waitFor();
    assert.match(
      await text(merged.getByRole('region', { name: 'Merged for you' })),
      /My goals: your change kept.*Actions agreed: Sam Okafor, social worker, .*’s change kept.*Contingency and escalation plan: Sam Okafor/,
    );
    assert.equal(await merged.getByRole('group').count(), 0, 'nothing for the GP to choose');
    await screenshot(gp.page, 'careplans-merged-for-you');
    await merged.getByRole('button', { name: 'Save the merged plan' }).click();
    await gp.page.getByText('The merged plan was saved. It keeps both sets of changes.').waitFor();
    assert.match(await text(planSection(gp.page, 'My goals')), /Walk to the corner shop on my own by spring/);
    assert.match(await text(planSection(gp.page, 'Actions agreed')), /Carer’s assessment for Jane/);
    assert.match(await text(planSection(gp.page, 'Contingency and escalation plan')), /then the practice\. If Jane cannot come, call the council’s emergency duty team\./);
    assert.deepEqual(gp.errors, []);
    assert.deepEqual(social.errors, []);
  } finally {
    await gp.context.close();
    await social.context.close();
  }
});
