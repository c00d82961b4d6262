import { Command, Argument } from 'commander';
import { writeRegistryDir } from '../modules/network/registry-csv.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function exportCommand() {
  return withStoreOption(
    new Command('export')
      .description('export data in the format `pcn import` reads')
      .addArgument(new Argument('<kind>', 'what to export').choices(['registry']))
      .argument('<dir>', 'folder to write the CSV files into (created if missing)'),
  ).action(async (_kind: 'registry', dir: string, flags: { data?: string }) => {
    await usingStore(flags, async (db) => {
      const result = await writeRegistryDir(db, dir);
      process.stdout.write(`Exported ${result.pcns} PCNs and ${result.practices} practices to ${dir} (${result.files.join(', ')}).\n`);
    });
  });
}
