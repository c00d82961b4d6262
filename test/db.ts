/**
 * A fresh, migrated database for one test file, on the engine the run was started for:
 * PCN_TEST_ENGINE=pglite (in memory) or postgres (its own schema on TEST_DATABASE_URL, dropped on close).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../src/storage/db.ts';
import { migrate } from '../src/storage/migrate.ts';
import { openPglite } from '../src/storage/pglite.ts';
import { openPostgres } from '../src/storage/pg.ts';

export const testEngine = process.env.PCN_TEST_ENGINE === 'postgres' ? 'postgres' : 'pglite';
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function testDb(): Promise<Db> {
  if (testEngine === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return db;
  }
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openPostgres(testDatabaseUrl, { max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const db = await openPostgres(testDatabaseUrl, { schema });
  await migrate(db);
  const close = db.close.bind(db);
  db.close = async () => {
    await close();
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  };
  return db;
}
