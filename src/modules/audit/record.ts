import type { Db } from '../../storage/db.ts';

export interface AuditEntry {
  actor: string; // the signed-in user's email, or 'system'
  action: string; // e.g. 'pcn.create', 'practice.move'
  entityType: string;
  entityId: string;
  pcnCode?: string | null;
  summary: string; // one sentence a person can read in a history list
  detail?: Record<string, unknown>;
}

/** Writes one audit entry; call it with the transaction that makes the change. */
export async function recordAudit(tx: Db, entry: AuditEntry): Promise<void> {
  const values: unknown[] = [];
  await tx.query(`INSERT INTO audit_event ${auditColumns} VALUES (${auditPlaceholders(entry, values)})`, values);
}

const auditColumns = '(actor, action, entity_type, entity_id, pcn_code, summary, detail)';
const AUDIT_TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'jsonb'];

/** `$n, …` for one entry's columns, its parameters appended to `values` (so that it can join a larger statement). */
function auditPlaceholders(entry: AuditEntry, values: unknown[]): string {
  const first = values.length + 1;
  values.push(entry.actor, entry.action, entry.entityType, entry.entityId, entry.pcnCode ?? null, entry.summary, entry.detail ? JSON.stringify(entry.detail) : null);
  // Typed, so that the same placeholders serve in a VALUES list and in a SELECT.
  return AUDIT_TYPES.map((type, i) => `$${first + i}::${type}`).join(', ');
}

/**
 * The INSERT of one audit entry as a CTE body, written only when `whenRowsIn` (another CTE of the
 * same statement) has rows: a change and its audit entry commit in one statement, or neither does.
 */
export function auditInsertWhen(entry: AuditEntry, values: unknown[], whenRowsIn: string): string {
  return `INSERT INTO audit_event ${auditColumns} SELECT ${auditPlaceholders(entry, values)} WHERE EXISTS (SELECT 1 FROM ${whenRowsIn})`;
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
