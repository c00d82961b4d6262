/** Starts the HTTP server on a store: used by `pcn serve`, `npm start` and the browser tests. */
import pino, { type Logger } from 'pino';
import { buildApp, type ZodApp } from './http/app.ts';
import type { Db } from './storage/db.ts';
import { openStore } from './storage/open.ts';
import { seedDemoIfEmpty, type SeedResult } from './seed-demo.ts';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** An open, migrated database; otherwise one is opened from databaseUrl / dataDir. */
  db?: Db;
  databaseUrl?: string;
  dataDir?: string;
  seedDemo?: boolean;
  adminPassword?: string;
  mapTiles?: string;
  logger?: Logger | false;
}

export interface RunningServer {
  url: string;
  db: Db;
  app: ZodApp;
  seed: SeedResult;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const ownsDb = !options.db;
  const db = options.db ?? (await openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir ?? './pcn-data' }));
  const seed = options.seedDemo ? await seedDemoIfEmpty(db, { adminPassword: options.adminPassword ?? process.env.PCN_ADMIN_PASSWORD }) : { seeded: false };
  const app = await buildApp({ db, logger, mapTiles: options.mapTiles });
  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  return {
    url,
    db,
    app,
    seed,
    async close() {
      await app.close();
      if (ownsDb) await db.close();
    },
  };
}
