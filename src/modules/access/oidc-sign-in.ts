/**
 * Single sign-on (docs/access.md): the person an OpenID Connect provider vouches for (oidc-client.ts)
 * signs in as a PCN Hub user. Matched by their identity at the provider (issuer + subject) once linked; on
 * their first sign-in by a verified email, which links it; otherwise, where the deployment allows it
 * (PCN_OIDC_CREATE_USERS), added from their claims. Their role and organisation follow the provider's
 * claims where it gives them, audited as `pcn user set` is. Every sign-in and every refusal is audited.
 */
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { recordAudit } from '../audit/index.ts';
import { ROLES, SYSTEM_ACTOR, type Actor, type Role } from './actor.ts';
import { oidcClient, SsoRefused, type OidcClient, type OidcSettings, type ProviderClaims } from './oidc-client.ts';
import { issueHandover } from './oidc-handover.ts';
import { assertKnownOrganisation, orgCode } from './organisations.ts';
import { addUser, changeUser, findActor } from './users.ts';

/** Who the audit names for what single sign-on changes: the provider's word, applied by PCN Hub. */
const SINGLE_SIGN_ON: Actor = { ...SYSTEM_ACTOR, email: 'single-sign-on', name: 'Single sign-on (the identity provider’s claims)' };

export interface SingleSignOn {
  /** The sign-in page's button. */
  label: string;
  /** Where the provider sends people back, when configured; else the request's own origin's callback. */
  redirectUrl?: string;
  start: OidcClient['start'];
  /** Back from the provider: the person signed in (or refused, audited), as a one-time handover code. */
  finish(db: Db, request: { callbackUrl: string; browserState: string | undefined; address: string; requestId: string }): Promise<{ handover: string }>;
}

/** Single sign-on with these settings; an unknown PCN Hub role in the role map stops the start-up. */
export function singleSignOn(settings: OidcSettings): SingleSignOn {
  const roleMap = checkedRoleMap(settings.roleMap);
  const client = oidcClient(settings);
  return {
    label: settings.label,
    redirectUrl: settings.redirectUrl,
    start: client.start,
    async finish(db, request) {
      let person: Person | undefined;
      try {
        const { claims, returnTo } = await client.finish(db, request);
        person = personOf(claims, settings, roleMap);
        const actor = await signIn(db, settings, person, request);
        return { handover: await issueHandover(db, actor.id, returnTo) };
      } catch (error) {
        if (error instanceof SsoRefused) await auditRefusal(db, settings.issuer, person, error, request);
        throw error;
      }
    },
  };
}

function checkedRoleMap(map: Record<string, string>): Record<string, Role> {
  for (const [theirs, ours] of Object.entries(map)) {
    if (!(ROLES as readonly string[]).includes(ours)) throw new Error(`PCN_OIDC_ROLE_MAP maps ${theirs} to '${ours}', which is not a PCN Hub role (${ROLES.join(', ')})`);
  }
  return map as Record<string, Role>;
}

/** What PCN Hub takes from a provider's claims. */
interface Person {
  issuer: string;
  subject: string;
  /** Only a verified email (or a trusted provider's) links or creates a user. */
  email?: string;
  name?: string;
  /** The PCN Hub role the provider's role maps to; none when it gives no role the map knows. */
  role?: Role;
  /** The provider's role as it gave it (for the refusal's words). */
  providerRole?: string;
  org?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

function personOf(claims: ProviderClaims, settings: OidcSettings, roleMap: Record<string, Role>): Person {
  const verified = claims.email_verified === true || settings.trustEmail;
  const name = text(claims.name) ?? ([text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || undefined);
  const { role, providerRole, org: roleOrg } = roleOf(claims, settings, roleMap);
  const org = (settings.orgClaim ? text(claims[settings.orgClaim]) : roleOrg)?.toUpperCase();
  return { issuer: claims.iss, subject: claims.sub, email: verified ? text(claims.email)?.toLowerCase() : undefined, name, role, providerRole, org };
}

/**
 * The role claim may be a string, a list of strings, or CIS2's `nhsid_nrbac_roles` (objects with
 * `role_code` such as `S8000:G8000:R8000`, `org_code` and `person_roleid`). The role the person chose at
 * sign-in (CIS2's `selected_roleid`) comes first; the first role the map knows — by its whole code or
 * any colon-separated part — is theirs, with its organisation.
 */
function roleOf(claims: ProviderClaims, settings: OidcSettings, roleMap: Record<string, Role>): { role?: Role; providerRole?: string; org?: string } {
  const value = settings.roleClaim ? claims[settings.roleClaim] : undefined;
  const entries = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((entry) =>
    typeof entry === 'object' && entry !== null
      ? { code: text((entry as Record<string, unknown>).role_code), org: text((entry as Record<string, unknown>).org_code), id: text((entry as Record<string, unknown>).person_roleid) }
      : { code: text(entry), org: undefined, id: undefined },
  );
  const selected = text(claims.selected_roleid);
  const ordered = [...entries.filter((entry) => selected !== undefined && entry.id === selected), ...entries];
  const mapped = (code: string): Role | undefined => [code, ...code.split(':')].map((key) => (Object.hasOwn(roleMap, key) ? roleMap[key] : undefined)).find(Boolean);
  for (const entry of ordered) {
    const role = entry.code ? mapped(entry.code) : undefined;
    if (role) return { role, providerRole: entry.code, org: entry.org };
  }
  return { providerRole: ordered[0]?.code, org: ordered[0]?.org };
}

interface UserRow {
  id: string;
  email: string;
  disabled: boolean;
  /** Linked to another identity at this provider. */
  linkedElsewhere: boolean;
}

const USER_COLUMNS = 'u.id, u.email, u.disabled_at IS NOT NULL AS disabled';

/** Matches (links, or creates) the person, brings their role and organisation up to date, all or nothing. */
async function signIn(db: Db, settings: OidcSettings, person: Person, request: { address: string; requestId: string }): Promise<Actor> {
  const provider = settings.label.replace(/^Sign in with /i, '');
  if (person.org !== undefined) await assertOrganisation(db, person, provider);
  return db.transaction(async (tx) => {
    const [linked] = await tx.query<UserRow>(`SELECT ${USER_COLUMNS}, false AS "linkedElsewhere" FROM user_identity i JOIN app_user u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2`, [
      person.issuer,
      person.subject,
    ]);
    let how = 'identity';
    let user = linked;
    if (!user && person.email) {
      [user] = await tx.query<UserRow>(
        `SELECT ${USER_COLUMNS}, EXISTS (SELECT 1 FROM user_identity i WHERE i.issuer = $2 AND i.user_id = u.id) AS "linkedElsewhere" FROM app_user u WHERE u.email = $1`,
        [person.email, person.issuer],
      );
      how = 'email';
    }
    if (user?.linkedElsewhere) throw new SsoRefused('identity-conflict', `${user.email} is already linked to another ${provider} account`);
    if (user?.disabled) throw new SsoRefused('disabled', `${user.email} has been disabled`);
    if (!user) {
      user = await createUser(tx, settings, person, provider);
      how = 'created';
    }
    if (how !== 'identity') await tx.query('INSERT INTO user_identity (issuer, subject, user_id) VALUES ($1, $2, $3)', [person.issuer, person.subject, user.id]);
    await followClaims(tx, user.email, person);
    const actor = (await findActor(tx, user.email))!;
    await recordAudit(tx, {
      actor: actor.email,
      action: 'user.sign-in',
      entityType: 'user',
      entityId: actor.email,
      summary: `Signed in with single sign-on (${person.issuer})${how === 'identity' ? '' : how === 'email' ? ', linking their account by email' : ', as a new user'}`,
      detail: { method: 'oidc', issuer: person.issuer, subject: person.subject, matchedBy: how, address: request.address },
      requestId: request.requestId,
      orgCode: actor.orgCode,
      role: actor.role,
    });
    return actor;
  });
}

async function assertOrganisation(db: Db, person: Person, provider: string): Promise<void> {
  const unknown = () => new SsoRefused('unknown-organisation', `your ${provider} organisation ${person.org} is not an organisation PCN Hub knows`);
  if (!orgCode.safeParse(person.org).success) throw unknown();
  await assertKnownOrganisation(db, person.org!).catch(() => {
    throw unknown();
  });
}

async function createUser(tx: Db, settings: OidcSettings, person: Person, provider: string): Promise<UserRow> {
  const notSetUp = (why: string) => new SsoRefused('not-set-up', `your ${provider} account is not set up in PCN Hub${why}: ask your administrator`);
  if (!settings.createUsers) throw notSetUp('');
  if (!person.email) throw notSetUp(' (the provider gave no verified email to add you by)');
  if (!person.role) throw new SsoRefused('no-role', `your ${provider} role ${person.providerRole ?? '(none given)'} has no PCN Hub role: ask your administrator`);
  const actor = await addUser(tx, { email: person.email, name: person.name ?? person.email, role: person.role, org: person.org }, { by: SINGLE_SIGN_ON }).catch((error: unknown) => {
    throw error instanceof AppError ? notSetUp(` (${error.message})`) : error;
  });
  return { id: actor.id, email: actor.email, disabled: false, linkedElsewhere: false };
}

/** The provider's role and organisation, where it gives them, replace PCN Hub's (a mover, audited). */
async function followClaims(tx: Db, email: string, person: Person): Promise<void> {
  const [now] = await tx.query<{ role: Role; org: string | null }>('SELECT role, org_code AS org FROM app_user WHERE email = $1', [email]);
  const role = person.role !== undefined && person.role !== now?.role ? person.role : undefined;
  const org = person.org !== undefined && person.org !== now?.org ? person.org : undefined;
  if (role === undefined && org === undefined) return;
  await changeUser(tx, SINGLE_SIGN_ON, { email, role, org }).catch((error: unknown) => {
    throw error instanceof AppError ? new SsoRefused('not-set-up', `your account could not take the provider's role and organisation (${error.message}): ask your administrator`) : error;
  });
}

async function auditRefusal(db: Db, issuer: string, person: Person | undefined, refusal: SsoRefused, request: { address: string; requestId: string }): Promise<void> {
  const who = person?.email ?? (person ? `${person.issuer} ${person.subject}` : 'unknown');
  await recordAudit(db, {
    actor: person?.email ?? SINGLE_SIGN_ON.email,
    action: 'user.sign-in',
    entityType: 'user',
    entityId: who,
    summary: `Refused single sign-on of ${who}: ${refusal.message}`,
    detail: { method: 'oidc', issuer, subject: person?.subject ?? null, reason: refusal.reason, address: request.address },
    requestId: request.requestId,
    outcome: 'denied',
  });
}
