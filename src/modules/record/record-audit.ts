import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/actor.ts';
import { recordAudit, recordAuditGrouped, type AuditEntry } from '../audit/record.ts';
import type { Touch } from './fhir-repository.ts';

const MAX_LISTED = 1000;

/**
 * One audit entry per request that touched the record: what was done, to which resources and whose
 * records (patient ids), and any break-glass reason. Requests that touched nothing leave no entry.
 */
export async function auditRecordAccess(db: Db, actor: Actor, request: { method: string; url: string }, touches: Touch[], breakGlassReason: string | null): Promise<void> {
  if (touches.length === 0) return;
  await recordAudit(db, recordAccessEntry(actor, request, touches, breakGlassReason));
}

/**
 * The audit of what a request looked at (its changes were audited with them), written outside any
 * transaction together with other requests' looks; stored before the request is answered.
 */
export async function auditRecordLooks(db: Db, actor: Actor, request: { method: string; url: string }, touches: Touch[], breakGlassReason: string | null): Promise<void> {
  if (touches.length === 0) return;
  await recordAuditGrouped(db, recordAccessEntry(actor, request, touches, breakGlassReason));
}

/** The audit entry for what one request touched (at least one touch). */
export function recordAccessEntry(actor: Actor, request: { method: string; url: string }, touches: Touch[], breakGlassReason: string | null): AuditEntry {
  const patients = [...new Set(touches.map((t) => t.patientId).filter((p): p is string => !!p))];
  const actions = [...new Set(touches.map((t) => t.action))];
  const first = touches[0]!;
  const what = touches.length === 1 ? `${first.resourceType}/${first.id}` : `${touches.length} resources`;
  return {
    actor: actor.email,
    action: `fhir.${actions.join('+')}`,
    entityType: patients.length === 1 ? 'Patient' : first.resourceType,
    entityId: patients.length === 1 ? patients[0]! : first.id,
    summary: `${actions.join(', ')} ${what}${patients.length ? ` in ${patients.length} patient record(s)` : ''}${breakGlassReason ? ` — BREAK GLASS: ${breakGlassReason}` : ''}`,
    detail: {
      request: `${request.method} ${request.url.slice(0, 500)}`,
      patients: patients.slice(0, MAX_LISTED),
      resources: touches.slice(0, MAX_LISTED).map((t) => `${t.action} ${t.resourceType}/${t.id}`),
      breakGlassReason,
    },
  };
}
