/**
 * `/referrals[?service=<HealthcareService id>]`: my organisation's referrals — the inbox of those it has received
 * (due time by urgency, overdue first and highlighted; one service's when `service` is given) and those it sent,
 * each with its status.
 */
import type { ReactNode } from 'react';
import { api, type Referral, type ReferralState } from '../../api.ts';
import { LoadFailed, Loading, TableHead } from '../../components/page-parts.tsx';
import { formatDateTime } from '../../format.ts';
import { Link, useLocation } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { usePageTitle, useResource } from '../../use-resource.ts';

const STATUS_TAGS: Record<ReferralState, { label: string; colour: string }> = {
  draft: { label: 'Draft', colour: 'nhsuk-tag--grey' },
  requested: { label: 'Sent', colour: 'nhsuk-tag--blue' },
  received: { label: 'Received', colour: 'nhsuk-tag--blue' },
  accepted: { label: 'Accepted', colour: 'nhsuk-tag--aqua-green' },
  'in-progress': { label: 'In progress', colour: 'nhsuk-tag--aqua-green' },
  'on-hold': { label: 'On hold', colour: 'nhsuk-tag--yellow' },
  completed: { label: 'Completed', colour: 'nhsuk-tag--green' },
  rejected: { label: 'Rejected', colour: 'nhsuk-tag--red' },
  failed: { label: 'Could not complete', colour: 'nhsuk-tag--red' },
  cancelled: { label: 'Cancelled', colour: 'nhsuk-tag--grey' },
};

export function ReferralStatusTag({ status }: { status: ReferralState }) {
  const tag = STATUS_TAGS[status] ?? { label: status, colour: 'nhsuk-tag--grey' };
  return <strong className={`nhsuk-tag ${tag.colour}`}>{tag.label}</strong>;
}

export const PRIORITY_WORDS: Record<Referral['priority'], string> = { routine: 'Routine', urgent: 'Urgent', asap: 'As soon as possible' };

const referralLink = (r: Referral) => <Link href={`/referrals/${encodeURIComponent(r.id)}`}>{r.service.name}</Link>;

export function ReferralsPage() {
  const user = useSession();
  const { search } = useLocation();
  const service = search.get('service') ?? undefined;
  usePageTitle('Referrals');
  return (
    <>
      <h1>Referrals</h1>
      <p>Referrals {user?.orgName ?? 'your organisation'} has received and sent. An open referral lets the receiving organisation see the patient’s record until it is finished.</p>
      <Received service={service} />
      {!service && <Sent />}
    </>
  );
}

function Received({ service }: { service?: string }) {
  const inbox = useResource(() => api.referrals('received', { service }), `received:${service ?? ''}`);
  let body: ReactNode;
  if (inbox.state === 'loading') body = <Loading what="referrals received" />;
  else if (inbox.state === 'failed') body = <LoadFailed error={inbox.error} what="Referrals received" retry={inbox.reload} />;
  else if (inbox.data.items.length === 0) body = <p>No open referrals for you.</p>;
  else {
    const overdue = inbox.data.items.filter((r) => r.overdue).length;
    body = (
      <>
        {overdue > 0 && (
          <p className="pcn-referrals-overdue">
            <strong>
              {overdue} {overdue === 1 ? 'referral is' : 'referrals are'} overdue
            </strong>{' '}
            (not accepted within the time its urgency allows).
          </p>
        )}
        <table className="nhsuk-table pcn-referrals-inbox">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Open referrals received, overdue first, then the oldest</caption>
          <TableHead headings={['Patient', 'Service', 'From', 'Urgency', 'Sent', 'Due', 'Status']} />
          <tbody className="nhsuk-table__body">
            {inbox.data.items.map((r) => (
              <tr key={r.id} className={`nhsuk-table__row${r.overdue ? ' pcn-referral--overdue' : ''}`} data-overdue={r.overdue ? 'true' : undefined}>
                <td className="nhsuk-table__cell">
                  <Link href={`/referrals/${encodeURIComponent(r.id)}`}>{r.patient.name}</Link>
                </td>
                <td className="nhsuk-table__cell">{r.service.name}</td>
                <td className="nhsuk-table__cell">{r.requester.display}</td>
                <td className="nhsuk-table__cell">{PRIORITY_WORDS[r.priority]}</td>
                <td className="nhsuk-table__cell">{formatDateTime(r.authoredOn)}</td>
                <td className="nhsuk-table__cell">
                  {r.dueAt ? formatDateTime(r.dueAt) : '–'}
                  {r.overdue && (
                    <>
                      {' '}
                      <strong className="nhsuk-tag nhsuk-tag--red">Overdue</strong>
                    </>
                  )}
                </td>
                <td className="nhsuk-table__cell">
                  <ReferralStatusTag status={r.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </>
    );
  }
  return (
    <section aria-labelledby="received-heading">
      <h2 id="received-heading">{service ? 'This service’s inbox' : 'Received'}</h2>
      {body}
    </section>
  );
}

function Sent() {
  const sent = useResource(() => api.referrals('sent'), 'sent');
  let body: ReactNode;
  if (sent.state === 'loading') body = <Loading what="referrals sent" />;
  else if (sent.state === 'failed') body = <LoadFailed error={sent.error} what="Referrals sent" retry={sent.reload} />;
  else if (sent.data.items.length === 0) body = <p>Your organisation has sent no referrals yet. Open a patient’s record and choose “Refer”.</p>;
  else {
    body = (
      <table className="nhsuk-table pcn-referrals-sent">
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Referrals sent, newest first</caption>
        <TableHead headings={['Referred to', 'Patient', 'Urgency', 'Sent', 'Status']} />
        <tbody className="nhsuk-table__body">
          {sent.data.items.map((r) => (
            <tr key={r.id} className="nhsuk-table__row">
              <td className="nhsuk-table__cell">{referralLink(r)}</td>
              <td className="nhsuk-table__cell">{r.patient.name}</td>
              <td className="nhsuk-table__cell">{PRIORITY_WORDS[r.priority]}</td>
              <td className="nhsuk-table__cell">{formatDateTime(r.authoredOn)}</td>
              <td className="nhsuk-table__cell">
                <ReferralStatusTag status={r.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  return (
    <section aria-labelledby="sent-heading">
      <h2 id="sent-heading">Sent</h2>
      {body}
    </section>
  );
}
