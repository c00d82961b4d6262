import { Command, Argument } from 'commander';
import { SYSTEM_ACTOR } from '../modules/access/actor.ts';
import { readRegistryDir } from '../modules/network/registry-csv.ts';
import { saveRegistry } from '../modules/network/save-registry.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function importCommand() {
  return withStoreOption(
    new Command('import')
      .description('import data; all of a file lands or none of it')
      .addArgument(new Argument('<kind>', 'what the files hold').choices(['registry']))
      .argument('<path>', 'registry: a folder with pcns.csv and practices.csv (or the ePCN CSVs)'),
  ).action(async (_kind: 'registry', path: string, flags: { data?: string }) => {
    await usingStore(flags, async (db) => {
      const snapshot = await readRegistryDir(db, path);
      const bar = progressBar('Importing the registry');
      const counts = await saveRegistry(db, SYSTEM_ACTOR, snapshot, bar.update).finally(() => bar.stop());
      process.stdout.write(`Imported ${counts.pcns} PCNs, ${counts.practices} practices and ${counts.partners} partners from ${path}.\n`);
    });
  });
}
