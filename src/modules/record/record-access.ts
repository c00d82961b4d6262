/**
 * Who may see which patient's record (domain.md, "Who may see what"): direct care needs a legitimate
 * relationship — the patient is registered at a practice of the viewer's PCN, or the viewer's
 * organisation is on the patient's care team (a CareTeam participant, e.g. a community pharmacy or a
 * council's social workers) — or a recorded break-glass reason, which is audited. Admins act for the organisation (audited); analysts and
 * managers see no patient-level data (secondary use is aggregate only).
 */
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { cachedRead } from '../network/index.ts';
import { type AccessRules, forbiddenOutcome, SqlParams } from '../../fhir-store/index.ts';

/** The access rules of one actor, for the store's request context. */
export interface RecordAccess extends AccessRules {
  actor: Actor;
  breakGlassReason: string | null;
}

const PATIENT_ROLES = new Set(['admin', 'clinician']);

export async function recordAccessFor(db: Db, actor: Actor, breakGlassReason: string | null = null): Promise<RecordAccess> {
  const unlimited = actor.role === 'admin' || (actor.role === 'clinician' && !!breakGlassReason);
  // Through the registry's read cache: dropped on every registry change made here, at most 5 s old otherwise.
  const practices = actor.pcnCode
    ? await cachedRead(db, `pcn-practices:${actor.pcnCode}`, async () =>
        (await db.query<{ ods: string }>('SELECT practice_ods AS ods FROM practice_membership WHERE pcn_code = $1 AND end_date IS NULL', [actor.pcnCode])).map((r) => r.ods),
      )
    : [];
  const refuse = () => {
    throw forbiddenOutcome(
      PATIENT_ROLES.has(actor.role)
        ? `no legitimate relationship: the patient is not registered in ${actor.pcnCode ?? 'your PCN'} and your organisation is not on their care team (give a break-glass reason to proceed)`
        : `a ${actor.role} sees no patient-level records`,
    );
  };
  // The patients this actor has a legitimate relationship with, as a SQL condition on a patient id,
  // answered from the patient's side: their own registration token (the owner index on id) and their
  // CareTeams (the patient index). `|| ''` keeps the planner off the lookup indexes and OFFSET 0 off a
  // hashed sub-plan: either would read every registration in the area (all 1M of them) to answer for
  // one patient, which small test databases' statistics make look cheap.
  const related = (patientId: string, params: SqlParams) => `(
      EXISTS (SELECT 1 FROM fhir_token g WHERE g.id = ${patientId} AND g.resource_type || '' = 'Patient'
                AND g.code || '' = 'general-practitioner:identifier' AND g.value = ANY(${params.add(practices)}::text[]) OFFSET 0)
   OR EXISTS (SELECT 1 FROM fhir_resource c JOIN fhir_token m ON m.id = c.id AND m.resource_type || '' = c.resource_type
               WHERE c.patient_id = ${patientId} AND c.resource_type || '' = 'CareTeam' AND NOT c.deleted
                 AND m.code || '' = 'participant:identifier' AND m.value = ${params.add(actor.orgCode ?? '')} OFFSET 0))`;
  /** The one rule, as a condition on a patient id: null when unlimited, false for roles that see no patient rows. */
  const condition = (patientId: string, params: SqlParams): string | null => {
    if (unlimited) return null;
    if (!PATIENT_ROLES.has(actor.role)) return 'false';
    return related(patientId, params);
  };
  return {
    actor,
    breakGlassReason,
    patientCondition: condition,
    patientFilter(params) {
      const allowed = condition('r.patient_id', params);
      return allowed === null ? null : `(r.patient_id IS NULL OR ${allowed})`;
    },
    async assertPatient(tx, patientId) {
      if (unlimited) return;
      if (!PATIENT_ROLES.has(actor.role)) refuse();
      const params = new SqlParams();
      const [hit] = await tx.query(`SELECT 1 WHERE ${condition(params.add(patientId), params)}`, params.values);
      if (!hit) refuse();
    },
    assertBulkExport() {
      // Bulk export hands over whole populations: only admins may start one, and it is audited.
      if (actor.role !== 'admin') throw forbiddenOutcome('only an admin may export the record in bulk');
    },
    assertRegistration(practiceOds) {
      if (unlimited) return;
      if (!PATIENT_ROLES.has(actor.role) || !practiceOds || !practices.includes(practiceOds)) refuse();
    },
  };
}
