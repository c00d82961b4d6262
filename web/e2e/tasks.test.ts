/**
 * Tasks and notifications (issue 12) in Chromium against a real server on a fresh demo-seeded database: a GP opens
 * a patient's record, follows "Create a task" and asks the PCN's clinical pharmacists to "Review medicines after
 * discharge"; the pharmacist signs in, sees the notification in the header (raised from the change feed), opens
 * it, finds the task in My tasks, starts it and completes it. Screenshots go to test-results/tasks-*.png (each
 * also checked by axe).
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/tasks.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser } from '../../src/modules/access/index.ts';
import { loadRegistry } from '../../src/modules/network/index.ts';
import { demoMembers } from '../../src/demo/seed-demo.ts';
import { nhsNumberFor } from '../../src/demo/synthetic-population.ts';
import { createPatient, journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };
const GP = { email: 'gp.tasks@pcn-hub.example', password: 'a long tasks gp password', name: 'Dr Gita Tasker' };
const PHARMACIST = { email: 'pharmacist.tasks@pcn-hub.example', password: 'a long tasks pharmacist password', name: 'Priya Shah' };

const COLLEAGUE = { email: 'pharmacist2.tasks@pcn-hub.example', password: 'a long second pharmacist password', name: 'Pat Second' };

let patientId: string;
let pcnName: string;

const running = journeyServer(ADMIN.password, async (server) => {
  const registry = await loadRegistry(server.db);
  const practice = demoMembers(registry).find((m) => m.role === 'gp')!.org!;
  const pcn = registry.memberships.find((m) => m.practiceOds === practice && m.endDate === null)!.pcnCode;
  pcnName = registry.pcns.find((p) => p.code === pcn)!.name;
  await addUser(server.db, { email: GP.email, name: GP.name, role: 'gp', org: practice, password: GP.password });
  await addUser(server.db, { email: PHARMACIST.email, name: PHARMACIST.name, role: 'clinical-pharmacist', org: pcn, password: PHARMACIST.password });
  await addUser(server.db, { email: COLLEAGUE.email, name: COLLEAGUE.name, role: 'clinical-pharmacist', org: pcn, password: COLLEAGUE.password });
  patientId = await createPatient(server.url, ADMIN, { nhsNumber: nhsNumberFor(720_001), family: 'Marsh', given: 'Edith', birthDate: '1938-06-12', practiceOds: practice, problem: 'Heart failure' });
});

const inThreeDays = () => {
  const day = new Date(Date.now() + 3 * 86_400_000);
  return { day: String(day.getUTCDate()), month: String(day.getUTCMonth() + 1), year: String(day.getUTCFullYear()) };
};

test('a GP asks the PCN’s clinical pharmacists to review medicines after discharge; the pharmacist is told, and completes it', async () => {
  const gp = await running.openPage();
  try {
    await running.signIn(gp.page, GP);
    await gp.page.goto(`${running.server.url}/patients/${patientId}`);
    await gp.page.getByRole('heading', { level: 1 }).first().waitFor();
    await gp.page.getByRole('link', { name: /^Create a task/ }).click();
    await gp.page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    assert.match(new URL(gp.page.url()).search, new RegExp(`patient=${patientId}`));
    await gp.page.getByRole('link', { name: 'Edith Marsh' }).waitFor();
    await gp.page.getByLabel('What needs doing').fill('Review medicines after discharge');
    await gp.page.getByLabel('A role in an organisation').check();
    await gp.page.getByLabel('Role', { exact: true }).selectOption('clinical-pharmacist');
    const due = inThreeDays();
    await gp.page.getByLabel('Day').fill(due.day);
    await gp.page.getByLabel('Month').fill(due.month);
    await gp.page.getByLabel('Year').fill(due.year);
    await screenshot(gp.page, 'tasks-1-gp-creates');
    await gp.page.getByRole('button', { name: 'Create task' }).click();
    await gp.page
      .getByRole('status')
      .filter({ hasText: `created for Clinical pharmacists, ${pcnName}` })
      .waitFor();
    await gp.page.getByRole('link', { name: 'My team’s tasks' }).click();
    await gp.page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    await screenshot(gp.page, 'tasks-2-gp-created');
  } finally {
    await gp.context.close();
  }

  const pharmacist = await running.openPage();
  try {
    const { page } = pharmacist;
    await running.signIn(page, PHARMACIST);
    // The follower raises the notification within seconds; the header counts again on each page.
    const until = Date.now() + 20_000;
    while (!(await page.locator('.pcn-notifications-count').isVisible())) {
      assert.ok(Date.now() < until, 'the notification reaches the pharmacist within 20 s');
      await page.waitForTimeout(500);
      await page.reload();
      await page.locator('main h1').first().waitFor();
    }
    assert.equal(await page.locator('.pcn-notifications-count').textContent(), '1');
    await page.getByRole('link', { name: /^Notifications/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const notice = page.getByRole('link', { name: /^New task for clinical pharmacists from Dr Gita Tasker/ });
    await notice.waitFor();
    assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /Marsh|Edith/, 'no patient name in a notification');
    await screenshot(page, 'tasks-3-pharmacist-notified');
    await notice.click();
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    const row = page.getByRole('row', { name: /Review medicines after discharge/ });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /MARSH, Edith/);
    assert.equal(await page.locator('.pcn-notifications-count').count(), 0, 'read once opened');
    await screenshot(page, 'tasks-4-pharmacist-my-tasks');
    await row.getByRole('button', { name: /^Start/ }).click();
    await page.getByRole('status').filter({ hasText: 'started' }).waitFor();
    await row.getByRole('button', { name: /^Complete/ }).click();
    await page.getByRole('status').filter({ hasText: 'completed' }).waitFor();
    assert.match((await row.textContent()) ?? '', /Completed/);
    await screenshot(page, 'tasks-5-pharmacist-completed');
  } finally {
    await pharmacist.context.close();
  }
});

test('a pharmacist going on leave gives her task to a colleague: it leaves her list and is on theirs', async () => {
  const login = await fetch(`${running.server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(GP) });
  const token = ((await login.json()) as { token: string }).token;
  const created = await fetch(`${running.server.url}/api/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'Chase the hospital discharge letter', assignee: { email: PHARMACIST.email } }),
  });
  assert.equal(created.status, 201, await created.clone().text());

  const pharmacist = await running.openPage();
  try {
    const { page } = pharmacist;
    await running.signIn(page, PHARMACIST);
    await page.goto(`${running.server.url}/tasks`);
    const row = page.getByRole('row', { name: /Chase the hospital discharge letter/ });
    await row.waitFor();
    await row.getByRole('button', { name: /^Reassign/ }).click();
    const form = page.getByRole('form', { name: /Give “Chase the hospital discharge letter” to someone else/ });
    await form.getByRole('button', { name: 'Give the task to them' }).click();
    await form.getByRole('alert').getByText(/email/i).first().waitFor();
    await form.getByLabel('Their email address').fill(COLLEAGUE.email);
    await screenshot(page, 'tasks-6-reassigning');
    await form.getByRole('button', { name: 'Give the task to them' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `given to ${COLLEAGUE.name}` })
      .waitFor();
    assert.equal(await page.getByRole('row', { name: /Chase the hospital discharge letter/ }).count(), 0, 'no longer on her list');
  } finally {
    await pharmacist.context.close();
  }
  const colleague = await running.openPage();
  try {
    const { page } = colleague;
    await running.signIn(page, COLLEAGUE);
    await page.goto(`${running.server.url}/tasks`);
    const row = page.getByRole('row', { name: /Chase the hospital discharge letter/ });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', new RegExp(COLLEAGUE.name));
    await screenshot(page, 'tasks-7-colleague-has-it');
  } finally {
    await colleague.context.close();
  }
});
