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
  await tx.query(`SELECT ${auditCall(entry, values)}`, values);
}

/**
 * `audit_event_add(…)` (migration 007) for one entry, its parameters appended to `values`, so that a
 * change and its audit entry can be one statement. The call returns true.
 */
export function auditCall(entry: AuditEntry, values: unknown[]): string {
  const first = values.length + 1;
  values.push(entry.actor, entry.action, entry.entityType, entry.entityId, entry.pcnCode ?? null, entry.summary, entry.detail ? JSON.stringify(entry.detail) : null);
  return `audit_event_add(${AUDIT_TYPES.map((type, i) => `$${first + i}::${type}`).join(', ')})`;
}

const AUDIT_TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'jsonb'];

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
