/**
 * Who may see which patient's record (domain.md, "Who may see what"): direct care needs a legitimate
 * relationship — here, the patient is registered at a practice of the viewer's PCN — or a recorded
 * break-glass reason, which is audited. Admins act for the organisation (audited); analysts and
 * managers see no patient-level data (secondary use is aggregate only).
 */
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/actor.ts';
import { forbiddenOutcome } from './fhir-outcomes.ts';
import type { SqlParams } from './fhir-search-sql.ts';

export interface RecordAccess {
  actor: Actor;
  breakGlassReason: string | null;
  /** A condition on rows `r` limiting them to patients the actor may see; null when unlimited. */
  patientFilter(params: SqlParams): string | null;
  /** Throws a 403 OperationOutcome unless the actor may see (and add to) this patient's record. */
  assertPatient(db: Db, patientId: string): Promise<void>;
  /** Throws unless the actor may create a patient registered at this practice. */
  assertRegistration(practiceOds: string | null): void;
}

const PATIENT_ROLES = new Set(['admin', 'clinician']);

export async function recordAccessFor(db: Db, actor: Actor, breakGlassReason: string | null = null): Promise<RecordAccess> {
  const unlimited = actor.role === 'admin' || (actor.role === 'clinician' && !!breakGlassReason);
  const practices = actor.pcnCode
    ? (await db.query<{ ods: string }>('SELECT practice_ods AS ods FROM practice_membership WHERE pcn_code = $1 AND end_date IS NULL', [actor.pcnCode])).map((r) => r.ods)
    : [];
  const refuse = () => {
    throw forbiddenOutcome(
      PATIENT_ROLES.has(actor.role)
        ? `no legitimate relationship: the patient is not registered in ${actor.pcnCode ?? 'your PCN'} (give a break-glass reason to proceed)`
        : `a ${actor.role} sees no patient-level records`,
    );
  };
  return {
    actor,
    breakGlassReason,
    patientFilter(params) {
      if (unlimited) return null;
      if (!PATIENT_ROLES.has(actor.role)) return 'r.patient_id IS NULL';
      return `(r.patient_id IS NULL OR r.patient_id IN (SELECT g.id FROM fhir_token g WHERE g.resource_type = 'Patient'
                 AND g.code = 'general-practitioner:identifier' AND g.value = ANY(${params.add(practices)}::text[])))`;
    },
    async assertPatient(tx, patientId) {
      if (unlimited) return;
      if (!PATIENT_ROLES.has(actor.role)) refuse();
      const [registered] = await tx.query(
        `SELECT 1 FROM fhir_token WHERE resource_type = 'Patient' AND id = $1 AND code = 'general-practitioner:identifier' AND value = ANY($2::text[])`,
        [patientId, practices],
      );
      if (!registered) refuse();
    },
    assertRegistration(practiceOds) {
      if (unlimited) return;
      if (!PATIENT_ROLES.has(actor.role) || !practiceOds || !practices.includes(practiceOds)) refuse();
    },
  };
}
