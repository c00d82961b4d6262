/**
 * The change feed: every create, update and delete of a FHIR resource, in order, for the modules that
 * keep something current from the record (population health's scores, notifications). Every write path
 * of the store writes a fhir_change row in the statement that makes the change (migrations 040 and 047);
 * this file reads them safely and keeps each consumer's place.
 *
 * Why a reader cannot take "every position above the last one I saw": positions come from a sequence,
 * drawn as the writes happen, but transactions commit in their own order. If T1 draws 10 and T2 draws 11
 * and T2 commits first, a reader would see 11, move its place past 10, and never see 10. So a reader first
 * fixes a bound: the last position drawn so far. Every writer that drew a position at or below it already
 * had a transaction id (its change row is written after the resource row, or after
 * pg_current_xact_id() gave it one), so all of them are older than a
 * transaction id taken after the bound was read. Once the oldest still-running transaction is younger
 * than that id (pg_snapshot_xmin), each of those writers has committed or rolled back, and the positions
 * up to the bound are final: read them, in order. Nothing is serialised on the write path (a commit-time
 * lock on a counter would queue every writing commit, group commit included, behind one another); the
 * cost is the reader's wait for the transactions that were in flight, and a transaction left open
 * anywhere in the database holds the feed back (never loses it). The order is the order the writes drew
 * their positions, so two versions of one resource arrive oldest first (the second writer waited for the
 * first one's row lock). On PGlite (one connection) there is never a transaction to wait for.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../storage/db.ts';

export type ChangeKind = 'create' | 'update' | 'delete' | 'expunge';

export interface Change {
  /** Increases along the feed; a consumer resumes after the last one it processed. */
  position: number;
  kind: ChangeKind;
  resourceType: string;
  id: string;
  versionId: number;
  /** The Patient whose record the resource is in (the Patient compartment), or null. */
  patientId: string | null;
  /** The version's lastUpdated (for an expunge, when the row was removed). */
  changedAt: string;
}

export interface ReadChangesOptions {
  /** Changes after this position (0, the default: from the start). */
  after?: number;
  /** At most this many (default 500). */
  limit?: number;
  /** Only changes of these resource types. */
  types?: readonly string[];
  /** Stops waiting for in-flight writers. */
  signal?: AbortSignal;
}

const DEFAULT_LIMIT = 500;

/** The changes after `after`, oldest first: each exactly once, none that a later read could still slip in below. */
export async function readChanges(db: Db, options: ReadChangesOptions = {}): Promise<Change[]> {
  return (await readBatch(db, options)).changes;
}

interface Batch {
  changes: Change[];
  /** Where the next read starts: the last change returned, or the bound when every change up to it was returned. */
  next: number;
}

async function readBatch(db: Db, { after = 0, limit = DEFAULT_LIMIT, types, signal }: ReadChangesOptions): Promise<Batch> {
  assertPosition('after', after);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number ≥ 1, not ${limit}`);
  const bound = await settledBound(db, after, signal);
  if (bound <= after) return { changes: [], next: after };
  const values: unknown[] = [after, bound, limit];
  if (types) values.push(types);
  const rows = await db.query<ChangeRow>(
    `SELECT position, kind, resource_type, id, version_id, patient_id, changed_at FROM fhir_change
      WHERE position > $1 AND position <= $2${types ? ' AND resource_type = ANY($4::text[])' : ''}
      ORDER BY position LIMIT $3`,
    values,
  );
  const changes = rows.map(toChange);
  return { changes, next: changes.length === limit ? changes.at(-1)!.position : bound };
}

interface ChangeRow {
  position: number;
  kind: ChangeKind;
  resource_type: string;
  id: string;
  version_id: number;
  patient_id: string | null;
  changed_at: Date | string;
}

function toChange(row: ChangeRow): Change {
  return {
    position: row.position,
    kind: row.kind,
    resourceType: row.resource_type,
    id: row.id,
    versionId: row.version_id,
    patientId: row.patient_id,
    changedAt: new Date(row.changed_at).toISOString(),
  };
}

/** The last position drawn, once every transaction that could hold a position up to it has ended (see the top). */
async function settledBound(db: Db, after: number, signal?: AbortSignal): Promise<number> {
  const bound = await drawnPosition(db);
  // Nothing new: no transaction id spent, no wait (an idle consumer's poll is one cheap read).
  if (bound <= after) return bound;
  // Taken after the bound was read, so younger than every writer that drew up to it.
  const [{ xid }] = (await db.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')) as [{ xid: string }];
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    const [{ settled, status }] = (await db.query<{ settled: boolean; status: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS settled, pg_xact_status($1::xid8) AS status', [
      xid,
    ])) as [{ settled: boolean; status: string }];
    if (settled) return bound;
    // Our own id still running: we were called inside a transaction, which would wait for itself for ever.
    if (status === 'in progress') throw new Error('the change feed cannot be read inside a transaction: pass the database, not a transaction');
    await delay(wait, undefined, { signal });
  }
}

/**
 * The feed's position now, once every change up to it is final (committed or rolled back): whoever reads the
 * record after this and then follows the feed from here misses nothing (a change may be seen twice, never lost).
 */
export async function settledFeedPosition(db: Db, signal?: AbortSignal): Promise<number> {
  return settledBound(db, 0, signal);
}

/** The highest position handed out so far (0 before the first). */
async function drawnPosition(db: Db): Promise<number> {
  const [row] = await db.query<{ drawn: number }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS drawn FROM fhir_change_position_seq');
  return row!.drawn;
}

/** What a consumer does with a batch, writing through `tx`: it commits with the consumer's new position. */
export type ChangeHandler = (changes: Change[], tx: Db) => Promise<void>;

export interface FollowChangesOptions {
  /** Stops following: the batch being handled finishes (or rolls back), then the promise resolves. */
  signal: AbortSignal;
  /** Changes per transaction (default 500). */
  batchSize?: number;
  /** How long to wait when caught up before looking again (default 1,000 ms). */
  pollMs?: number;
  /** Only changes of these resource types reach the handler. */
  types?: readonly string[];
  /**
   * Where a consumer seen for the first time starts: every change kept ('beginning', the default), only later
   * ones ('now'), or after a position (e.g. a `settledFeedPosition` taken before the consumer read the record whole).
   */
  from?: 'beginning' | 'now' | number;
  /**
   * A position a consumer already seen moves forward to before following, when it is behind it (never back):
   * the changes up to it are accounted for already (e.g. a finished population run read the record after it).
   */
  skipTo?: number;
}

/**
 * Follows the feed as the consumer `name`: hands each batch of changes to `handler` inside a transaction
 * that also moves the consumer's stored position past them, so the handler's own database writes and the
 * position commit together or not at all: after a crash or a restart the consumer resumes after the last
 * batch it committed and sees every change exactly once. (Effects outside the database, such as an email,
 * are at least once.) A handler that throws rolls its batch back and the promise rejects with its error.
 * Two processes following under one name do not both handle a batch: the second finds the position moved,
 * drops its batch and reads on from there.
 */
export async function followChanges(db: Db, name: string, handler: ChangeHandler, options: FollowChangesOptions): Promise<void> {
  const { signal, batchSize = DEFAULT_LIMIT, pollMs = 1000, types } = options;
  let position = await consumerPosition(db, name, options.from ?? 'beginning', options.skipTo);
  while (!signal.aborted) {
    let batch: Batch;
    try {
      batch = await readBatch(db, { after: position, limit: batchSize, types, signal });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (batch.next > position) position = await commitBatch(db, name, position, batch, handler);
    if (batch.changes.length < batchSize) await delay(pollMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Brings the consumer `name` up to the feed's settled end now, in the caller's time (a read that must see its
 * own writes, e.g. an inbox served from a projection): the same batches and transactions as followChanges, and
 * safe beside a follower of the same name (whichever commits a batch first, the other reads on from it).
 */
export async function catchUpChanges(db: Db, name: string, handler: ChangeHandler, options: Omit<FollowChangesOptions, 'pollMs' | 'signal'> & { signal?: AbortSignal }): Promise<void> {
  const { batchSize = DEFAULT_LIMIT, types } = options;
  const signal = options.signal ?? new AbortController().signal;
  let position = await consumerPosition(db, name, options.from ?? 'beginning', options.skipTo);
  for (;;) {
    const batch = await readBatch(db, { after: position, limit: batchSize, types, signal });
    if (batch.next > position) position = await commitBatch(db, name, position, batch, handler);
    if (batch.changes.length < batchSize) return;
  }
}

/** The handler's writes and the new position in one transaction; returns the position now stored. */
async function commitBatch(db: Db, name: string, from: number, batch: Batch, handler: ChangeHandler): Promise<number> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ position: number }>('SELECT position FROM fhir_change_consumer WHERE name = $1 FOR UPDATE', [name]);
    if (!row) throw new Error(`change feed consumer ${name} was removed while it ran`);
    // Another process following under this name got there first: its batch stands, read on from it.
    if (row.position !== from) return row.position;
    if (batch.changes.length > 0) await handler(batch.changes, tx);
    await tx.query('UPDATE fhir_change_consumer SET position = $2, updated_at = now() WHERE name = $1', [name, batch.next]);
    return batch.next;
  });
}

/** A feed position given by a caller: a whole number ≥ 0, or a RangeError naming the option. */
function assertPosition(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a position (a whole number ≥ 0), not ${value}`);
}

/** The consumer's stored position, registering it on first sight. */
async function consumerPosition(db: Db, name: string, from: 'beginning' | 'now' | number, skipTo?: number): Promise<number> {
  if (!name) throw new RangeError('a change feed consumer needs a name');
  if (typeof from === 'number') assertPosition('from', from);
  if (skipTo !== undefined) assertPosition('skipTo', skipTo);
  // 'now' starts after every position drawn so far, in flight or not: those changes are before this consumer's time.
  const start = typeof from === 'number' ? from : from === 'now' ? await drawnPosition(db) : 0;
  await db.query('INSERT INTO fhir_change_consumer (name, position) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, start]);
  if (skipTo !== undefined) await db.query('UPDATE fhir_change_consumer SET position = $2, updated_at = now() WHERE name = $1 AND position < $2', [name, skipTo]);
  const [row] = await db.query<{ position: number }>('SELECT position FROM fhir_change_consumer WHERE name = $1', [name]);
  return row!.position;
}

export interface RetryOptions {
  signal: AbortSignal;
  /** With it, a failure is reported and `work` tried again after `retryMs` (default 30 s); without, the promise rejects. */
  onError?: (error: unknown) => void;
  retryMs?: number;
}

/**
 * Runs a long-lived worker (a change-feed consumer, a periodic check) until it returns or the signal aborts: a
 * batch that fails rolls back and waits, then the worker starts again where its consumer last committed.
 */
export async function retrying(work: () => Promise<void>, { signal, onError, retryMs }: RetryOptions): Promise<void> {
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!onError || signal.aborted) throw error;
      onError(error);
      await delay(retryMs ?? 30_000, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
    }
  }
}
