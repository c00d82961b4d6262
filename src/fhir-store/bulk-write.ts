/**
 * Many resources written at once by one operation (population health's RiskAssessments, a few hundred per batch
 * of a run): each validated and allowed by the context's rules as a single write is, then the brand-new ones
 * (no row holds their id) inserted together in ONE statement with their index rows and change-feed rows (the
 * bulk import's statement), and those stored before replaced together too (their old versions to history, as
 * updates; Patients one by one). One write per resource took a run's first pass over 1.1M patients ~200k round trips.
 *
 * Not audited here: the caller records the touches returned, once for its batch, in the same transaction.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import type { RequestContext, Touch } from './context.ts';
import { unprocessable } from './outcomes.ts';
import { recordValidationIssues } from './validation.ts';
import { newVersionsStatement, prepareVersion, replaceVersion, replaceVersionsStatements } from './versions.ts';

/** What writeResources touched, with the version each resource is now at. */
export type Written = Touch & { versionId: number };

/** Creates or replaces each resource (by its id) in the caller's transaction; returns what it touched. */
export async function writeResources(tx: Db, context: RequestContext, resources: ReadonlyArray<Resource & { id: string }>): Promise<Written[]> {
  if (resources.length === 0) return [];
  for (const resource of resources) {
    const issues = recordValidationIssues(resource);
    if (issues.length > 0) throw unprocessable(issues);
    context.access.assertWrite(resource);
  }
  if (new Set(resources.map(key)).size < resources.length) throw new RangeError('each resource may be written once in one call');
  const now = new Date().toISOString();
  const stored = await storedVersions(tx, resources);
  const versions = resources.map((r) => prepareVersion(r, (stored.get(key(r)) ?? 0) + 1, now));
  // An actor limited to some patients' records may write only in theirs; a system operation is not limited.
  const patients = new Set(versions.flatMap((v) => (v.patientId ? [v.patientId] : [])));
  for (const patientId of patients) await context.access.assertPatient(tx, patientId);
  const statement = newVersionsStatement(versions.filter((v) => !stored.has(key(v.content))));
  if (statement) await tx.query(statement.sql, statement.values);
  const replaced = versions.filter((v) => stored.has(key(v.content)));
  for (const version of replaced.filter((v) => v.resourceType === 'Patient')) await replaceVersion(tx, version);
  for (const type of new Set(replaced.map((v) => v.resourceType).filter((t) => t !== 'Patient'))) {
    for (const { sql, values } of replaceVersionsStatements(replaced.filter((v) => v.resourceType === type))) await tx.query(sql, values);
  }
  return versions.map((v) => ({
    action: stored.has(key(v.content)) ? 'update' : 'create',
    resourceType: v.resourceType,
    id: v.id,
    patientId: v.patientId,
    versionId: v.versionId,
  }));
}

const key = (r: { resourceType: string; id: string }) => `${r.resourceType}/${r.id}`;

/** The version each of these resources is at (a deleted one included: its next version replaces it). */
async function storedVersions(tx: Db, resources: ReadonlyArray<Resource & { id: string }>): Promise<Map<string, number>> {
  const rows = await tx.query<{ resource_type: string; id: string; version_id: string | number }>(
    `SELECT r.resource_type, r.id, r.version_id FROM fhir_resource r
       JOIN unnest($1::text[], $2::text[]) AS w(resource_type, id) ON r.resource_type = w.resource_type AND r.id = w.id
      FOR UPDATE OF r`,
    [resources.map((r) => r.resourceType), resources.map((r) => r.id)],
  );
  return new Map(rows.map((row) => [`${row.resource_type}/${row.id}`, Number(row.version_id)]));
}
