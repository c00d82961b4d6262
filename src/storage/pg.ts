import pg from 'pg';
import { markRoot, translateQueryError, type Db, type Listening, type NotificationHandler, type QueryOptions, type Row } from './db.ts';
import { StatementNames } from './statement-names.ts';

const dateAsText = (value: string) => value;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.DATE) return dateAsText;
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
};

type Client = pg.Pool | pg.PoolClient;
type Statement = pg.QueryConfig<unknown[]>;

/** How long an aborted statement may take to end once cancelled before its connection is dropped instead. */
const CANCEL_GRACE_MS = 1000;

/** How long after the listening connection drops it is opened again. */
const RELISTEN_MS = 1000;

/**
 * The one connection that listens for notifications, outside the pool (a pooled connection is lent to
 * anyone and cannot stay LISTENing). When it drops, every handler is told it may have missed some, and it
 * is opened again a second later, until the store closes.
 */
class Notifications {
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private client: pg.Client | undefined;
  private listening = new Set<string>();
  private connecting: Promise<void> | undefined;
  private closed = false;
  constructor(private readonly config: pg.ClientConfig) {}

  get live(): boolean {
    return this.client !== undefined;
  }

  async listen(channel: string, handler: NotificationHandler): Promise<Listening> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    let handlers = this.handlers.get(channel);
    if (!handlers) this.handlers.set(channel, (handlers = new Set()));
    handlers.add(handler);
    if (!this.client) await this.connect();
    if (this.client && !this.listening.has(channel)) {
      await this.client.query(`LISTEN ${channel}`);
      this.listening.add(channel);
    }
    const notifications = this;
    return {
      get live() {
        return notifications.live && notifications.listening.has(channel);
      },
      stop: async () => {
        handlers.delete(handler);
      },
    };
  }

  private connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    client.on('error', () => undefined); // 'end' follows, and is handled there
    try {
      await client.connect();
      const listening = new Set<string>();
      for (const channel of this.handlers.keys()) {
        await client.query(`LISTEN ${channel}`);
        listening.add(channel);
      }
      this.listening = listening;
    } catch {
      void client.end().catch(() => undefined);
      this.later();
      return;
    }
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler.notify(message.payload ?? '');
    });
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      for (const handlers of this.handlers.values()) for (const handler of handlers) handler.lost();
      this.later();
    });
    this.client = client;
  }

  private later() {
    if (!this.closed) setTimeout(() => void this.connect(), RELISTEN_MS).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

class PostgresDb implements Db {
  readonly engine = 'postgres' as const;
  constructor(
    /** The pool, or the one connection a transaction runs on. */
    private readonly client: Client,
    private readonly pool: pg.Pool,
    private readonly inTransaction: boolean,
    private readonly names: StatementNames,
    private readonly notifications: Notifications,
  ) {}

  listen(channel: string, handler: NotificationHandler): Promise<Listening> {
    if (this.inTransaction) throw new Error('listen on the store, not inside a transaction');
    return this.notifications.listen(channel, handler);
  }

  async query<T = Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
    // Only statements with parameters: one without goes by the simple protocol, which allows several in one text.
    const name = params.length > 0 ? this.names.nameFor(sql) : undefined;
    const statement: Statement = { text: sql, values: params as unknown[], types: typeParsers, ...(name ? { name } : {}) };
    const { signal } = options;
    try {
      if (!signal) return (await this.client.query(statement)).rows as T[];
      signal.throwIfAborted();
      if (this.inTransaction) return (await runCancellable(this.client as pg.PoolClient, this.pool, statement, signal)).rows as T[];
      // A connection of its own, so that the backend to cancel is known.
      const connection = await connectUnlessAborted(this.pool, signal);
      let drop = false;
      try {
        return (await runCancellable(connection, this.pool, statement, signal, () => (drop = true))).rows as T[];
      } finally {
        connection.release(drop);
      }
    } catch (error) {
      throw translateQueryError(error);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql).catch((error: unknown) => {
      throw translateQueryError(error);
    });
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresDb(client, this.pool, true, this.names, this.notifications));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back (e.g. a late cancel hit the ROLLBACK) is not given to anyone else.
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.inTransaction) return;
    await this.notifications.close();
    await this.pool.end();
  }

  /** Queries queued for a free connection of the pool. */
  pressure(): { waiting: number } {
    return { waiting: this.pool.waitingCount };
  }
}

/** A promise that rejects with the signal's reason when it aborts (after running `onAbort`); `stop()` ends the watch. */
function whenAborted(signal: AbortSignal, onAbort?: () => void) {
  let listener = () => {};
  const promise = new Promise<never>((_, reject) => {
    listener = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', listener, { once: true });
  });
  promise.catch(() => undefined); // an abort after the work has finished is nobody's error
  return { promise, stop: () => signal.removeEventListener('abort', listener) };
}

/** Waiting for a free connection ends when the signal aborts; a connection that arrives after that goes straight back. */
async function connectUnlessAborted(pool: pg.Pool, signal: AbortSignal): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  const aborted = whenAborted(
    signal,
    () =>
      void connecting.then(
        (connection) => connection.release(),
        () => undefined,
      ),
  );
  try {
    return await Promise.race([connecting, aborted.promise]);
  } finally {
    aborted.stop();
  }
}

const backendPids = new WeakMap<pg.PoolClient, number>();

async function backendPid(connection: pg.PoolClient): Promise<number> {
  let pid = backendPids.get(connection);
  if (pid === undefined) {
    pid = (await connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    backendPids.set(connection, pid);
  }
  return pid;
}

/**
 * Runs a statement on one connection; when the signal aborts, cancels it on the server (pg_cancel_backend
 * from a short-lived connection of its own, so a saturated pool cannot hold the cancel up) and rejects
 * with the signal's reason once the statement has ended. `dropConnection` is called when the connection
 * should not be reused: the statement did not end in time, or it finished before the cancel reached it
 * (the cancel could then interrupt whatever that connection ran next).
 */
async function runCancellable(connection: pg.PoolClient, pool: pg.Pool, statement: Statement, signal: AbortSignal, dropConnection?: () => void) {
  const pid = await backendPid(connection);
  signal.throwIfAborted();
  const running = connection.query(statement);
  const aborted = whenAborted(signal);
  try {
    return await Promise.race([running, aborted.promise]);
  } catch (error) {
    if (!signal.aborted) throw error;
    await cancelBackend(pool, pid).catch(() => dropConnection?.());
    const ended = await Promise.race([
      running.then(
        () => 'finished',
        (e: { code?: string }) => (e.code === '57014' ? 'cancelled' : 'failed'),
      ),
      new Promise<'late'>((resolve) => setTimeout(resolve, CANCEL_GRACE_MS, 'late').unref()),
    ]);
    if (ended !== 'cancelled' && ended !== 'failed') dropConnection?.();
    throw signal.reason;
  } finally {
    aborted.stop();
  }
}

async function cancelBackend(pool: pg.Pool, pid: number): Promise<void> {
  const canceller = new pg.Client({ ...pool.options, connectionTimeoutMillis: CANCEL_GRACE_MS });
  await canceller.connect();
  try {
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await canceller.end();
  }
}

export interface PostgresOptions {
  /** Run every statement in this schema (tests give each run its own). */
  schema?: string;
  max?: number;
  /** The time budget of every statement (statement_timeout); none when unset. */
  statementTimeoutMs?: number;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
    statement_timeout: options.statementTimeoutMs || undefined,
  });
  // A pool error on an idle client must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  const notifications = new Notifications({ connectionString: url, application_name: `pcn-hub listener ${options.schema ?? ''}`.trim(), keepAlive: true });
  return markRoot(new PostgresDb(pool, pool, false, new StatementNames(), notifications));
}
