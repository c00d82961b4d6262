/**
 * A cohort as CSV. Identifiable (NHS number, name, birth date, postcode) for a direct-care role, and only the patients
 * whose record they may open; pseudonymised for everyone else (or when asked): a pseudonym stable for this cohort
 * and unlinkable with any other's (an HMAC under the cohort's own key), an age band instead of the birth date, no
 * NHS number, name or postcode, the patients under the national data opt-out left out (secondary use), and refused
 * when it would hold 1 to 4 people. Every export is audited once, naming the patients in it.
 */
import { createHmac } from 'node:crypto';
import { SqlParams } from '../../fhir-store/index.ts';
import { spreadsheetCsv } from '../../shared/csv.ts';
import { forbidden } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, roleWords } from '../access/index.ts';
import { cohortSql } from './cohort-definition.ts';
import { auditList, POPULATION_ROW_COLUMNS, type PopulationDbRow, type PopulationRow, populationRowOf, visiblePatients } from './cohort-patients.ts';
import { NOT_OPTED_OUT, SUPPRESS_BELOW } from './cohort-size.ts';
import { loadCohort, practicesOf, seesPatients } from './cohort-store.ts';

export type ExportForm = 'identifiable' | 'pseudonymised';

/** No export is bigger than this: a cohort, not the area (`pcn population` and $export are for populations). */
export const EXPORT_LIMIT = 100_000;

const CLINICAL_COLUMNS = ['practice', 'efi_category', 'efi_score', 'smr_priority', 'ltc_count', 'open_gaps', 'closed_gaps', 'care_home', 'housebound'] as const;
export const IDENTIFIABLE_COLUMNS = ['nhs_number', 'name', 'birth_date', 'postcode', ...CLINICAL_COLUMNS, 'last_contact', 'as_of'] as const;
export const PSEUDONYMISED_COLUMNS = ['pseudonym', 'age_band', 'gender', ...CLINICAL_COLUMNS, 'last_contact_month', 'as_of'] as const;

const clinical = (r: PopulationRow) => ({
  practice: r.practice,
  efi_category: r.efiCategory,
  efi_score: r.efiScore,
  smr_priority: r.smrPriority,
  ltc_count: r.ltcCount,
  open_gaps: r.openGaps.join(' '),
  closed_gaps: r.closedGaps.join(' '),
  care_home: r.careHome,
  housebound: r.housebound,
});

/** Five-year bands on the result's as-of day, 90 and over together; unknown without a birth date. */
export function ageBand(age: number | null): string {
  if (age === null) return 'unknown';
  if (age >= 90) return '90+';
  const low = Math.floor(age / 5) * 5;
  return `${low}-${low + 4}`;
}

export interface CohortExport {
  form: ExportForm;
  filename: string;
  csv: string;
  rows: number;
}

export async function exportCohort(db: Db, actor: Actor, id: string, asked: ExportForm | undefined, request: { method: string; url: string; id?: string }): Promise<CohortExport> {
  const cohort = await loadCohort(db, actor, id);
  const form = asked ?? (seesPatients(actor) ? 'identifiable' : 'pseudonymised');
  if (form === 'identifiable' && !seesPatients(actor)) throw forbidden(`${roleWords(actor.role)} may export a cohort pseudonymised only`);
  const params = new SqlParams();
  const where = cohortSql(cohort.definition, params.add(await practicesOf(db, cohort.pcnCode)), params);
  const list = { entityType: 'Cohort', entityId: cohort.id, pcnCode: cohort.pcnCode, what: `the cohort "${cohort.name}" (${form})` };
  const filename = `cohort-${cohort.id}-${form}.csv`;
  if (form === 'identifiable') {
    const rows = (await visiblePatients(db, actor, params, { where, limit: EXPORT_LIMIT })).slice(0, EXPORT_LIMIT);
    await auditList(db, actor, request, { ...list, action: 'population.cohort.export' }, rows);
    const csv = spreadsheetCsv(
      rows.map((r) => ({ nhs_number: r.patient.nhsNumber, name: r.patient.name, birth_date: r.birthDate, postcode: r.postcode, ...clinical(r), last_contact: r.lastContact, as_of: r.asOf })),
      IDENTIFIABLE_COLUMNS,
    );
    return { form, filename, csv, rows: rows.length };
  }
  const rows = await db.query<PopulationDbRow & { age: number | null }>(
    `SELECT ${POPULATION_ROW_COLUMNS}, extract(year FROM age(p.as_of, p.birth_date))::int AS age FROM population_patient_now p
      WHERE ${where} AND ${NOT_OPTED_OUT} ORDER BY p.patient_id LIMIT ${params.add(EXPORT_LIMIT)}`,
    params.values,
  );
  if (rows.length > 0 && rows.length < SUPPRESS_BELOW) throw forbidden(`the cohort "${cohort.name}" holds fewer than ${SUPPRESS_BELOW} patients: too few to export without risk of identifying them`);
  const key = await pseudonymKey(db, cohort.id);
  const pseudonym = (patientId: string) => createHmac('sha256', key).update(patientId).digest('hex').slice(0, 20);
  const records = rows.map((row) => ({ row: populationRowOf(row), age: row.age }));
  await auditList(
    db,
    actor,
    request,
    { ...list, action: 'population.cohort.export', purpose: 'secondary-use' },
    records.map((r) => r.row),
  );
  const csv = spreadsheetCsv(
    records.map(({ row, age }) => ({
      pseudonym: pseudonym(row.patientId),
      age_band: ageBand(age),
      gender: row.gender,
      ...clinical(row),
      last_contact_month: row.lastContact?.slice(0, 7) ?? null,
      as_of: row.asOf,
    })),
    PSEUDONYMISED_COLUMNS,
  );
  return { form, filename, csv, rows: records.length };
}

async function pseudonymKey(db: Db, cohortId: string): Promise<string> {
  const [row] = await db.query<{ key: string }>('SELECT pseudonym_key AS key FROM population_cohort WHERE id = $1', [cohortId]);
  return row!.key;
}
