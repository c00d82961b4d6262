/** `pcn population run` as an operator runs it: every patient scored as of the day given; a wrong day refused in one line, nothing written. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';
import { testEngine } from '../../test/db.ts';
import { openStore } from '../storage/open.ts';

let work: string;
let store: Store;
const pcn = (args: string[]) => runPcn(args, { cwd: work, env: store.env });

async function query<T>(sql: string): Promise<T[]> {
  const db = await openStore({ databaseUrl: store.databaseUrl, dataDir: store.dataDir ?? '' });
  try {
    return await db.query<T>(sql);
  } finally {
    await db.close();
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-population-'));
  store = await freshStore(work);
  const demo = await pcn(['demo', '--seed', '1', '--patients', '6']);
  assert.equal(demo.code, 0, demo.stderr);
});
after(async () => {
  await store.drop();
  await rm(work, { recursive: true, force: true });
});

test(`population run --help; a run scores every patient as of the day given (${testEngine})`, async () => {
  const help = await pcn(['population', 'run', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: pcn population run/);
  assert.match(help.stdout, /--as-of <date>/);
  const run = await pcn(['population', 'run', '--as-of', '2026-01-15']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Scored 6 patients as of 2026-01-15 \(rules [0-9a-f]{12}\); audited\.\n$/);
  const rows = await query<{ n: number; days: string[] }>('SELECT count(*)::int AS n, array_agg(DISTINCT as_of::text) AS days FROM population_result');
  assert.deepEqual({ ...rows[0] }, { n: 6, days: ['2026-01-15'] });
  const audit = await query<{ actor: string }>("SELECT actor FROM audit_event WHERE action = 'population.run'");
  assert.deepEqual(
    audit.map((a) => a.actor),
    ['system'],
  );
});

test(`a day that is not a calendar day is refused in one line, exit 1, nothing scored (${testEngine})`, async () => {
  for (const bad of ['2026-02-30', '1/2/2026']) {
    const refused = await pcn(['population', 'run', '--as-of', bad]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `pcn: --as-of must be a calendar day written YYYY-MM-DD (e.g. 2026-04-01), not '${bad}'\n`);
    assert.equal(refused.stdout, '');
  }
  const runs = await query<{ n: number }>('SELECT count(*)::int AS n FROM population_run');
  assert.equal(runs[0]!.n, 1, 'only the good run is recorded');
});
