/**
 * What PGlite's `query()` costs per statement against a named prepared statement driven through its wire-protocol
 * API (`execProtocol`: Parse once, then Bind/Describe/Execute/Sync; rows by its own `parseResults`). `query()`
 * parses, describes and plans every call (two round trips into the WASM backend); PostgreSQL through `pg` already
 * prepares repeated statements (src/storage/pg.ts). The statement is read-shaped: a primary-key lookup with an
 * owner probe, like a clinician's read with its access condition. Results: docs/benchmarks.md (issue 9/10 notes).
 *   node --import tsx bench/pglite-protocol.ts
 */
import { parse, PGlite, protocol } from '@electric-sql/pglite';
import { joined } from '../src/storage/pglite.ts';

const ROWS = 20_000;
const N = Number(process.env.N ?? 5_000);
const pg = await PGlite.create();
await pg.exec(`CREATE TABLE t (id text PRIMARY KEY, owner text, v json);
  INSERT INTO t SELECT 'id' || g, 'o' || (g % 100), json_build_object('n', g, 'name', 'x' || g) FROM generate_series(1, ${ROWS}) g;
  CREATE INDEX ON t (owner); ANALYZE t;`);
const sql = `SELECT t.v::text AS v FROM t WHERE t.id = $1 AND (t.owner = $2 OR EXISTS (SELECT 1 FROM t t2 WHERE t2.owner = $2 AND t2.id = $1)) LIMIT 1`;
const args = (i: number) => {
  const n = (i % ROWS) + 1;
  return [`id${n}`, `o${n % 100}`];
};
const { serialize } = protocol;

async function rate(label: string, one: (i: number) => Promise<number>): Promise<void> {
  for (let i = 0; i < 200; i++) await one(i); // warm
  const started = performance.now();
  let rows = 0;
  for (let i = 0; i < N; i++) rows += await one(i);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${Math.round(N / seconds).toLocaleString('en-GB')}/s (${rows} rows)`);
}

await rate('query()', async (i) => (await pg.query(sql, args(i))).rows.length);
await pg.execProtocol(joined([serialize.parse({ name: 'read', text: sql, types: [25, 25] }), serialize.sync()]));
await rate('named prepared statement', async (i) => {
  const { messages } = await pg.execProtocol(joined([serialize.bind({ statement: 'read', values: args(i) }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]));
  return parse.parseResults(messages, pg.parsers)[0]?.rows.length ?? 0;
});
await pg.close();
