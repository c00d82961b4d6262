/**
 * A cohort's patients by name, for direct care: only those whose record the viewer may open (the access module's
 * policy, in the same statement that reads the rows), the look audited once naming every patient shown. A role
 * that sees no patient-level rows is refused: it has the cohort's size and its pseudonymised export.
 */
import type { Patient } from '@medplum/fhirtypes';
import { SqlParams } from '../../fhir-store/index.ts';
import { forbidden } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, roleWords } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { type PatientListing, patientListing, recordAccessFor } from '../record/index.ts';
import { cohortSql } from './cohort-definition.ts';
import { auditBy, loadCohort, practicesOf, seesPatients } from './cohort-store.ts';

/** At most this many rows a page: a cohort to work through, not a population to scroll. */
export const COHORT_PAGE = 500;

/** A patient's row as the projection holds it (what the cohort was built from). */
export interface PopulationRow {
  patientId: string;
  practice: string | null;
  birthDate: string | null;
  gender: string | null;
  postcode: string | null;
  efiCategory: string | null;
  efiScore: number | null;
  smrPriority: boolean | null;
  ltcCount: number;
  openGaps: string[];
  closedGaps: string[];
  careHome: boolean;
  housebound: boolean;
  lastContact: string | null;
  asOf: string;
}

export type CohortPatient = PopulationRow & { patient: PatientListing };

export const POPULATION_ROW_COLUMNS = `p.patient_id, p.practice_ods, to_char(p.birth_date, 'YYYY-MM-DD') AS birth_date, p.gender, p.postcode, p.efi_category, p.efi_score,
  p.smr_priority, p.ltc_count, p.open_gaps, p.closed_gaps, p.care_home, p.housebound, to_char(p.last_contact, 'YYYY-MM-DD') AS last_contact, to_char(p.as_of, 'YYYY-MM-DD') AS as_of`;

export interface PopulationDbRow {
  patient_id: string;
  practice_ods: string | null;
  birth_date: string | null;
  gender: string | null;
  postcode: string | null;
  efi_category: string | null;
  efi_score: string | number | null;
  smr_priority: boolean | null;
  ltc_count: number;
  open_gaps: string[];
  closed_gaps: string[];
  care_home: boolean;
  housebound: boolean;
  last_contact: string | null;
  as_of: string;
}

export const populationRowOf = (r: PopulationDbRow): PopulationRow => ({
  patientId: r.patient_id,
  practice: r.practice_ods,
  birthDate: r.birth_date,
  gender: r.gender,
  postcode: r.postcode,
  efiCategory: r.efi_category,
  efiScore: r.efi_score === null ? null : Number(r.efi_score),
  smrPriority: r.smr_priority,
  ltcCount: r.ltc_count,
  openGaps: r.open_gaps,
  closedGaps: r.closed_gaps,
  careHome: r.care_home,
  housebound: r.housebound,
  lastContact: r.last_contact,
  asOf: r.as_of,
});

/**
 * `SELECT … FROM population_patient_now p` rows matching `where` (bound in `params`) whose record the actor may open for
 * direct care, each with the Patient as lists show them, in name order.
 */
export async function visiblePatients<Extra extends object = object>(
  db: Db,
  actor: Actor,
  params: SqlParams,
  query: { where: string; extraColumns?: string; from?: string; limit: number },
): Promise<Array<CohortPatient & { extra: Extra }>> {
  const access = await recordAccessFor(db, actor, { purpose: 'direct-care' });
  const allowed = access.patientCondition('p.patient_id', params);
  const rows = await db.query<PopulationDbRow & { content: Patient } & Extra>(
    `SELECT ${POPULATION_ROW_COLUMNS}, r.content${query.extraColumns ? `, ${query.extraColumns}` : ''}
       FROM ${query.from ?? 'population_patient_now p'}
       JOIN fhir_resource r ON r.resource_type = 'Patient' AND r.id = p.patient_id AND NOT r.deleted
      WHERE ${query.where}${allowed === null ? '' : ` AND ${allowed}`}
      ORDER BY upper(coalesce(r.content->'name'->0->>'family', '')), r.content->'name'->0->'given'->>0, p.patient_id
      LIMIT ${params.add(query.limit + 1)}`,
    params.values,
  );
  return rows.map((row) => ({ ...populationRowOf(row), patient: patientListing({ ...row.content, id: row.patient_id }), extra: row as Extra }));
}

export interface CohortPatients {
  cohortId: string;
  patients: CohortPatient[];
  /** More matched (and may be seen) than listed. */
  more: boolean;
}

export async function cohortPatients(db: Db, actor: Actor, id: string, request: { method: string; url: string; id?: string }): Promise<CohortPatients> {
  const cohort = await loadCohort(db, actor, id);
  if (!seesPatients(actor)) throw forbidden(`${roleWords(actor.role)} sees a cohort’s size and its pseudonymised export, not its patients by name`);
  const params = new SqlParams();
  const where = cohortSql(cohort.definition, params.add(await practicesOf(db, cohort.pcnCode)), params);
  const rows = await visiblePatients(db, actor, params, { where, limit: COHORT_PAGE });
  const patients = rows.slice(0, COHORT_PAGE).map(({ extra: _, ...row }) => row);
  await auditList(db, actor, request, { action: 'population.cohort.list', entityType: 'Cohort', entityId: cohort.id, pcnCode: cohort.pcnCode, what: `the cohort "${cohort.name}"` }, patients);
  return { cohortId: cohort.id, patients, more: rows.length > COHORT_PAGE };
}

/** One audit record for a list of patients shown (or exported): who, which list, every patient in it. */
export async function auditList(
  db: Db,
  actor: Actor,
  request: { method: string; url: string; id?: string },
  list: { action: string; entityType: string; entityId: string; pcnCode: string; what: string; purpose?: 'direct-care' | 'secondary-use' },
  patients: ReadonlyArray<{ patientId: string }>,
): Promise<void> {
  await recordAudit(db, {
    ...auditBy(actor, request, list.purpose),
    action: list.action,
    entityType: list.entityType,
    entityId: list.entityId,
    pcnCode: list.pcnCode,
    summary: `${list.action.endsWith('export') ? 'Exported' : 'Listed'} ${patients.length} patient(s) of ${list.what}`,
    patientIds: patients.map((p) => p.patientId),
    detail: { request: `${request.method} ${request.url.slice(0, 500)}`, patients: patients.length },
  });
}
