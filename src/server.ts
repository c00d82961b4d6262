/** Starts the HTTP server on a store: used by `pcn serve`, `npm start` and the browser tests. */
import pino, { type Logger } from 'pino';
import { buildApp, type DemoSeeding, type ZodApp } from './http/app.ts';
import { tokenKeyFileFor, type LoadShedding, type TrustProxy } from './config.ts';
import { signTokensWithKeyFile, type OidcSettings } from './modules/access/index.ts';
import type { Db } from './storage/db.ts';
import { openStore } from './storage/open.ts';
import { seedDemoIfEmpty, seedDemoPatients, type SeedResult } from './demo/seed-demo.ts';
import { keepStatisticsCurrent, settleExports } from './fhir-store/index.ts';
import { startAuditSealer } from './modules/audit/index.ts';
import { keepPopulationCurrent } from './modules/population/index.ts';
import { keepNotifying } from './modules/tasks/index.ts';
import { keepDirectoryFiguresCurrent } from './modules/directory/index.ts';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** An open, migrated database; otherwise one is opened from databaseUrl / dataDir. */
  db?: Db;
  databaseUrl?: string;
  dataDir?: string;
  /** Each statement's time budget on PostgreSQL; none when unset. */
  statementTimeoutMs?: number;
  seedDemo?: boolean;
  /** Synthetic patients to add in the background after a start that seeded the demo area (default none). */
  demoPatients?: number;
  adminPassword?: string;
  /** With seedDemo: also add the demo members (a GP, a pharmacist, a social worker …) sharing demoPassword (random when unset). */
  demoMembers?: boolean;
  demoPassword?: string;
  mapTiles?: string;
  /** When to answer 503 instead of queueing; the engine's defaults when unset. */
  loadShedding?: LoadShedding;
  /** Requests a minute per signed-in user or address; none when unset. */
  rateLimitPerMinute?: number;
  /** Where Bulk Data $export writes its files (default under the system temp). */
  exportDir?: string;
  /**
   * The bearer-token key file. Default: the store's own (config.ts tokenKeyFileFor) when this opens the
   * store; none for a store passed in as `db`, whose tokens then live and die with this process.
   */
  tokenKeyFile?: string;
  /** How long a break-glass reason opens one patient's record (default 4 hours). */
  breakGlassHours?: number;
  /** Proxies whose X-Forwarded-For gives the client's address (default: none). */
  trustProxy?: TrustProxy;
  /** Minutes without activity after which the web app signs a person out (default 30; 0: never). */
  idleSignOutMinutes?: number;
  /** Single sign-on through an OpenID Connect provider (config.ts's oidc); password sign-in only when unset. */
  oidc?: OidcSettings;
  /** Re-score population health as records change (the change feed's `population` consumer); default on. */
  keepPopulationCurrent?: boolean;
  /** Raise in-app notifications from the change feed (the `notifications` consumer) and for overdue tasks; default on. */
  notifications?: boolean;
  /** Keep the service directory's referral figures current (the change feed's `directory` consumer); default on. */
  keepDirectoryFiguresCurrent?: boolean;
  /** ANALYZE the store at start and as it grows (fhir-store/statistics.ts); default on. */
  keepStatisticsCurrent?: boolean;
  logger?: Logger | false;
}

export interface RunningServer {
  url: string;
  db: Db;
  app: ZodApp;
  seed: SeedResult;
  /** Settles when the background patient seeding (if any) has finished or stopped. */
  patientsSeeded: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const ownsDb = !options.db;
  const dataDir = options.dataDir ?? './pcn-data';
  const db = options.db ?? (await openStore({ databaseUrl: options.databaseUrl, dataDir, statementTimeoutMs: options.statementTimeoutMs }));
  const tokenKeyFile = options.tokenKeyFile ?? (ownsDb ? tokenKeyFileFor({ databaseUrl: options.databaseUrl, dataDir }) : undefined);
  if (tokenKeyFile) signTokensWithKeyFile(db, tokenKeyFile);
  const seed = options.seedDemo ? await seedDemoIfEmpty(db, { adminPassword: options.adminPassword, members: options.demoMembers, demoPassword: options.demoPassword }) : { seeded: false };
  // The server answers while the demo population is added behind it; /healthz and the web app show how far it has got.
  const seeding: DemoSeeding | null = seed.seeded && options.demoPatients ? { patients: 0, of: options.demoPatients } : null;
  let seedingDone = false;
  const app = await buildApp({
    db,
    logger,
    mapTiles: options.mapTiles,
    loadShedding: options.loadShedding,
    exportDir: options.exportDir,
    rateLimitPerMinute: options.rateLimitPerMinute,
    breakGlassHours: options.breakGlassHours,
    trustProxy: options.trustProxy,
    idleSignOutMinutes: options.idleSignOutMinutes,
    demoSeeding: () => (seeding && !seedingDone ? { ...seeding } : null),
    oidc: options.oidc,
  });
  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  let closing = false;
  // Links committed audit records into the hash chain every second (modules/audit/chain.ts).
  const sealer = startAuditSealer(db, { onError: (error) => void (logger || undefined)?.warn({ err: (error as Error).message }, 'audit sealing failed; retrying') });
  const patientsSeeded = seeding
    ? seedDemoPatients(db, {
        patients: seeding.of,
        onProgress: (counts) => {
          if (closing) throw new Error('stopped: the server is shutting down');
          seeding.patients = counts.bundles + counts.skipped;
          if (logger) logger.info({ patients: counts.bundles, of: seeding.of, resources: counts.resources }, 'seeding demo patients');
        },
      })
        .then(
          (counts) => void (logger || undefined)?.info({ patients: counts.bundles, resources: counts.resources }, 'demo patients seeded'),
          (error: Error) => void (logger || undefined)?.warn({ err: error.message }, 'demo patient seeding stopped (re-run `pcn demo` to resume)'),
        )
        .finally(() => {
          seedingDone = true;
        })
    : Promise.resolve();
  // Change-feed followers: each a consumer of its own, stopped on close; a batch that fails is retried, logged.
  const followers: Array<{ stop: AbortController; followed: Promise<void> }> = [];
  const follow = (on: boolean | undefined, what: string, start: (signal: AbortSignal, onError: (error: unknown) => void) => Promise<void>) => {
    if (on === false) return;
    const stop = new AbortController();
    const warn = (message: string) => (error: unknown) => void (logger || undefined)?.warn({ err: (error as Error).message }, message);
    followers.push({ stop, followed: start(stop.signal, warn(`${what}: a batch of record changes failed; trying again`)).catch(warn(`${what}: no longer kept current`)) });
  };
  // Population health's scores follow the record: a patient whose record changes is re-scored within seconds.
  // On the first start the demo population is scored by one run once it is in (the dashboards need a run),
  // and the feed is followed from there: following it from the beginning would score everyone twice.
  follow(options.keepPopulationCurrent, 'population scores', (signal, onError) => patientsSeeded.then(() => keepPopulationCurrent(db, { signal, onError, runFirst: seeding !== null })));
  // The planner's statistics follow the store's growth (PGlite has no autovacuum; PostgreSQL's comes late).
  follow(options.keepStatisticsCurrent, 'planner statistics', (signal, onError) => keepStatisticsCurrent(db, { signal, onError }));
  // Notifications: a referral or task for someone tells them within seconds.
  follow(options.notifications, 'notifications', (signal, onError) => keepNotifying(db, { signal, onError }));
  // The directory's figures: a referral sent, accepted or finished counts within seconds.
  follow(options.keepDirectoryFiguresCurrent, 'directory figures', (signal, onError) => keepDirectoryFiguresCurrent(db, { signal, onError }));
  return {
    url,
    db,
    app,
    seed,
    patientsSeeded,
    async close() {
      closing = true;
      await app.close();
      await sealer.stop();
      for (const { stop } of followers) stop.abort();
      await Promise.all(followers.map(({ followed }) => followed));
      await patientsSeeded;
      await settleExports();
      if (ownsDb) await db.close();
    },
  };
}
