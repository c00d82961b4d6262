import { Command, Option } from 'commander';
import { AppError } from '../shared/errors.ts';
import { ROLES, SYSTEM_ACTOR, addUser, changeUser, disableUser, listUsers, resetPassword, type Role } from '../modules/access/index.ts';
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
        .option('--org <code>', 'their organisation, known to the registry: a PCN (U…), practice or partner code; needed for pcn-manager')
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
  user.addCommand(
    withStoreOption(new Command('list').description('list the users (tab-separated: email, name, role, organisation, enabled or disabled since); never their passwords')).action(
      async (flags: { data?: string }) => {
        await usingStore(flags, async (db) => {
          const users = await listUsers(db, SYSTEM_ACTOR);
          if (users.length === 0) process.stdout.write('No users yet: add one with `pcn user add`.\n');
          for (const u of users) {
            const org = u.org ? `${u.org}${u.orgName ? ` ${u.orgName}` : ''}` : '-';
            process.stdout.write(`${[u.email, u.name, u.role, org, u.disabledAt ? `disabled ${u.disabledAt}` : 'enabled'].join('\t')}\n`);
          }
        });
      },
    ),
  );
  user.addCommand(
    withStoreOption(
      new Command('set')
        .description('change a user’s role, organisation or name (a mover); their tokens carry the change from the next request')
        .requiredOption('--email <email>', 'the user to change')
        .addOption(new Option('--role <role>', 'their new role').choices(ROLES))
        .option('--org <code>', 'their new organisation, known to the registry: a PCN, practice or partner code')
        .option('--no-org', 'they belong to no organisation (e.g. an admin)')
        .option('--name <name>', 'their new full name'),
    ).action(async (flags: { email: string; role?: Role; org?: string | false; name?: string; data?: string }) => {
      if (flags.role === undefined && flags.org === undefined && flags.name === undefined) throw new AppError('invalid', 'give at least one change: --role, --org, --no-org or --name', 'role');
      await usingStore(flags, async (db) => {
        const actor = await changeUser(db, SYSTEM_ACTOR, { email: flags.email, role: flags.role, org: flags.org === false ? null : flags.org, name: flags.name });
        process.stdout.write(
          `${actor.email} is now ${actor.name}, ${actor.role}${actor.orgCode ? ` at ${actor.orgCode}` : ''}${actor.pcnCode && actor.pcnCode !== actor.orgCode ? ` in ${actor.pcnCode}` : ''}.\n`,
        );
      });
    }),
  );
  user.addCommand(
    withStoreOption(
      new Command('reset')
        .description('set a new password (read from standard input): the user’s current sessions end at once')
        .requiredOption('--email <email>', 'the user whose password to reset')
        .requiredOption('--password-stdin', 'read the new password from standard input'),
    ).action(async (flags: { email: string; data?: string }) => {
      const password = await readStdin();
      await usingStore(flags, async (db) => {
        const actor = await resetPassword(db, SYSTEM_ACTOR, { email: flags.email, password });
        process.stdout.write(`Reset the password of ${actor.email}: their sessions have ended; they sign in with the new one.\n`);
      });
    }),
  );
  return user;
}
