import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { DEFAULT_DEMO_PATIENTS, seedDemoIfEmpty, seedDemoMembers, seedDemoPatients, seedDemoServices, type DemoMembers } from '../demo/seed-demo.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function printAdmin(admin: { email: string; password: string }) {
  process.stdout.write(`Demo admin (shown once): ${admin.email} / ${admin.password}\n`);
}

/** The demo members added, each with where they work; their one password shown once. */
export function printMembers(members: DemoMembers) {
  const lines = members.added.map((m) => `  ${m.email}  ${m.role} at ${m.where}${m.org ? ` (${m.org})` : ''}`);
  process.stdout.write(`Demo members (password shown once: ${members.password}):\n${lines.join('\n')}\n`);
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
      .option('--patients <n>', `synthetic patients to add to the shared care record (default ${DEFAULT_DEMO_PATIENTS}); re-running resumes`, wholeNumber('--patients'), DEFAULT_DEMO_PATIENTS),
  ).action(async (flags: { data?: string; seed: number; patients: number }) => {
    const config = loadConfig(process.env, { dataDir: flags.data });
    await usingStore(
      flags,
      async (db) => {
        const bar = progressBar('Seeding the demo area');
        const result = await seedDemoIfEmpty(db, { seed: flags.seed, adminPassword: config.adminPassword, members: true, demoPassword: config.demoPassword, progress: bar.update });
        bar.stop();
        if (result.seeded) process.stdout.write(`Seeded the demo area (seed ${flags.seed}) on ${db.engine}.\n`);
        else process.stdout.write('The database already holds a registry: the area was not seeded again.\n');
        if (result.admin) printAdmin(result.admin);
        // Resumes: a demo seeded before there were demo members gets the missing ones.
        const members = result.members ?? (result.seeded ? undefined : await seedDemoMembers(db, { password: config.demoPassword }));
        if (members) printMembers(members);
        // Resumes too: a demo seeded before there was a service directory gets its services.
        if (!result.seeded) {
          const services = await seedDemoServices(db);
          if (services) process.stdout.write(`Added ${services} services to the directory.\n`);
        }
        if (flags.patients === 0) return;
        const patients = progressBar('Generating patients');
        const started = performance.now();
        const counts = await seedDemoPatients(db, { patients: flags.patients, seed: flags.seed, onProgress: (c) => patients.update(c.bundles + c.skipped, flags.patients) }).finally(() =>
          patients.stop(),
        );
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(
          `Added ${counts.bundles} synthetic patients (${counts.resources} resources, ${Math.round(counts.resources / seconds)}/s)${counts.skipped ? `; ${counts.skipped} were already there` : ''}.\n`,
        );
      },
      'create',
    );
  });
}
