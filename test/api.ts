/** In-process API tests: the real app on a real database, driven with Fastify's inject (no ports). */
import type { Db } from '../src/storage/db.ts';
import { buildApp, type ZodApp } from '../src/http/app.ts';
import { addUser, type NewUser } from '../src/modules/access/index.ts';
import { seedDemoIfEmpty } from '../src/demo/seed-demo.ts';
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
      await db.close();
    },
  };
}
