import { Command, Argument, Option } from 'commander';
import { writeRegistryDir } from '../modules/network/index.ts';
import { countResources, exportNdjson } from '../fhir-store/index.ts';
import { findActor } from '../modules/access/index.ts';
import { recordContext, systemContext } from '../modules/record/index.ts';
import { AppError } from '../shared/errors.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function exportCommand() {
  return withStoreOption(
    new Command('export')
      .description('export data: the registry as the CSVs `pcn import` reads, or the record as NDJSON (one file per resource type)')
      .addArgument(new Argument('<kind>', 'what to export').choices(['registry', 'fhir']))
      .argument('<dir>', 'folder to write into (created if missing)')
      .option('--user <email>', 'export the record as this user: only what their role and relationships let them see (audited under their name)')
      .addOption(
        new Option('--purpose <purpose>', 'direct care, or secondary use (planning, analysis): leaves out patients who opted out of secondary use')
          .choices(['direct-care', 'secondary-use'])
          .default('direct-care'),
      ),
  ).action(async (kind: 'registry' | 'fhir', dir: string, flags: { data?: string; user?: string; purpose: 'direct-care' | 'secondary-use' }) => {
    await usingStore(flags, async (db) => {
      if (kind === 'registry') {
        const result = await writeRegistryDir(db, dir);
        process.stdout.write(`Exported ${result.pcns} PCNs and ${result.practices} practices to ${dir} (${result.files.join(', ')}).\n`);
        return;
      }
      // The record is read through the access policy like any other door: as a named user, or as the
      // system operator (the machine's owner, e.g. a backup), and either way audited.
      const request = { method: 'CLI', url: `pcn export fhir ${dir}` };
      const actor = flags.user ? await findActor(db, flags.user) : undefined;
      if (flags.user && !actor) throw new AppError('not-found', `no user has the email ${flags.user}`, 'user');
      const context = actor ? await recordContext(db, actor, { request, purpose: flags.purpose }) : await systemContext(db, request.url, flags.purpose);
      const n = await countResources(db);
      const bar = progressBar('Exporting FHIR');
      const files = await exportNdjson(db, context.access, dir, {}, (done) => bar.update(done, n)).finally(() => bar.stop());
      const count = files.reduce((sum, f) => sum + f.count, 0);
      await context.audit.event(db, {
        action: 'fhir.export',
        entityType: 'Export',
        entityId: dir.slice(0, 200),
        summary: `Exported ${count} resources (${flags.purpose}) as ${context.who}`,
        detail: { purpose: flags.purpose, files: files.map((f) => ({ type: f.type, count: f.count })) },
      });
      process.stdout.write(`Exported ${count} resources to ${dir} (${files.map((f) => `${f.type}.ndjson`).join(', ')}) as ${actor ? actor.email : 'the system operator'}; audited.\n`);
    });
  });
}
