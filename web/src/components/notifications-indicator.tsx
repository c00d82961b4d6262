/**
 * The header's notifications link with the count of unread ones, looked up on each page change, every 30 seconds
 * and when a page reads some (`notificationsChanged`).
 */
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { Link } from '../router.tsx';

const POLL_MS = 30_000;
const listeners = new Set<() => void>();

/** Tells the indicator to count again (after marking some read). */
export function notificationsChanged(): void {
  for (const listener of listeners) listener();
}

export function NotificationsIndicator({ pathname }: { pathname: string }) {
  const [unread, setUnread] = useState<number | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `pathname` is the trigger: count again on each page
  useEffect(() => {
    let live = true;
    const count = () =>
      void api.notifications().then(
        (n) => live && setUnread(n.unread),
        () => undefined,
      );
    count();
    listeners.add(count);
    const timer = window.setInterval(count, POLL_MS);
    return () => {
      live = false;
      listeners.delete(count);
      window.clearInterval(timer);
    };
  }, [pathname]);
  return (
    <Link className="nhsuk-header__account-link pcn-notifications-link" href="/notifications">
      Notifications
      {unread ? (
        <>
          {' '}
          <span className="pcn-notifications-count">{unread}</span>
          <span className="nhsuk-u-visually-hidden"> unread</span>
        </>
      ) : null}
    </Link>
  );
}
