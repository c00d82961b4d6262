import pg from 'pg';
import type { Db, Row } from './db.ts';

const dateAsText = (value: string) => value;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.DATE) return dateAsText;
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
};

type Client = pg.Pool | pg.PoolClient;

class PostgresDb implements Db {
  readonly engine = 'postgres' as const;
  constructor(
    private readonly client: Client,
    private readonly pool: pg.Pool | null,
  ) {}

  async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.client.query({ text: sql, values: params as unknown[], types: typeParsers });
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (!this.pool) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresDb(client, null));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }

  /** Queries queued for a free connection of the pool. */
  pressure(): { waiting: number } {
    return { waiting: this.pool?.waitingCount ?? 0 };
  }
}

export interface PostgresOptions {
  /** Run every statement in this schema (tests give each run its own). */
  schema?: string;
  max?: number;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
  });
  // A pool error on an idle client must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  return new PostgresDb(pool, pool);
}
