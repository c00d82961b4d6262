/**
 * A patient's personalised care and support plan (PRSB sections, "What matters to me" first, in the person's own
 * words): every member of the care team changes it a section at a time. A save made from a version someone else
 * has since changed comes back with both versions: the sections only one side changed are merged already, and
 * those both changed are shown side by side to keep one, the other, both, or a version written from the two.
 */
import { type ReactNode, useState } from 'react';
import { carePlanApi, type CarePlanView, type PlanConflict, type PlanSections, type SectionKey } from '../careplan-api.ts';
import { Confirmation, ErrorSummary, useSubmit } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { Link } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';
import { ACTION_STATUSES, GOAL_STATUSES, PLAN_SECTIONS, sectionTitle } from '../api.ts';
import './care-plan.css';

type Goals = PlanSections['goals'];
type Actions = PlanSections['actions'];
const words = (status: string) => (status.charAt(0).toUpperCase() + status.slice(1)).replace(/-/g, ' ');

export function CarePlanPage({ patientId }: { patientId: string }) {
  const loaded = useResource(() => carePlanApi.plan(patientId), patientId);
  const [plan, setPlan] = useState<CarePlanView | null>(null);
  const [conflict, setConflict] = useState<{ conflict: PlanConflict; message: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const view = plan ?? (loaded.state === 'ready' ? loaded.data : null);
  usePageTitle(view ? `${view.patientName} – care and support plan` : 'Care and support plan');
  if (loaded.state === 'loading') return <Loading what="the care and support plan" />;
  if (loaded.state === 'failed' || !view) return <LoadFailed error={loaded.state === 'failed' ? loaded.error : new Error('not loaded')} what="Care and support plan" retry={loaded.reload} />;

  const crumbs = [
    { href: '/patients', text: 'Find a patient' },
    { href: `/patients/${encodeURIComponent(patientId)}`, text: view.patientName },
  ];
  /** Saves from `fromVersion`; a conflict opens the merge view instead. */
  const save = async (fromVersion: string, sections: PlanSections, done: string) => {
    const result = await carePlanApi.save(patientId, fromVersion, sections);
    if ('conflict' in result) {
      setConflict(result);
      setMessage(null);
      window.scrollTo(0, 0);
      return false;
    }
    setPlan(result.saved);
    setConflict(null);
    setMessage(done);
    return true;
  };

  return (
    <>
      <Breadcrumb crumbs={crumbs} />
      <h1>
        <span className="nhsuk-caption-l">{view.patientName}</span>
        Personalised care and support plan
      </h1>
      <Confirmation message={message} />
      {conflict ? (
        <MergeView
          conflict={conflict.conflict}
          message={conflict.message}
          onSave={(sections) => save(conflict.conflict.theirs.versionId, sections, 'The merged plan was saved. It keeps both sets of changes.')}
          onDiscard={() => {
            setPlan(conflict.conflict.theirs);
            setConflict(null);
            setMessage('Your changes were discarded. This is the plan as it is now.');
          }}
        />
      ) : (
        <PlanSectionsView view={view} onSave={(key, sections) => save(view.versionId, sections, `Your changes to “${sectionTitle(key)}” were saved.`)} />
      )}
      <PlanHistory patientId={patientId} versionId={conflict?.conflict.theirs.versionId ?? view.versionId} />
    </>
  );
}

// -------------------------------------------------------------------------------------------------
// The plan, section by section
// -------------------------------------------------------------------------------------------------

function PlanSectionsView({ view, onSave }: { view: CarePlanView; onSave: (key: SectionKey, sections: PlanSections) => Promise<boolean> }) {
  const [editing, setEditing] = useState<SectionKey | null>(null);
  return (
    <>
      {view.id === null && <p className="nhsuk-inset-text">There is no care and support plan yet. Start with what matters to the person, in their own words.</p>}
      {view.contributors.length > 0 && <p>Agencies contributing: {view.contributors.join(', ')}.</p>}
      {PLAN_SECTIONS.map(({ key, title }) => {
        const edit = view.edits[key];
        return (
          <section key={key} aria-labelledby={`section-${key}`} className="pcn-plan-section">
            <h2 id={`section-${key}`}>{title}</h2>
            {editing === key ? (
              <SectionForm
                sectionKey={key}
                initial={view.sections}
                onCancel={() => setEditing(null)}
                onSave={async (sections) => {
                  if (await onSave(key, sections)) setEditing(null);
                }}
              />
            ) : (
              <>
                <SectionContent sectionKey={key} sections={view.sections} />
                {edit && (
                  <p className="nhsuk-body-s nhsuk-u-secondary-text-color">
                    Last changed by {edit.by}, {formatDateTime(edit.at)}
                  </p>
                )}
                <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setEditing(key)}>
                  Change<span className="nhsuk-u-visually-hidden"> {title}</span>
                </button>
              </>
            )}
          </section>
        );
      })}
    </>
  );
}

/** A section's content as read. */
function SectionContent({ sectionKey, sections, whose = '' }: { sectionKey: SectionKey; sections: PlanSections; whose?: string }): ReactNode {
  switch (sectionKey) {
    case 'whatMattersToMe':
      return sections.whatMattersToMe ? (
        <blockquote className="pcn-own-words">
          <p>{sections.whatMattersToMe}</p>
          <footer className="nhsuk-body-s">In the person’s own words</footer>
        </blockquote>
      ) : (
        <p>Not recorded yet.</p>
      );
    case 'goals':
      return <GoalList goals={sections.goals} />;
    case 'actions':
      return <ActionTable actions={sections.actions} label={`Table of ${whose}actions agreed`} />;
    case 'reviewDate':
      return <p>{sections.reviewDate ? formatDate(sections.reviewDate) : 'No review date set.'}</p>;
    default: {
      const text = sections[sectionKey];
      return text ? <p className="pcn-plan-text">{text}</p> : <p>Not recorded yet.</p>;
    }
  }
}

function GoalList({ goals }: { goals: Goals }) {
  if (goals.length === 0) return <p>No goals recorded yet.</p>;
  return (
    <ul className="nhsuk-list nhsuk-list--bullet">
      {goals.map((goal, i) => (
        <li key={goal.id ?? `new-${i}`}>
          {goal.description} <span className="nhsuk-u-secondary-text-color">({[words(goal.status), goal.targetDate ? `by ${formatDate(goal.targetDate)}` : null].filter(Boolean).join(', ')})</span>
        </li>
      ))}
    </ul>
  );
}

function ActionTable({ actions, label }: { actions: Actions; label: string }) {
  if (actions.length === 0) return <p>No actions agreed yet.</p>;
  return (
    <TableRegion label={label}>
      <table className="nhsuk-table">
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{label}</caption>
        <TableHead headings={['Action', 'Who does it', 'By', 'Status']} />
        <tbody className="nhsuk-table__body">
          {actions.map((action, i) => (
            <tr className="nhsuk-table__row" key={`${i}-${action.description}`}>
              <th scope="row" className="nhsuk-table__cell">
                {action.description}
              </th>
              <td className="nhsuk-table__cell">{action.owner.name || action.owner.code}</td>
              <td className="nhsuk-table__cell">{action.dueDate ? formatDate(action.dueDate) : 'No date'}</td>
              <td className="nhsuk-table__cell">{words(action.status)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

// -------------------------------------------------------------------------------------------------
// Changing one section
// -------------------------------------------------------------------------------------------------

function SectionForm({ sectionKey, initial, onSave, onCancel }: { sectionKey: SectionKey; initial: PlanSections; onSave: (sections: PlanSections) => Promise<void>; onCancel: () => void }) {
  const [sections, setSections] = useState<PlanSections>(initial);
  const { error, busy, onSubmit } = useSubmit(() => onSave(sections));
  const set = <K extends SectionKey>(key: K, value: PlanSections[K]) => setSections((s) => ({ ...s, [key]: value }));
  return (
    <form onSubmit={onSubmit} noValidate>
      <ErrorSummary error={error} />
      <SectionEditor sectionKey={sectionKey} sections={sections} set={set} />
      <div className="pcn-button-row">
        <button type="submit" className="nhsuk-button" disabled={busy}>
          Save<span className="nhsuk-u-visually-hidden"> {sectionTitle(sectionKey)}</span>
        </button>
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

type Setter = <K extends SectionKey>(key: K, value: PlanSections[K]) => void;

function SectionEditor({ sectionKey, sections, set, idPrefix = 'edit' }: { sectionKey: SectionKey; sections: PlanSections; set: Setter; idPrefix?: string }) {
  const id = `${idPrefix}-${sectionKey}`;
  const title = sectionTitle(sectionKey);
  if (sectionKey === 'goals') return <GoalsEditor id={id} goals={sections.goals} onChange={(goals) => set('goals', goals)} />;
  if (sectionKey === 'actions') return <ActionsEditor id={id} actions={sections.actions} onChange={(actions) => set('actions', actions)} />;
  if (sectionKey === 'reviewDate') {
    return (
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor={id}>
          {title}
        </label>
        <input className="nhsuk-input nhsuk-input--width-10" id={id} type="date" value={sections.reviewDate ?? ''} onChange={(e) => set('reviewDate', e.target.value || null)} />
      </div>
    );
  }
  const hint = sectionKey === 'whatMattersToMe' ? 'Write it in the person’s own words.' : sectionKey === 'contingencyPlan' ? 'What to do if things change or go wrong, and whom to call.' : undefined;
  return (
    <div className="nhsuk-form-group">
      <label className="nhsuk-label" htmlFor={id}>
        {title}
      </label>
      {hint && (
        <div className="nhsuk-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <textarea className="nhsuk-textarea" id={id} rows={5} value={sections[sectionKey]} aria-describedby={hint ? `${id}-hint` : undefined} onChange={(e) => set(sectionKey, e.target.value)} />
    </div>
  );
}

function GoalsEditor({ id, goals, onChange }: { id: string; goals: Goals; onChange: (goals: Goals) => void }) {
  const change = (i: number, goal: Partial<Goals[number]>) => onChange(goals.map((g, j) => (i === j ? { ...g, ...goal } : g)));
  return (
    <fieldset className="nhsuk-fieldset" id={id}>
      <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Goals, in the person’s words</legend>
      {goals.map((goal, i) => (
        <div key={goal.id ?? `new-${i}`} className="pcn-plan-row">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-${i}-description`}>
              Goal {i + 1}
            </label>
            <input className="nhsuk-input" id={`${id}-${i}-description`} value={goal.description} onChange={(e) => change(i, { description: e.target.value })} />
          </div>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-${i}-target`}>
              Goal {i + 1}: by when
            </label>
            <input
              className="nhsuk-input nhsuk-input--width-10"
              id={`${id}-${i}-target`}
              type="date"
              value={goal.targetDate ?? ''}
              onChange={(e) => change(i, { targetDate: e.target.value || null })}
            />
          </div>
          <StatusSelect id={`${id}-${i}-status`} label={`Goal ${i + 1}: status`} value={goal.status} options={GOAL_STATUSES} onChange={(status) => change(i, { status })} />
          <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" onClick={() => onChange(goals.filter((_, j) => j !== i))}>
            Remove goal {i + 1}
          </button>
        </div>
      ))}
      <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => onChange([...goals, { description: '', targetDate: null, status: 'active' }])}>
        Add a goal
      </button>
    </fieldset>
  );
}

function ActionsEditor({ id, actions, onChange }: { id: string; actions: Actions; onChange: (actions: Actions) => void }) {
  const change = (i: number, action: Partial<Actions[number]>) => onChange(actions.map((a, j) => (i === j ? { ...a, ...action } : a)));
  return (
    <fieldset className="nhsuk-fieldset" id={id}>
      <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Actions, each owned by one agency</legend>
      {actions.map((action, i) => (
        <div key={`${i}-${action.owner.code}`} className="pcn-plan-row">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-${i}-description`}>
              Action {i + 1}
            </label>
            <input className="nhsuk-input" id={`${id}-${i}-description`} value={action.description} onChange={(e) => change(i, { description: e.target.value })} />
          </div>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-${i}-owner`}>
              Action {i + 1}: organisation code of the agency that owns it
            </label>
            <input
              className="nhsuk-input nhsuk-input--width-10"
              id={`${id}-${i}-owner`}
              spellCheck={false}
              value={action.owner.code}
              onChange={(e) => change(i, { owner: { code: e.target.value, name: '' } })}
            />
          </div>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor={`${id}-${i}-due`}>
              Action {i + 1}: due by
            </label>
            <input className="nhsuk-input nhsuk-input--width-10" id={`${id}-${i}-due`} type="date" value={action.dueDate ?? ''} onChange={(e) => change(i, { dueDate: e.target.value || null })} />
          </div>
          <StatusSelect id={`${id}-${i}-status`} label={`Action ${i + 1}: status`} value={action.status} options={ACTION_STATUSES} onChange={(status) => change(i, { status })} />
          <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-button--small" onClick={() => onChange(actions.filter((_, j) => j !== i))}>
            Remove action {i + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        className="nhsuk-button nhsuk-button--secondary nhsuk-button--small"
        onClick={() => onChange([...actions, { description: '', owner: { code: '', name: '' }, dueDate: null, status: 'not-started' }])}
      >
        Add an action
      </button>
    </fieldset>
  );
}

function StatusSelect<S extends string>({ id, label, value, options, onChange }: { id: string; label: string; value: S; options: readonly S[]; onChange: (value: S) => void }) {
  return (
    <div className="nhsuk-form-group">
      <label className="nhsuk-label" htmlFor={id}>
        {label}
      </label>
      <select className="nhsuk-select" id={id} value={value} onChange={(e) => onChange(e.target.value as S)}>
        {options.map((option) => (
          <option key={option} value={option}>
            {words(option)}
          </option>
        ))}
      </select>
    </div>
  );
}

// -------------------------------------------------------------------------------------------------
// Merging after a conflict
// -------------------------------------------------------------------------------------------------

type Choice = 'theirs' | 'yours' | 'both' | 'edit';
const TEXT_KEYS = new Set<SectionKey>(['whatMattersToMe', 'aboutMe', 'contingencyPlan', 'peopleInvolved']);
const LIST_KEYS = new Set<SectionKey>(['goals', 'actions']);

/** Both lists: theirs, then those of yours they do not already hold. */
function bothLists<T>(theirs: T[], yours: T[]): T[] {
  const seen = new Set(theirs.map((item) => JSON.stringify(item)));
  return [...theirs, ...yours.filter((item) => !seen.has(JSON.stringify(item)))];
}

function MergeView({ conflict, message, onSave, onDiscard }: { conflict: PlanConflict; message: string; onSave: (sections: PlanSections) => Promise<boolean>; onDiscard: () => void }) {
  const { theirs, yours, merged, conflicts, outcome } = conflict;
  const [choices, setChoices] = useState<Partial<Record<SectionKey, Choice>>>(() => Object.fromEntries(conflicts.map((key) => [key, TEXT_KEYS.has(key) ? 'edit' : 'both'])));
  const [written, setWritten] = useState<Partial<Record<SectionKey, string>>>(() =>
    Object.fromEntries(conflicts.filter((key) => TEXT_KEYS.has(key)).map((key) => [key, `${theirs.sections[key] as string}\n\n${yours[key] as string}`])),
  );
  const result = (): PlanSections => {
    const next = { ...merged } as Record<SectionKey, unknown>;
    for (const key of conflicts) {
      const choice = choices[key] ?? 'theirs';
      if (choice === 'yours') next[key] = yours[key];
      else if (choice === 'theirs') next[key] = theirs.sections[key];
      else if (choice === 'both' && key === 'goals') next[key] = bothLists(theirs.sections.goals, yours.goals);
      else if (choice === 'both' && key === 'actions') next[key] = bothLists(theirs.sections.actions, yours.actions);
      else if (choice === 'edit') next[key] = written[key] ?? '';
    }
    return next as unknown as PlanSections;
  };
  const { error, busy, onSubmit } = useSubmit(async () => {
    await onSave(result());
  });
  const automatic = PLAN_SECTIONS.filter(({ key }) => outcome[key] === 'theirs' || outcome[key] === 'yours' || outcome[key] === 'both-same');
  const who = theirs.changedBy ?? 'Someone else';
  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="merge-heading">
      <div className="nhsuk-warning-callout">
        <h2 className="nhsuk-warning-callout__label" id="merge-heading">
          {/* biome-ignore lint/a11y/useValidAriaRole: NHS.UK frontend's pattern, so VoiceOver reads the hidden "Important:" with the heading */}
          <span role="text">
            <span className="nhsuk-u-visually-hidden">Important: </span>
            {who} changed this plan while you were editing it
          </span>
        </h2>
        <p>{message}.</p>
        <p>Nothing you wrote has been lost. Check the merged plan below{conflicts.length ? ', choose what to keep where you both changed the same section,' : ''} and save it.</p>
      </div>
      <ErrorSummary error={error} />
      {automatic.length > 0 && (
        <section aria-labelledby="merged-heading">
          <h2 id="merged-heading">Merged for you</h2>
          <ul className="nhsuk-list nhsuk-list--bullet">
            {automatic.map(({ key, title }) => (
              <li key={key}>
                {title}: {outcome[key] === 'theirs' ? `${who}’s change kept` : outcome[key] === 'yours' ? 'your change kept' : 'you both made the same change'}
              </li>
            ))}
          </ul>
        </section>
      )}
      {conflicts.map((key) => (
        <fieldset key={key} className="nhsuk-fieldset pcn-merge-section">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">
            <h2 className="nhsuk-fieldset__heading">{sectionTitle(key)}: you both changed this</h2>
          </legend>
          <div className="pcn-side-by-side">
            <div className="pcn-side">
              <h3>
                Their version{' '}
                <span className="nhsuk-body-s nhsuk-u-secondary-text-color">
                  ({[theirs.edits[key]?.by ?? who, theirs.edits[key] ? formatDateTime(theirs.edits[key].at) : null].filter(Boolean).join(', ')})
                </span>
              </h3>
              <SectionContent sectionKey={key} sections={theirs.sections} whose="their " />
            </div>
            <div className="pcn-side">
              <h3>Your version</h3>
              <SectionContent sectionKey={key} sections={yours} whose="your " />
            </div>
          </div>
          <div className="nhsuk-radios">
            {(
              [
                ['theirs', 'Keep their version'],
                ['yours', 'Keep your version'],
                ...(LIST_KEYS.has(key) ? [['both', 'Keep both: theirs, then yours'] as const] : []),
                ...(TEXT_KEYS.has(key) ? [['edit', 'Write one version from both'] as const] : []),
              ] as const
            ).map(([value, label]) => (
              <div className="nhsuk-radios__item" key={value}>
                <input
                  className="nhsuk-radios__input"
                  id={`merge-${key}-${value}`}
                  name={`merge-${key}`}
                  type="radio"
                  checked={choices[key] === value}
                  onChange={() => setChoices((c) => ({ ...c, [key]: value }))}
                />
                <label className="nhsuk-label nhsuk-radios__label" htmlFor={`merge-${key}-${value}`}>
                  {label}
                </label>
              </div>
            ))}
          </div>
          {choices[key] === 'edit' && (
            <div className="nhsuk-form-group pcn-merge-edit">
              <label className="nhsuk-label" htmlFor={`merge-${key}-text`}>
                {sectionTitle(key)}: the version to save
              </label>
              <textarea className="nhsuk-textarea" id={`merge-${key}-text`} rows={6} value={written[key] ?? ''} onChange={(e) => setWritten((w) => ({ ...w, [key]: e.target.value }))} />
            </div>
          )}
        </fieldset>
      ))}
      <div className="pcn-button-row">
        <button type="submit" className="nhsuk-button" disabled={busy}>
          Save the merged plan
        </button>
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onDiscard}>
          Discard my changes
        </button>
      </div>
    </form>
  );
}

// -------------------------------------------------------------------------------------------------
// History
// -------------------------------------------------------------------------------------------------

function PlanHistory({ patientId, versionId }: { patientId: string; versionId: string }) {
  const history = useResource(() => carePlanApi.history(patientId), `${patientId}:${versionId}`);
  if (history.state !== 'ready' || history.data.versions.length === 0) return null;
  return (
    <section aria-labelledby="plan-history-heading">
      <h2 id="plan-history-heading">Changes to this plan</h2>
      <TableRegion label="Versions of this plan">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Changes to this plan</caption>
          <TableHead headings={['When', 'Who', 'What changed']} />
          <tbody className="nhsuk-table__body">
            {history.data.versions.map((version) => (
              <tr className="nhsuk-table__row" key={version.versionId}>
                <th scope="row" className="nhsuk-table__cell">
                  {formatDateTime(version.at)}
                </th>
                <td className="nhsuk-table__cell">{version.by ?? 'Not recorded'}</td>
                <td className="nhsuk-table__cell">{version.sections.map(sectionTitle).join(', ') || 'Nothing recorded'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </section>
  );
}

/** On the patient's record: the plan's review date, and the way to it. */
export function CarePlanSummary({ patientId }: { patientId: string }) {
  const plan = useResource(() => carePlanApi.plan(patientId), patientId);
  return (
    <section aria-labelledby="care-and-support-plan-heading">
      <h2 id="care-and-support-plan-heading">Care and support plan</h2>
      {plan.state === 'ready' && (
        <p>
          {plan.data.id === null
            ? 'There is no personalised care and support plan yet.'
            : `Review ${plan.data.sections.reviewDate ? `due ${formatDate(plan.data.sections.reviewDate)}` : 'date not set'}. Last changed by ${plan.data.changedBy ?? 'not recorded'}${plan.data.lastUpdated ? `, ${formatDateTime(plan.data.lastUpdated)}` : ''}.`}
        </p>
      )}
      <p>
        <Link href={`/patients/${encodeURIComponent(patientId)}/care-plan`}>
          {plan.state === 'ready' && plan.data.id === null ? 'Start the care and support plan' : 'View and change the care and support plan'}
        </Link>
      </p>
    </section>
  );
}
