/** The HTTP transport: Fastify, zod validation, one error table, the web app and the APIs. Thin by design. */
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import underPressure from '@fastify/under-pressure';
import rateLimit from '@fastify/rate-limit';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { defaultLoadShedding, type LoadShedding, type TrustProxy } from '../config.ts';
import { AppError } from '../shared/errors.ts';
import type { Db } from '../storage/db.ts';
import { normalisedPath, requireActor } from './auth.ts';
import { sendError } from './errors.ts';
import { redactingSerializers } from './log-redaction.ts';
import { authRoutes } from './api/auth-routes.ts';
import { oauthRoutes } from './oauth-routes.ts';
import { networkRoutes } from './api/network-routes.ts';
import { auditRoutes } from './api/audit-routes.ts';
import { recordRoutes } from './api/record-routes.ts';
import { cohortRoutes } from './api/cohort-routes.ts';
import { populationRoutes } from './api/population-routes.ts';
import { dashboardRoutes } from './api/dashboard-routes.ts';
import { taskRoutes } from './api/task-routes.ts';
import { carePlanRoutes } from './api/careplan-routes.ts';
import { directoryRoutes } from './api/directory-routes.ts';
import { userRoutes } from './api/user-routes.ts';
import { oidcRoutes } from './api/oidc-routes.ts';
import { referralRoutes } from './api/referral-routes.ts';
import { mdtRoutes } from './api/mdt-routes.ts';
import { singleSignOn, type OidcSettings } from '../modules/access/index.ts';
import { fhirRoutes, warmUpFhir } from './fhir/fhir-routes.ts';
import { DEFAULT_EXPORT_DIR } from '../config.ts';
import { VERSION } from '../version.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
  interface FastifyContextConfig {
    /** Anyone may call this route without signing in. Every other route needs a signed-in actor: secure by default. */
    public?: boolean;
  }
}

export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface AppOptions {
  db: Db;
  logger: Logger | false;
  /** A tile URL template for the map (e.g. https://tile.example/{z}/{x}/{y}.png); none: the map draws without tiles. */
  mapTiles?: string;
  webDist?: string;
  /** When to answer 503 + Retry-After instead of queueing; the defaults unless given. */
  loadShedding?: LoadShedding;
  /** Where Bulk Data $export writes its files (config.ts's exportDir). */
  exportDir?: string;
  /** How long a break-glass reason opens one patient's record (config.ts's breakGlassHours; default 4). */
  breakGlassHours?: number;
  /** Requests a minute per signed-in user or address (config.ts's rateLimitPerMinute); none when unset or 0. */
  rateLimitPerMinute?: number;
  /** Proxies whose X-Forwarded-For gives the client's address (config.ts's trustProxy); none when unset. */
  trustProxy?: TrustProxy;
  /** Minutes without activity after which the web app signs a person out (config.ts; default 30, 0: never). */
  idleSignOutMinutes?: number;
  /** While the demo population is still being added in the background: how far it has got (/healthz shows it). */
  demoSeeding?: () => DemoSeeding | null;
  /** Single sign-on through an OpenID Connect provider (config.ts's oidc); password sign-in only when unset. */
  oidc?: OidcSettings;
}

/** Progress of the demo population added after a first start: patients added of those planned. */
export interface DemoSeeding {
  patients: number;
  of: number;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
const DEFAULT_IDLE_SIGN_OUT_MINUTES = 30;
const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const PUBLIC = { config: { public: true } } as const;
/** The APIs (and the OAuth token endpoint): JSON only, never framed, never cached. */
const API_PATH = /^\/(api|fhir|oauth)(\/|$)/i;
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The web app's Content-Security-Policy: its own scripts, styles, fonts and API only (no inline script, no eval),
 * images from itself (data: for the icons the build inlines) and the configured map tile server, and never
 * inside a frame. Unless tiles are configured, nothing may come from another server.
 */
export function contentSecurityPolicy(mapTiles?: string): string {
  const tiles = mapTiles ? /^(https?:\/\/[^/]+)/i.exec(mapTiles.replace(/\{s\}/g, '*'))?.[1] : undefined;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${tiles ? ` ${tiles}` : ''}`,
    "connect-src 'self'",
    "font-src 'self'", // no web font from another server: PCN Hub works with no internet
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * FHIR operations are named with `$`, which some clients send percent-encoded: `/fhir/%24export` is routed
 * as `/fhir/$export` (and `Patient/%24everything` as `Patient/$everything`), not taken for a resource type.
 */
export function fhirOperationsDecoded(url: string): string {
  if (!/^\/fhir\//i.test(url)) return url;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.replace(/%24/gi, '$') + (query === -1 ? '' : url.slice(query));
}

const hopsTrusted =
  (hops: number) =>
  (_address: string, hop: number): boolean =>
    hop < hops;

export async function buildApp(options: AppOptions): Promise<ZodApp> {
  const app: ZodApp = Fastify({
    // Whatever logger is given, the app logs through redacting serializers: no patient data in the log.
    loggerInstance: (options.logger ? options.logger.child({}, { serializers: redactingSerializers, redact: ['req.headers.authorization', '*.password', '*.token'] }) : undefined) as
      | FastifyBaseLogger
      | undefined,
    bodyLimit: BODY_LIMIT_BYTES,
    // A number of hops as Fastify's function form (its types take the number only in another overload).
    trustProxy: typeof options.trustProxy === 'number' ? hopsTrusted(options.trustProxy) : (options.trustProxy ?? false),
    rewriteUrl: (request) => fhirOperationsDecoded(request.url ?? '/'),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>() as ZodApp;
  app.decorate('db', options.db);
  const sso = options.oidc ? singleSignOn(options.oidc) : undefined;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));

  const webPolicy = contentSecurityPolicy(options.mapTiles);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    const api = API_PATH.test(normalisedPath(request.url));
    reply.header('content-security-policy', api ? API_CSP : webPolicy);
    // Patient data (and tokens) must not be kept by browsers or proxies.
    if (api) reply.header('cache-control', 'no-store');
  });
  warmUpFhir(); // start-up work, not overload: done before shedding measures the event loop
  await shedLoad(app, options.db, options.loadShedding ?? defaultLoadShedding(options.db.engine));
  if (options.rateLimitPerMinute) await limitRate(app, options.rateLimitPerMinute);
  const webDist = options.webDist ?? WEB_DIST;
  const servesWeb = existsSync(webDist);
  /** No route matched: a GET outside /api and /fhir is one of the web app's own pages. */
  const isWebPage = (request: FastifyRequest) => servesWeb && request.method === 'GET' && !/^\/(api|fhir)(\/|$)/i.test(normalisedPath(request.url));
  // Sign-in is decided on the route the router matched (it decoded the path), never on the raw URL, so
  // /%61pi/pcns is /api/pcns here too. Every route needs a signed-in actor unless it says it is public.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    if (request.routeOptions.url === undefined && isWebPage(request)) return;
    const actor = await requireActor(options.db, request);
    // Backend clients speak FHIR; the web app's /api is for people.
    if (actor.kind === 'client' && !/^\/fhir(\/|$)/i.test(normalisedPath(request.url))) throw new AppError('forbidden', 'a backend client may use /fhir only');
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'PCN Hub API', version: VERSION, description: 'The web app’s JSON API. Errors are {error:{code,message,field?}}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.get('/healthz', { ...PUBLIC, schema: { hide: true } }, async (_request, reply) => {
    await options.db.query('SELECT 1 FROM schema_migrations LIMIT 1');
    const seeding = options.demoSeeding?.();
    return reply.send(seeding ? { status: 'ok', demoSeeding: seeding } : { status: 'ok' });
  });
  app.get('/api/config', { ...PUBLIC, schema: { summary: 'Public settings the web app needs before sign-in', tags: ['web'] } }, async () => ({
    mapTiles: options.mapTiles ?? null,
    idleSignOutMinutes: options.idleSignOutMinutes ?? DEFAULT_IDLE_SIGN_OUT_MINUTES,
    singleSignOn: sso ? { label: sso.label } : null,
  }));
  app.get('/api/openapi.json', { ...PUBLIC, schema: { hide: true } }, async () => app.swagger());

  authRoutes(app);
  oidcRoutes(app, sso);
  networkRoutes(app);
  auditRoutes(app);
  userRoutes(app);
  recordRoutes(app, { breakGlassHours: options.breakGlassHours });
  populationRoutes(app);
  cohortRoutes(app);
  dashboardRoutes(app);
  referralRoutes(app);
  taskRoutes(app);
  carePlanRoutes(app);
  directoryRoutes(app);
  mdtRoutes(app);
  await app.register(oauthRoutes);
  await app.register(fhirRoutes, { prefix: '/fhir', db: options.db, exportDir: options.exportDir ?? DEFAULT_EXPORT_DIR, breakGlassHours: options.breakGlassHours });

  if (servesWeb) {
    await app.register(async (web) => {
      // The web app's files are public; everything it shows comes from the signed-in /api.
      web.addHook('onRoute', (route) => {
        route.config = { ...route.config, public: true };
      });
      await web.register(fastifyStatic, { root: webDist, wildcard: false, index: 'index.html' });
    });
  }
  app.setNotFoundHandler((request, reply) => {
    // The web app routes its own pages.
    if (isWebPage(request)) return reply.type('text/html; charset=utf-8').send(createReadStream(join(webDist, 'index.html')));
    return reply.status(404).send({ error: { code: 'not-found', message: `no route ${request.method} ${normalisedPath(request.url)}` } });
  });
  return app;
}

/**
 * Past capacity, answer 503 + Retry-After at once rather than queue (@fastify/under-pressure): when the
 * event loop lags or is saturated, or statements queue for the database. The plugin re-samples on its
 * own, so the server recovers when the pressure goes. /healthz is shed too: a 503 at once, without
 * touching the database, so it stays cheap and tells a load balancer to send work elsewhere.
 */
async function shedLoad(app: ZodApp, db: Db, limits: LoadShedding) {
  const dbSaturated = () => (db.pressure?.().waiting ?? 0) > limits.maxDbWaiting;
  await app.register(underPressure, {
    sampleInterval: limits.sampleMs,
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxEventLoopUtilization: limits.maxEventLoopUtilisation,
    eventLoopUtilizationMode: 'interval',
    pressureHandler: (_request, reply) => busy(reply),
  });
  // The database queue is a counter, read as each request arrives rather than sampled on a timer: a request
  // that slipped past a stale sample would only join the queue it should have been spared.
  if (limits.maxDbWaiting > 0 && db.pressure) {
    app.addHook('onRequest', async (_request, reply) => {
      if (dbSaturated()) await busy(reply);
    });
  }
  function busy(reply: FastifyReply): Promise<never> {
    reply.header('retry-after', String(limits.retryAfterSeconds));
    // Thrown to the route's own error handler: /api answers {error:{code:'unavailable'}}, /fhir an OperationOutcome.
    return Promise.reject(new AppError('unavailable', `the server is busy: try again in ${limits.retryAfterSeconds} s`));
  }
}

/**
 * Each signed-in user, each backend client, and each address for requests without a signed-in actor (sign-in,
 * the token endpoint, the web app's files) may make `perMinute` requests a minute; past that, 429 with
 * Retry-After, answered by the route's own error handler (/api's {error}, /fhir's OperationOutcome). Counted
 * after sign-in is checked (preHandler), so all of one user's tokens share one count. /healthz is never
 * limited. The counts live in this process.
 */
async function limitRate(app: ZodApp, perMinute: number) {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (request) => {
      const actor = request.actor;
      if (actor) return actor.kind === 'client' ? `client:${actor.id}` : `user:${actor.id}`;
      return `address:${request.ip}`;
    },
    allowList: (request) => request.url === '/healthz',
    errorResponseBuilder: (_request, context) => new AppError('rate-limited', `too many requests: at most ${context.max} a minute; try again in ${context.after}`),
  });
}
