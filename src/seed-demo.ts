/** First-start seeding: the synthetic Norfolk & Waveney area and a demo admin, once per database. */
import { randomBytes } from 'node:crypto';
import type { Db } from './storage/db.ts';
import { SYSTEM_ACTOR } from './modules/access/actor.ts';
import { addUser } from './modules/access/users.ts';
import { demoArea } from './modules/network/demo-area.ts';
import { saveRegistry, type SaveProgress } from './modules/network/save-registry.ts';

export const DEMO_ADMIN_EMAIL = 'admin@pcn-hub.example';

export interface SeedResult {
  seeded: boolean;
  /** Only on the start that seeded: the admin's sign-in, to be shown once. */
  admin?: { email: string; password: string };
}

export async function seedDemoIfEmpty(db: Db, options: { seed?: number; adminPassword?: string; progress?: SaveProgress } = {}): Promise<SeedResult> {
  const [{ areas }] = (await db.query<{ areas: number }>('SELECT count(*)::int AS areas FROM area')) as [{ areas: number }];
  if (areas > 0) return { seeded: false };
  await saveRegistry(db, SYSTEM_ACTOR, demoArea(options.seed ?? 1), options.progress);
  const [existing] = await db.query('SELECT 1 FROM app_user WHERE email = $1', [DEMO_ADMIN_EMAIL]);
  if (existing) return { seeded: true };
  const password = options.adminPassword ?? randomBytes(12).toString('base64url');
  await addUser(db, { email: DEMO_ADMIN_EMAIL, name: 'Demo Administrator', role: 'admin', password });
  return { seeded: true, admin: { email: DEMO_ADMIN_EMAIL, password } };
}
