/**
 * A service's inbox, a page of ids at a time: its referrals in given states, oldest first, picked by index from
 * the directory's projection (service_referral, migration 092) — brought up to date first, so a referral sent a
 * moment ago is there. Only ids and times: the caller reads the referrals themselves through the store under the
 * reader's access rules, and keeps only those still in the states asked for.
 */
import { catchUpChanges, type RequestContext } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { systemContext } from '../record/index.ts';
import { DIRECTORY_CONSUMER, projectReferrals } from './keep-current.ts';

export interface InboxPosition {
  authoredOn: string;
  taskId: string;
}

export interface InboxIds {
  items: InboxPosition[];
  /** Where the next page starts; null on the last. */
  next: InboxPosition | null;
}

const contexts = new WeakMap<Db, Promise<RequestContext>>();

/** The projection caught up with the feed, as its consumer (the same batches the server's follower would commit). */
export async function catchUpServiceReferrals(db: Db): Promise<void> {
  let context = contexts.get(db);
  if (!context) contexts.set(db, (context = systemContext(db, 'directory: service inbox catch-up')));
  const reading = await context;
  await catchUpChanges(db, DIRECTORY_CONSUMER, (changes, tx) => projectReferrals(tx, reading, changes), { types: ['Task', 'ServiceRequest'] });
}

export async function serviceInboxPage(db: Db, serviceId: string, options: { states: readonly string[]; after?: InboxPosition | null; count: number }): Promise<InboxIds> {
  await catchUpServiceReferrals(db);
  const { after } = options;
  const rows = await db.query<{ task_id: string; authored_on: string }>(
    `SELECT task_id, to_char(authored_on AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS authored_on FROM service_referral
      WHERE service_id = $1 AND status = ANY($2::text[]) AND authored_on IS NOT NULL
        AND ($3::timestamptz IS NULL OR (authored_on, task_id) > ($3::timestamptz, $4::text))
      ORDER BY authored_on, task_id LIMIT $5`,
    [serviceId, [...options.states], after?.authoredOn ?? null, after?.taskId ?? '', options.count + 1],
  );
  const items = rows.slice(0, options.count).map((r) => ({ authoredOn: r.authored_on, taskId: r.task_id }));
  return { items, next: rows.length > options.count ? items[items.length - 1]! : null };
}
