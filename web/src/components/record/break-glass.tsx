/**
 * What a 403 on a record shows: why the server refused, and — for a clinician — the break-glass
 * form. The reason goes with every request for this record (X-Break-Glass-Reason) and is audited.
 */
import { useState } from 'react';
import { ApiError, type User } from '../../api.ts';
import { ErrorSummary, messageFor, useSubmit } from '../forms.tsx';
import { Link } from '../../router.tsx';
import { TextAreaField } from './fields.tsx';

export const MIN_REASON = 10;
export const MAX_REASON = 500;

/** The reason as typed, or a field error the summary and the textarea both show. */
export function checkReason(reason: string, field: string): string {
  const text = reason.trim();
  if (!text) throw new ApiError(422, 'invalid', 'Enter why you need to see this record', field);
  if (text.length < MIN_REASON) throw new ApiError(422, 'invalid', `Say a little more about why: at least ${MIN_REASON} characters`, field);
  if (text.length > MAX_REASON) throw new ApiError(422, 'invalid', `The reason must be ${MAX_REASON} characters or fewer; it has ${text.length}`, field);
  return text;
}

export function BreakGlass({
  user,
  refusal,
  onReason,
  initialReason = '',
}: {
  user: User | null;
  /** The server's words for the refusal (OperationOutcome details). */
  refusal: string;
  /** Retries with the reason; throws (e.g. another 403) to show the error. */
  onReason: (reason: string) => Promise<void>;
  initialReason?: string;
}) {
  const clinician = user?.breakGlass ?? false;

  return (
    <>
      <h1>You do not have a care relationship with this patient</h1>
      <div className="nhsuk-inset-text">
        <span className="nhsuk-u-visually-hidden">Information: </span>
        <p className="pcn-refusal" data-testid="refusal-reason">
          {refusal}
        </p>
      </div>
      {!clinician ? (
        <p>Only people caring for the patient can see their record. Your role ({user?.role ?? 'not signed in'}) cannot open it in an emergency.</p>
      ) : (
        <section aria-labelledby="break-glass-heading" className="pcn-break-glass">
          <div className="nhsuk-card nhsuk-card--warning">
            <div className="nhsuk-card__content">
              <h2 className="nhsuk-card__heading" id="break-glass-heading">
                {/* biome-ignore lint/a11y/useValidAriaRole: NHS.UK frontend's pattern, so VoiceOver reads the hidden "Important:" with the heading */}
                <span role="text">
                  <span className="nhsuk-u-visually-hidden">Important: </span>Viewing this record in an emergency is audited
                </span>
              </h2>
              <p>
                If you need this record to care for the patient now, you can still open it by giving your reason. Your name, the time, your reason and everything you look at or add are recorded in the
                audit log and reviewed by the information governance team.
              </p>
              <p>Only do this when it is in the patient’s interest and you cannot get the information another way.</p>
            </div>
          </div>
          <ReasonForm
            id="break-glass-reason"
            bold
            hint={`For example: patient attending the out-of-hours clinic, no access to their GP record. Up to ${MAX_REASON} characters.`}
            button="View in an emergency"
            initialReason={initialReason}
            onReason={onReason}
          />
        </section>
      )}
      <p>
        <Link href="/patients">Back to find a patient</Link>
      </p>
    </>
  );
}

/**
 * The break-glass reason, asked once: "Why do you need to see this record?" and a warning button. The
 * reason is checked here (10 to 500 characters) before `onReason` sends it; its failure shows beside the field.
 */
export function ReasonForm({
  id,
  hint,
  button,
  onReason,
  initialReason = '',
  bold = false,
}: {
  id: string;
  hint: string;
  button: string;
  onReason: (reason: string) => Promise<void>;
  initialReason?: string;
  bold?: boolean;
}) {
  const [reason, setReason] = useState(initialReason);
  const { error, busy, onSubmit } = useSubmit(async () => onReason(checkReason(reason, 'reason')));
  return (
    <>
      <ErrorSummary error={error} fields={{ reason: id }} />
      <form onSubmit={onSubmit} noValidate>
        <TextAreaField id={id} label="Why do you need to see this record?" bold={bold} hint={hint} value={reason} onChange={setReason} error={messageFor(error, 'reason')} rows={4} />
        <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy} aria-disabled={busy}>
          {button}
        </button>
      </form>
    </>
  );
}
