/**
 * The access module's policy (modules/access/policy.ts, docs/access.md) as the store's AccessRules for
 * one actor and request: which patients (relationship, dissent, break-glass grants, the national data
 * opt-out for secondary use) and which entries (the role's categories and sensitivity labels). Every
 * door — /fhir, /api, the CLI — reaches the record through a context built here.
 */
import type { Db } from '../../storage/db.ts';
import { registryToday } from '../../shared/dates.ts';
import {
  type Actor,
  BREAK_GLASS_HOURS,
  decideRead,
  decideWrite,
  entrySql,
  labelsOf,
  openBreakGlass,
  patientSql,
  pcnCodesOf,
  policyOf,
  relationshipSql,
  roleWords,
  type Viewer,
} from '../access/index.ts';
import { cachedRead } from '../network/index.ts';
import { type AccessRules, forbiddenOutcome, type Purpose, SqlParams } from '../../fhir-store/index.ts';

/** The access rules of one actor, for the store's request context. */
export interface RecordAccess extends AccessRules {
  actor: Actor;
  breakGlassReason: string | null;
}

export interface RecordAccessOptions {
  purpose?: Purpose;
  /** A written reason: opens the one patient a request names (a grant, audited), never a search. */
  breakGlassReason?: string | null;
  breakGlassHours?: number;
}

export async function recordAccessFor(db: Db, actor: Actor, options: RecordAccessOptions = {}): Promise<RecordAccess> {
  const purpose = options.purpose ?? 'direct-care';
  const breakGlassReason = options.breakGlassReason ?? null;
  const policy = policyOf(actor.role);
  // Every PCN the actor works for (a partner organisation's, through the PCNs it serves). Through the
  // registry's read cache: dropped on every registry change made here, at most 5 s old otherwise, and keyed
  // by the day, so a move scheduled for today is in effect from midnight.
  const pcns = pcnCodesOf(actor);
  const pcnWords = pcns.length ? pcns.join(', ') : 'your PCN';
  const practices = pcns.length
    ? await cachedRead(db, `pcn-practices:${pcns.join(',')}:${registryToday()}`, async () =>
        (await db.query<{ ods: string }>('SELECT practice_ods AS ods FROM practice_membership_in_effect WHERE pcn_code = ANY($1::text[]) ORDER BY 1', [pcns])).map((r) => r.ods),
      )
    : [];
  const viewer: Viewer = { role: actor.role, userId: actor.id, email: actor.email, orgCode: actor.orgCode, practices };
  const patientCondition = (patientId: string, params: SqlParams) => patientSql(viewer, purpose, patientId, params);
  const entryFilter = (params: SqlParams) => entrySql(viewer, params);

  /** Why this patient's record is closed to the actor, in words. */
  const refusal = async (tx: Db, patientId: string): Promise<string> => {
    if (policy.reach === 'none') return `${roleWords(actor.role)} sees no patient-level records`;
    if (policy.reach === 'all') return 'the patient has dissented from sharing: their record is seen only at their registered practice';
    const params = new SqlParams();
    const [row] = await tx.query<{ related: boolean }>(`SELECT ${relationshipSql(viewer, params.add(patientId), params)} AS related`, params.values);
    const glass = policy.breakGlass ? ' (give a break-glass reason to proceed)' : '';
    if (row?.related) return `the patient has dissented from sharing: their record is seen only at their registered practice${glass}`;
    const where = policy.reach === 'pcn' ? `the patient is not registered in ${pcnWords} and ` : '';
    return `no legitimate relationship: ${where}neither you nor your organisation is on their care team, and your organisation holds no open referral or task for them${glass}`;
  };

  return {
    actor,
    breakGlassReason,
    patientCondition,
    entryFilter,
    patientFilter(params) {
      const patients = patientCondition('r.patient_id', params);
      const entries = entryFilter(params);
      const parts = [...(patients === null ? [] : [`(r.patient_id IS NULL OR ${patients})`]), ...(entries === null ? [] : [entries])];
      return parts.length ? parts.join(' AND ') : null;
    },
    async assertPatient(tx, patientId) {
      const params = new SqlParams();
      const condition = patientCondition(params.add(patientId), params);
      if (condition === null) return;
      const [hit] = condition === 'false' ? [] : await tx.query(`SELECT 1 WHERE ${condition}`, params.values);
      if (hit) return;
      // A reason on a request that names this one patient opens their record to this user for a while.
      if (breakGlassReason && policy.breakGlass && purpose === 'direct-care') {
        await openBreakGlass(tx, actor, patientId, breakGlassReason, options.breakGlassHours ?? BREAK_GLASS_HOURS);
        return;
      }
      throw forbiddenOutcome(await refusal(tx, patientId));
    },
    seesVersion(resource) {
      return policy.reach === 'all' || decideRead(actor.role, resource.resourceType, labelsOf(resource)).allow;
    },
    assertWrite(resource) {
      const decision = decideWrite(actor.role, resource.resourceType, labelsOf(resource));
      if (!decision.allow) throw forbiddenOutcome(decision.reason);
    },
    assertBulkExport() {
      // Bulk export hands over whole populations: only admins may start one, and it is audited.
      if (actor.role !== 'admin') throw forbiddenOutcome('only an admin may export the record in bulk');
    },
    assertRegistration(practiceOds) {
      if (policy.reach === 'all') return;
      if (policy.reach === 'none') throw forbiddenOutcome(`${roleWords(actor.role)} sees no patient-level records`);
      if (policy.reach !== 'pcn' || !practiceOds || !practices.includes(practiceOds)) {
        throw forbiddenOutcome(`you may register patients only at practices of ${pcnWords}`);
      }
    },
  };
}
