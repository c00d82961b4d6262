import { useState } from 'react';
import { api, type PcnSummary, type PracticeDetail } from '../api.ts';
import { Confirmation, DateField, emptyDate, ErrorSummary, isoFromParts, messageFor, SelectField, SubmitButton, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { SummaryList } from '../components/summary-list.tsx';
import { formatCount, formatDate } from '../format.ts';
import { Link } from '../router.tsx';
import { canChangePcn, useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

export function PracticePage({ ods }: { ods: string }) {
  const practice = useResource(() => api.practice(ods), ods);
  usePageTitle(practice.state === 'ready' ? practice.data.name : ods);

  if (practice.state === 'loading') return <Loading what="the practice" />;
  if (practice.state === 'failed') return <LoadFailed error={practice.error} what="Practice" retry={practice.reload} />;
  return <PracticeDetails practice={practice.data} reload={practice.reload} />;
}

function PracticeDetails({ practice, reload }: { practice: PracticeDetail; reload: () => Promise<void> }) {
  const user = useSession();
  const [confirmation, setConfirmation] = useState<string | null>(null);
  const crumbs = [{ href: '/', text: 'Area overview' }];
  if (practice.pcn) crumbs.push({ href: `/pcns/${encodeURIComponent(practice.pcn.code)}`, text: practice.pcn.name });

  return (
    <>
      <Breadcrumb crumbs={crumbs} />
      <span className="nhsuk-caption-l">GP practice {practice.ods}</span>
      <h1>{practice.name}</h1>
      <Confirmation message={confirmation} />

      <SummaryList
        rows={[
          ['ODS code', practice.ods],
          [
            'PCN',
            practice.pcn ? (
              <Link href={`/pcns/${encodeURIComponent(practice.pcn.code)}`}>
                {practice.pcn.name} ({practice.pcn.code})
              </Link>
            ) : (
              'Not in a PCN'
            ),
          ],
          ['List size', practice.listSize === null ? 'Not known' : `${formatCount(practice.listSize)} registered patients`],
          ['Town', practice.town],
          ['Postcode', practice.postcode],
          ['Location', practice.latitude !== null && practice.longitude !== null ? `${practice.latitude.toFixed(4)}, ${practice.longitude.toFixed(4)}` : null],
        ]}
      />

      <h2>PCN membership history</h2>
      {practice.history.length === 0 ? (
        <p>No PCN membership is recorded for this practice.</p>
      ) : (
        <TableRegion label={`PCNs ${practice.name} has belonged to`}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">PCNs {practice.name} has belonged to</caption>
            <TableHead headings={['PCN', 'From', 'To']} />
            <tbody className="nhsuk-table__body">
              {practice.history.map((entry) => (
                <tr className="nhsuk-table__row" key={`${entry.pcnCode}-${entry.startDate}`}>
                  <td className="nhsuk-table__cell">
                    <Link href={`/pcns/${encodeURIComponent(entry.pcnCode)}`}>{entry.pcnName}</Link> <span className="pcn-muted">({entry.pcnCode})</span>
                  </td>
                  <td className="nhsuk-table__cell">{formatDate(entry.startDate)}</td>
                  <td className="nhsuk-table__cell">{entry.endDate ? formatDate(entry.endDate) : 'Current'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}

      {(user?.role === 'admin' || canChangePcn(user, practice.pcn?.code)) && (
        <MovePracticeForm
          practice={practice}
          onMoved={async (message) => {
            await reload();
            setConfirmation(message);
          }}
        />
      )}
    </>
  );
}

function MovePracticeForm({ practice, onMoved }: { practice: PracticeDetail; onMoved: (message: string) => Promise<void> }) {
  const pcns = useResource(() => api.pcns(), 'all-pcns');
  const [pcnCode, setPcnCode] = useState('');
  const [date, setDate] = useState(emptyDate);

  const choices: PcnSummary[] = pcns.state === 'ready' ? pcns.data.items.filter((p) => p.code !== practice.pcn?.code) : [];

  const { error, busy, onSubmit } = useSubmit(async () => {
    const iso = isoFromParts(date, 'date', 'The date of the move');
    await api.movePractice(practice.ods, { pcnCode, ...(iso ? { date: iso } : {}) });
    const to = choices.find((p) => p.code === pcnCode);
    setPcnCode('');
    setDate(emptyDate);
    await onMoved(`${practice.name} moved to ${to ? to.name : pcnCode}.`);
  });

  return (
    <section className="pcn-change" aria-labelledby="move-practice-heading">
      <h2 id="move-practice-heading">Move to another PCN</h2>
      <p>Its current membership is ended, not deleted, so its history stays.</p>
      {pcns.state === 'failed' && <ErrorSummary error={pcns.error} />}
      <ErrorSummary error={error} fields={{ pcnCode: 'move-pcn', date: 'move-date-day' }} />
      <form onSubmit={onSubmit} noValidate>
        <SelectField
          id="move-pcn"
          label="New PCN"
          value={pcnCode}
          onChange={setPcnCode}
          options={[{ value: '', label: pcns.state === 'loading' ? 'Loading PCNs…' : 'Choose a PCN' }, ...choices.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }))]}
          error={messageFor(error, 'pcnCode')}
        />
        <DateField
          id="move-date"
          legend="Date of the move (optional)"
          hint="The day the practice joins its new PCN, for example 1 4 2025. Leave blank for today."
          value={date}
          onChange={setDate}
          error={messageFor(error, 'date')}
        />
        <SubmitButton busy={busy}>Move practice</SubmitButton>
      </form>
    </section>
  );
}
