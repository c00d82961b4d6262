/** The HTTP transport: Fastify, zod validation, one error table, the web app and the APIs. Thin by design. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { requireActor } from './auth.ts';
import { sendError } from './errors.ts';
import { authRoutes } from './api/auth-routes.ts';
import { networkRoutes } from './api/network-routes.ts';
import { fhirRoutes } from './fhir/fhir-routes.ts';
import { DEFAULT_EXPORT_DIR } from '../config.ts';
import { VERSION } from '../version.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface AppOptions {
  db: Db;
  logger: Logger | false;
  /** A tile URL template for the map (e.g. https://tile.example/{z}/{x}/{y}.png); none: the map draws without tiles. */
  mapTiles?: string;
  webDist?: string;
  /** Where Bulk Data $export writes its files (config.ts's exportDir). */
  exportDir?: string;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** Paths anyone may call without signing in. */
const PUBLIC_API = new Set(['/api/login', '/api/config', '/api/openapi.json']);

export async function buildApp(options: AppOptions): Promise<ZodApp> {
  const app: ZodApp = Fastify({
    loggerInstance: (options.logger || undefined) as FastifyBaseLogger | undefined,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>() as ZodApp;
  app.decorate('db', options.db);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
  });
  // Every /api route needs a signed-in user unless it is listed as public.
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith('/api/') && !PUBLIC_API.has(path)) await requireActor(options.db, request);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'PCN Hub API', version: VERSION, description: 'The web app’s JSON API. Errors are {error:{code,message,field?}}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    await options.db.query('SELECT 1 FROM schema_migrations LIMIT 1');
    return reply.send({ status: 'ok' });
  });
  app.get('/api/config', { schema: { summary: 'Public settings the web app needs before sign-in', tags: ['web'] } }, async () => ({
    mapTiles: options.mapTiles ?? null,
  }));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  authRoutes(app);
  networkRoutes(app);
  await app.register(fhirRoutes, { prefix: '/fhir', db: options.db, exportDir: options.exportDir ?? DEFAULT_EXPORT_DIR });

  const webDist = options.webDist ?? WEB_DIST;
  if (existsSync(webDist)) await app.register(fastifyStatic, { root: webDist, wildcard: false, index: 'index.html' });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && !path.startsWith('/api/') && !path.startsWith('/fhir') && existsSync(webDist)) {
      return reply.sendFile('index.html'); // the web app routes its own pages
    }
    return reply.status(404).send({ error: { code: 'not-found', message: `no route ${request.method} ${path}` } });
  });
  return app;
}
