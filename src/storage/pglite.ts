import { PGlite, types } from '@electric-sql/pglite';
import { translateQueryError, type Db, type Listening, type NotificationHandler, type QueryOptions, type Row } from './db.ts';

// Same JS shapes on both engines: dates as 'yyyy-mm-dd' strings, bigint as number (pence fit in 2^53).
const parsers = {
  [types.DATE]: (value: string) => value,
  [types.INT8]: (value: string) => Number(value),
  [types.NUMERIC]: (value: string) => Number(value),
};

type Queryable = Pick<PGlite, 'query' | 'exec'>;

class PgliteDb implements Db {
  readonly engine = 'pglite' as const;
  /** Calls on the root not yet answered: PGlite runs one at a time, the rest wait in its queue. */
  private inFlight = 0;
  constructor(
    private readonly pg: Queryable,
    private readonly root: PGlite | null,
    private readonly afterClose?: () => Promise<void>,
  ) {}

  /**
   * PGlite runs in one WASM thread that cannot be interrupted, and it ignores statement_timeout:
   * a signal stops a query that has not started, never a running one. Bounded query shapes (chain
   * depth, repeated parameters, page sizes) are what keep every query short here.
   */
  async query<T = Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
    options.signal?.throwIfAborted();
    try {
      return (await this.counted(() => this.pg.query<T>(sql, params as unknown[]))).rows;
    } catch (error) {
      throw translateQueryError(error);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.counted(() => this.pg.exec(sql));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const root = this.root;
    if (!root) return fn(this);
    return this.counted(() => root.transaction((tx) => fn(new PgliteDb(tx, null))));
  }

  /** In one process with the database, nothing is ever missed: a notification arrives before the statement that sent it has answered. */
  async listen(channel: string, handler: NotificationHandler): Promise<Listening> {
    if (!this.root) throw new Error('listen on the store, not inside a transaction');
    const stop = await this.root.listen(channel, (payload) => handler.notify(payload));
    return { live: true, stop: () => stop() };
  }

  pressure(): { waiting: number } {
    return { waiting: Math.max(0, this.inFlight - 1) };
  }

  private async counted<T>(run: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await run();
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    if (!this.root) return;
    try {
      await this.root.close();
    } finally {
      await this.afterClose?.();
    }
  }
}

export interface PgliteOptions {
  /** Runs once the database has closed (open.ts releases the folder's lock here). */
  afterClose?: () => Promise<void>;
}

/** An embedded PostgreSQL in dataDir, or in memory when dataDir is undefined. */
export async function openPglite(dataDir?: string, options: PgliteOptions = {}): Promise<Db> {
  const pg = await PGlite.create(dataDir, { parsers });
  return new PgliteDb(pg, pg, options.afterClose);
}
