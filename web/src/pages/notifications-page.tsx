/**
 * My notifications (issue 12): new referrals for my organisation, tasks for me or my role, overdue tasks — newest
 * first, unread marked; opening one marks it read. Never the patient's name: the link leads to where to act.
 */
import { useState } from 'react';
import { api, type NotificationView } from '../api.ts';
import { ErrorSummary } from '../components/forms.tsx';
import { LoadFailed, Loading } from '../components/page-parts.tsx';
import { notificationsChanged } from '../components/notifications-indicator.tsx';
import { formatDateTime } from '../format.ts';
import { navigate } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';

const KIND_WORDS: Record<string, string> = { referral: 'Referral', task: 'Task', overdue: 'Overdue' };

export function NotificationsPage() {
  usePageTitle('Notifications');
  const notes = useResource(() => api.notifications(), 'notifications');
  const [error, setError] = useState<Error | null>(null);
  if (notes.state === 'loading') return <Loading what="your notifications" />;
  if (notes.state === 'failed') return <LoadFailed error={notes.error} what="Your notifications" retry={notes.reload} />;
  const { items, unread } = notes.data;

  const open = async (note: NotificationView) => {
    setError(null);
    try {
      if (!note.read) await api.readNotification(note.id);
      notificationsChanged();
      navigate(note.link);
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  };
  const readAll = async () => {
    setError(null);
    try {
      await api.readAllNotifications();
      notificationsChanged();
      await notes.reload();
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  };

  return (
    <>
      <h1>Notifications</h1>
      <ErrorSummary error={error} />
      <p>{unread === 0 ? 'You have no unread notifications.' : `You have ${unread} unread notification${unread === 1 ? '' : 's'}.`}</p>
      {unread > 0 && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void readAll()}>
          Mark all as read
        </button>
      )}
      {items.length > 0 && (
        <ul className="nhsuk-list pcn-notifications" aria-label="Notifications">
          {items.map((note) => (
            <li key={note.id} className={`pcn-notification${note.read ? '' : ' pcn-notification--unread'}`}>
              <strong className={`nhsuk-tag nhsuk-tag--${note.kind === 'overdue' ? 'red' : note.read ? 'grey' : 'blue'}`}>{KIND_WORDS[note.kind] ?? note.kind}</strong>{' '}
              <a
                href={note.link}
                onClick={(event) => {
                  event.preventDefault();
                  void open(note);
                }}
              >
                {note.what}
              </a>
              {!note.read && <span className="nhsuk-u-visually-hidden"> (unread)</span>}
              <div className="nhsuk-body-s pcn-notification__when">
                {formatDateTime(note.createdAt)}
                {note.toTeam ? ' · to your team' : ''}
              </div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
