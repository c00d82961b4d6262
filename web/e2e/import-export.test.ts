/**
 * Journey 6: a PCN manager's registry comes in through `pcn import registry`, is seen and changed in the
 * browser, and goes out again through `pcn export registry`. A bad file is refused whole: the browser
 * shows the registry exactly as it was. Runs on the engine in PCN_TEST_ENGINE.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';
import { ensureWebBuild, launchChromium, openPage, screenshot, signIn } from './harness.ts';

const ADMIN = { email: 'registry.lead@pcn-hub.example', password: 'import export journey password' };
const AREA = 'Suffolk Coast (import test)';

let work: string;
let store: Store;
let browser: Browser;

const pcn = (args: string[], stdin?: string) => runPcn(args, { cwd: work, env: store.env, stdin });
const serve = () => startServer({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, seedDemo: false });

async function writeRegistry(dir: string, practicesCsv: string) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'areas.csv'), `code,name,size_min,size_max\nQ98,${AREA},25000,70000\n`);
  await writeFile(
    join(dir, 'pcns.csv'),
    'pcn_code,pcn_name,area_code,clinical_director,nominated_payee_ods,open_date\n' + 'U98001,Felixstowe PCN,Q98,Dr Imogen Reed,Z98101,2019-07-01\n' + 'U98002,Woodbridge PCN,Q98,,,2019-07-01\n',
  );
  await writeFile(join(dir, 'practices.csv'), practicesCsv);
}

const GOOD_PRACTICES =
  'ods_code,name,postcode,pcn_code,list_size,latitude,longitude,joined_date\n' +
  'Z98101,Harbour Surgery,IP11 7HX,U98001,18000,51.963,1.351,2019-07-01\n' +
  'Z98102,Seafront Medical Centre,IP11 2AA,U98001,14500,51.958,1.338,2019-07-01\n' +
  'Z98201,Deben Surgery,IP12 1BB,U98002,12000,52.094,1.318,2019-07-01\n';

before(async () => {
  ensureWebBuild();
  work = await mkdtemp(join(tmpdir(), 'pcn-journey6-'));
  store = await freshStore(work);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await store?.drop();
  await rm(work, { recursive: true, force: true });
});

test('6. import a registry with the CLI, see and change it in the browser, export it again', async () => {
  await writeRegistry(join(work, 'in'), GOOD_PRACTICES);
  const imported = await pcn(['import', 'registry', join(work, 'in')]);
  assert.equal(imported.code, 0, imported.stderr);
  const added = await pcn(['user', 'add', '--email', ADMIN.email, '--name', 'Registry Lead', '--role', 'admin', '--password-stdin'], ADMIN.password);
  assert.equal(added.code, 0, added.stderr);

  // A bad file (an unknown PCN on line 3) is refused whole: no practice from it lands.
  await writeRegistry(
    join(work, 'bad'),
    `${GOOD_PRACTICES.replace('Z98201,Deben Surgery,IP12 1BB,U98002,12000', 'Z98301,New Surgery,IP12 3CC,U98009,9000')}Z98302,Another Surgery,IP12 4DD,U98002,8000,52.1,1.3,2019-07-01\n`,
  );
  const refused = await pcn(['import', 'registry', join(work, 'bad')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /practices\.csv line 4, column pcn_code: .*U98009/);

  let server: RunningServer | undefined = await serve();
  try {
    const { context, page, errors } = await openPage(browser, server.url);
    await signIn(page, server.url, ADMIN, AREA);
    const table = page.getByRole('table', { name: /PCNs in Suffolk Coast/ });
    await table.getByRole('link', { name: 'Felixstowe PCN' }).waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    assert.equal(rows.length, 2, 'only the two imported PCNs; nothing from the refused file');
    assert.match(rows.find((r) => r.includes('Felixstowe'))!, /32,500/);
    assert.match(rows.find((r) => r.includes('Woodbridge'))!, /12,000.*Below/s);
    await screenshot(page, 'journey-6-imported');

    await table.getByRole('link', { name: 'Woodbridge PCN' }).click();
    await page.getByRole('heading', { level: 1, name: 'Woodbridge PCN' }).waitFor();
    await page.getByRole('textbox', { name: 'Clinical director' }).fill('Dr Nadia Holt');
    await page.getByRole('button', { name: 'Set clinical director' }).click();
    await page.getByText('Dr Nadia Holt').first().waitFor();
    await screenshot(page, 'journey-6-changed');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await server.close();
    server = undefined;
  }

  const exported = await pcn(['export', 'registry', join(work, 'out')]);
  assert.equal(exported.code, 0, exported.stderr);
  const pcns = await readFile(join(work, 'out', 'pcns.csv'), 'utf8');
  assert.match(pcns, /U98002,Woodbridge PCN,Q98,Dr Nadia Holt,/);
  const practices = await readFile(join(work, 'out', 'practices.csv'), 'utf8');
  assert.doesNotMatch(practices, /Z98301|Z98302/);
  assert.match(practices, /Z98101,Harbour Surgery,IP11 7HX,,U98001,18000,/);
});
