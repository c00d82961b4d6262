/**
 * `npm test` runs every suite on PostgreSQL too: this makes sure the database TEST_DATABASE_URL names exists
 * on the server it points at, creating it when the server answers and the database is missing. When the
 * server does not answer it stops at once, saying how to start one or where to point the tests.
 *
 *   node --import tsx scripts/ensure-test-database.ts [URL]
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** A plain identifier only: the name is written into CREATE DATABASE, which takes no bound parameters. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export type Ensured = { created: boolean; database: string };

export async function ensureTestDatabase(url: string): Promise<Ensured> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  if (!PLAIN_NAME.test(database)) throw new Error(`TEST_DATABASE_URL names the database '${database}': use letters, digits and underscores only`);
  // Connect to the server's maintenance database to look for (and create) the one the tests use.
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`no PostgreSQL server answers at ${target.host} (${(error as Error).message}): start one (Debian: pg_ctlcluster $(ls /etc/postgresql) main start) or set TEST_DATABASE_URL`);
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return { created: false, database };
    await client.query(`CREATE DATABASE "${database}"`);
    return { created: true, database };
  } finally {
    await client.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.TEST_DATABASE_URL ?? DEFAULT_URL;
  ensureTestDatabase(url).then(
    ({ created, database }) => {
      if (created) console.log(`Created the test database ${database}`);
    },
    (error: Error) => {
      console.error(`npm test: ${error.message}`);
      process.exit(1);
    },
  );
}
