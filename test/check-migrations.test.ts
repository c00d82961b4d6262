/** scripts/check-migrations.ts on real git repositories: a landed migration's content never changes. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
let work: string;
let repo: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-C', repo, '-c', 'user.name=Test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8', stdio: 'pipe' });
const write = async (path: string, text: string) => {
  await mkdir(dirname(join(repo, path)), { recursive: true });
  await writeFile(join(repo, path), text);
};
const commit = (message: string) => {
  git('add', '-A');
  git('commit', '-q', '-m', message);
};
const check = (dir = repo) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/check-migrations.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
};

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-check-migrations-'));
  repo = join(work, 'repo');
  await mkdir(repo);
  git('init', '-q');
  await write('src/modules/record/migrations/001_store.sql', 'CREATE TABLE a (id int);\n');
  await write('src/modules/audit/migrations/002_audit.sql', 'CREATE TABLE b (id int);\n');
  commit('early');
  await write('src/modules/record/migrations/001_store.sql', 'CREATE TABLE a (id int, v text);\n');
  commit('reworked before the check existed');
  await write('scripts/check-migrations.ts', '// the guard\n');
  commit('the guard');
});
after(() => rm(work, { recursive: true, force: true }));

test('migrations reworked before the check existed pass; a new one lands; a moved one keeps its number and content and passes', async () => {
  assert.deepEqual(check(), { code: 0, out: 'check-migrations: 2 landed migrations unchanged\n' });
  await write('src/modules/record/migrations/003_more.sql', 'CREATE TABLE c (id int);\n');
  assert.equal(check().code, 0, 'an uncommitted new migration has not landed');
  commit('003');
  await mkdir(join(repo, 'src/fhir-store/migrations'), { recursive: true });
  git('mv', 'src/modules/record/migrations/001_store.sql', 'src/fhir-store/migrations/001_fhir_store.sql');
  commit('the store moves to its own folder');
  assert.deepEqual(check(), { code: 0, out: 'check-migrations: 3 landed migrations unchanged\n' });
});

test('an edit to a landed migration fails, committed or not, naming the file; restoring it passes', async () => {
  const path = 'src/modules/record/migrations/003_more.sql';
  await write(path, 'CREATE TABLE c (id int, sneaked text);\n');
  const uncommitted = check();
  assert.equal(uncommitted.code, 1);
  assert.match(
    uncommitted.out,
    /check-migrations: src\/modules\/record\/migrations\/003_more\.sql differs from migration 003 as it landed \(src\/modules\/record\/migrations\/003_more\.sql in [0-9a-f]{10}\); landed migrations are never edited: add a new one/,
  );
  commit('edit 003');
  assert.equal(check().code, 1);
  await write(path, 'CREATE TABLE c (id int);\n');
  commit('put 003 back');
  assert.equal(check().code, 0);
});

test('a landed migration that disappears fails', async () => {
  git('rm', '-q', 'src/modules/audit/migrations/002_audit.sql');
  const result = check();
  assert.equal(result.code, 1);
  assert.match(result.out, /migration 002 \(src\/modules\/audit\/migrations\/002_audit\.sql, landed in [0-9a-f]{10}\) is gone from the tree/);
  git('checkout', '-q', 'HEAD', '--', 'src/modules/audit/migrations/002_audit.sql');
  assert.equal(check().code, 0);
});

test('without the history (not a git checkout, or a shallow clone) the check says so and skips', async () => {
  const plain = join(work, 'plain');
  await mkdir(plain);
  assert.deepEqual(check(plain), { code: 0, out: `check-migrations: ${plain} is not a git checkout: migration history not checked\n` });
  const shallow = join(work, 'shallow');
  execFileSync('git', ['clone', '-q', '--depth', '1', `file://${repo}`, shallow]);
  const result = check(shallow);
  assert.equal(result.code, 0);
  assert.match(result.out, /^check-migrations: shallow clone: .*migration history not checked\n$/);
});
