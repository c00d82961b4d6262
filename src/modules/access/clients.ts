/**
 * Registered backend clients (SMART Backend Services): other software — a pharmacy, council or GP system —
 * acting for one known organisation in one role, within its allowed scopes, authenticated by its public keys.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { AppError, invalid, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { recordAudit } from '../audit/index.ts';
import { ROLES, type Actor, type Role } from './actor.ts';
import { actorOrganisationColumns, assertKnownOrganisation } from './organisations.ts';
import { parseScope } from './scopes.ts';
import { forgetSignIn } from './sign-ins.ts';

/** The algorithms a client may sign its assertions with (SMART Backend Services: RS384 and ES384). */
export const CLIENT_ALGORITHMS = ['RS384', 'ES384'] as const;

export interface BackendClient {
  id: string;
  name: string;
  orgCode: string;
  role: Role;
  scopes: string[];
  jwks: { keys: JWK[] };
  createdAt: string;
  disabledAt: string | null;
}

export const newClientSchema = z.object({
  name: z.string().trim().min(1).max(200),
  org: z.string().trim().toUpperCase().min(1, 'a client acts for an organisation: give its code'),
  role: z.enum(ROLES),
  scopes: z.array(z.string()).min(1, 'give at least one scope, e.g. system/Patient.read'),
  jwks: z.unknown(),
});
export type NewClient = z.input<typeof newClientSchema>;

/** The public keys of a JWKS a client may sign with; private keys and other algorithms are refused. */
export async function checkJwks(jwks: unknown): Promise<{ keys: JWK[] }> {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid('jwks', 'the JWKS must be {"keys":[…]} with at least one public key');
  for (const [i, key] of (keys as JWK[]).entries()) {
    const where = `key ${i + 1}${key.kid ? ` (kid ${key.kid})` : ''}`;
    if (typeof key !== 'object' || key === null) throw invalid('jwks', `${where} is not a JSON Web Key`);
    if ('d' in key || 'p' in key || 'k' in key) throw invalid('jwks', `${where} holds a private or secret key: register only the public key`);
    const alg = key.alg ?? (key.kty === 'RSA' ? 'RS384' : key.kty === 'EC' && key.crv === 'P-384' ? 'ES384' : undefined);
    if (!alg || !(CLIENT_ALGORITHMS as readonly string[]).includes(alg)) throw invalid('jwks', `${where} must be an RSA key for RS384 or a P-384 EC key for ES384`);
    try {
      await importJWK({ ...key, alg }, alg);
    } catch (error) {
      throw invalid('jwks', `${where} is not a usable ${alg} public key: ${(error as Error).message}`);
    }
  }
  return { keys: keys as JWK[] };
}

/** Registers a client (an admin's act, audited); returns it with its new id. */
export async function addClient(db: Db, by: Actor, input: NewClient): Promise<BackendClient> {
  if (by.role !== 'admin') throw new AppError('forbidden', 'only an admin may register a backend client');
  const parsed = newClientSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(issue.path.join('.') || 'client', issue.message);
  }
  const client = parsed.data;
  const scopes = [...new Set(client.scopes.flatMap((s) => s.split(/\s+/)).filter(Boolean))];
  const unknown = scopes.find((s) => !parseScope(s));
  if (unknown) throw invalid('scope', `'${unknown}' is not a system scope: write e.g. system/Patient.read, system/*.read or system/Observation.rs`);
  const jwks = await checkJwks(client.jwks);
  await assertKnownOrganisation(db, client.org);
  const id = randomUUID();
  return db.transaction(async (tx) => {
    await tx.query(`INSERT INTO backend_client (id, name, org_code, role, scopes, jwks) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
      id,
      client.name,
      client.org,
      client.role,
      scopes.join(' '),
      JSON.stringify(jwks),
    ]);
    await recordAudit(tx, {
      actor: by.email,
      action: 'client.add',
      entityType: 'backend-client',
      entityId: id,
      summary: `Registered the backend client ${client.name} for ${client.org} as ${client.role}`,
      detail: { name: client.name, org: client.org, role: client.role, scopes },
    });
    return (await getClient(tx, id))!;
  });
}

interface ClientRow {
  id: string;
  name: string;
  org_code: string;
  role: Role;
  scopes: string;
  jwks: { keys: JWK[] } | string;
  created_at: Date | string;
  disabled_at: Date | string | null;
}

const toClient = (row: ClientRow): BackendClient => ({
  id: row.id,
  name: row.name,
  orgCode: row.org_code,
  role: row.role,
  scopes: row.scopes.split(' ').filter(Boolean),
  jwks: typeof row.jwks === 'string' ? JSON.parse(row.jwks) : row.jwks,
  createdAt: new Date(row.created_at).toISOString(),
  disabledAt: row.disabled_at === null ? null : new Date(row.disabled_at).toISOString(),
});

const CLIENT_COLUMNS = 'id, name, org_code, role, scopes, jwks, created_at, disabled_at';

export async function getClient(db: Db, id: string): Promise<BackendClient | undefined> {
  const [row] = await db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM backend_client WHERE id = $1`, [id]);
  return row && toClient(row);
}

export async function listClients(db: Db): Promise<BackendClient[]> {
  return (await db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM backend_client ORDER BY created_at, id`)).map(toClient);
}

/** Disables a client at once: no new tokens, and its current ones are refused from the next request. */
export async function disableClient(db: Db, by: Actor, id: string): Promise<BackendClient> {
  if (by.role !== 'admin') throw new AppError('forbidden', 'only an admin may disable a backend client');
  const disabled = await db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: string; name: string }>('UPDATE backend_client SET disabled_at = COALESCE(disabled_at, now()) WHERE id = $1 RETURNING id, name', [id]);
    if (!row) throw notFound(`the backend client ${id}`);
    await recordAudit(tx, { actor: by.email, action: 'client.disable', entityType: 'backend-client', entityId: id, summary: `Disabled the backend client ${row.name}` });
    return (await getClient(tx, id))!;
  });
  forgetSignIn(db, 'client', id);
  return disabled;
}

/**
 * The actor an enabled client's access token speaks for, with its PCN resolved from its organisation;
 * undefined when the client is unknown or disabled. One query by primary key (tokens.ts remembers the answer).
 */
export async function clientActor(db: Db, id: string, scopes: readonly string[]): Promise<Actor | undefined> {
  const [row] = await db.query<Pick<Actor, 'name' | 'role' | 'pcnCode' | 'pcnCodes' | 'orgName' | 'orgKind'> & { orgCode: string }>(
    `SELECT c.name, c.role, c.org_code AS "orgCode", ${actorOrganisationColumns('c.org_code')}
       FROM backend_client c WHERE c.id = $1 AND c.disabled_at IS NULL`,
    [id],
  );
  if (!row) return undefined;
  return { kind: 'client', id, clientId: id, email: `client:${id}`, ...row, scopes };
}
