/**
 * Writes made safe to retry (the Idempotency-Key of the IETF httpapi draft): the response to the first
 * request under a key is remembered for a day per user, in the SAME transaction as its write, so a
 * crash can neither keep a response whose write was lost nor lose one whose write landed. A retry gets
 * the remembered response and writes nothing; a retry while the first still runs is told so at once.
 */
import type { Db } from '../storage/db.ts';

/** A response as sent: status, the headers that matter, and the body text ('' for none). */
export interface RememberedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyClaim {
  /** Who sent it: keys are per user, so one user's key never answers another. */
  actor: string;
  key: string;
  /** A hash of what the request asks for (method, URL, body…): a key is for one request only. */
  requestHash: string;
}

export type IdempotentResult =
  /** First time: run now, and remembered if it succeeded. */
  | { kind: 'answered'; response: RememberedResponse }
  | { kind: 'replayed'; response: RememberedResponse }
  /** The key was used for another request. */
  | { kind: 'mismatch' }
  /** A request under this key is running right now. */
  | { kind: 'in-progress' };

/** How long a response is remembered. */
export const IDEMPOTENCY_HOURS = 24;
/** Expired rows deleted after each remembered response: more than one, so pruning keeps up with any rate. */
const PRUNE_BATCH = 100;

/**
 * Runs the write under the key, or answers from what the key remembers. Only a successful (2xx/3xx)
 * response is remembered: an error wrote nothing (its transaction is rolled back whole), so a retry
 * simply runs again.
 */
export async function runIdempotently(db: Db, claim: IdempotencyClaim, write: (tx: Db) => Promise<RememberedResponse>): Promise<IdempotentResult> {
  let result: IdempotentResult;
  try {
    result = await db.transaction(async (tx) => {
      // Held until this transaction ends (a crash included): a concurrent retry cannot take it and is
      // told the request is in progress, instead of writing a second time.
      const [lock] = await tx.query<{ held: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS held', [`fhir-idempotency\n${claim.actor}\n${claim.key}`]);
      if (!lock!.held) return { kind: 'in-progress' };
      const [row] = await tx.query<{ request_hash: string; status: number; headers: Record<string, string>; body: string }>(
        `SELECT request_hash, status, headers, body FROM fhir_idempotency
          WHERE actor = $1 AND key = $2 AND created_at > now() - make_interval(hours => $3)`,
        [claim.actor, claim.key, IDEMPOTENCY_HOURS],
      );
      if (row) return row.request_hash === claim.requestHash ? { kind: 'replayed', response: { status: row.status, headers: row.headers, body: row.body } } : { kind: 'mismatch' };
      const response = await write(withSavepoints(tx));
      if (response.status >= 400) throw new NotRemembered(response);
      // An expired row of the same key (not yet pruned) is replaced.
      await tx.query(
        `INSERT INTO fhir_idempotency (actor, key, request_hash, status, headers, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (actor, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,
           headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = EXCLUDED.created_at`,
        [claim.actor, claim.key, claim.requestHash, response.status, JSON.stringify(response.headers), response.body],
      );
      return { kind: 'answered', response };
    });
  } catch (error) {
    if (error instanceof NotRemembered) return { kind: 'answered', response: error.response };
    throw error;
  }
  if (result.kind === 'answered') await pruneIdempotencyKeys(db, PRUNE_BATCH);
  return result;
}

/**
 * Deletes up to `limit` expired responses (oldest first), skipping rows another pruner holds. Run after
 * every remembered response, so the table never holds much more than a day of keyed writes.
 */
export async function pruneIdempotencyKeys(db: Db, limit = PRUNE_BATCH): Promise<number> {
  const rows = await db.query(
    `DELETE FROM fhir_idempotency WHERE (actor, key) IN (
       SELECT actor, key FROM fhir_idempotency WHERE created_at <= now() - make_interval(hours => $1)
        ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING 1`,
    [IDEMPOTENCY_HOURS, limit],
  );
  return rows.length;
}

/** An error response: thrown to roll the transaction back (nothing of it is kept), then answered. */
class NotRemembered extends Error {
  constructor(readonly response: RememberedResponse) {
    super('not remembered');
  }
}

/**
 * The transaction with nested transactions as savepoints: a write that fails inside a request (one
 * entry of a batch, say) is undone alone, as it would have been without the surrounding transaction.
 */
function withSavepoints(tx: Db): Db {
  const db: Db = {
    engine: tx.engine,
    query: <T>(sql: string, params?: readonly unknown[]) => tx.query<T>(sql, params),
    exec: (sql) => tx.exec(sql),
    async transaction(fn) {
      // Savepoints of one name nest: RELEASE and ROLLBACK TO act on the latest.
      await tx.query('SAVEPOINT fhir_write');
      try {
        const result = await fn(db);
        await tx.query('RELEASE SAVEPOINT fhir_write');
        return result;
      } catch (error) {
        await tx.query('ROLLBACK TO SAVEPOINT fhir_write').catch(() => undefined);
        throw error;
      }
    },
    close: () => tx.close(),
  };
  return db;
}
