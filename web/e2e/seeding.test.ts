/**
 * A first start in a real browser: while the demo population is still being added the pages work and say how
 * far it has got; the note goes once the population is in.
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/seeding.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { journeyServer, screenshot } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };

const running = journeyServer({ demoPatients: 1500, adminPassword: ADMIN.password });
const { openPage, signIn } = running;

test('while the demo population seeds, sign-in and the area page work and show the progress; the note goes when it is done', async () => {
  const { context, page, errors } = await openPage();
  try {
    await signIn(page, ADMIN);
    const note = page.getByRole('status').filter({ hasText: 'The demo population is still being added' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /[\d,]+ of 1,500 patients so far/);
    await screenshot(page, 'seeding-progress');
    await running.server.patientsSeeded;
    await note.waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
