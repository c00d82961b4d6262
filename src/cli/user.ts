import { Command, Option } from 'commander';
import { ROLES, SYSTEM_ACTOR, addUser, disableUser } from '../modules/access/index.ts';
import { usingStore, withStoreOption } from './store-options.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function userCommand() {
  const user = new Command('user').description('manage the people who sign in');
  user.addCommand(
    withStoreOption(
      new Command('add')
        .description('create a user (a password from stdin lets them sign in to the web app)')
        .requiredOption('--email <email>', 'their email, used to sign in')
        .requiredOption('--name <name>', 'their full name')
        .addOption(new Option('--role <role>', 'what they may do').choices(ROLES).makeOptionMandatory())
        .option('--org <ods>', 'their organisation: a PCN code (U…) or practice code; needed for pcn-manager')
        .option('--password-stdin', 'read the password from standard input'),
    ).action(async (flags: { email: string; name: string; role: (typeof ROLES)[number]; org?: string; passwordStdin?: boolean; data?: string }) => {
      const password = flags.passwordStdin ? await readStdin() : undefined;
      await usingStore(flags, async (db) => {
        const actor = await addUser(db, { email: flags.email, name: flags.name, role: flags.role, org: flags.org, password });
        const pcn = actor.pcnCode ? ` in ${actor.pcnCode}` : '';
        process.stdout.write(`Added ${actor.email} (${actor.role}${pcn})${password ? '' : ' without a password: use `pcn token` for scripts'}.\n`);
      });
    }),
  );
  user.addCommand(
    withStoreOption(
      new Command('disable').description('disable a user at once: they cannot sign in and their tokens stop working (their history stays)').requiredOption('--email <email>', 'the user to disable'),
    ).action(async (flags: { email: string; data?: string }) => {
      await usingStore(flags, async (db) => {
        const actor = await disableUser(db, SYSTEM_ACTOR, flags.email);
        process.stdout.write(`Disabled ${actor.email}.\n`);
      });
    }),
  );
  return user;
}
