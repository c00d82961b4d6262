/**
 * One patient's shared care record, from `Patient/:id/$everything`: who they are, what matters to
 * them (first, for everyone), their problems, medicines, allergies and measurements, and ONE
 * timeline of every agency's entries. A 403 offers break glass to clinicians; it is audited.
 */
import type { Resource } from '@medplum/fhirtypes';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Confirmation } from '../../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading } from '../../components/page-parts.tsx';
import { AccessLog } from '../../components/record/access-log.tsx';
import { AddEntryForm } from '../../components/record/add-entry-form.tsx';
import { BreakGlass } from '../../components/record/break-glass.tsx';
import { plainName } from '../../components/record/entries.ts';
import { Allergies, CareTeams, latestWhatMatters, Measurements, Medicines, PatientBanner, Problems, WhatMattersToMe } from '../../components/record/record-sections.tsx';
import { reasonGivenFor, rememberedBreakGlassReason } from '../../components/record/remembered-reason.ts';
import { ProactiveCare } from '../../components/record/proactive-care.tsx';
import { Timeline } from '../../components/record/timeline.tsx';
import { CareTeamPanel } from '../../components/careplans/care-team-panel.tsx';
import { CarePlanSummary } from '../care-plan-page.tsx';
import { FhirError, loadRecord, type PatientRecord } from '../../record-api.ts';
import { Link } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { usePageTitle } from '../../use-resource.ts';

type Loaded = { state: 'loading' } | { state: 'ready'; record: PatientRecord } | { state: 'failed'; error: Error };

/** The record, and a way to reload it with the break-glass reason once one is given. */
function useRecord(patientId: string) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  // Broken from search for this patient already: the record opens with that reason, without asking again.
  const [reason, setReason] = useState<string | null>(() => reasonGivenFor(patientId));
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the retry trigger: a new attempt loads again; the reason is read once, as the page opens
  useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    loadRecord(patientId, { breakGlassReason: reason }).then(
      (record) => live && setLoaded({ state: 'ready', record }),
      (error: unknown) => live && setLoaded({ state: 'failed', error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, [patientId, attempt]);

  /** Retries with the reason; a failure is thrown for the break-glass form to show. */
  const breakGlass = useCallback(
    async (given: string) => {
      const record = await loadRecord(patientId, { breakGlassReason: given });
      setReason(given);
      setLoaded({ state: 'ready', record });
    },
    [patientId],
  );

  const reload = useCallback(async () => {
    const record = await loadRecord(patientId, { breakGlassReason: reason });
    setLoaded({ state: 'ready', record });
  }, [patientId, reason]);

  return { loaded, reason, breakGlass, reload, retry: () => setAttempt((n) => n + 1) };
}

export function PatientRecordPage({ id }: { id: string }) {
  const user = useSession();
  const { loaded, reason, breakGlass, reload, retry } = useRecord(id);
  const [added, setAdded] = useState<{ id: string | undefined; message: string } | null>(null);
  const timeline = useRef<HTMLDivElement>(null);
  usePageTitle(loaded.state === 'ready' ? `${plainName(loaded.record.patient)} – record` : 'Patient record');

  const crumbs = [{ href: '/patients', text: 'Find a patient' }];
  if (loaded.state === 'loading') return <Loading what="the patient’s record" />;
  if (loaded.state === 'failed') {
    const error = loaded.error;
    if (error instanceof FhirError && error.forbidden) {
      return (
        <>
          <Breadcrumb crumbs={crumbs} />
          <BreakGlass user={user} refusal={error.message} onReason={breakGlass} initialReason={rememberedBreakGlassReason()} />
        </>
      );
    }
    return <LoadFailed error={error} what="Patient record" retry={retry} />;
  }

  const { patient, entries } = loaded.record;
  const name = plainName(patient);
  const onAdded = async (entry: Resource, what: string) => {
    await reload();
    setAdded({ id: entry.id, message: `${what} added to ${name}’s record. It is at the top of the timeline.` });
    timeline.current?.scrollIntoView({ block: 'start' });
  };

  return (
    <>
      <Breadcrumb crumbs={crumbs} />
      {reason && (
        // biome-ignore lint/a11y/useSemanticElements: an NHS.UK card, named as a region so it is announced
        <div className="nhsuk-card nhsuk-card--warning pcn-emergency-access" role="region" aria-labelledby="emergency-access-heading">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading nhsuk-heading-s" id="emergency-access-heading">
              {/* biome-ignore lint/a11y/useValidAriaRole: NHS.UK frontend's pattern, so VoiceOver reads the hidden "Important:" with the heading */}
              <span role="text">
                <span className="nhsuk-u-visually-hidden">Important: </span>Emergency access
              </span>
            </h2>
            <p>You do not have a care relationship with this patient. You gave this reason: “{reason}”. Everything you see and add here is recorded in the audit log with your reason.</p>
          </div>
        </div>
      )}
      <PatientBanner patient={patient} />
      {user?.seesRecords && user.org && (
        <p className="pcn-refer">
          <Link className="nhsuk-button nhsuk-button--secondary" href={`/referrals/new?patient=${encodeURIComponent(id)}`}>
            Refer
          </Link>
        </p>
      )}
      <WhatMattersToMe entries={entries} patientName={name} />
      {reason ? <CareTeams entries={entries} /> : <CareTeamPanel patientId={id} entries={entries} onChanged={reload} />}
      {!reason && <CarePlanSummary patientId={id} />}
      <Problems entries={entries} />
      <Medicines entries={entries} />
      <Allergies entries={entries} />
      <Measurements entries={entries} />
      {/* Loaded again with the record: a new entry is re-scored within seconds. Keys differ from the access log's: siblings. */}
      {!reason && <ProactiveCare key={`proactive-care-${entries.length}`} patientId={id} />}
      <div ref={timeline} className="pcn-timeline-anchor">
        <Confirmation message={added?.message ?? null} />
        <p>
          <a href="#add-entry">Add an entry to this record</a>
        </p>
        <p>
          <Link href={`/tasks?patient=${encodeURIComponent(id)}`}>
            Create a task<span className="nhsuk-u-visually-hidden"> about {name}</span>
          </Link>
        </p>
        <Timeline entries={entries} highlightId={added?.id} />
      </div>
      {user?.seesRecords && <AddEntryForm patient={patient} user={user} latestWhatMatters={latestWhatMatters(entries)} breakGlassReason={reason} onAdded={onAdded} />}
      {/* Reloaded with the record, so a look just made shows. */}
      <AccessLog key={`${entries.length}`} patientId={id} />
    </>
  );
}
