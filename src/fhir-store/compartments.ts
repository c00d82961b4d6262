/**
 * Patients' records read whole, for capabilities that compute something per patient over everyone
 * (population health): every Patient with the entries of their compartment, in patient id order, in batches.
 *
 * Why this shape: one query per patient would be 1.1M round trips for an area. Each batch is two statements:
 * the next page of Patients by the primary key (keyset: `id > last`, so a page costs the same at the end as
 * at the start, and a resumed scan starts where it stopped), then every entry of those patients at once by
 * the compartment index (`patient_id = ANY(...)`, one bitmap scan). While the caller works on one batch the
 * next is already being read. The caller's access rules filter both statements, as for a search.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import type { RequestContext } from './context.ts';
import { SqlParams } from './search-sql.ts';

export interface PatientCompartment {
  patient: Patient & { id: string };
  /** The current (not deleted) entries of the types asked for, by type then id (each by code points, COLLATE "C", whatever the database's collation). */
  resources: Resource[];
}

export interface ScanCompartmentsOptions {
  /** The entry types wanted (the Patient always comes). */
  types: readonly string[];
  /** Patients per batch (default 1,000). */
  batchSize?: number;
  /** Start after this Patient id (a resumed scan); from the first by default. */
  after?: string;
  signal?: AbortSignal;
}

const DEFAULT_BATCH = 1000;

/**
 * Every patient the context may see, with their entries, a batch at a time. Reading everyone's record is a
 * population's worth of records: only an actor who may export whole populations may (the access rules'
 * `assertBulkExport`). Nothing is audited here: the caller records its operation once (a population run
 * is one audited system operation, not a look per patient).
 */
export async function* scanCompartments(db: Db, context: RequestContext, options: ScanCompartmentsOptions): AsyncGenerator<PatientCompartment[]> {
  context.access.assertBulkExport();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, not ${batchSize}`);
  let next: Promise<PatientCompartment[]> | undefined = readBatch(db, context, options.types, options.after ?? '', batchSize);
  while (next) {
    const batch: PatientCompartment[] = await next;
    options.signal?.throwIfAborted();
    // The next page is read while the caller works on this one.
    next = batch.length === batchSize ? readBatch(db, context, options.types, batch.at(-1)!.patient.id, batchSize) : undefined;
    // Not left unhandled if the caller stops early; awaited (and thrown) on the next turn otherwise.
    next?.catch(() => undefined);
    if (batch.length > 0) yield batch;
  }
}

/**
 * One patient's record (the Patient and their entries of these types), or null when no current Patient has
 * this id. Throws the access rules' refusal (403) when the context may not see this patient. Not audited here.
 */
export async function readCompartment(db: Db, context: RequestContext, patientId: string, types: readonly string[]): Promise<PatientCompartment | null> {
  await context.access.assertPatient(db, patientId);
  const [found] = await readCompartments(db, context, [patientId], types);
  return found ?? null;
}

/**
 * These patients' records (e.g. those a batch of the change feed names), in patient id order, in one pair
 * of statements. As a search does, it leaves out silently the patients the context may not see, and ids no
 * current Patient has (deleted ones). Not audited here.
 */
export async function readCompartments(db: Db, context: RequestContext, patientIds: readonly string[], types: readonly string[]): Promise<PatientCompartment[]> {
  if (patientIds.length === 0) return [];
  return compartmentsOf(db, context, types, await patientRows(db, context, { ids: [...new Set(patientIds)] }));
}

/** An entry of a record, as it stands now. */
export interface CurrentEntry {
  patientId: string | null;
  resource: Resource & { id: string };
}

/**
 * These resources as they stand now, where they still do (current, not deleted), each with the patient whose
 * record holds it; the context's rules for entries filter them as they filter a record read whole. Not audited here.
 */
export async function readEntries(db: Db, context: RequestContext, wanted: ReadonlyArray<{ resourceType: string; id: string }>): Promise<CurrentEntry[]> {
  if (wanted.length === 0) return [];
  const params = new SqlParams();
  const types = params.add([...new Set(wanted.map((w) => w.resourceType))]);
  const ids = params.add([...new Set(wanted.map((w) => w.id))]);
  const entries = context.access.entryFilter(params);
  const rows = await db.query<{ patient_id: string | null; content: Resource & { id: string } }>(
    `SELECT r.patient_id, r.content FROM fhir_resource r
      WHERE r.resource_type = ANY(${types}::text[]) AND r.id = ANY(${ids}::text[]) AND NOT r.deleted${entries ? ` AND ${entries}` : ''}`,
    params.values,
  );
  const asked = new Set(wanted.map((w) => `${w.resourceType}/${w.id}`));
  return rows.filter((r) => asked.has(`${r.content.resourceType}/${r.content.id}`)).map((r) => ({ patientId: r.patient_id, resource: r.content }));
}

/** How many current Patients the store holds (a progress bar's total). */
export async function countPatients(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Patient' AND NOT deleted");
  return row?.n ?? 0;
}

async function readBatch(db: Db, context: RequestContext, types: readonly string[], after: string, limit: number): Promise<PatientCompartment[]> {
  return compartmentsOf(db, context, types, await patientRows(db, context, { after, limit }));
}

interface PatientRow {
  id: string;
  content: Patient & { id: string };
}

async function patientRows(db: Db, context: RequestContext, page: { after: string; limit: number } | { ids: string[] }): Promise<PatientRow[]> {
  const params = new SqlParams();
  const where = 'ids' in page ? `r.id = ANY(${params.add(page.ids)}::text[])` : `r.id > ${params.add(page.after)}`;
  const allowed = context.access.patientFilter(params);
  const limit = 'limit' in page ? ` LIMIT ${params.add(page.limit)}` : '';
  return db.query<PatientRow>(
    `SELECT r.id, r.content FROM fhir_resource r
      WHERE r.resource_type = 'Patient' AND NOT r.deleted AND ${where}${allowed ? ` AND ${allowed}` : ''}
      ORDER BY r.id${limit}`,
    params.values,
  );
}

async function compartmentsOf(db: Db, context: RequestContext, types: readonly string[], patients: PatientRow[]): Promise<PatientCompartment[]> {
  if (patients.length === 0) return [];
  const ids = patients.map((p) => p.id);
  const params = new SqlParams();
  const wanted = types.filter((t) => t !== 'Patient');
  const entries = context.access.entryFilter(params);
  const rows = wanted.length
    ? await db.query<{ patient_id: string; content: Resource }>(
        `SELECT r.patient_id, r.content FROM fhir_resource r
          WHERE r.patient_id = ANY(${params.add(ids)}::text[]) AND r.resource_type = ANY(${params.add(wanted)}::text[]) AND NOT r.deleted${entries ? ` AND ${entries}` : ''}
          ORDER BY r.resource_type COLLATE "C", r.id COLLATE "C"`,
        params.values,
      )
    : [];
  const byPatient = new Map<string, Resource[]>(patients.map((p) => [p.id, []]));
  for (const row of rows) byPatient.get(row.patient_id)?.push(row.content);
  return patients.map((p) => ({ patient: p.content, resources: byPatient.get(p.id)! }));
}
