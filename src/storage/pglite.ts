import { parse, PGlite, protocol, types } from '@electric-sql/pglite';
import { markRoot, translateQueryError, type Db, type Listening, type NotificationHandler, type QueryOptions, type Row } from './db.ts';
import { StatementNames } from './statement-names.ts';

// Same JS shapes on both engines: dates as 'yyyy-mm-dd' strings, bigint as number (pence fit in 2^53).
const parsers = {
  [types.DATE]: (value: string) => value,
  [types.INT8]: (value: string) => Number(value),
  [types.NUMERIC]: (value: string) => Number(value),
};

type Queryable = Pick<PGlite, 'query' | 'exec'>;

const { serialize } = protocol;

/** Wire-protocol messages sent as one buffer (one call into the backend). */
export function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Named statements on PGlite. Its `query()` parses, describes and plans every call, in five calls into the WASM
 * backend; a text met twice (StatementNames, as on PostgreSQL) is parsed once under a name, its parameter types
 * kept, and from then on bound and executed in one call (bench/pglite-protocol.ts: 3,772/s → 16,394/s for a
 * read-shaped statement). One per database, shared by its transactions. execProtocol takes none of PGlite's
 * locks, so a call outside a transaction takes both (as `query()` does) and one inside takes the query lock.
 */
class NamedStatements {
  private readonly names = new StatementNames();
  /** The parameter types of each name prepared in the backend. */
  private readonly prepared = new Map<string, number[]>();
  constructor(private readonly pg: PGlite) {}

  nameFor(sql: string, params: readonly unknown[]): string | undefined {
    return params.length > 0 ? this.names.nameFor(sql) : undefined;
  }

  async run<T>(name: string, sql: string, params: readonly unknown[], inTransaction: boolean): Promise<T[]> {
    const pg = this.pg;
    const work = async () => {
      let oids = this.prepared.get(name);
      if (!oids) {
        const { messages } = await pg.execProtocol(joined([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]));
        const described = messages.find((m) => m.name === 'parameterDescription') as { dataTypeIDs?: number[] } | undefined;
        oids = described?.dataTypeIDs ?? [];
        this.prepared.set(name, oids);
      }
      const values = params.map((value, i) => {
        if (value === null || value === undefined) return null;
        const serializer = pg.serializers[oids[i]!];
        return serializer ? serializer(value) : String(value);
      });
      const { messages } = await pg.execProtocol(joined([serialize.bind({ statement: name, values: values as string[] }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]));
      return (parse.parseResults(messages, pg.parsers)[0]?.rows ?? []) as T[];
    };
    if (inTransaction) return pg._runExclusiveQuery(work);
    const rows = await pg._runExclusiveTransaction(() => pg._runExclusiveQuery(work));
    await pg.syncToFs();
    return rows;
  }
}

class PgliteDb implements Db {
  readonly engine = 'pglite' as const;
  /** Calls on the root not yet answered: PGlite runs one at a time, the rest wait in its queue. */
  private inFlight = 0;
  constructor(
    private readonly pg: Queryable,
    private readonly root: PGlite | null,
    private readonly named: NamedStatements,
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
      const name = this.named.nameFor(sql, params);
      if (name) return await this.counted(() => this.named.run<T>(name, sql, params, this.root === null));
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
    return this.counted(() => root.transaction((tx) => fn(new PgliteDb(tx, null, this.named))));
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
  return markRoot(new PgliteDb(pg, pg, new NamedStatements(pg), options.afterClose));
}
