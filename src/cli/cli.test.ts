/** The CLI as a user runs it: real processes, a real data folder (or a fresh PostgreSQL database). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngine } from '../../test/db.ts';
import { freshStore as makeStore, runPcn, type Store } from '../../test/cli.ts';
import { startServer } from '../server.ts';
import { openStore } from '../storage/open.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let work: string;
let store: Store;
let env: Record<string, string>;
const others: Store[] = [];

const pcn = (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) => runPcn(args, { cwd: work, env: { ...env, ...options.env }, stdin: options.stdin });

async function freshStore(): Promise<Record<string, string>> {
  const other = await makeStore(work);
  others.push(other);
  return other.env;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-cli-'));
  store = await makeStore(work);
  env = { ...store.env, PCN_ADMIN_PASSWORD: 'correct horse battery staple' };
});
after(async () => {
  for (const s of [store, ...others]) await s.drop();
  await rm(work, { recursive: true, force: true });
});

test(`every command has --help and exits 0 (${testEngine})`, async () => {
  const top = await pcn(['--help']);
  assert.equal(top.code, 0);
  for (const command of ['serve', 'demo', 'import', 'export', 'user', 'client', 'token']) assert.match(top.stdout, new RegExp(`\\b${command}\\b`));
  for (const args of [
    ['serve', '--help'],
    ['demo', '--help'],
    ['import', '--help'],
    ['export', '--help'],
    ['user', 'add', '--help'],
    ['user', 'disable', '--help'],
    ['user', 'list', '--help'],
    ['user', 'set', '--help'],
    ['user', 'reset', '--help'],
    ['client', 'add', '--help'],
    ['client', 'list', '--help'],
    ['client', 'disable', '--help'],
    ['token', '--help'],
  ]) {
    const result = await pcn(args);
    assert.equal(result.code, 0, args.join(' '));
    assert.match(result.stdout, /Usage: pcn/);
  }
});

test('a failure exits non-zero with one line on stderr', async () => {
  const unknown = await pcn(['frobnicate']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const noUser = await pcn(['token', '--user', 'nobody@nowhere.example']);
  assert.equal(noUser.code, 1);
  assert.equal(noUser.stderr.trim().split('\n').length, 1);
  assert.match(noUser.stderr, /^pcn: no user with email nobody@nowhere.example/);
});

test('demo seeds the area once with its admin, adds synthetic patients, and a re-run resumes without duplicates', async () => {
  const first = await pcn(['demo', '--seed', '1', '--patients', '20']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Demo admin \(shown once\): admin@pcn-hub.example \/ correct horse battery staple/);
  assert.match(first.stdout, /Added 20 synthetic patients/);
  // The demo members, each with where they work; their one password shown once.
  assert.match(first.stdout, /Demo members \(password shown once: \S{12,}\):\n {2}gp\.demo@pcn-hub\.example {2}gp at .+ \(Z\d{5}\)\n/);
  assert.match(first.stdout, /\n {2}social\.worker\.demo@pcn-hub\.example {2}social-worker at Norfolk County Council Adult Social Services \(LA-NORFOLK\)\n/);
  assert.match(first.stdout, /\n {2}pharmacist\.demo@pcn-hub\.example {2}clinical-pharmacist at .+ \(FZ\d{3}\)\n/);
  const second = await pcn(['demo', '--patients', '25']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /not seeded again/);
  assert.doesNotMatch(second.stdout, /Demo admin|Demo members/);
  assert.match(second.stdout, /Added 5 synthetic patients .*; 20 were already there/);
});

test('user add with a password from stdin, then token prints a bearer the server accepts', async () => {
  const added = await pcn(['user', 'add', '--email', 'Pat@Example.org', '--name', 'Pat Manager', '--role', 'pcn-manager', '--org', 'U90002', '--password-stdin'], {
    stdin: 'a long enough password\n',
  });
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Added pat@example.org \(pcn-manager in U90002\)/);
  const badRole = await pcn(['user', 'add', '--email', 'x@example.org', '--name', 'X', '--role', 'wizard']);
  assert.notEqual(badRole.code, 0);
  assert.match(badRole.stderr, /Allowed choices are admin, pcn-manager, clinician, analyst/);
  const weak = await pcn(['user', 'add', '--email', 'y@example.org', '--name', 'Y', '--role', 'analyst', '--password-stdin'], { stdin: 'short' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /at least 12 characters/);

  const token = await pcn(['token', '--user', 'pat@example.org']);
  assert.equal(token.code, 0, token.stderr);
  const bearer = token.stdout.trim().split('\n').at(-1)!;
  const server = await startServer({ dataDir: store.dataDir, databaseUrl: store.databaseUrl });
  try {
    const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${bearer}` } });
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), {
      email: 'pat@example.org',
      name: 'Pat Manager',
      role: 'pcn-manager',
      org: 'U90002',
      orgName: 'Norwich North PCN',
      orgKind: 'pcn',
      pcnCode: 'U90002',
      pcnCodes: ['U90002'],
      signature: 'Pat Manager, PCN manager, Norwich North PCN',
      orgIdentifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'U90002' },
    });
  } finally {
    await server.close();
  }
});

test('export → import round-trips the registry into an empty store', async () => {
  const out = join(work, 'export-1');
  const exported = await pcn(['export', 'registry', out]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /Exported 20 PCNs and 100 practices/);
  const otherStore = await freshStore();
  const imported = await pcn(['import', 'registry', out], { env: otherStore });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /Imported 20 PCNs, 100 practices/);
  const again = join(work, 'export-2');
  assert.equal((await pcn(['export', 'registry', again], { env: otherStore })).code, 0);
  for (const file of await readdir(out)) {
    assert.equal(await readFile(join(again, file), 'utf8'), await readFile(join(out, file), 'utf8'), file);
  }
});

test('a bad row rejects the whole import with file, line and column, and nothing is written', async () => {
  const source = join(work, 'export-1');
  const bad = join(work, 'bad-import');
  assert.equal((await pcn(['export', 'registry', bad])).code, 0);
  const practices = (await readFile(join(source, 'practices.csv'), 'utf8')).split('\n');
  // A new PCN on line 2 of pcns.csv would be written first if the import were not atomic.
  const pcns = await readFile(join(source, 'pcns.csv'), 'utf8');
  await writeFile(join(bad, 'pcns.csv'), pcns.replace(/\n/, '\nU90077,Should Not Land PCN,Q99,,,2024-04-01\n'));
  const columns = practices[0]!.split(',');
  const row = practices[3]!.split(',');
  row[columns.indexOf('postcode')] = 'NOT A POSTCODE';
  practices[3] = row.join(',');
  await writeFile(join(bad, 'practices.csv'), practices.join('\n'));
  const result = await pcn(['import', 'registry', bad]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /^pcn: practices\.csv line 4, column postcode: 'NOT A POSTCODE' is not a valid UK postcode/);
  const db = await openStore({ dataDir: store.dataDir ?? '', databaseUrl: store.databaseUrl });
  try {
    assert.deepEqual(await db.query("SELECT code FROM pcn WHERE code = 'U90077'"), []);
  } finally {
    await db.close();
  }
});

test('serve: a second start reuses the data without re-seeding, and SIGTERM shuts down cleanly', async () => {
  const count = async () => {
    const db = await openStore({ dataDir: store.dataDir ?? '', databaseUrl: store.databaseUrl });
    try {
      return (await db.query<{ n: number }>('SELECT (SELECT count(*) FROM practice) + (SELECT count(*) FROM practice_membership) AS n'))[0]!.n;
    } finally {
      await db.close();
    }
  };
  const before = await count();
  const child = spawn(process.execPath, [join(ROOT, 'bin/pcn.js'), 'serve', '--port', '0'], { cwd: work, env: { ...process.env, ...env, LOG_LEVEL: 'info' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /ready on (http:\/\/[^"\s]+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.doesNotMatch(output, /Demo admin/, 'the admin is shown only on the start that seeded');
  const line = JSON.parse(output.split('\n').find((l) => l.includes('ready on'))!) as { msg: string; level: number };
  assert.equal(line.level, 30, 'logs are pino JSON');
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exitCode, 0);
  assert.equal(await count(), before);
});

test('export fhir --user runs as that user: an analyst exports no patient-level rows; an unknown user is refused', async () => {
  const added = await pcn(['user', 'add', '--email', 'analyst@cli.example', '--name', 'Ann Alyst', '--role', 'analyst', '--org', 'U90001']);
  assert.equal(added.code, 0, added.stderr);
  const all = await pcn(['export', 'fhir', join(work, 'as-system')]);
  assert.match(all.stdout, /as the system operator; audited/);
  const asAnalyst = await pcn(['export', 'fhir', join(work, 'as-analyst'), '--user', 'analyst@cli.example', '--purpose', 'secondary-use']);
  assert.equal(asAnalyst.code, 0, asAnalyst.stderr);
  assert.match(asAnalyst.stdout, /as analyst@cli\.example; audited/);
  const patientRows = async (dir: string) => (await readFile(join(work, dir, 'Patient.ndjson'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  assert.equal(await patientRows('as-analyst'), 0, 'no Patient rows for an analyst');
  assert.ok((await patientRows('as-system')) > 0);
  assert.doesNotMatch(asAnalyst.stdout, /Patient\.ndjson/);
  const analystFiles = await readdir(join(work, 'as-analyst'));
  assert.ok(analystFiles.length > 0 && !analystFiles.includes('Patient.ndjson') && !analystFiles.includes('Observation.ndjson'), analystFiles.join(' '));
  for (const file of analystFiles) assert.ok((await readFile(join(work, 'as-analyst', file), 'utf8')).length > 0, `${file} holds resources: a type with none leaves no file`);
  const unknown = await pcn(['export', 'fhir', join(work, 'as-nobody'), '--user', 'nobody@cli.example']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no user has the email nobody@cli\.example/);
  const newRole = await pcn(['user', 'add', '--email', 'link@cli.example', '--name', 'Lin Kworker', '--role', 'social-prescribing-link-worker', '--org', 'U90001']);
  assert.equal(newRole.code, 0, newRole.stderr);
  assert.match(newRole.stdout, /social-prescribing-link-worker/);
});

test('export fhir writes NDJSON per type; import fhir of it into an empty store round-trips and resumes', async () => {
  const out = join(work, 'fhir-export');
  const exported = await pcn(['export', 'fhir', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const total = Number(/Exported (\d+) resources/.exec(exported.stdout)?.[1]);
  assert.ok(total > 20, exported.stdout);
  assert.match(exported.stdout, /Patient\.ndjson/);
  const otherStore = await freshStore();
  const imported = await pcn(['import', 'fhir', out], { env: otherStore });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, new RegExp(`Imported ${total} resources`));
  const again = await pcn(['import', 'fhir', out], { env: otherStore });
  assert.match(again.stdout, new RegExp(`Imported 0 resources .*skipped ${total} already imported`));
  const bad = join(work, 'bad.ndjson');
  await writeFile(bad, '{"resourceType":"Patient","id":"ok-1"}\n{"resourceType":"Patient","birthDate":"yesterday"}\n');
  const refused = await pcn(['import', 'fhir', bad], { env: otherStore });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^pcn: bad\.ndjson:2 entry 0 \(Patient\.birthDate\): Invalid date format/);
});

test('client add registers a system with its public keys and prints its id last; list and disable; mistakes are one line', async () => {
  const { exportJWK, generateKeyPair } = await import('jose');
  const jwks = join(work, 'pharmacy.jwks.json');
  await writeFile(jwks, JSON.stringify({ keys: [{ ...(await exportJWK((await generateKeyPair('ES384')).publicKey)), kid: 'k1', alg: 'ES384' }] }));
  const args = ['client', 'add', '--name', 'Riverside Pharmacy PMR', '--org', 'U90001', '--role', 'clinician', '--jwks', jwks, '--scope', 'system/Patient.rs system/Observation.read'];
  const added = await pcn(args);
  assert.equal(added.code, 0, added.stderr);
  const id = added.stdout.trim().split('\n').at(-1)!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  const listed = await pcn(['client', 'list']);
  assert.match(listed.stdout, new RegExp(`^${id}\\tRiverside Pharmacy PMR\\tU90001\\tclinician\\tsystem/Patient.rs system/Observation.read\\tenabled$`, 'm'));
  assert.equal((await pcn(['client', 'disable', '--id', id])).code, 0);
  assert.match((await pcn(['client', 'list'])).stdout, new RegExp(`^${id}\\t.*\\tdisabled \\d{4}-`, 'm'));

  for (const [bad, message] of [
    [['--org', 'Q99999'], /^pcn: org: no PCN, practice or partner organisation has the code Q99999\n$/],
    [['--jwks', join(work, 'missing.json')], /^pcn: cannot read --jwks .*missing\.json: ENOENT\n$/],
    [['--scope', 'patient/*.read'], /^pcn: 'patient\/\*\.read' is not a system scope/],
  ] as const) {
    const flag = bad[0];
    const at = args.indexOf(flag);
    const result = await pcn([...args.slice(0, at + 1), bad[1], ...args.slice(at + 2)]);
    assert.equal(result.code, 1, `${flag}: ${result.stdout}`);
    assert.match(result.stderr, message);
  }
  const unknown = await pcn(['client', 'disable', '--id', 'no-such-client']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^pcn: the backend client no-such-client was not found\n$/);
});

test('user disable: the user’s token is refused by the server at once, and pcn token no longer issues one', async () => {
  const added = await pcn(['user', 'add', '--email', 'leaver@example.org', '--name', 'Lee Leaver', '--role', 'clinician', '--org', 'Z90101']);
  assert.equal(added.code, 0, added.stderr);
  const bearer = (await pcn(['token', '--user', 'leaver@example.org'])).stdout.trim().split('\n').at(-1)!;
  const server = await startServer({ dataDir: store.dataDir, databaseUrl: store.databaseUrl });
  const me = () => fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${bearer}` } });
  try {
    assert.equal((await me()).status, 200);
    if (testEngine === 'postgres') {
      // Another process beside the running server: the server's next request sees it.
      const disabled = await pcn(['user', 'disable', '--email', 'leaver@example.org']);
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal((await me()).status, 401);
    }
  } finally {
    await server.close();
  }
  if (testEngine === 'pglite') assert.equal((await pcn(['user', 'disable', '--email', 'leaver@example.org'])).code, 0);
  const refused = await pcn(['token', '--user', 'leaver@example.org']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^pcn: leaver@example.org has been disabled: no token is issued\n$/);
  assert.equal((await pcn(['user', 'disable', '--email', 'nobody@example.org'])).code, 1);
});

test('user list, set and reset: a mover’s token carries the new role on its next request, a reset ends their sessions and the new password signs in; an unknown --org is refused by name and nothing is written', async () => {
  const added = await pcn(['user', 'add', '--email', 'Mover@Example.org', '--name', 'Mo Ver', '--role', 'nurse', '--org', 'z90101', '--password-stdin'], { stdin: 'the first long password\n' });
  assert.equal(added.code, 0, added.stderr);
  const listLine = async () => (await pcn(['user', 'list'])).stdout.split('\n').find((line) => line.startsWith('mover@example.org\t'));
  const before = await listLine();
  assert.match(before ?? '', /^mover@example\.org\tMo Ver\tnurse\tZ90101 \S.*\tenabled$/, 'tab-separated: email, name, role, organisation with its name, status');
  const listed = await pcn(['user', 'list']);
  assert.match(listed.stdout, /^admin@pcn-hub\.example\t/m);
  assert.doesNotMatch(listed.stdout, /argon2/, 'never a password hash');

  for (const [args, message] of [
    [['user', 'set', '--email', 'mover@example.org', '--role', 'gp', '--org', 'Z99999'], /^pcn: org: no PCN, practice or partner organisation has the code Z99999\n$/],
    [['user', 'set', '--email', 'mover@example.org', '--org', 'not a code'], /^pcn: org must be the code of a PCN, practice or partner organisation/],
    [['user', 'set', '--email', 'mover@example.org'], /^pcn: give at least one change: --role, --org, --no-org or --name\n$/],
    [['user', 'set', '--email', 'mover@example.org', '--role', 'pcn-manager', '--no-org'], /^pcn: a pcn-manager needs --org/],
    [['user', 'set', '--email', 'nobody@example.org', '--name', 'No One'], /^pcn: the user nobody@example.org was not found\n$/],
    [['user', 'add', '--email', 'ghost@example.org', '--name', 'G Host', '--role', 'gp', '--org', 'Z99999'], /^pcn: org: no PCN, practice or partner organisation has the code Z99999\n$/],
    [['user', 'reset', '--email', 'nobody@example.org', '--password-stdin'], /^pcn: the user nobody@example.org was not found\n$/],
  ] as const) {
    const refused = await pcn([...args], { stdin: 'a long enough password' });
    assert.equal(refused.code, 1, `${args.join(' ')}: ${refused.stdout}`);
    assert.match(refused.stderr, message, args.join(' '));
  }
  const weak = await pcn(['user', 'reset', '--email', 'mover@example.org', '--password-stdin'], { stdin: 'short\n' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /^pcn: a password needs at least 12 characters\n$/);
  assert.equal(await listLine(), before, 'nothing was written');
  assert.doesNotMatch((await pcn(['user', 'list'])).stdout, /ghost@example\.org/);

  const bearer = (await pcn(['token', '--user', 'mover@example.org'])).stdout.trim().split('\n').at(-1)!;
  // PostgreSQL: the commands run beside one running server, whose next request sees each change. PGlite
  // (one process holds the folder): the server runs between the commands.
  const running = testEngine === 'postgres' ? await startServer({ dataDir: store.dataDir, databaseUrl: store.databaseUrl }) : undefined;
  const atServer = async <T>(work: (url: string) => Promise<T>): Promise<T> => {
    if (running) return work(running.url);
    const server = await startServer({ dataDir: store.dataDir, databaseUrl: store.databaseUrl });
    try {
      return await work(server.url);
    } finally {
      await server.close();
    }
  };
  const me = (url: string, token = bearer) => fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  try {
    assert.equal((await atServer(async (url) => (await (await me(url)).json()) as { role: string })).role, 'nurse');
    const moved = await pcn(['user', 'set', '--email', 'mover@example.org', '--role', 'gp', '--org', 'Z90201', '--name', 'Mo Moved']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, 'mover@example.org is now Mo Moved, gp at Z90201 in U90002.\n');
    const after = await atServer(async (url) => (await (await me(url)).json()) as { orgName: string });
    assert.match(after.orgName, /\w/, 'the practice by name');
    assert.deepEqual(after, {
      email: 'mover@example.org',
      name: 'Mo Moved',
      role: 'gp',
      org: 'Z90201',
      orgName: after.orgName,
      orgKind: 'gp-practice',
      pcnCode: 'U90002',
      pcnCodes: ['U90002'],
      signature: `Mo Moved, GP, ${after.orgName}`,
      orgIdentifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Z90201' },
    });

    const reset = await pcn(['user', 'reset', '--email', 'mover@example.org', '--password-stdin'], { stdin: 'the second long password\n' });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /^Reset the password of mover@example.org: their sessions have ended/);
    await atServer(async (url) => {
      const refused = await me(url);
      assert.equal(refused.status, 401);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /password was reset/);
      const login = (password: string) =>
        fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'mover@example.org', password }) });
      assert.equal((await login('the first long password')).status, 401, 'the old password no longer works');
      const signedIn = await login('the second long password');
      assert.equal(signedIn.status, 200, 'the new one does');
      assert.equal((await me(url, ((await signedIn.json()) as { token: string }).token)).status, 200);
    });
  } finally {
    await running?.close();
  }
  assert.match((await listLine()) ?? '', /^mover@example\.org\tMo Moved\tgp\tZ90201 \S.*\tenabled$/);
  const unset = await pcn(['user', 'set', '--email', 'mover@example.org', '--role', 'admin', '--no-org']);
  assert.equal(unset.code, 0, unset.stderr);
  assert.match((await listLine()) ?? '', /^mover@example\.org\tMo Moved\tadmin\t-\tenabled$/);
});
