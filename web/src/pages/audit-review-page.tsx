/**
 * The IG lead's review of the audit log: every break-glass use (who, which patient, the reason, when)
 * and unusual access (one user touching many patients' records in a day, over a declared threshold),
 * with a CSV export for the IG lead's own records.
 */
import { api, type AuditReview } from '../api.ts';
import { LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

/** Who may review the audit (the server decides; this only hides the page from others): as mayReviewAudit. */
export const mayReview = (role: string | undefined) => role === 'admin' || role === 'ig-lead';

async function downloadCsv(days: number) {
  const csv = await api.auditReviewCsv(days);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  link.download = `audit-review-${new Date().toISOString().slice(0, 10)}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

export function AuditReviewPage() {
  const user = useSession();
  usePageTitle('Audit review');
  const review = useResource<AuditReview>(() => api.auditReview(), 'review');
  if (!mayReview(user?.role)) return <p>Only an IG lead or an administrator may review the audit log.</p>;
  if (review.state === 'loading') return <Loading what="the audit review" />;
  if (review.state === 'failed') return <LoadFailed error={review.error} what="Audit review" retry={review.reload} />;
  const { breakGlass, unusual, threshold, days } = review.data;
  return (
    <>
      <h1>Audit review</h1>
      <p>The last {days} days of the audit log: emergency (break-glass) access and unusual access to patients’ records.</p>
      <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void downloadCsv(days)}>
        Download as CSV
      </button>

      <h2 id="break-glass-heading">Emergency access (break glass)</h2>
      {breakGlass.length === 0 ? (
        <p>No one used emergency access in this period.</p>
      ) : (
        <TableRegion label="Emergency access (break glass)">
          <table className="nhsuk-table" aria-labelledby="break-glass-heading">
            <TableHead headings={['When', 'Who', 'Organisation and role', 'Patient', 'Reason given', 'What']} />
            <tbody className="nhsuk-table__body">
              {breakGlass.map((use, i) => (
                <tr className="nhsuk-table__row" key={`${use.at}-${i}`}>
                  <td className="nhsuk-table__cell">{formatDateTime(use.at)}</td>
                  <td className="nhsuk-table__cell">{use.actor}</td>
                  <td className="nhsuk-table__cell">
                    {use.organisationName ?? use.organisation ?? '—'}, {use.role ?? '—'}
                  </td>
                  <td className="nhsuk-table__cell">
                    {use.patients.map((p) => (
                      <a key={p} href={`/patients/${encodeURIComponent(p)}`}>
                        {p}
                      </a>
                    ))}
                  </td>
                  <td className="nhsuk-table__cell">“{use.reason}”</td>
                  <td className="nhsuk-table__cell">
                    {use.action}
                    {use.outcome === 'success' ? '' : ` (${use.outcome})`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}

      <h2 id="unusual-heading">Unusual access</h2>
      <p>
        Listed when one user’s requests touched the records of more than <strong>{threshold}</strong> different patients in one day (UTC), search results included. A clinician’s day of consultations
        stays well below it; someone paging through the population does not.
      </p>
      {unusual.length === 0 ? (
        <p>No one went over the threshold in this period.</p>
      ) : (
        <TableRegion label="Unusual access">
          <table className="nhsuk-table" aria-labelledby="unusual-heading">
            <TableHead headings={['Day', 'Who', 'Organisation and role', 'Patients']} />
            <tbody className="nhsuk-table__body">
              {unusual.map((day) => (
                <tr className="nhsuk-table__row" key={`${day.day}-${day.actor}`}>
                  <td className="nhsuk-table__cell">{day.day}</td>
                  <td className="nhsuk-table__cell">{day.actor}</td>
                  <td className="nhsuk-table__cell">
                    {day.organisationName ?? day.organisation ?? '—'}, {day.role ?? '—'}
                  </td>
                  <td className="nhsuk-table__cell">{day.patients}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}
