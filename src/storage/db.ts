/**
 * The ONE store interface. PGlite (embedded) and PostgreSQL (pg) implement it; nothing else
 * knows which engine runs. SQL is always parameterised ($1, $2, …).
 */
import { AppError } from '../shared/errors.ts';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Cancels the query when it aborts (e.g. the HTTP client has gone): the promise rejects with
   * `signal.reason`. On PostgreSQL the running statement is cancelled on the server and its connection
   * goes back to the pool; on PGlite (one WASM thread, which cannot be interrupted) a signal that has
   * already aborted stops the query before it starts, and a running one finishes: there, bounded query
   * shapes (chain depth, page sizes) are what keep a query short.
   */
  signal?: AbortSignal;
}

export interface Db {
  readonly engine: 'pglite' | 'postgres';
  /**
   * One parameterised statement; returns its rows. A statement that outruns the time budget
   * (PCN_STATEMENT_TIMEOUT_MS, PostgreSQL) fails with AppError('unavailable').
   */
  query<T = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
  /** Several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs fn inside one transaction: all of it commits, or none of it. Nested calls join the outer one. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** How many statements are waiting for the database right now (load shedding reads it); absent where unknown. */
  pressure?(): { waiting: number };
  /**
   * Hears the notifications sent on `channel` (`pg_notify`, on commit) by any process on the store, until
   * stopped. On PostgreSQL one connection of its own listens; while it is down `live` is false and
   * `handler.lost()` has been called, since notifications may have been missed then. Only the store's root
   * (not a transaction, not a `cancelledBy` view) listens.
   */
  listen?(channel: string, handler: NotificationHandler): Promise<Listening>;
}

export interface NotificationHandler {
  notify(payload: string): void;
  /** Notifications may have been missed (the listening connection dropped): forget whatever they keep current. */
  lost(): void;
}

export interface Listening {
  /** Notifications are arriving now: nothing sent since `listen` resolved (or since the last `lost`) was missed. */
  readonly live: boolean;
  stop(): Promise<void>;
}

/** The first row, or undefined. */
export async function one<T = Row>(db: Db, sql: string, params?: readonly unknown[]): Promise<T | undefined> {
  const rows = await db.query<T>(sql, params);
  return rows[0];
}

/** PostgreSQL's query_canceled: a statement timeout, or a cancel from another session. */
const QUERY_CANCELED = '57014';

/**
 * A statement the server cancelled becomes a 503 that says why, instead of a 500; anything else
 * passes through unchanged. Both engines' errors carry PostgreSQL's SQLSTATE in `code`.
 */
export function translateQueryError(error: unknown): unknown {
  if ((error as { code?: unknown })?.code !== QUERY_CANCELED) return error;
  const message = (error as Error).message ?? '';
  return /statement timeout/.test(message)
    ? new AppError('unavailable', 'the database query took longer than its time budget and was cancelled; narrow the request or try again later')
    : new AppError('unavailable', 'the database query was cancelled by the server; try again later');
}

/**
 * The same store, with every query cancelled when `signal` aborts (e.g. the HTTP client has gone):
 * handed to code that runs many queries for one request, so none of them outlives its caller.
 */
export function cancelledBy(db: Db, signal: AbortSignal): Db {
  const view: Db = {
    engine: db.engine,
    query: (sql, params, options) => db.query(sql, params, { signal: options?.signal ?? signal }),
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction((tx) => fn(cancelledBy(tx, signal))),
    close: () => db.close(),
  };
  const root = rootOf(db);
  if (root) roots.set(view, root);
  return view;
}

/** Each store's root, and each `cancelledBy` view of one, to that root. */
const roots = new WeakMap<Db, Db>();

/** Marks `db` as a store's root (not a transaction): its statements may run on any connection. */
export function markRoot(db: Db): Db {
  roots.set(db, db);
  return db;
}

/**
 * The store's root when `db` is it or a `cancelledBy` view of it; undefined inside a transaction, whose
 * statements must run on its own connection in order. Statements of concurrent callers may be run together
 * only on the root.
 */
export function rootOf(db: Db): Db | undefined {
  return roots.get(db);
}
