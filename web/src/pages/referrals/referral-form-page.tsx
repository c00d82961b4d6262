/**
 * `/referrals/new?patient=<id>[&service=<HealthcareService id>]`: refer a patient to a service from the directory
 * (when it is there) or to a partner organisation of the PCN — reason, urgency, what matters to the patient, the
 * patient's consent to share and entries of their record attached. Sent (or saved as a draft) as one referral.
 */
import type { Condition, Patient } from '@medplum/fhirtypes';
import { useRef, useState } from 'react';
import { api, type DirectoryService, type User } from '../../api.ts';
import { ErrorSummary, messageFor, SelectField, useSubmit } from '../../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading } from '../../components/page-parts.tsx';
import { answersOf, codeText, plainName } from '../../components/record/entries.ts';
import { latestWhatMatters } from '../../components/record/record-sections.tsx';
import { RadiosField, TextAreaField } from '../../components/record/fields.tsx';
import { loadRecord } from '../../record-api.ts';
import { navigate, useLocation } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { usePageTitle, useResource } from '../../use-resource.ts';

interface Choices {
  patient: Patient;
  problems: Condition[];
  whatMatters: string;
  services: DirectoryService[];
  partners: Array<{ code: string; name: string; type: string }>;
}

async function loadChoices(patientId: string, user: User | null): Promise<Choices> {
  const pcns = user?.pcnCodes?.length ? user.pcnCodes : user?.pcnCode ? [user.pcnCode] : [];
  const [record, services, ...details] = await Promise.all([loadRecord(patientId), api.services({}).then((found) => found.items), ...pcns.map((code) => api.pcn(code).catch(() => null))]);
  const partners = new Map<string, { code: string; name: string; type: string }>();
  for (const pcn of details) for (const partner of pcn?.partners ?? []) if (partner.code !== user?.org) partners.set(partner.code, partner);
  return {
    patient: record.patient,
    problems: record.entries.filter((e): e is Condition => e.resourceType === 'Condition'),
    whatMatters: (() => {
      const latest = latestWhatMatters(record.entries);
      return latest ? (answersOf(latest)[0]?.answer ?? '') : '';
    })(),
    services,
    partners: [...partners.values()].sort((a, b) => a.name.localeCompare(b.name, 'en-GB')),
  };
}

export function ReferralFormPage() {
  const user = useSession();
  const { search } = useLocation();
  const patientId = search.get('patient') ?? '';
  const choices = useResource(() => loadChoices(patientId, user), `refer:${patientId}`);
  usePageTitle('Refer a patient');
  if (!patientId) return <p>Open a patient’s record and choose “Refer” to refer them.</p>;
  if (choices.state === 'loading') return <Loading what="the referral form" />;
  if (choices.state === 'failed') return <LoadFailed error={choices.error} what="The referral form" retry={choices.reload} />;
  return <ReferralForm patientId={patientId} initialService={search.get('service')} choices={choices.data} />;
}

function ReferralForm({ patientId, initialService, choices }: { patientId: string; initialService: string | null; choices: Choices }) {
  const name = plainName(choices.patient);
  const [to, setTo] = useState(initialService ? `service:${initialService}` : '');
  const [reason, setReason] = useState('');
  const [priority, setPriority] = useState<'routine' | 'urgent' | 'asap'>('routine');
  const [whatMatters, setWhatMatters] = useState(choices.whatMatters);
  const [consent, setConsent] = useState(false);
  const [attached, setAttached] = useState<string[]>([]);
  // Which button sent the form: read when it submits (a state change would arrive a render late).
  const draft = useRef(false);

  const { error, busy, onSubmit } = useSubmit(async () => {
    const [kind, id] = [to.slice(0, to.indexOf(':')), to.slice(to.indexOf(':') + 1)];
    const referral = await api.createReferral({
      patientId,
      ...(kind === 'service' ? { serviceId: id } : kind === 'org' ? { performerOrg: id } : { serviceId: '' }),
      reason,
      priority,
      ...(whatMatters.trim() ? { whatMatters } : {}),
      consentToShare: consent,
      attachments: attached,
      draft: draft.current,
    });
    navigate(`/referrals/${encodeURIComponent(referral.id)}`);
  });

  const options = [
    { value: '', label: 'Choose where to refer' },
    ...choices.services.map((s) => ({ value: `service:${s.id}`, label: `${s.name} – ${s.provider.name}` })),
    ...choices.partners.map((p) => ({ value: `org:${p.code}`, label: `${p.name} (${p.type.replace(/-/g, ' ')})` })),
  ];

  return (
    <>
      <Breadcrumb crumbs={[{ href: `/patients/${encodeURIComponent(patientId)}`, text: `${name}’s record` }]} />
      <h1>Refer {name}</h1>
      <ErrorSummary
        error={error}
        fields={{ serviceId: 'referral-to', performerOrg: 'referral-to', reason: 'referral-reason', consentToShare: 'referral-consent', attachments: 'referral-attachments' }}
      />
      <form noValidate onSubmit={onSubmit}>
        <SelectField
          id="referral-to"
          label="Refer to"
          hint={choices.services.length ? 'A service from the directory, or a partner organisation of your PCN' : 'A partner organisation of your PCN'}
          value={to}
          onChange={setTo}
          options={options}
          error={messageFor(error, 'serviceId') ?? messageFor(error, 'performerOrg')}
        />
        <TextAreaField id="referral-reason" label="Reason for referral" value={reason} onChange={setReason} error={messageFor(error, 'reason')} />
        <RadiosField
          id="referral-priority"
          legend="Urgency"
          value={priority}
          onChange={(value) => setPriority(value as typeof priority)}
          options={[
            { value: 'routine', label: 'Routine', hint: 'Accept within 14 days' },
            { value: 'urgent', label: 'Urgent', hint: 'Accept within 2 days' },
            { value: 'asap', label: 'As soon as possible', hint: 'Accept within 4 hours' },
          ]}
        />
        <TextAreaField id="referral-what-matters" label="What matters to the patient" hint="In their words, if you can" value={whatMatters} onChange={setWhatMatters} rows={3} />
        {choices.problems.length > 0 && (
          <div className="nhsuk-form-group" id="referral-attachments">
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Attach from the record</legend>
              <div className="nhsuk-checkboxes">
                {choices.problems.map((problem) => {
                  const reference = `Condition/${problem.id}`;
                  return (
                    <div className="nhsuk-checkboxes__item" key={reference}>
                      <input
                        className="nhsuk-checkboxes__input"
                        id={`attach-${problem.id}`}
                        type="checkbox"
                        checked={attached.includes(reference)}
                        onChange={(event) => setAttached((now) => (event.target.checked ? [...now, reference] : now.filter((r) => r !== reference)))}
                      />
                      <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`attach-${problem.id}`}>
                        {codeText(problem.code) ?? 'Problem'}
                      </label>
                    </div>
                  );
                })}
              </div>
            </fieldset>
          </div>
        )}
        <div className={`nhsuk-form-group${messageFor(error, 'consentToShare') ? ' nhsuk-form-group--error' : ''}`}>
          {messageFor(error, 'consentToShare') && (
            <span className="nhsuk-error-message" id="referral-consent-error">
              <span className="nhsuk-u-visually-hidden">Error: </span>
              {messageFor(error, 'consentToShare')}
            </span>
          )}
          <div className="nhsuk-checkboxes">
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" id="referral-consent" type="checkbox" checked={consent} onChange={(event) => setConsent(event.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="referral-consent">
                {name} agrees to their information being shared with the service
              </label>
            </div>
          </div>
        </div>
        <div className="nhsuk-button-group">
          <button type="submit" className="nhsuk-button" disabled={busy} aria-disabled={busy} onClick={() => (draft.current = false)}>
            Send referral
          </button>
          <button type="submit" className="nhsuk-button nhsuk-button--secondary" disabled={busy} onClick={() => (draft.current = true)}>
            Save as draft
          </button>
        </div>
      </form>
    </>
  );
}
