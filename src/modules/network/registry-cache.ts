import type { Db } from '../../storage/db.ts';

/**
 * Registry reads are many and writes are rare, so read models are kept in memory per database.
 * Every write use case calls registryChanged() after it commits; the short TTL bounds staleness
 * when another process (a CLI import, a second server on the same PostgreSQL) writes.
 */
const TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;

const caches = new WeakMap<Db, Map<string, { at: number; value: Promise<unknown> }>>();

export async function cachedRead<T>(db: Db, key: string, read: () => Promise<T>): Promise<T> {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value as Promise<T>;
  if (cache.size >= MAX_ENTRIES) cache.clear();
  const value = read();
  cache.set(key, { at: Date.now(), value });
  value.catch(() => cache.delete(key)); // a failed read (e.g. not found) is not remembered
  return value;
}

export function registryChanged(db: Db): void {
  caches.get(db)?.clear();
}

/** A registry write: one transaction, after which cached reads of this database are dropped. */
export async function changeRegistry<T>(db: Db, change: (tx: Db) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(change);
  } finally {
    registryChanged(db);
  }
}
