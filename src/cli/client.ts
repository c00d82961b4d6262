import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { AppError } from '../shared/errors.ts';
import { ROLES, SYSTEM_ACTOR, addClient, disableClient, listClients, type Role } from '../modules/access/index.ts';
import { usingStore, withStoreOption } from './store-options.ts';

async function readJwks(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AppError('invalid', `cannot read --jwks ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'jwks');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid', `--jwks ${path} is not JSON: it must be a JWKS, {"keys":[…]}`, 'jwks');
  }
}

export function clientCommand() {
  const client = new Command('client').description('manage backend clients: other software signing in with SMART Backend Services');
  client.addCommand(
    withStoreOption(
      new Command('add')
        .description('register a client with its public keys; prints the client id (the last line of stdout)')
        .requiredOption('--name <name>', 'what the software is, e.g. "Riverside Pharmacy PMR"')
        .requiredOption('--org <code>', 'the organisation it acts for: a PCN, practice or partner code already in the registry')
        .addOption(new Option('--role <role>', 'the role it acts in').choices(ROLES).makeOptionMandatory())
        .requiredOption('--jwks <file>', 'a JSON Web Key Set file with its public keys (RS384 or ES384)')
        .requiredOption('--scope <scopes>', 'the scopes it may ask for, space-separated, e.g. "system/Patient.read system/Observation.rs"'),
    ).action(async (flags: { name: string; org: string; role: Role; jwks: string; scope: string; data?: string }) => {
      const jwks = await readJwks(flags.jwks);
      await usingStore(flags, async (db) => {
        const added = await addClient(db, SYSTEM_ACTOR, { name: flags.name, org: flags.org, role: flags.role, scopes: [flags.scope], jwks });
        process.stdout.write(`Registered ${added.name} for ${added.orgCode} as ${added.role}, scopes ${added.scopes.join(' ')}. Its client id:\n${added.id}\n`);
      });
    }),
  );
  client.addCommand(
    withStoreOption(new Command('list').description('list the registered clients (tab-separated: id, name, organisation, role, scopes, status)')).action(async (flags: { data?: string }) => {
      await usingStore(flags, async (db) => {
        const clients = await listClients(db);
        if (clients.length === 0) process.stdout.write('No backend clients are registered: add one with `pcn client add`.\n');
        for (const c of clients) process.stdout.write(`${[c.id, c.name, c.orgCode, c.role, c.scopes.join(' '), c.disabledAt ? `disabled ${c.disabledAt}` : 'enabled'].join('\t')}\n`);
      });
    }),
  );
  client.addCommand(
    withStoreOption(
      new Command('disable').description('disable a client at once: no new tokens, and its current tokens stop working').requiredOption('--id <id>', 'the client id (`pcn client list`)'),
    ).action(async (flags: { id: string; data?: string }) => {
      await usingStore(flags, async (db) => {
        const disabled = await disableClient(db, SYSTEM_ACTOR, flags.id);
        process.stdout.write(`Disabled ${disabled.name} (${disabled.id}).\n`);
      });
    }),
  );
  return client;
}
