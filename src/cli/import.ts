import { stat } from 'node:fs/promises';
import { Command, Argument } from 'commander';
import { SYSTEM_ACTOR } from '../modules/access/index.ts';
import { readRegistryDir, saveRegistry } from '../modules/network/index.ts';
import { fhirFilesIn, importFhir, readFhirFiles } from '../fhir-store/index.ts';
import { systemContext } from '../modules/record/index.ts';
import type { Db } from '../storage/db.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function importCommand() {
  return withStoreOption(
    new Command('import')
      .description('import data: a registry folder lands whole or not at all; FHIR lands bundle by bundle and resumes after a crash')
      .addArgument(new Argument('<kind>', 'what the files hold').choices(['registry', 'fhir']))
      .argument('<path>', 'registry: a folder with pcns.csv and practices.csv (or the ePCN CSVs); fhir: a Bundle .json, an .ndjson file, or a folder of them (e.g. Synthea output)'),
  ).action(async (kind: 'registry' | 'fhir', path: string, flags: { data?: string }) => {
    await usingStore(flags, (db) => (kind === 'registry' ? importRegistry(db, path) : importFhirPath(db, path)));
  });
}

async function importRegistry(db: Db, path: string) {
  const snapshot = await readRegistryDir(db, path);
  const bar = progressBar('Importing the registry');
  const counts = await saveRegistry(db, SYSTEM_ACTOR, snapshot, bar.update).finally(() => bar.stop());
  process.stdout.write(`Imported ${counts.pcns} PCNs, ${counts.practices} practices and ${counts.partners} partners from ${path}.\n`);
}

async function importFhirPath(db: Db, path: string) {
  const files = await fhirFilesIn(path);
  let totalBytes = 0;
  for (const file of files) totalBytes += (await stat(file)).size;
  const bar = progressBar('Importing FHIR (bytes)');
  let bytes = 0;
  const started = performance.now();
  const counts = await importFhir(
    db,
    await systemContext(db, `pcn import fhir ${path}`),
    readFhirFiles(files, (n) => bar.update((bytes += n), totalBytes)),
  ).finally(() => bar.stop());
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `Imported ${counts.resources} resources in ${counts.bundles} bundles from ${files.length} file(s) in ${seconds.toFixed(1)} s` +
      `${counts.skipped ? `; skipped ${counts.skipped} already imported` : ''}.\n`,
  );
}
