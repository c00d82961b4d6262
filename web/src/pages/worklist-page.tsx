/**
 * One worklist (issue 11): its progress, and a row for each patient whose record you may open — a link to the
 * record, the status and a note to change (each change names the row's version: someone else's change in between
 * is shown, never overwritten), and whether the record now shows the action ("Gap closed").
 */
import { useState } from 'react';
import { api, type WorklistStatus, type WorklistView } from '../api.ts';
import { ErrorSummary } from '../components/forms.tsx';
import { LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatNhsNumber } from '../components/record/entries.ts';
import { Link } from '../router.tsx';
import { roleTitle } from '../roles.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

const STATUSES: Array<{ value: WorklistStatus; label: string }> = [
  { value: 'to-contact', label: 'To contact' },
  { value: 'contacted', label: 'Contacted' },
  { value: 'booked', label: 'Booked' },
  { value: 'done', label: 'Done' },
  { value: 'declined', label: 'Declined' },
];

const ACTION_WORDS = { closed: 'Gap closed', open: 'Not yet', 'not-applicable': 'No longer applies' } as const;

export function WorklistPage({ id }: { id: string }) {
  const worklist = useResource(() => api.worklist(id), `worklist:${id}`);
  usePageTitle(worklist.state === 'ready' ? worklist.data.name : 'Worklist');
  if (worklist.state === 'loading') return <Loading what="the worklist" />;
  if (worklist.state === 'failed') return <LoadFailed error={worklist.error} what="The worklist" retry={worklist.reload} />;
  const w = worklist.data;
  return (
    <>
      <h1>{w.name}</h1>
      <p>
        For the {roleTitle(w.role).toLowerCase()} role. <Link href="/cohorts">All cohorts and worklists</Link>
      </p>
      <h2>Progress</h2>
      <ul className="nhsuk-list" aria-label="Progress">
        {STATUSES.map((s) => (
          <li key={s.value}>
            {s.label}: {w.progress[s.value]}
          </li>
        ))}
        <li>
          Done on the record: {w.progress.actionShown} of {w.progress.total}
        </li>
      </ul>
      <Rows worklist={w} reload={worklist.reload} />
    </>
  );
}

function Rows({ worklist, reload }: { worklist: WorklistView; reload: () => Promise<void> }) {
  const [error, setError] = useState<Error | null>(null);
  if (worklist.rows.length === 0) return <p>No patient on this list is one whose record you may open.</p>;
  return (
    <>
      <ErrorSummary error={error} />
      <TableRegion label="Patients on the worklist">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">Patients on the worklist</caption>
          <TableHead headings={['Patient', 'NHS number', 'Status', 'Note', 'Record shows']} />
          <tbody className="nhsuk-table__body">
            {worklist.rows.map((row) => (
              <Row key={row.patientId} worklistId={worklist.id} row={row} onSaved={reload} onError={setError} />
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

function Row({ worklistId, row, onSaved, onError }: { worklistId: string; row: WorklistView['rows'][number]; onSaved: () => Promise<void>; onError: (error: Error | null) => void }) {
  const [status, setStatus] = useState<WorklistStatus>(row.status);
  const [note, setNote] = useState(row.note);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    onError(null);
    try {
      await api.updateWorklistRow(worklistId, row.patientId, { version: row.version, status, note });
      await onSaved();
    } catch (caught) {
      onError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };
  const who = row.patient.name;
  return (
    <tr className="nhsuk-table__row">
      <td className="nhsuk-table__cell">
        <Link href={`/patients/${encodeURIComponent(row.patientId)}`}>{who}</Link>
      </td>
      <td className="nhsuk-table__cell">{formatNhsNumber(row.patient.nhsNumber ?? '')}</td>
      <td className="nhsuk-table__cell">
        <label className="nhsuk-u-visually-hidden" htmlFor={`status-${row.patientId}`}>
          Status of {who}
        </label>
        <select className="nhsuk-select" id={`status-${row.patientId}`} value={status} onChange={(event) => setStatus(event.target.value as WorklistStatus)}>
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </td>
      <td className="nhsuk-table__cell">
        <label className="nhsuk-u-visually-hidden" htmlFor={`note-${row.patientId}`}>
          Note about {who}
        </label>
        <input className="nhsuk-input" id={`note-${row.patientId}`} value={note} onChange={(event) => setNote(event.target.value)} />
        <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" disabled={busy} onClick={() => void save()}>
          Save<span className="nhsuk-u-visually-hidden"> {who}</span>
        </button>
      </td>
      <td className="nhsuk-table__cell">
        {row.action === 'closed' ? <strong className="nhsuk-tag nhsuk-tag--green">{ACTION_WORDS.closed}</strong> : <strong className="nhsuk-tag nhsuk-tag--grey">{ACTION_WORDS[row.action]}</strong>}
      </td>
    </tr>
  );
}
