import type { AuditTrail, Purpose, Touch } from '../../fhir-store/index.ts';
import type { Actor } from '../access/index.ts';
import { changeRecordRow, changeRecordWriter, recordAudit, recordAuditGrouped, type AuditEntry, type AuditOutcome } from '../audit/index.ts';

const MAX_LISTED = 1000;

/** The actor as the audit names them: a person, or a backend client (SMART backend services) when one acts. */
export type AuditedActor = Actor & { clientId?: string | null };

/**
 * The record's audit trail for one actor and request: ONE record per request that touched the record
 * (what was done, to which resources and whose records, the outcome, any break-glass reason); changes
 * in the statement or transaction that makes them, looks (and refusals) grouped after the request. A
 * request that touched nothing leaves no record.
 */
export function recordAuditTrail(actor: AuditedActor, request: { method: string; url: string; id?: string }, breakGlassReason: string | null, purpose: Purpose = 'direct-care'): AuditTrail {
  const entry = (touches: Touch[], outcome?: AuditOutcome) => recordAccessEntry(actor, request, touches, breakGlassReason, purpose, outcome);
  return {
    changeRecord: (touches) => ({ row: changeRecordRow(entry(touches)), writer: changeRecordWriter }),
    changes: async (tx, touches) => {
      if (touches.length > 0) await recordAudit(tx, entry(touches));
    },
    looks: async (db, touches, outcome) => {
      if (touches.length > 0) await recordAuditGrouped(db, entry(touches, outcome));
    },
    event: (tx, event) => recordAudit(tx, { ...auditAgent(actor, request, breakGlassReason, purpose), ...event }),
  };
}

/** The AuditEvent's agent and context: who, their organisation and role, the client, the purpose, the request. */
export function auditAgent(actor: AuditedActor, request: { method: string; url: string; id?: string }, breakGlassReason: string | null, purpose: Purpose) {
  return {
    actor: actor.email,
    orgCode: actor.orgCode,
    role: actor.role,
    clientId: actor.clientId ?? null,
    purpose,
    breakGlassReason,
    requestId: request.id ?? null,
  };
}

/** The audit record for what one request touched (at least one touch). */
export function recordAccessEntry(
  actor: AuditedActor,
  request: { method: string; url: string; id?: string },
  touches: Touch[],
  breakGlassReason: string | null,
  purpose: Purpose = 'direct-care',
  outcome?: AuditOutcome,
): AuditEntry {
  const first = touches[0]!;
  // One touch (a read, a create) is nearly every record: its lists without building sets (every look pays this).
  const patients = touches.length === 1 ? (first.patientId ? [first.patientId] : []) : [...new Set(touches.map((t) => t.patientId).filter((p): p is string => !!p))];
  const actions = touches.length === 1 ? [first.action] : [...new Set(touches.map((t) => t.action))];
  const what = touches.length === 1 ? `${first.resourceType}/${first.id}` : `${touches.length} resources`;
  const refused = actions.includes('denied');
  return {
    ...auditAgent(actor, request, breakGlassReason, purpose),
    action: `fhir.${actions.join('+')}`,
    entityType: patients.length === 1 ? 'Patient' : first.resourceType,
    entityId: patients.length === 1 ? patients[0]! : first.id,
    summary: `${actions.join(', ')} ${what}${patients.length ? ` in ${patients.length} patient record(s)` : ''}${breakGlassReason ? ` — BREAK GLASS: ${breakGlassReason}` : ''}`,
    outcome: outcome ?? (refused && actions.length === 1 ? 'denied' : 'success'),
    patientIds: patients,
    detail: {
      request: `${request.method} ${request.url.slice(0, 500)}`,
      patients: patients.slice(0, MAX_LISTED),
      resources: touches.slice(0, MAX_LISTED).map((t) => `${t.action} ${t.resourceType}/${t.id}`),
      breakGlassReason,
    },
  };
}
