import { useState } from 'react';
import { ApiError, ApiErrors, api, type MovePreview, type PcnChange, type PcnSummary, type PracticeDetail, type PracticeMove } from '../api.ts';
import { Confirmation, DateField, emptyDate, ErrorSummary, isoFromParts, messageFor, partsOf, SelectField, SubmitButton, throwAll, useSubmit } from '../components/forms.tsx';
import { statusLabel } from '../components/status-tag.tsx';
import { Breadcrumb, LoadFailed, Loading, MembershipHistory } from '../components/page-parts.tsx';
import { SummaryList } from '../components/summary-list.tsx';
import { formatCount, formatDate, formatRange } from '../format.ts';
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
  const canMove = user?.role === 'admin' || canChangePcn(user, practice.pcn?.code);
  const changed = async (message: string) => {
    await reload();
    setConfirmation(message);
  };

  return (
    <>
      <Breadcrumb crumbs={crumbs} />
      <span className="nhsuk-caption-l">GP practice {practice.ods}</span>
      <h1>{practice.name}</h1>
      <Confirmation message={confirmation} />
      <p className="nhsuk-body">
        <Link href={`/dashboards/practice/${encodeURIComponent(practice.ods)}`}>Population dashboard</Link>
      </p>
      {practice.move && <MoveUnderway practice={practice} move={practice.move} canChange={canMove} onChanged={changed} />}

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
          ...(practice.move?.scheduled ? [['Moving to', `${practice.move.to.name} (${practice.move.to.code}) on ${formatDate(practice.move.date)}`] as [string, string]] : []),
          ['List size', practice.listSize === null ? 'Not known' : `${formatCount(practice.listSize)} registered patients`],
          ['Town', practice.town],
          ['Postcode', practice.postcode],
          ['Location', practice.latitude !== null && practice.longitude !== null ? `${practice.latitude.toFixed(4)}, ${practice.longitude.toFixed(4)}` : null],
        ]}
      />

      <MembershipHistory
        heading="PCN membership history"
        empty="No PCN membership is recorded for this practice."
        label={`PCNs ${practice.name} has belonged to`}
        column="PCN"
        current="Current"
        rows={practice.history.map((entry) => ({
          ...entry,
          href: `/pcns/${encodeURIComponent(entry.pcnCode)}`,
          name: entry.pcnName,
          code: entry.pcnCode,
          scheduled: isScheduled(practice, entry.startDate),
        }))}
      />

      {canMove && !practice.move?.scheduled && <MovePracticeForm practice={practice} onMoved={changed} />}
    </>
  );
}

/** The open membership of a scheduled move starts after today: it is not current yet. */
const isScheduled = (practice: PracticeDetail, startDate: string) => practice.move?.scheduled === true && practice.move.date === startDate;

/** A move that can still be cancelled: scheduled, or made today. */
function MoveUnderway({ practice, move, canChange, onChanged }: { practice: PracticeDetail; move: PracticeMove; canChange: boolean; onChanged: (message: string) => Promise<void> }) {
  const [changing, setChanging] = useState(false);
  const { error, busy, onSubmit } = useSubmit(async () => {
    await api.cancelMove(practice.ods);
    await onChanged(`The move was cancelled: ${practice.name} stays ${move.from ? `in ${move.from.name}` : 'out of any PCN'}.`);
  });
  const payee = move.newPayee && move.from ? ` ${move.newPayee.name} becomes the nominated payee of ${move.from.name} that day.` : '';
  return (
    <section className="nhsuk-card nhsuk-card--warning pcn-move-underway" aria-labelledby="move-underway-heading">
      <div className="nhsuk-card__heading-container">
        <h2 className="nhsuk-card__heading" id="move-underway-heading">
          <span className="nhsuk-u-visually-hidden">Important: </span>
          {move.scheduled ? `Moving to ${move.to.name} on ${formatDate(move.date)}` : `Moved to ${move.to.name} today`}
        </h2>
      </div>
      <div className="nhsuk-card__content">
        <p>
          {move.scheduled
            ? `Until then it stays in ${move.from?.name ?? 'no PCN'}, in every list, list size and the map.`
            : `It joined ${move.to.name} on ${formatDate(move.date)}. A move can be cancelled on the day it was made.`}
          {payee}
        </p>
        {canChange && (
          <>
            <ErrorSummary error={error} />
            <form onSubmit={onSubmit} noValidate>
              <div className="nhsuk-button-group">
                <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setChanging(true)} disabled={busy || changing}>
                  Change this move
                </button>
                <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy} aria-disabled={busy}>
                  Cancel this move
                </button>
              </div>
            </form>
            {changing && (
              <MovePracticeForm
                practice={practice}
                correcting={move}
                onMoved={async (message) => {
                  setChanging(false);
                  await onChanged(message);
                }}
              />
            )}
          </>
        )}
      </div>
    </section>
  );
}

/** The move form's field ids; a move being changed has its own, as both forms can be on the page at once. */
const moveFields = (prefix: 'move' | 'change-move') => ({
  pcnCode: `${prefix}-pcn`,
  date: `${prefix}-date-day`,
  newPayeeOds: `${prefix}-payee`,
  dateGroup: `${prefix}-date`,
  heading: `${prefix}-heading`,
  confirmHeading: `${prefix}-confirm-heading`,
});

/** Choose the PCN and the day, check what changes, then confirm (or change). */
function MovePracticeForm({ practice, correcting, onMoved }: { practice: PracticeDetail; correcting?: PracticeMove; onMoved: (message: string) => Promise<void> }) {
  const pcns = useResource(() => api.pcns(), 'all-pcns');
  const [pcnCode, setPcnCode] = useState(correcting?.to.code ?? '');
  const [date, setDate] = useState(correcting ? partsOf(correcting.date) : emptyDate);
  const [preview, setPreview] = useState<MovePreview | null>(null);

  // The PCN it leaves is not a choice: for a move being changed, that is the one it left.
  const leaving = correcting ? correcting.from?.code : practice.pcn?.code;
  const choices: PcnSummary[] = pcns.state === 'ready' ? pcns.data.items.filter((p) => p.code !== leaving) : [];
  const previewOf = correcting ? api.previewCorrection : api.previewMove;
  const fields = moveFields(correcting ? 'change-move' : 'move');

  // Step 1: the form's own date check and the server's check of the move, listed together.
  const check = useSubmit(async () => {
    const problems: Error[] = [];
    let iso: string | undefined;
    try {
      iso = isoFromParts(date, 'date', 'The date the move takes effect', 'Enter the date the move takes effect');
    } catch (problem) {
      problems.push(problem as Error);
    }
    try {
      const planned = await previewOf(practice.ods, { pcnCode, ...(iso ? { date: iso } : {}) });
      if (problems.length === 0) setPreview(planned);
    } catch (problem) {
      // Without a date the server checked today's: its word on the date is not about what was typed.
      const aboutDate = problem instanceof ApiError && !(problem instanceof ApiErrors) && problem.field === 'date';
      if (!(problems.length > 0 && aboutDate)) problems.unshift(problem as Error);
    }
    throwAll(problems);
  });

  return (
    <section className="pcn-change" aria-labelledby={fields.heading}>
      <h2 id={fields.heading}>{correcting ? 'Change the move' : 'Move to another PCN'}</h2>
      {preview ? (
        <ConfirmMove
          practice={practice}
          preview={preview}
          correcting={correcting}
          fields={fields}
          onChange={() => setPreview(null)}
          onMoved={async (message) => {
            setPreview(null);
            setPcnCode('');
            setDate(emptyDate);
            await onMoved(message);
          }}
        />
      ) : (
        <>
          <p>
            {correcting
              ? 'The move is recorded as it should have been, not as a second move.'
              : 'Its current membership is ended, not deleted, so its history stays. A date after today schedules the move: the practice stays in its PCN until then.'}
          </p>
          {pcns.state === 'failed' && <ErrorSummary error={pcns.error} />}
          <ErrorSummary error={check.error} fields={fields} />
          <form onSubmit={check.onSubmit} noValidate>
            <SelectField
              id={fields.pcnCode}
              label="New PCN"
              value={pcnCode}
              onChange={setPcnCode}
              options={[{ value: '', label: pcns.state === 'loading' ? 'Loading PCNs…' : 'Choose a PCN' }, ...choices.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }))]}
              error={messageFor(check.error, 'pcnCode')}
            />
            <DateField
              id={fields.dateGroup}
              legend="Date the move takes effect"
              hint="The day the practice joins its new PCN, for example 1 4 2027"
              value={date}
              onChange={setDate}
              error={messageFor(check.error, 'date')}
            />
            <SubmitButton busy={check.busy}>Continue</SubmitButton>
          </form>
        </>
      )}
    </section>
  );
}

function sizeLine(change: PcnChange): string {
  const { before, after } = change.listSize;
  return `List size ${formatCount(before)} → ${formatCount(after)} (${statusLabel(change.sizeStatus.before).toLowerCase()} → ${statusLabel(change.sizeStatus.after).toLowerCase()}; the area's range is ${formatRange(change.sizeMin, change.sizeMax)})`;
}

/** Step 2: what the move changes, said before it is made; Confirm makes it, Change goes back. */
function ConfirmMove({
  practice,
  preview,
  correcting,
  fields,
  onChange,
  onMoved,
}: {
  practice: PracticeDetail;
  preview: MovePreview;
  correcting?: PracticeMove;
  fields: ReturnType<typeof moveFields>;
  onChange: () => void;
  onMoved: (message: string) => Promise<void>;
}) {
  const [newPayeeOds, setNewPayeeOds] = useState(correcting?.newPayee?.ods ?? '');
  const { leaves, joins } = preview;
  const { error, busy, onSubmit } = useSubmit(async () => {
    const record = correcting ? api.correctMove : api.movePractice;
    await record(practice.ods, { pcnCode: joins.code, date: preview.date, ...(newPayeeOds ? { newPayeeOds } : {}) });
    await onMoved(preview.scheduled ? `${practice.name} will move to ${joins.name} on ${formatDate(preview.date)}.` : `${practice.name} moved to ${joins.name}.`);
  });

  return (
    <section aria-labelledby={fields.confirmHeading}>
      <h3 id={fields.confirmHeading}>Check the move before confirming it</h3>
      <ErrorSummary error={error} fields={fields} />
      <SummaryList
        rows={[
          ['Practice', `${practice.name} (${practice.listSize === null ? 'list size not known' : `${formatCount(practice.listSize)} patients`})`],
          ...(leaves ? [[`Leaves ${leaves.name}`, sizeLine(leaves)] as [string, string]] : []),
          [`Joins ${joins.name}`, sizeLine(joins)],
          ['Takes effect', preview.scheduled ? `${formatDate(preview.date)} (until then it stays in ${leaves?.name ?? 'no PCN'})` : formatDate(preview.date)],
        ]}
      />
      <form onSubmit={onSubmit} noValidate>
        {preview.payeeNeeded && leaves && (
          <SelectField
            id={fields.newPayeeOds}
            label={`Choose the new nominated payee for ${leaves.name}`}
            hint={`${practice.name} receives ${leaves.name}'s money now. The practice you choose receives it from ${formatDate(preview.date)}.`}
            value={newPayeeOds}
            onChange={setNewPayeeOds}
            options={[{ value: '', label: 'Choose a practice' }, ...preview.payeeChoices.map((p) => ({ value: p.ods, label: `${p.name} (${p.ods})` }))]}
            error={messageFor(error, 'newPayeeOds')}
          />
        )}
        <div className="nhsuk-button-group">
          <SubmitButton busy={busy}>Confirm move</SubmitButton>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onChange} disabled={busy}>
            Change
          </button>
        </div>
      </form>
    </section>
  );
}
