/**
 * CI check: a migration that has landed is never edited (src/storage/migrate.ts refuses such a database at
 * start-up; this catches the edit before it ships). For every migration number in the working tree, the
 * file's content must equal the content that number had when it first landed: the first commit, in the
 * history of --landed (default HEAD), that added a migrations/NNN_*.sql file with that number anywhere
 * under src/. Moving or renaming a file keeps its number and content, so it passes; a landed number that
 * has disappeared fails.
 *
 * Migrations 001–009 were reworked during early development, before this check existed: for a number that
 * landed before the commit that added this script, the reference is its content in that commit.
 *
 * Needs the full history (a shallow clone cannot say what landed first): without it, or outside git, the
 * check says why and skips.
 *
 *   node --import tsx scripts/check-migrations.ts [--landed REF] [REPO_DIR]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MIGRATIONS = ':(glob)src/**/migrations/*.sql';
const NUMBERED = /(?:^|\/)migrations\/(\d{3})_[^/]*\.sql$/;
const THIS_SCRIPT = 'scripts/check-migrations.ts';

export interface CheckResult {
  /** Why nothing was checked, when it was not. */
  skipped?: string;
  checked: number;
  problems: string[];
}

interface Landing {
  commit: string;
  path: string;
}

export function checkMigrationHistory(repo: string, landed = 'HEAD'): CheckResult {
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const succeeds = (...args: string[]) => {
    try {
      git(...args);
      return true;
    } catch {
      return false;
    }
  };
  if (!succeeds('rev-parse', '--is-inside-work-tree')) return { skipped: `${repo} is not a git checkout: migration history not checked`, checked: 0, problems: [] };
  if (git('rev-parse', '--is-shallow-repository') === 'true') {
    return { skipped: 'shallow clone: the history that says when each migration landed is missing (fetch it whole, e.g. fetch-depth: 0); migration history not checked', checked: 0, problems: [] };
  }
  if (!succeeds('rev-parse', '--verify', '--quiet', `${landed}^{commit}`)) return { skipped: `no commit ${landed} yet: migration history not checked`, checked: 0, problems: [] };

  const firstLanded = firstLandings(git('log', landed, '--reverse', '--full-history', '--no-renames', '--diff-filter=A', '--format=%x00%H', '--name-only', '--', MIGRATIONS));
  const guard = git('log', landed, '--diff-filter=A', '--format=%H', '--', THIS_SCRIPT).split('\n').filter(Boolean).at(-1) ?? git('rev-parse', landed);
  const atGuard = numbered(git('ls-tree', '-r', '--name-only', guard, '--', 'src').split('\n'));
  const reference = (number: string, first: Landing): Landing => {
    const path = atGuard.get(number);
    return path && succeeds('merge-base', '--is-ancestor', first.commit, guard) ? { commit: guard, path } : first;
  };

  const files = numbered(git('ls-files', '--cached', '--others', '--exclude-standard', '--', MIGRATIONS).split('\n'));
  const problems: string[] = [];
  let checked = 0;
  for (const [number, path] of files) {
    const first = firstLanded.get(number);
    if (!first) continue; // not landed yet
    const ref = reference(number, first);
    checked++;
    if (git('hash-object', '--', path) === git('rev-parse', `${ref.commit}:${ref.path}`)) continue;
    problems.push(`${path} differs from migration ${number} as it landed (${ref.path} in ${ref.commit.slice(0, 10)}); landed migrations are never edited: add a new one`);
  }
  for (const [number, first] of firstLanded) {
    if (files.has(number)) continue;
    // Removed during early development, before this check existed: no database of a release has it.
    if (!atGuard.has(number) && succeeds('merge-base', '--is-ancestor', first.commit, guard)) continue;
    problems.push(`migration ${number} (${first.path}, landed in ${first.commit.slice(0, 10)}) is gone from the tree; databases that applied it would be refused`);
  }
  return { checked, problems };
}

/** The first commit and path that added each migration number, from `git log --reverse --name-only`. */
function firstLandings(log: string): Map<string, Landing> {
  const first = new Map<string, Landing>();
  for (const entry of log.split('\0').filter(Boolean)) {
    const [commit, ...paths] = entry.split('\n').filter(Boolean);
    for (const path of paths) {
      const number = NUMBERED.exec(path)?.[1];
      if (number && !first.has(number)) first.set(number, { commit: commit!, path });
    }
  }
  return first;
}

function numbered(paths: string[]): Map<string, string> {
  const byNumber = new Map<string, string>();
  for (const path of paths) {
    const number = NUMBERED.exec(path)?.[1];
    if (number && path.startsWith('src/')) byNumber.set(number, path);
  }
  return byNumber;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--landed');
  const landed = at === -1 ? 'HEAD' : args.splice(at, 2)[1];
  const result = checkMigrationHistory(args[0] ?? '.', landed);
  if (result.skipped) console.log(`check-migrations: ${result.skipped}`);
  else if (result.problems.length === 0) console.log(`check-migrations: ${result.checked} landed migrations unchanged`);
  for (const problem of result.problems) console.error(`check-migrations: ${problem}`);
  process.exitCode = result.problems.length ? 1 : 0;
}
