/**
 * The shared care record: who may see which patient (record-access.ts), the audit of every look and
 * change (record-audit.ts) and how new entries are signed (sign-entry.ts), handed to the FHIR store as a
 * request context (record-context.ts); and a professional's own patients, inbox and the break-glass
 * reveal (caseload.ts), read through that same context.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Purpose, RequestContext } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { SYSTEM_ACTOR } from '../access/index.ts';
import { recordAccessFor } from './record-access.ts';
import { recordContext } from './record-context.ts';

export { recordAccessFor, recordContext };
export { auditAgent } from './record-audit.ts';
export type { RecordRequest } from './record-context.ts';
export {
  asActor,
  CASELOAD_LIMIT,
  careTeamPatients,
  organisationInbox,
  patientListing,
  revealForBreakGlass,
  type Caseload,
  type CaseloadPatient,
  type Inbox,
  type InboxItem,
  type PatientListing,
  type Reveal,
} from './caseload.ts';

/**
 * A search that names ONE patient by NHS number, sent with a break-glass reason: opens that patient's
 * record to the actor (a grant, audited with the request) so the search finds them. It never widens a
 * search beyond that one patient; an actor whose role cannot break glass simply finds nobody new.
 */
export async function breakGlassForNhsNumber(db: Db, context: RequestContext, nhsNumber: string): Promise<void> {
  const [held] = await db.query<{ patient_id: string }>('SELECT patient_id FROM fhir_patient_nhs_number WHERE nhs_number = $1', [nhsNumber]);
  if (!held) return;
  try {
    await context.access.assertPatient(db, held.patient_id);
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
  }
}

/** A command-line operation (import, export, demo seeding): the system acts, audited under the command's name. */
export function systemContext(db: Db, command: string, purpose: Purpose = 'direct-care'): Promise<RequestContext> {
  return recordContext(db, SYSTEM_ACTOR, { request: { method: 'CLI', url: command }, purpose });
}

/** A change-feed consumer's context: the system, for direct care, audited once as it starts following. */
export async function consumerContext(db: Db, consumer: string, event: { action: string; summary: string }): Promise<RequestContext> {
  const context = await recordContext(db, SYSTEM_ACTOR, { request: { method: 'FEED', url: `change feed consumer ${consumer}` }, purpose: 'direct-care' });
  await context.audit.event(db, { action: event.action, entityType: 'ChangeFeedConsumer', entityId: consumer, summary: event.summary, detail: { purpose: 'direct-care' } });
  return context;
}
