/** In-process API tests: the real app on a real database, driven with Fastify's inject (no ports). */
import { after, before } from 'node:test';
import type { Db } from '../src/storage/db.ts';
import { buildApp, type ZodApp } from '../src/http/app.ts';
import { addUser, type NewUser } from '../src/modules/access/index.ts';
import { seedDemoIfEmpty } from '../src/demo/seed-demo.ts';
import { settleExports } from '../src/fhir-store/index.ts';
import { testDb } from './db.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface ApiHarness {
  db: Db;
  app: ZodApp;
  /** Signs in and returns an Authorization header value. */
  signIn(email: string, password?: string): Promise<string>;
  addUser(user: NewUser): Promise<string>;
  close(): Promise<void>;
}

export async function apiHarness(): Promise<ApiHarness> {
  const db = await testDb();
  await seedDemoIfEmpty(db, { adminPassword: ADMIN_PASSWORD });
  const app = await buildApp({ db, logger: false });
  const signIn = async (email: string, password = ADMIN_PASSWORD) => {
    const response = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password } });
    if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.body}`);
    return `Bearer ${response.json<{ token: string }>().token}`;
  };
  return {
    db,
    app,
    signIn,
    async addUser(user) {
      await addUser(db, { password: ADMIN_PASSWORD, ...user });
      return signIn(user.email);
    },
    async close() {
      await app.close();
      // As the server does (server.ts): an export still writing would otherwise meet a closed database.
      await settleExports();
      await db.close();
    },
  };
}

/** An ApiHarness with the demo administrator signed in: `admin` is their Authorization header value. */
export interface ApiSuite extends ApiHarness {
  admin: string;
}

/**
 * For a test file: the harness made and the administrator signed in before its tests (then `ready`, to add
 * people or patients), closed after. The returned object is filled in once it is up.
 */
export function apiSuite(ready?: () => Promise<void>): ApiSuite {
  const suite = {} as ApiSuite;
  before(async () => {
    Object.assign(suite, await apiHarness());
    suite.admin = await suite.signIn('admin@pcn-hub.example');
    await ready?.();
  });
  after(() => suite.close());
  return suite;
}
