import { Command } from 'commander';
import { AppError } from '../shared/errors.ts';
import { findActor, issueToken } from '../modules/access/index.ts';
import { usingStore, withStoreOption } from './store-options.ts';

export function tokenCommand() {
  return withStoreOption(
    new Command('token')
      .description('print a bearer token for a user, for scripts (the last line of stdout)')
      .requiredOption('--user <email>', 'the user the token acts for')
      .option(
        '--hours <n>',
        'how long it lasts',
        (v) => {
          const hours = Number(v);
          if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) throw new Error(`--hours must be 1 to 720, not '${v}'`);
          return hours;
        },
        12,
      ),
  ).action(async (flags: { user: string; hours: number; data?: string }) => {
    await usingStore(flags, async (db) => {
      const actor = await findActor(db, flags.user);
      if (!actor) throw new AppError('not-found', `no user with email ${flags.user}: add one with \`pcn user add\``);
      process.stdout.write(`${await issueToken(db, actor, flags.hours)}\n`);
    });
  });
}
