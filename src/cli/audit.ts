import { Command } from 'commander';
import { verifyAudit } from '../modules/audit/index.ts';
import { progressBar } from './progress.ts';
import { usingStore, withStoreOption } from './store-options.ts';

/** `pcn audit verify`: walks the audit log's hash chain; exit 0 when intact, 1 naming the first bad record. */
export function auditCommand() {
  const command = new Command('audit').description('the audit log of every look at and change to the record');
  command.addCommand(
    withStoreOption(
      new Command('verify').description('seal what is committed, then check the whole hash chain: exits 0 when intact, non-zero with one line naming the first edited, deleted or reordered record'),
    )
      .exitOverride()
      .action(async (flags: { data?: string }) => {
        await usingStore(flags, async (db) => {
          const bar = progressBar('Verifying the audit log');
          const result = await verifyAudit(db, (done, total) => bar.update(done, total)).finally(() => bar.stop());
          if (!result.ok) throw new Error(`the audit log has been tampered with: ${result.problem}`);
          const pending = result.unsealed > 0 ? `; ${result.unsealed} newer record(s) wait for an open transaction to end and will be sealed then` : '';
          process.stdout.write(`The audit log is intact: ${result.checked} records chained, head ${result.headHash}${pending}.\n`);
        });
      }),
  );
  return command;
}
