/**
 * `/referrals/:id`: one referral — where it is, what was asked, its history (who moved it and when), the moves the
 * signed-in person's side may make now (the state machine the server enforces, referrals/types.ts) — for the
 * receiving service, redirecting it to another service too — a rejection's reason and the outcome.
 */
import { useRef, useState } from 'react';
import { ACTION_LABELS, api, ApiError, moveFrom, REFERRAL_STATES, type Referral, type ReferralSide, type ReferralState, type User } from '../../api.ts';
import { ErrorSummary, messageFor, SelectField, useSubmit } from '../../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead } from '../../components/page-parts.tsx';
import { TextAreaField } from '../../components/record/fields.tsx';
import { SummaryList } from '../../components/summary-list.tsx';
import { formatDateTime } from '../../format.ts';
import { Link } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { usePageTitle, useResource } from '../../use-resource.ts';
import { PRIORITY_WORDS, ReferralStatusTag } from './referrals-page.tsx';

/** Moves that ask for words first: what they are called and whether they are needed. */
const ASKS: Partial<Record<ReferralState, { label: string; hint: string; field: 'reason' | 'outcome'; required: boolean }>> = {
  rejected: { label: 'Why is the referral rejected?', hint: 'The referrer sees this', field: 'reason', required: true },
  completed: { label: 'Outcome', hint: 'What was done and agreed. It is written on the patient’s record and sent back to the referrer.', field: 'outcome', required: false },
  failed: { label: 'Why could it not be completed?', hint: 'The referrer sees this', field: 'reason', required: false },
  cancelled: { label: 'Why is the referral cancelled?', hint: 'Optional', field: 'reason', required: false },
  'on-hold': { label: 'Why is it on hold?', hint: 'Optional', field: 'reason', required: false },
};

function sideOf(user: User | null, referral: Referral): ReferralSide | null {
  if (!user?.org) return null;
  if (user.org === referral.service.org) return 'receiver';
  if (user.org === referral.requester.org) return 'referrer';
  return null;
}

/** The moves the person's side may make now; an on-hold referral goes back to the state it left. */
function movesFor(side: ReferralSide | null, referral: Referral): ReferralState[] {
  if (!side) return [];
  const heldFrom = referral.status === 'on-hold' ? referral.history.at(-2)?.status : null;
  return REFERRAL_STATES.filter((to) => moveFrom(referral.status, to, heldFrom) === side);
}

export function ReferralPage({ id }: { id: string }) {
  const user = useSession();
  const referral = useResource(() => api.referral(id), `referral:${id}`);
  usePageTitle(referral.state === 'ready' ? `Referral to ${referral.data.service.name}` : 'Referral');
  if (referral.state === 'loading') return <Loading what="the referral" />;
  if (referral.state === 'failed') return <LoadFailed error={referral.error} what="The referral" retry={referral.reload} />;
  const r = referral.data;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/referrals', text: 'Referrals' }]} />
      <span className="nhsuk-caption-l">
        Referral for <Link href={`/patients/${encodeURIComponent(r.patient.id)}`}>{r.patient.name}</Link>
      </span>
      <h1>
        {r.service.name} <ReferralStatusTag status={r.status} />
      </h1>
      {r.outcome && (
        <div className="nhsuk-inset-text pcn-referral-outcome">
          <span className="nhsuk-u-visually-hidden">Information: </span>
          <h2 className="nhsuk-heading-s">Outcome</h2>
          <p>{r.outcome}</p>
        </div>
      )}
      {r.statusReason && (
        <div className="nhsuk-inset-text pcn-referral-reason">
          <h2 className="nhsuk-heading-s">{r.status === 'rejected' ? 'Reason for rejecting' : 'Reason'}</h2>
          <p>{r.statusReason}</p>
        </div>
      )}
      <Actions referral={r} side={sideOf(user, r)} onMoved={referral.reload} />
      {movesFor(sideOf(user, r), r).includes('rejected') && sideOf(user, r) === 'receiver' && <Redirect referral={r} onRedirected={referral.reload} />}
      <SummaryList
        rows={[
          ['Patient', `${r.patient.name}${r.patient.nhsNumber ? ` (NHS number ${r.patient.nhsNumber})` : ''}`],
          ['Referred to', r.service.org && r.service.org !== r.service.name ? `${r.service.name} (${r.service.org})` : r.service.name],
          ['Referred by', r.requester.display],
          ['Urgency', PRIORITY_WORDS[r.priority]],
          ['Reason', r.reason],
          ['What matters to the patient', r.whatMatters],
          ['Consent to share', r.consentToShare ? 'Given' : 'Not recorded'],
          ['Attached from the record', r.attached.length ? r.attached.map((a) => a.display).join(', ') : null],
          ['Sent', r.status === 'draft' ? 'Not sent yet (draft)' : formatDateTime(r.authoredOn)],
          ['Due to be accepted by', r.dueAt ? `${formatDateTime(r.dueAt)}${r.overdue ? ' (overdue)' : ''}` : null],
          ['Accepted', r.acceptedAt ? formatDateTime(r.acceptedAt) : null],
          ['Finished', r.finishedAt ? formatDateTime(r.finishedAt) : null],
          ['Booking reference (UBRN)', r.ubrn],
        ]}
      />
      <h2>History</h2>
      <table className="nhsuk-table pcn-referral-history">
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Every change of state, oldest first</caption>
        <TableHead headings={['When', 'Status', 'By', 'Reason']} />
        <tbody className="nhsuk-table__body">
          {r.history.map((h) => (
            <tr key={`${h.status}-${h.at}`} className="nhsuk-table__row">
              <td className="nhsuk-table__cell">{formatDateTime(h.at)}</td>
              <td className="nhsuk-table__cell">
                <ReferralStatusTag status={h.status} />
              </td>
              <td className="nhsuk-table__cell">{h.by ?? 'Not recorded'}</td>
              <td className="nhsuk-table__cell">{h.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Actions({ referral, side, onMoved }: { referral: Referral; side: ReferralSide | null; onMoved: () => Promise<void> }) {
  const moves = movesFor(side, referral);
  const [asking, setAsking] = useState<ReferralState | null>(null);
  const [words, setWords] = useState('');
  // The button that sent the form, read as it submits (a state change would arrive a render late).
  const chosen = useRef<ReferralState | null>(null);
  const { error, busy, onSubmit } = useSubmit(async () => {
    const to = asking ?? chosen.current;
    if (!to) return;
    const ask = ASKS[to];
    await api.moveReferral(referral.id, to, ask && words.trim() ? { [ask.field]: words } : {});
    setAsking(null);
    setWords('');
    await onMoved();
  });
  if (moves.length === 0) return null;
  const ask = asking ? ASKS[asking] : undefined;
  return (
    <section aria-labelledby="actions-heading" className="pcn-referral-actions">
      <h2 id="actions-heading" className="nhsuk-heading-m">
        What you can do
      </h2>
      <ErrorSummary error={error} fields={{ reason: 'referral-words', outcome: 'referral-words' }} />
      <form noValidate onSubmit={onSubmit}>
        {asking && ask ? (
          <>
            <TextAreaField id="referral-words" label={ask.label} hint={ask.hint} value={words} onChange={setWords} error={messageFor(error, ask.field)} rows={4} />
            <div className="nhsuk-button-group">
              <button type="submit" className="nhsuk-button" disabled={busy}>
                {ACTION_LABELS[asking]}
              </button>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setAsking(null)}>
                Back
              </button>
            </div>
          </>
        ) : (
          <div className="nhsuk-button-group">
            {moves.map((to) =>
              ASKS[to] ? (
                <button key={to} type="button" className={`nhsuk-button${to === 'cancelled' || to === 'rejected' || to === 'failed' ? ' nhsuk-button--secondary' : ''}`} onClick={() => setAsking(to)}>
                  {ACTION_LABELS[to]}
                </button>
              ) : (
                <button key={to} type="submit" className="nhsuk-button" disabled={busy} onClick={() => (chosen.current = to)}>
                  {ACTION_LABELS[to]}
                </button>
              ),
            )}
          </div>
        )}
      </form>
    </section>
  );
}

/** The receiving service sends the referral on to another service in the directory, saying why. */
function Redirect({ referral, onRedirected }: { referral: Referral; onRedirected: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const services = useResource(async () => (open ? (await api.services({})).items.filter((s) => s.id !== referral.service.id) : []), `redirect-services:${open}`);
  const [serviceId, setServiceId] = useState('');
  const [reason, setReason] = useState('');
  const { error, busy, onSubmit } = useSubmit(async () => {
    if (!serviceId) throw new ApiError(422, 'invalid', 'Choose the service to redirect the referral to', 'serviceId');
    await api.redirectReferral(referral.id, { serviceId, reason });
    setOpen(false);
    await onRedirected();
  });
  if (!open) {
    return (
      <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setOpen(true)}>
        Redirect to another service
      </button>
    );
  }
  const choices = services.state === 'ready' ? services.data : [];
  return (
    <section aria-labelledby="redirect-heading">
      <h2 id="redirect-heading" className="nhsuk-heading-m">
        Redirect to another service
      </h2>
      <p>The referral goes to the service you choose for the same referrer, with the same reason, urgency and consent. This one is closed as redirected.</p>
      <ErrorSummary error={error} fields={{ serviceId: 'redirect-service', reason: 'redirect-reason' }} />
      <form noValidate onSubmit={onSubmit}>
        <SelectField
          id="redirect-service"
          label="Service"
          value={serviceId}
          onChange={setServiceId}
          options={[
            { value: '', label: services.state === 'loading' ? 'Loading the directory…' : 'Choose a service' },
            ...choices.map((s) => ({ value: s.id, label: `${s.name} – ${s.provider.name}` })),
          ]}
          error={messageFor(error, 'serviceId')}
        />
        <TextAreaField id="redirect-reason" label="Why it goes there" hint="The referrer sees this" value={reason} onChange={setReason} error={messageFor(error, 'reason')} rows={3} />
        <div className="nhsuk-button-group">
          <button type="submit" className="nhsuk-button" disabled={busy}>
            Redirect referral
          </button>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setOpen(false)}>
            Back
          </button>
        </div>
      </form>
    </section>
  );
}
