/** Settings come from the environment (and CLI flags that override it); nothing else reads process.env. */
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Bulk Data $export files go unless PCN_EXPORT_DIR says otherwise. */
export const DEFAULT_EXPORT_DIR = join(tmpdir(), 'pcn-hub-exports');

export interface Config {
  port: number;
  host: string;
  /** PGlite data directory, used when no databaseUrl is given. */
  dataDir: string;
  /** postgres://… selects a PostgreSQL server. */
  databaseUrl?: string;
  logLevel: string;
  /** `auto` (default): pretty at a terminal, JSON otherwise; `json` or `pretty` force one (LOG_FORMAT). */
  logFormat: LogFormat;
  /** Optional map tile URL template; without it the map draws offline with no tiles. */
  mapTiles?: string;
  /** The demo admin's password on first start; a random one is made and printed when unset. */
  adminPassword?: string;
  /** The demo members' one password on first start (PCN_DEMO_PASSWORD); a random one is made and printed when unset. */
  demoPassword?: string;
  /** Synthetic patients seeded in the background on the first start (PCN_DEMO_PATIENTS, default 2000). */
  demoPatients: number;
  /** Each statement's time budget on PostgreSQL (PCN_STATEMENT_TIMEOUT_MS, default 10 s; 0 = none). */
  statementTimeoutMs: number;
  loadShedding: LoadShedding;
  /** Requests a minute one signed-in user (or one address, before sign-in) may make; 0 = no limit (PCN_RATE_LIMIT_PER_MINUTE, default 6000). */
  rateLimitPerMinute: number;
  /** Where Bulk Data $export writes its NDJSON files (PCN_EXPORT_DIR, default under the system temp). */
  exportDir: string;
  /** The bearer-token signing key file, outside the database (PCN_KEY_FILE; default: tokenKeyFileFor). */
  tokenKeyFile: string;
  /** How long a break-glass reason opens one patient's record to its user (PCN_BREAK_GLASS_HOURS, default 4). */
  breakGlassHours: number;
  /**
   * Which proxies in front of the server to believe about the client's address (X-Forwarded-For), which
   * sign-in back-off and rate limits count by (PCN_TRUST_PROXY): none by default; `true` every hop, a number
   * of hops, or the proxies' addresses and CIDR ranges, comma-separated.
   */
  trustProxy: TrustProxy;
  /** The web app signs a person out after this many minutes without activity (PCN_IDLE_SIGN_OUT_MINUTES; 0: never). */
  idleSignOutMinutes: number;
  /** Single sign-on through an OpenID Connect provider (PCN_OIDC_*; modules/access's OidcSettings); none when PCN_OIDC_ISSUER is unset. */
  oidc?: ReturnType<typeof oidcConfig>;
}

export type TrustProxy = boolean | number | string[];

export type LogFormat = 'auto' | 'json' | 'pretty';
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

/**
 * When the server answers 503 + Retry-After instead of queueing (src/http/app.ts). A limit of 0 turns
 * that check off. The defaults trip only on real saturation, never in normal use or tests.
 */
export interface LoadShedding {
  /** Mean event-loop delay over a sample, in ms (PCN_SHED_EVENT_LOOP_DELAY_MS, default 1000). */
  maxEventLoopDelayMs: number;
  /** Event-loop utilisation over a sample, 0–1 (PCN_SHED_EVENT_LOOP_UTILISATION, default 0: off — with PGlite the loop also runs the database, so a busy loop alone is no sign of overload). */
  maxEventLoopUtilisation: number;
  /** Statements waiting for a database connection (PCN_SHED_DB_WAITING, default 100). */
  maxDbWaiting: number;
  /** How often the pressure is sampled, in ms (PCN_SHED_SAMPLE_MS, default 1000). */
  sampleMs: number;
  /** The Retry-After a shed request is given, in seconds (PCN_SHED_RETRY_AFTER_S, default 5). */
  retryAfterSeconds: number;
}

export const DEFAULT_LOAD_SHEDDING: LoadShedding = { maxEventLoopDelayMs: 1000, maxEventLoopUtilisation: 0, maxDbWaiting: 100, sampleMs: 1000, retryAfterSeconds: 5 };

/**
 * The defaults for an engine. With PGlite the database runs on the event loop, so a long statement (a
 * large import, the first start's demo seeding) delays the loop without the server being overloaded:
 * there the event-loop check is off by default and the queue of statements waiting is what tells.
 */
export function defaultLoadShedding(engine: 'pglite' | 'postgres'): LoadShedding {
  return engine === 'pglite' ? { ...DEFAULT_LOAD_SHEDDING, maxEventLoopDelayMs: 0 } : DEFAULT_LOAD_SHEDDING;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, not '${env.PORT}'`);
  const shedding = defaultLoadShedding(env.DATABASE_URL ? 'postgres' : 'pglite');
  const config: Config = {
    port,
    // Only this machine by default; HOST=0.0.0.0 listens on every interface (in a container, or behind a proxy elsewhere).
    host: env.HOST || '127.0.0.1',
    dataDir: env.PCN_DATA_DIR || './pcn-data',
    databaseUrl: env.DATABASE_URL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    logFormat: oneOf('LOG_FORMAT', LOG_FORMATS, env.LOG_FORMAT || 'auto'),
    mapTiles: env.PCN_MAP_TILES || undefined,
    adminPassword: env.PCN_ADMIN_PASSWORD || undefined,
    demoPassword: env.PCN_DEMO_PASSWORD || undefined,
    demoPatients: wholeNumber('PCN_DEMO_PATIENTS', env.PCN_DEMO_PATIENTS ?? '2000'),
    statementTimeoutMs: wholeNumber('PCN_STATEMENT_TIMEOUT_MS', env.PCN_STATEMENT_TIMEOUT_MS ?? '10000'),
    loadShedding: {
      maxEventLoopDelayMs: wholeNumber('PCN_SHED_EVENT_LOOP_DELAY_MS', env.PCN_SHED_EVENT_LOOP_DELAY_MS ?? String(shedding.maxEventLoopDelayMs)),
      maxEventLoopUtilisation: fraction('PCN_SHED_EVENT_LOOP_UTILISATION', env.PCN_SHED_EVENT_LOOP_UTILISATION ?? String(shedding.maxEventLoopUtilisation)),
      maxDbWaiting: wholeNumber('PCN_SHED_DB_WAITING', env.PCN_SHED_DB_WAITING ?? String(shedding.maxDbWaiting)),
      sampleMs: Math.max(10, wholeNumber('PCN_SHED_SAMPLE_MS', env.PCN_SHED_SAMPLE_MS ?? String(shedding.sampleMs))),
      retryAfterSeconds: Math.max(1, wholeNumber('PCN_SHED_RETRY_AFTER_S', env.PCN_SHED_RETRY_AFTER_S ?? String(shedding.retryAfterSeconds))),
    },
    exportDir: env.PCN_EXPORT_DIR || DEFAULT_EXPORT_DIR,
    rateLimitPerMinute: wholeNumber('PCN_RATE_LIMIT_PER_MINUTE', env.PCN_RATE_LIMIT_PER_MINUTE ?? '6000'),
    tokenKeyFile: '',
    breakGlassHours: Math.max(1, wholeNumber('PCN_BREAK_GLASS_HOURS', env.PCN_BREAK_GLASS_HOURS ?? '4')),
    trustProxy: trustProxy(env.PCN_TRUST_PROXY ?? ''),
    idleSignOutMinutes: wholeNumber('PCN_IDLE_SIGN_OUT_MINUTES', env.PCN_IDLE_SIGN_OUT_MINUTES ?? '30'),
    oidc: oidcConfig(env),
  };
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const merged = { ...config, ...given };
  return { ...merged, tokenKeyFile: merged.tokenKeyFile || env.PCN_KEY_FILE || tokenKeyFileFor(merged, env) };
}

/**
 * Where the token key lives unless PCN_KEY_FILE says: beside a PGlite folder's data (`<dataDir>/keys/token.key`);
 * for PostgreSQL, in the operator's own config folder, one file per database
 * (`~/.config/pcn-hub/keys/token-<host:port/db hash>.key`), so `pcn token` and `pcn serve` run by the same
 * account on the same machine agree. Servers on several machines share one PCN_KEY_FILE (see docs/operations.md).
 */
export function tokenKeyFileFor(store: { databaseUrl?: string; dataDir: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (!store.databaseUrl) return join(store.dataDir, 'keys', 'token.key');
  const url = new URL(store.databaseUrl);
  const database = createHash('sha256')
    .update(`${url.hostname}:${url.port || '5432'}${url.pathname}`)
    .digest('hex')
    .slice(0, 16);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pcn-hub', 'keys', `token-${database}.key`);
}

function oidcConfig(env: NodeJS.ProcessEnv) {
  const issuer = env.PCN_OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  if (!URL.canParse(issuer)) throw new Error(`PCN_OIDC_ISSUER must be the provider's issuer URL, not '${issuer}'`);
  const clientId = env.PCN_OIDC_CLIENT_ID?.trim();
  if (!clientId) throw new Error('PCN_OIDC_CLIENT_ID is needed with PCN_OIDC_ISSUER: the client id the provider registered PCN Hub under');
  const redirectUrl = env.PCN_OIDC_REDIRECT_URL?.trim() || undefined;
  if (redirectUrl && !URL.canParse(redirectUrl)) throw new Error(`PCN_OIDC_REDIRECT_URL must be a URL, not '${redirectUrl}'`);
  return {
    issuer,
    clientId,
    clientSecret: env.PCN_OIDC_CLIENT_SECRET || undefined,
    redirectUrl,
    scopes: env.PCN_OIDC_SCOPES?.trim() || 'openid profile email',
    label: env.PCN_OIDC_LABEL?.trim() || 'Sign in with NHS Care Identity',
    createUsers: onOff('PCN_OIDC_CREATE_USERS', env.PCN_OIDC_CREATE_USERS),
    trustEmail: onOff('PCN_OIDC_TRUST_EMAIL', env.PCN_OIDC_TRUST_EMAIL),
    roleClaim: env.PCN_OIDC_ROLE_CLAIM?.trim() || undefined,
    orgClaim: env.PCN_OIDC_ORG_CLAIM?.trim() || undefined,
    roleMap: roleMap(env.PCN_OIDC_ROLE_MAP ?? ''),
  };
}

function onOff(name: string, value = ''): boolean {
  const text = value.trim().toLowerCase();
  if (text === '' || text === 'false' || text === '0' || text === 'off') return false;
  if (text === 'true' || text === '1' || text === 'on') return true;
  throw new Error(`${name} must be true or false, not '${value}'`);
}

function roleMap(value: string): Record<string, string> {
  if (!value.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('PCN_OIDC_ROLE_MAP must be a JSON object of provider role → PCN Hub role, e.g. {"R8000":"gp"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((role) => typeof role === 'string')) {
    throw new Error('PCN_OIDC_ROLE_MAP must be a JSON object of provider role → PCN Hub role, e.g. {"R8000":"gp"}');
  }
  return parsed as Record<string, string>;
}

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not '${value}'`);
  return n;
}

function trustProxy(value: string): TrustProxy {
  const text = value.trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const proxies = text.split(',').map((p) => p.trim());
  const bad = proxies.find((p) => !/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(p));
  if (bad !== undefined) throw new Error(`PCN_TRUST_PROXY must be true, false, a number of hops or proxy addresses (CIDR allowed), comma-separated; '${bad}' is none of these`);
  return proxies;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], value: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')}, not '${value}'`);
  return value as T;
}

function fraction(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${name} must be a number from 0 to 1, not '${value}'`);
  return n;
}
