/**
 * The ONE store interface. PGlite (embedded) and PostgreSQL (pg) implement it; nothing else
 * knows which engine runs. SQL is always parameterised ($1, $2, …).
 */
export type Row = Record<string, unknown>;

export interface Db {
  readonly engine: 'pglite' | 'postgres';
  /** One parameterised statement; returns its rows. */
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs fn inside one transaction: all of it commits, or none of it. Nested calls join the outer one. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** How many statements are waiting for the database right now (load shedding reads it); absent where unknown. */
  pressure?(): { waiting: number };
}

/** The first row, or undefined. */
export async function one<T = Row>(db: Db, sql: string, params?: readonly unknown[]): Promise<T | undefined> {
  const rows = await db.query<T>(sql, params);
  return rows[0];
}
