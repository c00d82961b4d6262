/**
 * The bearer-token signing key lives in a file outside the database, so whoever can read the tables
 * (a backup, a read-only reporting login) cannot mint tokens. The server and `pcn token` on the same
 * machine read the same file; the first of them to need it creates it (mode 0600, O_EXCL so two
 * processes starting together agree on one key).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';

const KEY_BYTES = 32;

/** Reads the key file, creating it with a fresh random key when it does not exist yet. */
export function loadTokenKey(path: string): Uint8Array {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600); // a copy made readable by others is closed again
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length < KEY_BYTES) throw new AppError('unavailable', `the token key file ${path} holds no usable key (${KEY_BYTES} random bytes, base64); remove it to make a new one`);
  return key;
}

const keyFiles = new WeakMap<Db, string>();
const keys = new WeakMap<Db, Uint8Array>();

/** Tokens issued and checked on this store are signed with the key in this file (read, or made, on first use). */
export function signTokensWithKeyFile(db: Db, path: string): void {
  keyFiles.set(db, path);
  keys.delete(db);
}

/**
 * The key for a store. A store opened without a key file (in-process tests) gets a random key that lives
 * and dies with the process: its tokens are never accepted by another process.
 */
export function tokenKeyFor(db: Db): Uint8Array {
  let key = keys.get(db);
  if (!key) {
    const file = keyFiles.get(db);
    keys.set(db, (key = file ? loadTokenKey(file) : randomBytes(KEY_BYTES)));
  }
  return key;
}
