import { Command } from 'commander';
import { parseAsOf, runPopulation } from '../modules/population/index.ts';
import { registryToday } from '../shared/dates.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

/** `pcn population run`: every patient scored as of a day (today in England by default), results stored; audited once. */
export function populationCommand() {
  const command = new Command('population').description('population health: frailty, medication review priority, multimorbidity and care gaps for every patient');
  command.addCommand(
    withStoreOption(
      new Command('run')
        .description('score every patient as of a day and store the results (the server keeps them current from then on); audited as one system operation')
        .option('--as-of <date>', 'the day to score as of, YYYY-MM-DD (default: today in England)'),
    )
      .exitOverride()
      .action(async (flags: { data?: string; asOf?: string }) => {
        // Checked before the store is opened: a wrong day is refused without touching anything.
        const asOf = parseAsOf(flags.asOf ?? registryToday(), '--as-of');
        await usingStore(flags, async (db) => {
          const bar = progressBar('Scoring patients');
          const run = await runPopulation(db, { asOf, onProgress: (done, total) => bar.update(done, total) }).finally(() => bar.stop());
          process.stdout.write(`Scored ${run.patients} patients as of ${run.asOf} (rules ${run.rulesVersion}); audited.\n`);
        });
      }),
  );
  return command;
}
