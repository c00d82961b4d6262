import { PGlite, types } from '@electric-sql/pglite';
import type { Db, Row } from './db.ts';

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
  ) {}

  async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.counted(() => this.pg.query<T>(sql, params as unknown[]));
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.counted(() => this.pg.exec(sql));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const root = this.root;
    if (!root) return fn(this);
    return this.counted(() => root.transaction((tx) => fn(new PgliteDb(tx, null))));
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
    await this.root?.close();
  }
}

/** An embedded PostgreSQL in dataDir, or in memory when dataDir is undefined. */
export async function openPglite(dataDir?: string): Promise<Db> {
  const pg = await PGlite.create(dataDir, { parsers });
  return new PgliteDb(pg, pg);
}
