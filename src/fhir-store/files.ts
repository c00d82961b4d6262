/** FHIR files on disk: Bundles (.json) and NDJSON (.ndjson), a file or a folder of them, streamed. */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { AppError } from '../shared/errors.ts';
import { parseJsonSafely } from '../shared/json.ts';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { ImportItem } from './import.ts';

export async function fhirFilesIn(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new AppError('not-found', `${path} does not exist`);
  if (info.isFile()) return [path];
  const files: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.(json|ndjson)$/i.test(entry.name)) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort(byPatientsFirst);
}

/**
 * Patients before the entries that belong to them: a Bulk Data export names its files by type
 * (AllergyIntolerance.ndjson sorts before Patient.ndjson), and an entry whose patient has not landed
 * yet is refused. Otherwise in name order, so a run is repeatable.
 */
function byPatientsFirst(a: string, b: string): number {
  const patients = (file: string) => (/^Patient[^a-z]/.test(basename(file)) ? 0 : 1);
  return patients(a) - patients(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Every bundle or NDJSON line of the files, labelled `file` or `file:line`; `onBytes` reports progress. */
export async function* readFhirFiles(files: string[], onBytes?: (bytes: number) => void): AsyncGenerator<ImportItem> {
  for (const file of files) {
    const name = basename(file);
    if (/\.ndjson$/i.test(file)) {
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      let line = 0;
      for await (const text of lines) {
        line++;
        onBytes?.(Buffer.byteLength(text) + 1);
        if (text.trim() === '') continue;
        yield { label: `${name}:${line}`, resource: parse(text, `${name}:${line}`) as unknown as Resource, text };
      }
      continue;
    }
    const text = await readFile(file, 'utf8');
    onBytes?.(Buffer.byteLength(text));
    const json = parse(text, name);
    yield json.resourceType === 'Bundle' ? { label: name, bundle: json as unknown as Bundle, text } : { label: name, resource: json as unknown as Resource, text };
  }
}

function parse(text: string, label: string) {
  try {
    return parseJsonSafely(text) as { resourceType?: string } & Record<string, unknown>;
  } catch (error) {
    throw new AppError('invalid', `${label}: not valid JSON (${(error as Error).message})`, label);
  }
}
