/** `pcn audit verify` as an operator runs it: an intact log exits 0; an edited, deleted or swapped record exits 1 naming it. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freshStore, runPcn, type Store } from '../../test/cli.ts';
import { testEngine } from '../../test/db.ts';
import { recordAudit } from '../modules/audit/index.ts';
import type { Db } from '../storage/db.ts';
import { openStore } from '../storage/open.ts';

let work: string;
let store: Store;
const pcn = (args: string[]) => runPcn(args, { cwd: work, env: store.env });
const open = () => openStore({ databaseUrl: store.databaseUrl, dataDir: store.dataDir ?? '' });

async function withStore(work: (db: Db) => Promise<void>): Promise<void> {
  const db = await open();
  try {
    await work(db);
  } finally {
    await db.close();
  }
}

/** As the database owner: the guard off, the tampering, the guard back on. */
const tamper = (sql: string, params: unknown[]) =>
  withStore(async (db) => {
    await db.exec('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only; ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_append_only');
    await db.query(sql, params);
    await db.exec('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only; ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_append_only');
  });

let ids: number[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pcn-audit-'));
  store = await freshStore(work);
  await withStore(async (db) => {
    for (let i = 0; i < 12; i++) {
      await recordAudit(db, { actor: `user${i}@pcn-hub.example`, action: 'fhir.read', entityType: 'Patient', entityId: `p${i}`, summary: `read Patient/p${i}`, patientIds: [`p${i}`] });
    }
    ids = (await db.query<{ id: number }>('SELECT id::int AS id FROM audit_event ORDER BY id')).map((r) => r.id);
  });
});
after(async () => {
  await store.drop();
  await rm(work, { recursive: true, force: true });
});

test(`audit verify --help, and an intact log verifies with exit 0 (${testEngine})`, async () => {
  const help = await pcn(['audit', 'verify', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: pcn audit verify/);
  assert.match(help.stdout, /--data <dir>/);
  const intact = await pcn(['audit', 'verify']);
  assert.equal(intact.code, 0, intact.stderr);
  assert.match(intact.stdout, /^The audit log is intact: 12 records chained, head [0-9a-f]{64}\./);
});

test('an edited record: exit 1 and one line naming it; put back, it verifies again', async () => {
  await tamper("UPDATE audit_event SET summary = 'nothing to see' WHERE id = $1", [ids[4]]);
  const edited = await pcn(['audit', 'verify']);
  assert.equal(edited.code, 1);
  assert.equal(edited.stderr.trim().split('\n').length, 1, edited.stderr);
  assert.match(edited.stderr, new RegExp(`^pcn: the audit log has been tampered with: audit record #5 \\(event ${ids[4]}, .*user4@pcn-hub\\.example\\) has been edited`));
  await tamper("UPDATE audit_event SET summary = 'read Patient/p4' WHERE id = $1", [ids[4]]);
  assert.equal((await pcn(['audit', 'verify'])).code, 0);
});

test('two swapped records and a deleted record are each named', async () => {
  await tamper('UPDATE audit_event SET id = -1 WHERE id = $1', [ids[2]]);
  await tamper('UPDATE audit_event SET id = $1 WHERE id = $2', [ids[2], ids[3]]);
  await tamper('UPDATE audit_event SET id = $1 WHERE id = -1', [ids[3]]);
  const swapped = await pcn(['audit', 'verify']);
  assert.equal(swapped.code, 1);
  assert.match(swapped.stderr, new RegExp(`audit record #3 \\(event ${ids[2]}, .*user3@pcn-hub\\.example\\) has been edited or moved`));

  await tamper('UPDATE audit_event SET id = -1 WHERE id = $1', [ids[2]]);
  await tamper('UPDATE audit_event SET id = $1 WHERE id = $2', [ids[2], ids[3]]);
  await tamper('UPDATE audit_event SET id = $1 WHERE id = -1', [ids[3]]);
  await tamper('DELETE FROM audit_event WHERE id = $1', [ids[8]]);
  const deleted = await pcn(['audit', 'verify']);
  assert.equal(deleted.code, 1);
  assert.match(deleted.stderr, new RegExp(`audit record #9 \\(event ${ids[8]}\\) has been deleted`));
});
