import { Command, Argument } from 'commander';
import { writeRegistryDir } from '../modules/network/index.ts';
import { countResources, exportNdjson } from '../fhir-store/index.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function exportCommand() {
  return withStoreOption(
    new Command('export')
      .description('export data: the registry as the CSVs `pcn import` reads, or the record as NDJSON (one file per resource type)')
      .addArgument(new Argument('<kind>', 'what to export').choices(['registry', 'fhir']))
      .argument('<dir>', 'folder to write into (created if missing)'),
  ).action(async (kind: 'registry' | 'fhir', dir: string, flags: { data?: string }) => {
    await usingStore(flags, async (db) => {
      if (kind === 'registry') {
        const result = await writeRegistryDir(db, dir);
        process.stdout.write(`Exported ${result.pcns} PCNs and ${result.practices} practices to ${dir} (${result.files.join(', ')}).\n`);
        return;
      }
      const n = await countResources(db);
      const bar = progressBar('Exporting FHIR');
      const files = await exportNdjson(db, dir, {}, (done) => bar.update(done, n)).finally(() => bar.stop());
      process.stdout.write(`Exported ${files.reduce((sum, f) => sum + f.count, 0)} resources to ${dir} (${files.map((f) => `${f.type}.ndjson`).join(', ')}).\n`);
    });
  });
}
