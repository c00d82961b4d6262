/**
 * One process at a time on a PGlite folder. PGlite is PostgreSQL in a single process with no shared
 * memory between processes: a second process opening the same files corrupts what the first one holds
 * in memory (a `pcn token` run beside a server left it answering 500 until restart). So the folder
 * holds `pcn.lock`, created with O_EXCL and naming its holder; a second process refuses with a message
 * naming that holder. A lock whose process has gone (killed, crashed) is taken over.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { AppError } from '../shared/errors.ts';

export const LOCK_FILE = 'pcn.lock';

export interface LockHolder {
  pid: number;
  /** What the holder runs, e.g. `pcn serve`. */
  command: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  hostname: string;
}

export interface FolderLock {
  readonly holder: LockHolder;
  /** Removes the lock if it is still this process's; safe to call more than once. */
  release(): void;
}

/** `pcn serve`, `pcn import fhir`, or the script's name when run otherwise (tests, benchmarks). */
export function describeThisProcess(argv: readonly string[] = process.argv): string {
  const script = basename(argv[1] ?? 'node');
  if (script !== 'pcn.js' && script !== 'main.ts' && script !== 'pcn') return `node ${script}`;
  const words = argv.slice(2);
  const firstFlag = words.findIndex((w) => w.startsWith('-'));
  return ['pcn', ...(firstFlag === -1 ? words : words.slice(0, firstFlag)).slice(0, 2)].join(' ');
}

/** Takes the folder's lock or throws AppError('unavailable') naming the process that holds it. */
export function lockFolder(dir: string, command = describeThisProcess()): FolderLock {
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, command, startedAt: new Date().toISOString(), hostname: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, holder)) return heldLock(path, holder);
    const current = readHolder(path);
    if (current === 'gone') continue; // released between our attempt and the read: try again
    if (current === 'unreadable') {
      if (isBeingWritten(path)) break;
    } else if (!isStale(current)) {
      throw inUse(dir, current);
    }
    removeStale(path, current);
  }
  throw new AppError('unavailable', `${dir} is being locked by another process at this very moment; try again`);
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(holder.pid) && typeof holder.command === 'string' && typeof holder.startedAt === 'string' && typeof holder.hostname === 'string') {
      return holder as LockHolder;
    }
  } catch {
    // fall through: a lock file cut short by a crash while it was written
  }
  return 'unreadable';
}

/** An empty or cut-short lock file is a crash's leftover, unless it was created a moment ago. */
function isBeingWritten(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < 2000;
  } catch {
    return false;
  }
}

/** On this machine, a holder whose process no longer runs. A holder on another host is never stale to us. */
function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Moves the stale lock aside, then checks that what was moved is the stale lock that was read: two
 * processes taking over at once must not both succeed (the second would move the first's new lock).
 * If another process's new lock was moved, it is put back.
 */
function removeStale(path: string, stale: LockHolder | 'unreadable'): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readHolder(aside);
  const same = stale === 'unreadable' ? moved === 'unreadable' : moved !== 'gone' && moved !== 'unreadable' && moved.pid === stale.pid && moved.startedAt === stale.startedAt;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // someone has already taken the lock afresh; the one moved aside was theirs to lose
    }
  }
  unlinkSync(aside);
}

function heldLock(path: string, holder: LockHolder): FolderLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readHolder(path);
    if (current !== 'gone' && current !== 'unreadable' && current.pid === holder.pid && current.startedAt === holder.startedAt) {
      unlinkSync(path);
    }
  };
  // A process that ends without closing its store (an uncaught error, process.exit) still frees the folder.
  process.on('exit', release);
  return { holder, release };
}

function inUse(dir: string, holder: LockHolder): AppError {
  const where = holder.hostname === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.hostname}`;
  return new AppError('unavailable', `${dir} is in use by ${holder.command} (${where}, since ${since(holder.startedAt)}); stop it first, or use DATABASE_URL`);
}

/** 16:40 today, 2025-03-01 16:40 on another day (local time). */
function since(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const today = new Date();
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return at.toDateString() === today.toDateString() ? time : `${day} ${time}`;
}
