/**
 * In-app notifications: what a person or a role in an organisation is told (a new referral, a task for them, a
 * task overdue), never naming the patient, with a link to where to act. Raised through a `Notifier`: the in-app
 * store here is the one implementation; an SMS or email sender can be another (`deliver` is called inside the
 * change-feed batch's transaction, so such a sender should write an outbox row there and send after commit: at
 * least once). Read per person (`task_notification_read`).
 */
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor, Role } from '../access/index.ts';

export const NOTIFICATION_KINDS = ['referral', 'task', 'overdue'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Whom to tell: a person, or an organisation (everyone in it, or those with one role). */
export type Recipient = { email: string } | { org: string; role: Role | null };

export interface NewNotification {
  recipient: Recipient;
  kind: NotificationKind;
  /** What happened, without patient-identifying text: "New referral to Falls prevention". */
  what: string;
  /** Where to act, a path of the web app: `/referrals/<id>`, `/tasks?task=<id>`. */
  link: string;
  /** The resource it is about: `Task/<id>`, `ServiceRequest/<id>`. */
  source: string;
  /** The same key is raised once, however often it is delivered. */
  key: string;
}

/** Somewhere notifications go. `deliver` answers whether this one was new. */
export interface Notifier {
  deliver(notification: NewNotification, tx: Db): Promise<boolean>;
}

/** The in-app store: the notification is kept for its recipients to read in PCN Hub. */
export const inAppNotifier: Notifier = {
  async deliver(n, tx) {
    const email = 'email' in n.recipient ? n.recipient.email.toLowerCase() : null;
    const org = 'org' in n.recipient ? n.recipient.org : null;
    const role = 'org' in n.recipient ? n.recipient.role : null;
    const rows = await tx.query(
      `INSERT INTO task_notification (recipient_email, recipient_org, recipient_role, kind, what, link, source, dedup_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
      [email, org, role, n.kind, n.what, n.link, n.source, n.key],
    );
    return rows.length > 0;
  },
};

export interface NotificationView {
  id: string;
  kind: NotificationKind;
  what: string;
  link: string;
  createdAt: string;
  read: boolean;
  /** For a role or organisation rather than for the person alone. */
  toTeam: boolean;
}

export interface Notifications {
  items: NotificationView[];
  unread: number;
}

export const NOTIFICATION_LIMIT = 50;

/** Notifications for the actor: to them, to their organisation, or to their role in it. */
const FOR_ACTOR = `(n.recipient_email = $1 OR (n.recipient_org = $2 AND (n.recipient_role IS NULL OR n.recipient_role = $3)))`;
const actorParams = (actor: Actor) => [actor.email.toLowerCase(), actor.orgCode ?? '', actor.role];

/** The actor's latest notifications (newest first) and how many they have not read. */
export async function myNotifications(db: Db, actor: Actor, options: { unreadOnly?: boolean } = {}): Promise<Notifications> {
  const params = actorParams(actor);
  const rows = await db.query<{ id: number | string; kind: NotificationKind; what: string; link: string; created_at: Date | string; read: boolean; to_team: boolean }>(
    `SELECT n.id, n.kind, n.what, n.link, n.created_at, r.user_email IS NOT NULL AS read, n.recipient_email IS NULL AS to_team
       FROM task_notification n LEFT JOIN task_notification_read r ON r.notification_id = n.id AND r.user_email = $1
      WHERE ${FOR_ACTOR} ${options.unreadOnly ? 'AND r.user_email IS NULL' : ''}
      ORDER BY n.id DESC LIMIT ${NOTIFICATION_LIMIT}`,
    params,
  );
  const [count] = await db.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM task_notification n WHERE ${FOR_ACTOR}
        AND NOT EXISTS (SELECT 1 FROM task_notification_read r WHERE r.notification_id = n.id AND r.user_email = $1)`,
    params,
  );
  return {
    items: rows.map((r) => ({ id: String(r.id), kind: r.kind, what: r.what, link: r.link, createdAt: new Date(r.created_at).toISOString(), read: r.read, toTeam: r.to_team })),
    unread: Number(count?.n ?? 0),
  };
}

/** Marks one of the actor's notifications read (404 when it is not theirs). */
export async function markNotificationRead(db: Db, actor: Actor, id: string): Promise<void> {
  if (!/^\d{1,18}$/.test(id)) throw new AppError('not-found', 'this notification was not found');
  const [mine] = await db.query(`SELECT 1 FROM task_notification n WHERE n.id = $4::bigint AND ${FOR_ACTOR}`, [...actorParams(actor), id]);
  if (!mine) throw new AppError('not-found', 'this notification was not found');
  await db.query('INSERT INTO task_notification_read (notification_id, user_email) VALUES ($1::bigint, $2) ON CONFLICT DO NOTHING', [id, actor.email.toLowerCase()]);
}

/** Marks every notification of the actor's read; answers how many were unread. */
export async function markAllNotificationsRead(db: Db, actor: Actor): Promise<number> {
  const rows = await db.query(
    `INSERT INTO task_notification_read (notification_id, user_email)
     SELECT n.id, $1 FROM task_notification n WHERE ${FOR_ACTOR}
     ON CONFLICT DO NOTHING RETURNING notification_id`,
    actorParams(actor),
  );
  return rows.length;
}
