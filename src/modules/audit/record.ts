import type { Db } from '../../storage/db.ts';

export interface AuditEntry {
  actor: string; // the signed-in user's email, or 'system'
  action: string; // e.g. 'pcn.create', 'practice.move'
  entityType: string;
  entityId: string;
  pcnCode?: string | null;
  summary: string; // one sentence a person can read in a history list
  detail?: Record<string, unknown>;
  // The FHIR AuditEvent's other fields (issue 10); a look or change of the record fills them in.
  /** Fastify's request id (or the command), to find the application log lines of the same request. */
  requestId?: string | null;
  orgCode?: string | null;
  role?: string | null;
  /** The backend client acting (SMART backend services), when a system acts rather than a person. */
  clientId?: string | null;
  outcome?: AuditOutcome;
  purpose?: string | null;
  breakGlassReason?: string | null;
  /** Every patient whose record the request touched. */
  patientIds?: string[];
}

export type AuditOutcome = 'success' | 'denied' | 'error';

/** audit_event's written columns and their types: audit_record_add's parameters (migration 055), in its order. */
const AUDIT_COLUMNS = [
  ['actor', 'text'],
  ['action', 'text'],
  ['entity_type', 'text'],
  ['entity_id', 'text'],
  ['pcn_code', 'text'],
  ['summary', 'text'],
  ['detail', 'jsonb'],
  ['request_id', 'text'],
  ['org_code', 'text'],
  ['role', 'text'],
  ['client_id', 'text'],
  ['outcome', 'text'],
  ['purpose', 'text'],
  ['break_glass_reason', 'text'],
  ['patient_ids', 'text[]'],
] as const;
type AuditColumn = (typeof AUDIT_COLUMNS)[number][0];
const AUDIT_FIELDS: AuditColumn[] = AUDIT_COLUMNS.map(([name]) => name);

/** Writes one audit entry; call it with the transaction that makes the change. */
export async function recordAudit(tx: Db, entry: AuditEntry): Promise<void> {
  const values: unknown[] = [];
  await tx.query(`SELECT ${auditCall(entry, values)}`, values);
}

/** `audit_record_add(…)` (migration 055) for one entry, its parameters appended to `values`. The call returns true. */
function auditCall(entry: AuditEntry, values: unknown[]): string {
  const first = values.length + 1;
  values.push(...auditValues(entry));
  return `audit_record_add(${AUDIT_COLUMNS.map(([, type], i) => `$${first + i}::${type}`).join(', ')})`;
}

/** An entry's values in the order of AUDIT_COLUMNS. */
function auditValues(entry: AuditEntry): unknown[] {
  const row = auditRow(entry);
  return AUDIT_FIELDS.map((field) => (field === 'detail' && row.detail !== null ? JSON.stringify(row.detail) : row[field]));
}

/**
 * Writes an entry outside any transaction (the audit of a look) and resolves once it is stored, so a
 * caller answers only after its audit is safe. Entries that arrive while one statement is on its way
 * go together in the next (group commit): under load one round trip serves many looks; alone, an entry
 * is written at once.
 */
export function recordAuditGrouped(db: Db, entry: AuditEntry): Promise<void> {
  let queue = queues.get(db);
  if (!queue) queues.set(db, (queue = new AuditQueue(db)));
  return queue.add(entry);
}

const queues = new WeakMap<Db, AuditQueue>();
const MAX_GROUP = 500;

class AuditQueue {
  private waiting: Array<{ entry: AuditEntry; stored: () => void; failed: (error: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly db: Db) {}

  add(entry: AuditEntry): Promise<void> {
    return new Promise((stored, failed) => {
      this.waiting.push({ entry, stored, failed });
      if (this.writing) return;
      // The first entry waits for the rest of this turn of the event loop: the looks of requests being
      // answered together join it. PGlite runs each statement to its end before the next request is read,
      // so without the wait every look was a group of one (a write and a commit each): a GP's reads through
      // HTTP went from ~1,500/s to ~3,200/s on PGlite with it (bench/fhir.ts, 2026-12-05).
      this.writing = true;
      setImmediate(() => void this.writeAll());
    });
  }

  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        await insertEntries(
          this.db,
          group.map((g) => g.entry),
        );
        for (const g of group) g.stored();
      } catch (error) {
        if (group.length === 1) group[0]!.failed(error);
        // One entry the database refuses must not fail every request grouped with it: each goes again alone.
        else for (const g of group) await insertEntries(this.db, [g.entry]).then(g.stored, g.failed);
      }
    }
    this.writing = false;
  }
}

/**
 * Many entries in one statement: the group as one JSON parameter, read back as rows by the database
 * (json_to_recordset) — one native JSON.stringify here and one parse there, where fifteen array parameters
 * cost an escaped literal per value on each side.
 */
async function insertEntries(db: Db, entries: AuditEntry[]): Promise<void> {
  await db.query(INSERT_ENTRIES, [rowsJson(entries.map(auditRow))]);
}

/** Rows as one JSON text for json_to_recordset. */
function rowsJson(rows: unknown[]): string {
  const json = JSON.stringify(rows);
  // A lone UTF-16 surrogate (JSON.stringify writes it as an escape) is refused by the database's JSON: the rare
  // group that holds one goes with it replaced (U+FFFD), as the text encoding of a parameter replaces it.
  if (!/\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\ufffd') : value));
}

/**
 * Writes the audit records of changes in the statement that makes them (the FHIR store's ChangeRecordWriter): the
 * records as one JSON parameter, each with its key, and only those whose key the store says were written.
 */
export const changeRecordWriter = {
  insert(records: Array<{ key: string; row: unknown }>, values: unknown[], written: string): string {
    values.push(rowsJson(records.map(({ key, row }) => ({ ...(row as AuditRecordRow), key }))));
    return `${insertFromJson(`$${values.length}`, 'key text, ')} WHERE x.key IN (${written})`;
  },
};

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

type AuditRecordRow = Record<AuditColumn, unknown>;

/**
 * An entry as a json_to_recordset row: AUDIT_COLUMNS' names, the detail as an object, the patients as an array
 * (exported as the store's change record row: the record of a change, written with it).
 */
export { auditRow as changeRecordRow };
function auditRow(entry: AuditEntry): AuditRecordRow {
  return {
    actor: entry.actor,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    pcn_code: entry.pcnCode ?? null,
    summary: entry.summary,
    detail: entry.detail ?? null,
    request_id: entry.requestId ?? null,
    org_code: entry.orgCode ?? null,
    role: entry.role ?? null,
    client_id: entry.clientId ?? null,
    outcome: entry.outcome ?? 'success',
    purpose: entry.purpose ?? null,
    break_glass_reason: entry.breakGlassReason ?? null,
    patient_ids: entry.patientIds ?? [],
  };
}

/** The group's statement: its rows from the JSON parameter, each column typed as the table's. */
const FIELD_LIST = AUDIT_FIELDS.join(', ');
const RECORD_COLUMNS = AUDIT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
const INSERT_ENTRIES = insertFromJson('$1');

/** An INSERT of the rows of a JSON array parameter (`placeholder`); `extra` columns of the rows (e.g. a key) are read, not stored. */
function insertFromJson(placeholder: string, extra = ''): string {
  return `INSERT INTO audit_event (${FIELD_LIST}) SELECT ${FIELD_LIST} FROM json_to_recordset(${placeholder}::json) AS x(${extra}${RECORD_COLUMNS})`;
}

export interface AuditRow {
  at: string;
  actor: string;
  action: string;
  summary: string;
}

/** The latest changes that concern one PCN, newest first. */
export async function changesForPcn(db: Db, pcnCode: string, limit = 50): Promise<AuditRow[]> {
  return db.query<AuditRow & { at: Date | string }>(
    `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, actor, action, summary
       FROM audit_event WHERE pcn_code = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [pcnCode, limit],
  );
}
