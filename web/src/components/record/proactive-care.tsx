/**
 * "Proactive care" on a patient's record: their frailty (eFI band and score), whether a structured
 * medication review is a priority and why, their long-term conditions and any open care gaps — each
 * finding opened to show the entries (date, organisation, code) that produced it, and the rules' version.
 * A rule the record cannot answer exactly says so instead of guessing.
 */
import { ApiError, type CareGapFinding, type Evidence, type FrailtyResult, type PopulationResult, type Refusal, api, isRefusal } from '../../api.ts';
import type { ReactNode } from 'react';
import { formatDate } from '../../format.ts';
import { useResource } from '../../use-resource.ts';
import { TableHead, TableRegion } from '../page-parts.tsx';

const BAND_COLOUR: Record<string, string> = { fit: 'nhsuk-tag--green', mild: 'nhsuk-tag--yellow', moderate: 'nhsuk-tag--orange', severe: 'nhsuk-tag--red' };

function EvidenceList({ entries }: { entries: Evidence[] }) {
  if (entries.length === 0) return null;
  return (
    <ul className="nhsuk-list nhsuk-list--bullet nhsuk-body-s">
      {entries.map((entry, i) => (
        <li key={`${entry.id}-${entry.code ?? ''}-${i}`}>
          {entry.term ?? entry.code ?? entry.type}
          {entry.value ? ` — ${entry.value.comparator ?? ''}${entry.value.value}${entry.value.unit ? ` ${entry.value.unit}` : ''}` : ''}
          {entry.date ? `, ${formatDate(entry.date)}` : ', no date'}
          {entry.organisation ? ` (${entry.organisation})` : ''}
        </li>
      ))}
    </ul>
  );
}

/** A finding and, opened, the entries behind it. */
function Finding({ summary, entries, children }: { summary: string; entries: Evidence[]; children?: ReactNode }) {
  return (
    <details className="nhsuk-details">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">{summary}</span>
      </summary>
      <div className="nhsuk-details__text">
        {children}
        <EvidenceList entries={entries} />
      </div>
    </details>
  );
}

function Frailty({ efi }: { efi: FrailtyResult | Refusal | null }) {
  if (efi === null) return <p>Frailty: not scored (the electronic Frailty Index is for people aged 65 and over).</p>;
  if (isRefusal(efi)) return <p>Frailty: not scored — {efi.reason}.</p>;
  return (
    <>
      <p>
        Frailty ({efi.model}): <strong className={`nhsuk-tag ${BAND_COLOUR[efi.category] ?? 'nhsuk-tag--grey'}`}>{efi.category}</strong> — score {efi.score.toFixed(2)}, {efi.deficits.length}{' '}
        {efi.deficits.length === 1 ? 'deficit' : 'deficits'}
      </p>
      {efi.deficits.map((deficit) => (
        <Finding key={deficit.id} summary={`${deficit.name} (${deficit.rule})`} entries={deficit.entries} />
      ))}
    </>
  );
}

function MedicationReview({ smr }: { smr: PopulationResult['smr'] }) {
  if (isRefusal(smr)) return <p>Structured medication review: not decided — {smr.reason}.</p>;
  if (!smr.priority) return <p>Structured medication review: not a priority.</p>;
  return (
    <>
      <p>
        Structured medication review: <strong className="nhsuk-tag nhsuk-tag--orange">priority</strong>
      </p>
      {smr.reasons.map((reason) => (
        <Finding key={reason.id} summary={reason.text} entries={reason.entries} />
      ))}
    </>
  );
}

const GAP_STATUS: Record<CareGapFinding['status'], string> = { open: 'Open', closed: 'Done' };

function CareGaps({ gaps }: { gaps: PopulationResult['careGaps'] }) {
  if (gaps.length === 0) return <p>Care gaps: none (the patient is on no register a gap is counted for).</p>;
  return (
    <TableRegion label="Care gaps">
      <table className="nhsuk-table">
        <TableHead headings={['Care', 'Status', 'Since', 'Why']} />
        <tbody className="nhsuk-table__body">
          {gaps.map((gap) => (
            <tr className="nhsuk-table__row" key={gap.id}>
              <td className="nhsuk-table__cell">{gap.name}</td>
              <td className="nhsuk-table__cell">{isRefusal(gap) ? 'Not decided' : GAP_STATUS[gap.status]}</td>
              <td className="nhsuk-table__cell">{!isRefusal(gap) && gap.since ? formatDate(gap.since) : '—'}</td>
              <td className="nhsuk-table__cell">{gap.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

export function ProactiveCare({ patientId }: { patientId: string }) {
  const result = useResource(() => api.populationResult(patientId), patientId);
  if (result.state === 'loading') return null;
  if (result.state === 'failed') {
    // No relationship (e.g. emergency access) or not scored yet: the rest of the record stands on its own.
    if (result.error instanceof ApiError && (result.error.status === 403 || result.error.status === 404)) return null;
    return <p className="nhsuk-error-message">Proactive care could not be loaded: {result.error.message}</p>;
  }
  const { efi, smr, multimorbidity, careGaps, asOf, rulesVersion } = result.data;
  return (
    <section aria-labelledby="proactive-care-heading" className="pcn-proactive-care">
      <h2 id="proactive-care-heading">Proactive care</h2>
      <p className="nhsuk-body-s">
        As of {formatDate(asOf)}, rules version {rulesVersion}. Open a finding to see the entries behind it.
      </p>
      <Frailty efi={efi} />
      <MedicationReview smr={smr} />
      <p>
        Long-term conditions: {multimorbidity.count}
        {multimorbidity.complex ? ' (complex multimorbidity)' : multimorbidity.multimorbid ? ' (multimorbidity)' : ''}
      </p>
      {multimorbidity.conditions.map((condition) => (
        <Finding key={condition.id} summary={condition.name} entries={condition.entries} />
      ))}
      <CareGaps gaps={careGaps} />
    </section>
  );
}
