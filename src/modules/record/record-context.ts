/** The store's request context for an actor: their access rules, their audit trail and how their entries are signed. */
import type { Purpose, RequestContext } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { recordAccessFor } from './record-access.ts';
import { recordAuditTrail } from './record-audit.ts';
import { entrySigner } from './sign-entry.ts';

export interface RecordRequest {
  /** The HTTP request or command, named in the audit; `id` is the server's request id (Fastify's request.id). */
  request: { method: string; url: string; id?: string };
  /** The server's FHIR base, for links. */
  baseUrl?: string;
  /** A written reason: opens the one patient the request names to this user for breakGlassHours (audited). */
  breakGlassReason?: string | null;
  breakGlassHours?: number;
  purpose?: Purpose;
  lenient?: boolean;
}

/** The store's request context for an actor: their access rules and their audit trail. */
export async function recordContext(db: Db, actor: Actor, options: RecordRequest): Promise<RequestContext> {
  const breakGlassReason = options.breakGlassReason ?? null;
  const purpose = options.purpose ?? 'direct-care';
  return {
    who: actor.email,
    purpose,
    access: await recordAccessFor(db, actor, { purpose, breakGlassReason, breakGlassHours: options.breakGlassHours }),
    audit: recordAuditTrail(actor, options.request, breakGlassReason, purpose),
    baseUrl: options.baseUrl ?? 'urn:pcn-hub:fhir',
    lenient: options.lenient ?? false,
    request: options.request,
    sign: entrySigner(actor),
  };
}
