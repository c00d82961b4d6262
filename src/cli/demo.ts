import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { seedDemoIfEmpty } from '../seed-demo.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function printAdmin(admin: { email: string; password: string }) {
  process.stdout.write(`Demo admin (shown once): ${admin.email} / ${admin.password}\n`);
}

const wholeNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not '${value}'`);
  return n;
};

export function demoCommand() {
  return withStoreOption(
    new Command('demo')
      .description('seed the synthetic Norfolk & Waveney demo area (20 PCNs, ~100 practices, partners) into an empty database')
      .option('--seed <s>', 'random seed: the same seed gives the same area', wholeNumber('--seed'), 1)
      .option('--patients <n>', 'synthetic patients to generate (arrives with the shared care record; the registry is seeded now)', wholeNumber('--patients')),
  ).action(async (flags: { data?: string; seed: number; patients?: number }) => {
    const config = loadConfig(process.env, { dataDir: flags.data });
    await usingStore(flags, async (db) => {
      const bar = progressBar('Seeding the demo area');
      const result = await seedDemoIfEmpty(db, { seed: flags.seed, adminPassword: config.adminPassword, progress: bar.update });
      bar.stop();
      if (!result.seeded) {
        process.stdout.write('The database already holds a registry: nothing seeded.\n');
        return;
      }
      process.stdout.write(`Seeded the demo area (seed ${flags.seed}) on ${db.engine}.\n`);
      if (result.admin) printAdmin(result.admin);
      if (flags.patients) process.stdout.write(`Note: patient generation (--patients ${flags.patients}) comes with the shared care record; no patients were made.\n`);
    });
  });
}
