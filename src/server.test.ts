/**
 * A first start answers at once: the demo population is added behind the server, which serves pages and the API
 * meanwhile and shows how far the seeding has got on /healthz (the web app's banner reads it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.ts';
import { testDb } from '../test/db.ts';

const PASSWORD = 'correct horse battery staple';
const PATIENTS = 400;

test('while the demo population seeds, pages and the API answer and /healthz shows the progress; then it says no more', async () => {
  const db = await testDb();
  const server = await startServer({ db, seedDemo: true, demoPatients: PATIENTS, adminPassword: PASSWORD });
  try {
    let finished = false;
    void server.patientsSeeded.then(() => (finished = true));
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.equal(finished, false, 'the seeding is still going when the server first answers');
    assert.equal(health.status, 'ok');
    assert.equal(health.demoSeeding.of, PATIENTS);
    assert.ok(health.demoSeeding.patients >= 0 && health.demoSeeding.patients < PATIENTS, `part-way: ${JSON.stringify(health.demoSeeding)}`);

    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200, 'the web app is served meanwhile');
    const login = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@pcn-hub.example', password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const { token } = await login.json();
    const pcns = await fetch(`${server.url}/api/pcns`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(pcns.status, 200, 'and the API');
    assert.equal((await pcns.json()).items.length, 20);

    await server.patientsSeeded;
    const done = await (await fetch(`${server.url}/healthz`)).json();
    assert.deepEqual(done, { status: 'ok' }, 'no progress once the population is in');
    const [patients] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Patient' AND NOT deleted`);
    assert.equal(patients?.n, PATIENTS);
  } finally {
    await server.close();
    await db.close();
  }
});

test('a start that did not seed (or seeds no patients) shows no progress', async () => {
  const db = await testDb();
  const server = await startServer({ db, seedDemo: true, adminPassword: PASSWORD });
  try {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
  } finally {
    await server.close();
    await db.close();
  }
});

test('the first start scores the seeded demo population with one run (the dashboards read it); a restart runs none again', async () => {
  const db = await testDb();
  const finishedRuns = async () => db.query<{ patients: number }>('SELECT patients FROM population_run WHERE finished_at IS NOT NULL');
  const first = await startServer({ db, seedDemo: true, demoPatients: 40, adminPassword: PASSWORD });
  try {
    await first.patientsSeeded;
    const deadline = Date.now() + 120_000;
    while ((await finishedRuns()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(await finishedRuns(), [{ patients: 40 }], 'one run over every seeded patient');
  } finally {
    await first.close();
  }
  const again = await startServer({ db, seedDemo: true, adminPassword: PASSWORD });
  try {
    await again.patientsSeeded;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal((await finishedRuns()).length, 1, 'a start that seeded nothing makes no run: the feed keeps the scores current');
  } finally {
    await again.close();
    await db.close();
  }
});
