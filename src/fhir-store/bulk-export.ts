/**
 * FHIR Bulk Data $export: an async job per request (kick-off → 202 + status URL → manifest of NDJSON
 * files). Jobs run in this process and are recorded in fhir_export_job; files live under the export
 * directory the caller gives (config.ts's exportDir).
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../storage/db.ts';
import type { RequestContext } from './context.ts';
import { exportNdjson, type ExportFilter } from './export.ts';
import { forbiddenOutcome } from './outcomes.ts';

export interface ExportJob {
  id: string;
  status: 'accepted' | 'in-progress' | 'completed' | 'failed';
  requestedBy: string;
  requestUrl: string;
  createdAt: string;
  output: Array<{ type: string; count: number }> | null;
  error: string | null;
}

const running = new Map<string, Promise<void>>();

/** Bulk export hands over whole populations: only admins may start one, and it is audited. */
export async function startExport(db: Db, context: RequestContext, requestUrl: string, filter: ExportFilter, exportDir: string): Promise<string> {
  context.access.assertBulkExport();
  const id = randomUUID();
  await db.query('INSERT INTO fhir_export_job (id, requested_by, request_url, status) VALUES ($1, $2, $3, $4)', [id, context.who, requestUrl, 'accepted']);
  await context.audit.event(db, { action: 'fhir.export', entityType: 'ExportJob', entityId: id, summary: `Started bulk export ${requestUrl}`, detail: { ...filter } });
  const job = runExport(db, context, id, filter, join(exportDir, id)).finally(() => running.delete(id));
  running.set(id, job);
  return id;
}

async function runExport(db: Db, context: RequestContext, id: string, filter: ExportFilter, dir: string): Promise<void> {
  try {
    await db.query("UPDATE fhir_export_job SET status = 'in-progress' WHERE id = $1", [id]);
    const files = await exportNdjson(db, context.access, dir, filter);
    await db.query("UPDATE fhir_export_job SET status = 'completed', finished_at = now(), output = $2 WHERE id = $1", [id, JSON.stringify(files.map((f) => ({ type: f.type, count: f.count })))]);
  } catch (error) {
    await db.query("UPDATE fhir_export_job SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1", [id, (error as Error).message]).catch(() => undefined);
  }
}

export async function getExport(db: Db, context: Pick<RequestContext, 'who'>, id: string): Promise<ExportJob | undefined> {
  const [job] = await db.query<ExportJob>(
    `SELECT id, status, requested_by AS "requestedBy", request_url AS "requestUrl",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt", output, error
       FROM fhir_export_job WHERE id = $1`,
    [id],
  );
  if (job && job.requestedBy !== context.who) throw forbiddenOutcome('this export belongs to someone else');
  return job;
}

export const exportFile = (exportDir: string, id: string, type: string) => join(exportDir, id, `${type}.ndjson`);

export async function deleteExport(db: Db, context: Pick<RequestContext, 'who'>, id: string, exportDir: string): Promise<boolean> {
  const job = await getExport(db, context, id);
  if (!job) return false;
  await running.get(id)?.catch(() => undefined);
  await db.query('DELETE FROM fhir_export_job WHERE id = $1', [id]);
  await rm(join(exportDir, id), { recursive: true, force: true });
  return true;
}

/** Waits for running jobs (tests, graceful shutdown). */
export async function settleExports(): Promise<void> {
  await Promise.allSettled(running.values());
}
