/**
 * The audit log's hash chain: append-only (triggers, migration 055) and tamper-evident.
 *
 * Why a sealer, and not a hash written with each record: records are written by many connections at
 * once — group-committed looks, a create's own statement, an import's long transaction — and on
 * PostgreSQL they commit in their own order, not in id order. Chaining at insert time needs the
 * previous record's hash, i.e. a lock on the chain's head held until the writer commits: every write
 * (and a long import) would queue behind the one before, and commits would lose group commit.
 * Instead writers only INSERT (no lock, no extra statement), and a sealer appends links afterwards
 * (`audit_chain`: seq, the record's id, the previous hash, the hash), in the order it sees records
 * committed. Sealers take turns on the one `audit_chain_head` row for one short transaction each.
 *
 * Which records are still to be sealed: every record above `settled_id` not yet linked. The sealer
 * moves `settled_id` forward only over ids that can no longer appear: it notes the last id drawn and
 * then the next transaction id (`pending_id`, `pending_xid`); a record's id is drawn only after its
 * transaction has an id (`audit_event_next_id`), so once the oldest running transaction is younger
 * than `pending_xid` every record up to `pending_id` has committed (and is visible) or rolled back.
 * A long transaction holds `settled_id` back (its record is sealed when it commits), never a writer.
 *
 * What this guarantees: `verify` walks the chain and recomputes each hash from the record as stored,
 * so an edited, deleted or reordered record (or link) is found and named; a record below `settled_id`
 * with no link (slipped in behind the chain) is found too. What it cannot see: a record deleted before
 * it was sealed (about a second after its commit, the sealing interval), and a cut of the chain's tail
 * together with the head row — `verify` prints the head hash so that it can be kept elsewhere.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../storage/db.ts';

export const GENESIS_HASH = '0'.repeat(64);
const SEAL_BATCH = 5000;

/** A record's columns as the chain hashes them (every column, in this order). */
const RECORD_COLUMNS = `e.id::text AS id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, e.actor, e.action,
  e.entity_type, e.entity_id, e.pcn_code, e.summary, e.detail, e.request_id, e.org_code, e.role, e.client_id, e.outcome,
  e.purpose, e.break_glass_reason, e.patient_ids`;

/**
 * A record as one text, made by the database (form 2): every column in RECORD_COLUMNS' order as a JSON
 * array. The text is fixed by the values alone (jsonb prints its keys in one order and one spacing), so
 * the sealer hashes it as it comes, without parsing the record, and verify hashes the same text again.
 */
const RECORD_TEXT = `json_build_array(e.id::text, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.actor, e.action,
  e.entity_type, e.entity_id, e.pcn_code, e.summary, e.detail, e.request_id, e.org_code, e.role, e.client_id, e.outcome,
  e.purpose, e.break_glass_reason, e.patient_ids)::text`;
const FORM = 2;

interface RecordRow {
  id: string;
  at: string;
  [column: string]: unknown;
}

/** JSON with every object's keys sorted, so a value's text depends only on the value. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Form 1 (links sealed before migration 068): the record's columns as canonical JSON made here. */
function canonicalRecord(record: RecordRow): string {
  const { id, at, actor, action, entity_type, entity_id, pcn_code, summary, detail, request_id, org_code, role, client_id, outcome, purpose, break_glass_reason, patient_ids } = record;
  return canonicalJson([id, at, actor, action, entity_type, entity_id, pcn_code, summary, detail, request_id, org_code, role, client_id, outcome, purpose, break_glass_reason, patient_ids]);
}

/** sha256 (hex) over the previous hash, the link's position and the record's serialisation. */
function linkHash(prevHash: string, seq: number, content: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${content}`).digest('hex');
}

interface Head {
  seq: number;
  hash: string;
  settled_id: number;
  pending_id: number | null;
  pending_xid: string | null;
}

/** Links up to `max` committed, unsealed records into the chain; returns how many it linked. */
export async function sealAudit(db: Db, max = SEAL_BATCH): Promise<number> {
  return db.transaction(async (tx) => {
    const [head] = (await tx.query<Head>('SELECT seq, hash, settled_id, pending_id, pending_xid::text AS pending_xid FROM audit_chain_head FOR UPDATE')) as [Head];
    // Asked after the lock, in a statement of its own (a fresh snapshot under READ COMMITTED).
    const [{ settled }] = (await tx.query<{ settled: boolean }>('SELECT $1::xid8 IS NOT NULL AND pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS settled', [head.pending_xid])) as [
      { settled: boolean },
    ];
    const records = await tx.query<{ id: string; content: string }>(
      `SELECT e.id::text AS id, ${RECORD_TEXT} AS content FROM audit_event e
        WHERE e.id > $1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id) ORDER BY e.id LIMIT $2`,
      [head.settled_id, max],
    );
    let { seq, hash } = head;
    const links: Array<[number, string, string, string]> = [];
    for (const record of records) {
      const next = linkHash(hash, ++seq, record.content);
      links.push([seq, record.id, hash, next]);
      hash = next;
    }
    if (links.length > 0) {
      await tx.query(`INSERT INTO audit_chain (seq, event_id, prev_hash, hash, form) SELECT *, ${FORM} FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])`, [
        links.map((l) => l[0]),
        links.map((l) => l[1]),
        links.map((l) => l[2]),
        links.map((l) => l[3]),
      ]);
    }
    let settledId = head.settled_id;
    let pending: { id: number | null; xid: string | null } = { id: head.pending_id, xid: head.pending_xid };
    if (settled || head.pending_xid === null) {
      // Every record up to pending_id is visible or never will be; a full batch stops at its last record.
      const full = records.length === max;
      if (settled) settledId = Math.max(settledId, full ? Math.min(head.pending_id!, Number(records.at(-1)!.id)) : head.pending_id!);
      // The last id drawn, then (a later snapshot) the next transaction id: every writer of an id up to it had an xid below it.
      const [{ drawn }] = (await tx.query<{ drawn: number }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS drawn FROM audit_event_id_seq')) as [{ drawn: number }];
      const [{ xid }] = (await tx.query<{ xid: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid')) as [{ xid: string }];
      pending = { id: Number(drawn), xid };
    }
    await tx.query('UPDATE audit_chain_head SET seq = $1, hash = $2, settled_id = $3, pending_id = $4, pending_xid = $5::xid8', [seq, hash, settledId, pending.id, pending.xid]);
    return links.length;
  });
}

/** Seals until nothing committed is left unlinked (or nothing more can be settled). */
export async function sealAllAudit(db: Db): Promise<void> {
  await sealAudit(db); // links what is visible and notes what is pending …
  while ((await sealAudit(db)) > 0); // … which the next passes settle
}

/**
 * Seals every `intervalMs` in the background until stopped (the server runs one). Overlapping sealers
 * (two servers on one PostgreSQL) take turns on the head row.
 */
export function startAuditSealer(db: Db, options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => sealAudit(db).catch((error: unknown) => options.onError?.(error)));
  }, options.intervalMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export interface VerifyResult {
  ok: boolean;
  /** Links checked. */
  checked: number;
  /** The chain's last hash (keep it elsewhere: it pins the chain as it was). */
  headHash: string;
  /** Records committed but not yet settled (a transaction still open), left for the next sealing. */
  unsealed: number;
  /** One line naming the first bad record, when not ok. */
  problem?: string;
}

const VERIFY_PAGE = 2000;

/**
 * Seals what is committed, then walks the whole chain recomputing each hash from the record as stored:
 * the first edited, deleted, reordered or unlinked record is named.
 */
export async function verifyAudit(db: Db, onProgress?: (done: number, total: number) => void): Promise<VerifyResult> {
  await sealAllAudit(db);
  const [{ total }] = (await db.query<{ total: number }>('SELECT count(*)::int AS total FROM audit_chain')) as [{ total: number }];
  const [head] = (await db.query<Head>('SELECT seq, hash, settled_id FROM audit_chain_head')) as [Head];
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const fail = (problem: string): VerifyResult => ({ ok: false, checked, headHash: head.hash, unsealed: 0, problem });
  for (;;) {
    const page = await db.query<RecordRow & { seq: number; event_id: string; prev_hash: string; hash: string; found: boolean; form: number; content: string | null }>(
      `SELECT c.seq, c.event_id::text AS event_id, c.prev_hash, c.hash, c.form, e.id IS NOT NULL AS found,
              CASE WHEN c.form = ${FORM} THEN ${RECORD_TEXT} END AS content, ${RECORD_COLUMNS}
         FROM audit_chain c LEFT JOIN audit_event e ON e.id = c.event_id WHERE c.seq >= $1 ORDER BY c.seq LIMIT ${VERIFY_PAGE}`,
      [expectedSeq],
    );
    for (const link of page) {
      const seq = Number(link.seq);
      const name = `audit record #${seq} (event ${link.event_id}${link.found ? `, ${link.at}, ${link.actor}` : ''})`;
      if (seq !== expectedSeq) return fail(`audit record #${expectedSeq} is missing: the chain jumps from #${expectedSeq - 1} to #${seq} (deleted)`);
      if (link.prev_hash !== prevHash) return fail(`${name} does not follow #${seq - 1}: its previous hash differs (records deleted or reordered)`);
      if (!link.found) return fail(`${name} has been deleted: the chain links a record that is not there`);
      const content = Number(link.form) === FORM ? link.content! : canonicalRecord(link);
      if (linkHash(prevHash, seq, content) !== link.hash) return fail(`${name} has been edited or moved: its content no longer matches its hash`);
      prevHash = link.hash;
      expectedSeq++;
      checked++;
    }
    onProgress?.(checked, total);
    if (page.length < VERIFY_PAGE) break;
  }
  if (checked !== Number(head.seq) || prevHash !== head.hash) return fail(`the chain ends at #${checked} but its head says #${head.seq}: records at the end were deleted`);
  const [unlinked] = await db.query<{ id: string; at: string }>(
    `SELECT e.id::text AS id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at FROM audit_event e
      WHERE e.id <= $1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id) ORDER BY e.id LIMIT 1`,
    [head.settled_id],
  );
  if (unlinked) return fail(`audit event ${unlinked.id} (${unlinked.at}) is not in the chain: it was added behind the chain's back`);
  const [{ unsealed }] = (await db.query<{ unsealed: number }>(
    'SELECT count(*)::int AS unsealed FROM audit_event e WHERE e.id > $1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)',
    [head.settled_id],
  )) as [{ unsealed: number }];
  return { ok: true, checked, headHash: prevHash, unsealed };
}
