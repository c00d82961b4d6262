/**
 * "Who looked at this record": every request that touched the patient's record — the organisation,
 * the role, when, and why (the purpose, or the break-glass reason given) — newest first, a page at a time.
 */
import { useEffect, useState } from 'react';
import { type AccessLogPage, ApiError, api } from '../../api.ts';
import { formatDateTime } from '../../format.ts';
import { TableHead, TableRegion } from '../page-parts.tsx';

const WHY: Record<string, string> = { 'direct-care': 'Direct care', 'secondary-use': 'Planning or analysis' };
const OUTCOME: Record<string, string> = { denied: ' (refused)', error: ' (failed)', success: '' };

export function AccessLog({ patientId }: { patientId: string }) {
  const [pages, setPages] = useState<AccessLogPage[]>([]);
  const [failed, setFailed] = useState<ApiError | Error | null>(null);

  const load = (page: number) =>
    api.accessLog(patientId, page).then(
      (loaded) => setPages((had) => [...had.filter((p) => p.page < page), loaded]),
      (error: Error) => setFailed(error),
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: loads the first page once per patient
  useEffect(() => {
    setPages([]);
    setFailed(null);
    void load(1);
  }, [patientId]);

  // Someone who may not see the log (e.g. after emergency access) is not shown an error about it.
  if (failed instanceof ApiError && failed.status === 403) return null;
  const entries = pages.flatMap((p) => p.entries);
  const last = pages.at(-1);
  return (
    <section aria-labelledby="access-log-heading" className="pcn-access-log">
      <h2 id="access-log-heading">Who has looked at this record</h2>
      <p className="nhsuk-body-s">Every look at and change to this record is recorded: the organisation, the person’s role, when, and why. Newest first.</p>
      {failed && <p className="nhsuk-error-message">The access log could not be loaded: {failed.message}</p>}
      {!failed && !last && <p className="nhsuk-body-s">Loading the access log…</p>}
      {last && entries.length === 0 && <p>No one has looked at this record yet.</p>}
      {entries.length > 0 && (
        <TableRegion label="Access log, newest first">
          <table className="nhsuk-table">
            <TableHead headings={['When', 'Organisation', 'Role', 'What', 'Why']} />
            <tbody className="nhsuk-table__body">
              {entries.map((entry, i) => (
                <tr className="nhsuk-table__row" key={`${entry.at}-${i}`}>
                  <td className="nhsuk-table__cell">{formatDateTime(entry.at)}</td>
                  <td className="nhsuk-table__cell">{entry.organisationName ?? entry.organisation ?? '—'}</td>
                  <td className="nhsuk-table__cell">{entry.role ?? '—'}</td>
                  <td className="nhsuk-table__cell">
                    {entry.action}
                    {OUTCOME[entry.outcome]}
                  </td>
                  <td className="nhsuk-table__cell">{entry.breakGlassReason ? <strong>Emergency access: “{entry.breakGlassReason}”</strong> : (WHY[entry.purpose ?? ''] ?? entry.purpose ?? '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      {last?.hasMore && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void load(last.page + 1)}>
          Show older
        </button>
      )}
    </section>
  );
}
