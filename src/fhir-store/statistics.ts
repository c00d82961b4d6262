/**
 * The planner's statistics kept current. A search's plan (which index to start from, a nested loop or a hash)
 * rests on the tables' statistics; after thousands of writes the old ones can turn a 40 ms search into a 4 s one
 * (a service inbox's chained search, measured in bench/coordination.ts). PostgreSQL's autovacuum re-analyses in
 * its own time (a minute or more after the writes); PGlite has no autovacuum worker at all. So the server
 * ANALYZEs once at start and again whenever the change feed has moved by a tenth of the store (at least
 * MIN_CHANGES) since the last time: the feed counts every write on every path (REST, bulk import, modules).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../storage/db.ts';

const MIN_CHANGES = 2_000;

export interface KeepStatisticsOptions {
  signal: AbortSignal;
  /** How often to look at the feed (default 10 s). */
  everyMs?: number;
  onError?: (error: unknown) => void;
}

async function feedPosition(db: Db): Promise<number> {
  const [row] = await db.query<{ position: number | null }>('SELECT max(position) AS position FROM fhir_change');
  return Number(row?.position ?? 0);
}

async function resourceCount(db: Db): Promise<number> {
  // The planner's own estimate: cheap, and fresh enough to size the next threshold.
  const [row] = await db.query<{ rows: number }>("SELECT greatest(reltuples, 0)::bigint AS rows FROM pg_class WHERE oid = 'fhir_resource'::regclass");
  return Number(row?.rows ?? 0);
}

/** ANALYZE the store's tables, each in a statement of its own (each within the statement time budget). */
export async function analyseStore(db: Db): Promise<void> {
  const tables = await db.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'fhir\\_%' ORDER BY tablename");
  for (const { name } of tables) await db.exec(`ANALYZE "${name.replaceAll('"', '""')}"`);
}

/** ANALYZE now, and whenever enough has changed since, until the signal aborts. */
export async function keepStatisticsCurrent(db: Db, options: KeepStatisticsOptions): Promise<void> {
  const { signal } = options;
  let analysedAt = -1;
  let threshold = 0;
  while (!signal.aborted) {
    try {
      const position = await feedPosition(db);
      if (position - analysedAt >= threshold) {
        await analyseStore(db);
        analysedAt = position;
        threshold = Math.max(MIN_CHANGES, Math.round((await resourceCount(db)) / 10));
      }
    } catch (error) {
      if (signal.aborted) return;
      options.onError?.(error);
    }
    await delay(options.everyMs ?? 10_000, undefined, { signal }).catch(() => undefined);
  }
}
