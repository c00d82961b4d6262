/**
 * A change feed consumer as its own process, for the kill test (src/fhir-store/change-feed-kill.test.ts):
 * follows the feed as `kill-test` and records every change it handles in feed_seen, in the transaction
 * that moves its position. FEED_HANDLER_MS slows each batch so that a SIGKILL lands inside one;
 * FEED_STOP_AT stops it once that position is handled; SIGTERM stops it cleanly.
 * Prints `handled <position>` as each batch is handed over (before it commits).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { followChanges } from '../src/fhir-store/index.ts';
import { openStore } from '../src/storage/open.ts';

const db = await openStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: process.env.PCN_DATA_DIR ?? '' });
await db.exec('CREATE TABLE IF NOT EXISTS feed_seen (position bigint NOT NULL, resource_type text NOT NULL, id text NOT NULL, version_id bigint NOT NULL)');
const controller = new AbortController();
process.once('SIGTERM', () => controller.abort());
const handlerMs = Number(process.env.FEED_HANDLER_MS ?? 0);
const stopAt = Number(process.env.FEED_STOP_AT ?? Infinity);
await followChanges(
  db,
  'kill-test',
  async (changes, tx) => {
    for (const c of changes) await tx.query('INSERT INTO feed_seen VALUES ($1, $2, $3, $4)', [c.position, c.resourceType, c.id, c.versionId]);
    process.stdout.write(`handled ${changes.at(-1)!.position}\n`);
    await delay(handlerMs);
    if (changes.at(-1)!.position >= stopAt) controller.abort();
  },
  { signal: controller.signal, batchSize: 5, pollMs: 20 },
);
await db.close();
