import type { AuditTrail, Touch } from '../../fhir-store/index.ts';
import type { Actor } from '../access/index.ts';
import { auditCall, recordAudit, recordAuditGrouped, type AuditEntry } from '../audit/index.ts';

const MAX_LISTED = 1000;

/**
 * The record's audit trail for one actor and request: one entry per request that touched the record
 * (what was done, to which resources and whose records, any break-glass reason); changes in the
 * statement or transaction that makes them, looks grouped after the request. A request that touched
 * nothing leaves no entry.
 */
export function recordAuditTrail(actor: Actor, request: { method: string; url: string }, breakGlassReason: string | null): AuditTrail {
  const entry = (touches: Touch[]) => recordAccessEntry(actor, request, touches, breakGlassReason);
  return {
    changeCall: (touches, values) => auditCall(entry(touches), values),
    changes: async (tx, touches) => {
      if (touches.length > 0) await recordAudit(tx, entry(touches));
    },
    looks: async (db, touches) => {
      if (touches.length > 0) await recordAuditGrouped(db, entry(touches));
    },
    event: (tx, event) => recordAudit(tx, { actor: actor.email, ...event }),
  };
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
