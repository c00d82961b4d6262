/** Which files an import reads, in which order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fhirFilesIn } from './files.ts';

test('a folder is read Patients first (a Bulk Data export names AllergyIntolerance.ndjson before Patient.ndjson), then by name; other files are left out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pcn-files-'));
  try {
    await mkdir(join(dir, 'more'));
    for (const name of ['AllergyIntolerance.ndjson', 'Patient.ndjson', 'Observation.ndjson', 'PatientsReadme.txt', 'more/Patient-2.json', 'more/Condition.json']) await writeFile(join(dir, name), '');
    const files = (await fhirFilesIn(dir)).map((file) => file.slice(dir.length + 1));
    assert.deepEqual(files, ['Patient.ndjson', 'more/Patient-2.json', 'AllergyIntolerance.ndjson', 'Observation.ndjson', 'more/Condition.json']);
    assert.deepEqual(
      (await fhirFilesIn(join(dir, 'Observation.ndjson'))).map((f) => basename(f)),
      ['Observation.ndjson'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
