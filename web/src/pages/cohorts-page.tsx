/**
 * Cohorts (issue 11): build a cohort from population-health filters, see how many patients it holds now, save it
 * for the PCN, export it as CSV (identifiable for direct care, pseudonymised otherwise) and make a worklist of it.
 */
import { useState } from 'react';
import { api, type Cohort, type CohortCount, type CohortDefinition, type Progress, type Worklist, type WorklistRole } from '../api.ts';
import { ErrorSummary, SelectField, SubmitButton, TextField, messageFor, useSubmit } from '../components/forms.tsx';
import { LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { Link, navigate } from '../router.tsx';
import { roleTitle, seesPatients } from '../roles.ts';
import { useSession } from '../session.ts';
import { usePageTitle, useResource } from '../use-resource.ts';

const BANDS = ['fit', 'mild', 'moderate', 'severe'] as const;
/** The roles a worklist is assigned to (the server's WORKLIST_ROLES). */
const WORKLIST_ROLES: WorklistRole[] = ['care-coordinator', 'clinical-pharmacist', 'social-prescribing-link-worker', 'social-worker'];
const YES_NO = [
  { value: '', label: 'Any' },
  { value: 'true', label: 'Yes' },
  { value: 'false', label: 'No' },
];

interface Filters {
  bands: string[];
  openGap: string;
  smrPriority: string;
  minLtcCount: string;
  ageMin: string;
  ageMax: string;
  careHome: string;
  housebound: string;
  lastContactBefore: string;
  lastContactAfter: string;
}

const NO_FILTERS: Filters = { bands: [], openGap: '', smrPriority: '', minLtcCount: '', ageMin: '', ageMax: '', careHome: '', housebound: '', lastContactBefore: '', lastContactAfter: '' };

/** The form's filters as a definition: empty fields ask nothing; numbers the server checks (and names when wrong). */
function definitionOf(f: Filters): CohortDefinition {
  const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
  const yesNo = (text: string) => (text === '' ? undefined : text === 'true');
  const definition: Record<string, unknown> = {
    efiCategories: f.bands.length ? f.bands : undefined,
    openGap: f.openGap || undefined,
    smrPriority: yesNo(f.smrPriority),
    minLtcCount: number(f.minLtcCount),
    ageMin: number(f.ageMin),
    ageMax: number(f.ageMax),
    careHome: yesNo(f.careHome),
    housebound: yesNo(f.housebound),
    lastContactBefore: f.lastContactBefore.trim() || undefined,
    lastContactAfter: f.lastContactAfter.trim() || undefined,
  };
  return Object.fromEntries(Object.entries(definition).filter(([, v]) => v !== undefined)) as CohortDefinition;
}

const sizeWords = (count: CohortCount) =>
  count.suppressed
    ? 'Fewer than 5 patients (the exact number is not shown)'
    : `${count.size} patient${count.size === 1 ? '' : 's'}${count.purpose === 'secondary-use' ? ' (those who opted out of secondary use left out)' : ''}`;

async function downloadCsv(cohort: Cohort, form: 'identifiable' | 'pseudonymised') {
  const csv = await api.cohortCsv(cohort.id, form);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  link.download = `cohort-${cohort.name.replace(/[^A-Za-z0-9]+/g, '-')}-${form}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

export function CohortsPage() {
  usePageTitle('Cohorts');
  const user = useSession();
  const gaps = useResource(() => api.careGaps(), 'care-gaps');
  const cohorts = useResource(() => api.cohorts(), 'cohorts');
  const worklists = useResource(() => (seesPatients(user?.role) ? api.worklists() : Promise.resolve({ items: [] })), 'worklists');
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [name, setName] = useState('');
  const [count, setCount] = useState<CohortCount | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const set = (key: keyof Filters) => (value: string) => setFilters((f) => ({ ...f, [key]: value }));
  const preview = useSubmit(async () => {
    setSaved(null);
    setCount(await api.previewCohort(definitionOf(filters)));
  });
  const save = useSubmit(async () => {
    const cohort = await api.saveCohort(name, definitionOf(filters));
    setSaved(`Saved the cohort “${cohort.name}”.`);
    setName('');
    await cohorts.reload();
  });
  const error = save.error ?? preview.error;
  /** A text filter: its field is named as the server names it, so the server's message shows beside it. */
  const text = (key: Exclude<keyof Filters, 'bands'>, label: string, width: 5 | 10, hint?: string) => (
    <TextField id={key} label={label} hint={hint} width={width} value={filters[key]} onChange={set(key)} error={messageFor(error, key)} />
  );
  const gapOptions = [{ value: '', label: 'Any' }, ...(gaps.state === 'ready' ? gaps.data.items.map((g) => ({ value: g.id, label: g.name })) : [])];

  return (
    <>
      <h1>Cohorts</h1>
      <p>Find the patients of your PCN that population health rules pick out, save the cohort for your PCN, export it, and make it a worklist.</p>
      <ErrorSummary error={error} fields={{ efiCategories: 'band-severe', openGap: 'openGap', ageMin: 'ageMin', ageMax: 'ageMax', minLtcCount: 'minLtcCount', name: 'cohort-name' }} />
      <form onSubmit={preview.onSubmit} noValidate aria-labelledby="build-heading">
        <h2 id="build-heading">Build a cohort</h2>
        <div className="nhsuk-form-group">
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Frailty (eFI band)</legend>
            <div className="nhsuk-checkboxes nhsuk-checkboxes--small">
              {BANDS.map((band) => (
                <div className="nhsuk-checkboxes__item" key={band}>
                  <input
                    className="nhsuk-checkboxes__input"
                    id={`band-${band}`}
                    type="checkbox"
                    checked={filters.bands.includes(band)}
                    onChange={(event) => setFilters((f) => ({ ...f, bands: event.target.checked ? [...f.bands, band] : f.bands.filter((b) => b !== band) }))}
                  />
                  <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`band-${band}`}>
                    {band.charAt(0).toUpperCase() + band.slice(1)}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
        <SelectField id="openGap" label="Open care gap" value={filters.openGap} onChange={set('openGap')} options={gapOptions} error={messageFor(error, 'openGap')} />
        <SelectField id="smrPriority" label="Due a structured medication review" value={filters.smrPriority} onChange={set('smrPriority')} options={YES_NO} />
        {text('minLtcCount', 'At least this many long-term conditions', 5)}
        {text('ageMin', 'Aged from', 5, 'Age on the day the scores are as of')}
        {text('ageMax', 'Aged up to', 5)}
        <SelectField id="careHome" label="Lives in a care home" value={filters.careHome} onChange={set('careHome')} options={YES_NO} />
        <SelectField id="housebound" label="Housebound" value={filters.housebound} onChange={set('housebound')} options={YES_NO} />
        {text('lastContactBefore', 'Last contact before', 10, 'For example, 2026-06-01')}
        {text('lastContactAfter', 'Last contact after', 10, 'For example, 2026-06-01')}
        <SubmitButton busy={preview.busy}>Count patients</SubmitButton>
      </form>
      {count && (
        <div className="nhsuk-inset-text" role="status">
          <p>
            This cohort holds <strong>{sizeWords(count)}</strong> now.
          </p>
        </div>
      )}
      <form onSubmit={save.onSubmit} noValidate aria-labelledby="save-heading">
        <h2 id="save-heading">Save the cohort</h2>
        <TextField id="cohort-name" label="Cohort name" value={name} onChange={setName} error={messageFor(error, 'name')} />
        <SubmitButton busy={save.busy}>Save cohort</SubmitButton>
      </form>
      {saved && (
        <div className="nhsuk-inset-text pcn-confirmation" role="status">
          <p>{saved}</p>
        </div>
      )}
      <h2>Saved cohorts</h2>
      {cohorts.state === 'loading' && <Loading what="the cohorts" />}
      {cohorts.state === 'failed' && <LoadFailed error={cohorts.error} what="The cohorts" retry={cohorts.reload} />}
      {cohorts.state === 'ready' &&
        (cohorts.data.items.length === 0 ? <p>No cohort has been saved for your PCN yet.</p> : <SavedCohorts cohorts={cohorts.data.items} identifiable={seesPatients(user?.role)} />)}
      {seesPatients(user?.role) && cohorts.state === 'ready' && cohorts.data.items.length > 0 && gaps.state === 'ready' && <MakeWorklist cohorts={cohorts.data.items} gaps={gaps.data.items} />}
      {worklists.state === 'ready' && worklists.data.items.length > 0 && <Worklists worklists={worklists.data.items} />}
    </>
  );
}

function SavedCohorts({ cohorts, identifiable }: { cohorts: Cohort[]; identifiable: boolean }) {
  return (
    <TableRegion label="Saved cohorts">
      <table className="nhsuk-table">
        <caption className="nhsuk-table__caption">Cohorts of your PCN</caption>
        <TableHead headings={['Name', 'PCN', 'Saved by', 'Export']} />
        <tbody className="nhsuk-table__body">
          {cohorts.map((cohort) => (
            <tr className="nhsuk-table__row" key={cohort.id}>
              <td className="nhsuk-table__cell">{cohort.name}</td>
              <td className="nhsuk-table__cell">{cohort.pcnCode}</td>
              <td className="nhsuk-table__cell">{cohort.owner.name}</td>
              <td className="nhsuk-table__cell">
                {identifiable && <ExportButton cohort={cohort} form="identifiable" label="Export CSV" />} <ExportButton cohort={cohort} form="pseudonymised" label="Export pseudonymised" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function ExportButton({ cohort, form, label }: { cohort: Cohort; form: 'identifiable' | 'pseudonymised'; label: string }) {
  return (
    <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void downloadCsv(cohort, form)}>
      {label}
      <span className="nhsuk-u-visually-hidden"> of {cohort.name}</span>
    </button>
  );
}

function MakeWorklist({ cohorts, gaps }: { cohorts: Cohort[]; gaps: Array<{ id: string; name: string }> }) {
  const [cohortId, setCohortId] = useState(cohorts[0]?.id ?? '');
  const [name, setName] = useState('');
  const [purpose, setPurpose] = useState(gaps[0]?.id ?? 'smr');
  const [role, setRole] = useState<WorklistRole>('care-coordinator');
  const make = useSubmit(async () => {
    const worklist = await api.createWorklist({ cohortId, name, purpose, role });
    navigate(`/worklists/${encodeURIComponent(worklist.id)}`);
  });
  return (
    <form onSubmit={make.onSubmit} noValidate aria-labelledby="worklist-heading">
      <h2 id="worklist-heading">Make a worklist</h2>
      <ErrorSummary error={make.error} fields={{ name: 'worklist-name', purpose: 'purpose', role: 'role', cohortId: 'cohortId' }} />
      <SelectField
        id="cohortId"
        label="From the cohort"
        value={cohortId}
        onChange={setCohortId}
        options={cohorts.map((c) => ({ value: c.id, label: c.name }))}
        error={messageFor(make.error, 'cohortId')}
      />
      <TextField id="worklist-name" label="Worklist name" value={name} onChange={setName} error={messageFor(make.error, 'name')} />
      <SelectField
        id="purpose"
        label="The action it is for"
        hint="The list shows when the patient’s record shows it done"
        value={purpose}
        onChange={setPurpose}
        options={[...gaps.map((g) => ({ value: g.id, label: g.name })), { value: 'smr', label: 'Structured medication review' }]}
        error={messageFor(make.error, 'purpose')}
      />
      <SelectField id="role" label="Assigned to" value={role} onChange={(value) => setRole(value as WorklistRole)} options={WORKLIST_ROLES.map((r) => ({ value: r, label: roleTitle(r) }))} />
      <SubmitButton busy={make.busy}>Make worklist</SubmitButton>
    </form>
  );
}

function Worklists({ worklists }: { worklists: Array<Worklist & { progress: Progress }> }) {
  return (
    <>
      <h2>Worklists</h2>
      <TableRegion label="Worklists">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">Worklists of your PCN</caption>
          <TableHead headings={['Worklist', 'Assigned to', { text: 'Patients', numeric: true }, { text: 'Done on the record', numeric: true }]} />
          <tbody className="nhsuk-table__body">
            {worklists.map((w) => (
              <tr className="nhsuk-table__row" key={w.id}>
                <td className="nhsuk-table__cell">
                  <Link href={`/worklists/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                </td>
                <td className="nhsuk-table__cell">{roleTitle(w.role)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{w.progress.total}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{w.progress.actionShown}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}
