/** The server's log format: pretty for a person at a terminal, JSON otherwise; patient data masked either way. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { testDb, testEngine } from '../../test/db.ts';
import { buildApp } from '../http/app.ts';
import { loadConfig } from '../config.ts';
import { createLogger, prettyLogs } from './logger.ts';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const thing of opened.reverse()) await thing.close();
});

/** A stand-in stdout that may claim to be a terminal, collecting what is written. */
function stdout(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d));
  return { stream, text: () => text };
}

test('auto is pretty at a terminal and JSON in a pipe; LOG_FORMAT json or pretty wins either way', () => {
  assert.equal(prettyLogs('auto', true), true);
  assert.equal(prettyLogs('auto', false), false);
  assert.equal(prettyLogs('auto', undefined), false, 'a stream that does not say is not a terminal');
  assert.equal(prettyLogs('json', true), false);
  assert.equal(prettyLogs('pretty', false), true);
  assert.equal(loadConfig({}).logFormat, 'auto');
  assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
  assert.throws(() => loadConfig({ LOG_FORMAT: 'fancy' }), /LOG_FORMAT must be one of auto, json, pretty, not 'fancy'/);
});

test('a terminal gets readable lines, a pipe gets one JSON object a line', async () => {
  const tty = stdout(true);
  createLogger({ level: 'info', format: 'auto', stdout: tty.stream }).info({ url: 'http://127.0.0.1:3000' }, 'PCN Hub is ready');
  assert.match(tty.text(), /INFO.*PCN Hub is ready/);
  assert.throws(() => JSON.parse(tty.text()), 'not JSON');
  const pipe = stdout(false);
  createLogger({ level: 'info', format: 'auto', stdout: pipe.stream }).info({ url: 'http://127.0.0.1:3000' }, 'PCN Hub is ready');
  await new Promise((resolve) => setImmediate(resolve));
  const line = JSON.parse(pipe.text().trim()) as { level: number; msg: string; url: string };
  assert.deepEqual([line.level, line.msg, line.url], [30, 'PCN Hub is ready', 'http://127.0.0.1:3000']);
});

test(`pretty output keeps patient data out of the log just as JSON does (${testEngine})`, async () => {
  const db = await testDb();
  opened.push(db);
  const tty = stdout(true);
  const app = await buildApp({ db, logger: createLogger({ level: 'info', format: 'pretty', stdout: tty.stream }) });
  opened.push(app);
  await app.inject({ method: 'GET', url: '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&birthdate=1970-01-02&family=Smith' });
  const logged = tty.text();
  assert.match(logged, /\/fhir\/Patient\?identifier=…&birthdate=…&family=…/, 'the request is logged, its parameter names kept');
  for (const secret of ['9434765919', '1970-01-02', 'Smith']) assert.ok(!logged.includes(secret), `${secret} must not reach the log`);
});
