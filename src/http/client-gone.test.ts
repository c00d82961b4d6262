/** A request whose client closes the connection has its running queries cancelled; an answered one keeps them. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { cancelledBy, type Db } from '../storage/db.ts';
import { testDb, testEngine } from '../../test/db.ts';
import { clientGone } from './client-gone.ts';

const onPostgres = { skip: testEngine !== 'postgres' && 'PostgreSQL only: PGlite cannot interrupt a running statement' };
let db: Db;
let app: FastifyInstance;
let port: number;
const finished: string[] = [];

before(async () => {
  db = await testDb();
  app = Fastify();
  // A slow request as a route runs it: its queries through cancelledBy(db, clientGone(reply)).
  app.get('/slow/:seconds', async (req, reply) => {
    const seconds = Number((req.params as { seconds: string }).seconds);
    const rows = await cancelledBy(db, clientGone(reply)).query<{ done: string }>("SELECT pg_sleep($1), 'slept' AS done", [seconds]);
    finished.push(`${seconds}`);
    return { done: rows[0]!.done };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});
after(async () => {
  await app.close();
  await db.close();
});

const running = async () =>
  (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep($1)%' AND state = 'active' AND pid <> pg_backend_pid()"))[0]!.n;

test('a client that hangs up cancels the query its request runs (postgres)', onPostgres, async () => {
  const call = request({ port, path: '/slow/5' });
  call.on('error', () => undefined);
  call.end();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await running(), 1, 'the slow query runs while the client waits');
  call.destroy();
  const until = Date.now() + 1500;
  while ((await running()) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await running(), 0, 'cancelled on the server within 1.5 s of the hang-up');
  assert.ok(!finished.includes('5'));
});

test('a client that waits gets its answer: nothing is cancelled after or during an answered request (postgres)', onPostgres, async () => {
  const response = await fetch(`http://127.0.0.1:${port}/slow/0.2`);
  assert.deepEqual(await response.json(), { done: 'slept' });
  assert.ok(finished.includes('0.2'));
});
