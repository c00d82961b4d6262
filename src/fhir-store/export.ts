/** NDJSON export of the record, one file per resource type, streamed in id order (Bulk Data format). */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Db } from '../storage/db.ts';
import type { AccessRules } from './context.ts';
import { SqlParams } from './search-sql.ts';

export interface ExportFilter {
  types?: string[];
  /** Only these patients' records (Patient/$export, Group/$export). */
  patientIds?: string[];
  since?: string;
}

export interface ExportedFile {
  type: string;
  file: string;
  count: number;
}

const PAGE = 5000;

/**
 * Writes the rows `access` lets its actor see (the same rule as a search: their patients, their role's
 * entries, and under secondary use no patient who opted out), one NDJSON file per resource type.
 */
export async function exportNdjson(db: Db, access: AccessRules, dir: string, filter: ExportFilter = {}, onCount?: (n: number) => void): Promise<ExportedFile[]> {
  await mkdir(dir, { recursive: true });
  const types = filter.types?.length
    ? filter.types
    : (await db.query<{ resource_type: string }>('SELECT DISTINCT resource_type FROM fhir_resource WHERE NOT deleted ORDER BY 1')).map((r) => r.resource_type);
  const files: ExportedFile[] = [];
  let total = 0;
  for (const type of types) {
    const file = join(dir, `${type}.ndjson`);
    const out = createWriteStream(file);
    let count = 0;
    let after = '';
    for (;;) {
      const params = new SqlParams([type, after, filter.patientIds ?? null, filter.since ?? null]);
      const allowed = access.patientFilter(params);
      const rows = await db.query<{ id: string; content: string }>(
        `SELECT r.id, r.content::text AS content FROM fhir_resource r
          WHERE r.resource_type = $1 AND NOT r.deleted AND r.id > $2
            AND ($3::text[] IS NULL OR r.patient_id = ANY($3::text[]))
            AND ($4::timestamptz IS NULL OR r.last_updated >= $4)${allowed ? ` AND ${allowed}` : ''}
          ORDER BY r.id LIMIT ${PAGE}`,
        params.values,
      );
      if (rows.length === 0) break;
      const chunk = `${rows.map((r) => r.content).join('\n')}\n`;
      if (!out.write(chunk)) await once(out, 'drain');
      count += rows.length;
      total += rows.length;
      onCount?.(total);
      after = rows.at(-1)!.id;
    }
    out.end();
    await once(out, 'finish');
    // A type with nothing the actor may see leaves no file: the manifest lists only files with resources.
    if (count > 0) files.push({ type, file, count });
    else await rm(file);
  }
  return files;
}

/** How many current resources the store holds (a progress bar's total). */
export async function countResources(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource WHERE NOT deleted');
  return row?.n ?? 0;
}
