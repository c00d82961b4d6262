/**
 * ONE timeline of the whole record, newest first: every contact, review and entry from every
 * agency, each saying when, what, which organisation recorded it and what kind of agency that is.
 */
import type { Resource, RiskAssessment } from '@medplum/fhirtypes';
import { useMemo, useState } from 'react';
import { POPULATION_MODEL_SYSTEM } from '../../api.ts';
import { formatDate } from '../../format.ts';
import { agencyLabel, agencyOf, authorOf, clinicalDate, newestFirst, organisationText, summarise } from './entries.ts';
import { AgencyTag } from './record-sections.tsx';

const FIRST_PAGE = 40;
const ALL = '';
/** Standing facts rather than events: shown in their own sections, not on the timeline. */
const NOT_EVENTS = new Set(['Patient', 'CareTeam']);
/** The population model's own frailty assessment is re-made as the record changes: Proactive care shows it, not the timeline. */
const computed = (entry: Resource) => entry.resourceType === 'RiskAssessment' && ((entry as RiskAssessment).method?.coding ?? []).some((c) => c.system === POPULATION_MODEL_SYSTEM);
const isEvent = (entry: Resource) => !NOT_EVENTS.has(entry.resourceType) && !computed(entry);

export function Timeline({ entries, highlightId }: { entries: Resource[]; highlightId?: string | null }) {
  const [agency, setAgency] = useState(ALL);
  const [showAll, setShowAll] = useState(false);

  const sorted = useMemo(() => entries.filter(isEvent).sort(newestFirst), [entries]);
  const agencies = useMemo(() => {
    const counts = new Map<string, number>();
    for (const entry of sorted) counts.set(agencyOf(entry), (counts.get(agencyOf(entry)) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => agencyLabel(a).localeCompare(agencyLabel(b), 'en-GB'));
  }, [sorted]);

  const chosen = agency === ALL ? sorted : sorted.filter((e) => agencyOf(e) === agency);
  const shown = showAll ? chosen : chosen.slice(0, FIRST_PAGE);

  return (
    <section aria-labelledby="timeline-heading" className="pcn-timeline-section">
      <h2 id="timeline-heading">Timeline</h2>
      <p>Everything in the record from every agency that cares for this patient, newest first.</p>
      <div className="nhsuk-form-group pcn-timeline__filter">
        <label className="nhsuk-label" htmlFor="timeline-agency">
          Show entries from
        </label>
        <select className="nhsuk-select" id="timeline-agency" value={agency} onChange={(event) => setAgency(event.target.value)}>
          <option value={ALL}>All agencies ({sorted.length})</option>
          {agencies.map(([code, count]) => (
            <option key={code} value={code}>
              {agencyLabel(code)} ({count})
            </option>
          ))}
        </select>
      </div>
      <p className="nhsuk-u-visually-hidden" role="status" aria-live="polite">
        {agency === ALL ? `Showing all ${sorted.length} entries` : `Showing ${chosen.length} entries from ${agencyLabel(agency)}`}
      </p>

      {chosen.length === 0 ? (
        <p>There are no entries in this record yet.</p>
      ) : (
        <ol className="pcn-timeline" aria-label="Timeline entries, newest first">
          {shown.map((entry) => {
            const summary = summarise(entry);
            const date = clinicalDate(entry);
            const received = entry.meta?.lastUpdated;
            const org = authorOf(entry);
            const isNew = !!highlightId && entry.id === highlightId;
            return (
              <li key={`${entry.resourceType}/${entry.id}`} className={`pcn-timeline__item${isNew ? ' pcn-timeline__item--new' : ''}`} data-agency={agencyOf(entry)} data-type={entry.resourceType}>
                <p className="pcn-timeline__when">
                  {date ? (
                    <time dateTime={date}>{formatDate(date)}</time>
                  ) : received ? (
                    <>
                      No date given; added to the record on <time dateTime={received}>{formatDate(received)}</time>
                    </>
                  ) : (
                    'No date given'
                  )}
                  {isNew && <strong className="nhsuk-tag nhsuk-tag--white pcn-timeline__new">Just added</strong>}
                </p>
                <p className="pcn-timeline__what">
                  <span className="pcn-timeline__kind">{summary.kind}: </span>
                  <strong>{summary.title}</strong>
                </p>
                {summary.detail && <p className="pcn-timeline__detail">{summary.detail}</p>}
                <p className="pcn-timeline__who">
                  <span className="nhsuk-u-visually-hidden">Recorded by </span>
                  <span className="pcn-timeline__org">{organisationText(org)}</span> <AgencyTag code={agencyOf(entry)} />
                </p>
              </li>
            );
          })}
        </ol>
      )}
      {!showAll && chosen.length > FIRST_PAGE && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setShowAll(true)}>
          Show all {chosen.length} entries
        </button>
      )}
    </section>
  );
}
