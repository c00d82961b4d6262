/**
 * NHS form building blocks: an error summary above the form and the message beside the field
 * the API named in `{error:{field}}`. Forms use `noValidate`: the server's messages are the rules.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, ApiErrors } from '../api.ts';
import { FocusLink } from './page-parts.tsx';

/** The last segment of a server field path: `body.clinicalDirector` → `clinicalDirector`. */
const fieldName = (field: string | undefined): string | undefined =>
  field
    ?.split(/[./[\]]/)
    .filter(Boolean)
    .pop();

/** Several problems found at once (a form's own checks and the server's), listed together in the summary. */
export class FormErrors extends Error {
  constructor(readonly errors: Error[]) {
    super(errors.map((e) => e.message).join(' '));
    this.name = 'FormErrors';
  }
}

/** One problem, or several: thrown as it is, or together as FormErrors. */
export function throwAll(errors: Error[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new FormErrors(errors);
}

const problemsOf = (error: Error | null): Error[] => (!error ? [] : error instanceof FormErrors ? error.errors.flatMap(problemsOf) : error instanceof ApiErrors ? error.errors : [error]);

export function messageFor(error: Error | null, name: string): string | undefined {
  const problem = problemsOf(error).find((e) => e instanceof ApiError && fieldName(e.field) === name);
  return problem?.message;
}

/** Runs a submit action, keeping its failure for the error summary and the fields. */
export function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return { error, busy, onSubmit, clearError: () => setError(null) };
}

/**
 * The nhsuk-error-summary. `fields` maps API field names to input ids, so the summary links to
 * the field at fault; errors without a field (403, 409 …) are listed as they are.
 */
export function ErrorSummary({ error, fields = {} }: { error: Error | null; fields?: Record<string, string> }) {
  const summary = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error) summary.current?.focus(); // NHS pattern: move focus to the summary when it appears
  }, [error]);
  if (!error) return null;
  return (
    <div className="nhsuk-error-summary" tabIndex={-1} ref={summary}>
      <div role="alert">
        <h2 className="nhsuk-error-summary__heading">There is a problem</h2>
        <div className="nhsuk-error-summary__body">
          <ul className="nhsuk-list nhsuk-error-summary__list">
            {problemsOf(error).map((problem) => {
              const name = problem instanceof ApiError ? fieldName(problem.field) : undefined;
              const target = name ? fields[name] : undefined;
              return <li key={problem.message}>{target ? <FocusLink to={target}>{problem.message}</FocusLink> : problem.message}</li>;
            })}
          </ul>
        </div>
      </div>
    </div>
  );
}

/** An error message beside its field, linked by id from aria-describedby. */
export function ErrorMessage({ id, error }: { id: string; error?: string }) {
  if (!error) return null;
  return (
    <span className="nhsuk-error-message" id={`${id}-error`}>
      <span className="nhsuk-u-visually-hidden">Error: </span>
      {error}
    </span>
  );
}

/** nhsuk-form-group: label, hint and error around one control. */
export function FormGroup({
  id,
  label,
  hint,
  error,
  bold,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  /** A label that is the question of the page (nhsuk-label--s). */
  bold?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <label className={`nhsuk-label${bold ? ' nhsuk-label--s' : ''}`} htmlFor={id}>
        {label}
      </label>
      {hint && (
        <div className="nhsuk-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <ErrorMessage id={id} error={error} />
      {children}
    </div>
  );
}

export const describedBy = (id: string, hint?: string, error?: string) => [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

export function TextField({
  id,
  label,
  value,
  onChange,
  hint,
  error,
  type = 'text',
  autoComplete,
  width,
  spellCheck,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  error?: string;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  /** nhsuk-input--width-N for short codes */
  width?: 5 | 10 | 20 | 30;
  spellCheck?: boolean;
}) {
  const classes = ['nhsuk-input', width ? `nhsuk-input--width-${width}` : '', error ? 'nhsuk-input--error' : ''].filter(Boolean).join(' ');
  return (
    <FormGroup id={id} label={label} hint={hint} error={error}>
      <input
        className={classes}
        id={id}
        name={id}
        type={type}
        value={value}
        autoComplete={autoComplete}
        spellCheck={spellCheck}
        aria-describedby={describedBy(id, hint, error)}
        aria-invalid={error ? true : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
    </FormGroup>
  );
}

export function SelectField({
  id,
  label,
  value,
  onChange,
  options,
  hint,
  error,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
  hint?: string;
  error?: string;
}) {
  return (
    <FormGroup id={id} label={label} hint={hint} error={error}>
      <select
        className={`nhsuk-select${error ? ' nhsuk-select--error' : ''}`}
        id={id}
        name={id}
        value={value}
        aria-describedby={describedBy(id, hint, error)}
        aria-invalid={error ? true : undefined}
        onChange={(event) => onChange(event.target.value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </FormGroup>
  );
}

/** A choice of a few, side by side (NHS inline radios in a fieldset with its legend). */
export function InlineRadios<T extends string>({
  name,
  legend,
  options,
  value,
  onChange,
}: {
  name: string;
  legend: string;
  options: ReadonlyArray<readonly [T, string]>;
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <div className="nhsuk-form-group">
      <fieldset className="nhsuk-fieldset">
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>
        <div className="nhsuk-radios nhsuk-radios--inline">
          {options.map(([option, label]) => (
            <div className="nhsuk-radios__item" key={option}>
              <input className="nhsuk-radios__input" id={`${name}-${option}`} name={name} type="radio" value={option} checked={value === option} onChange={() => onChange(option)} />
              <label className="nhsuk-label nhsuk-radios__label" htmlFor={`${name}-${option}`}>
                {label}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
    </div>
  );
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  return (
    <button type="submit" className="nhsuk-button" data-module="nhsuk-button" disabled={busy} aria-disabled={busy}>
      {children}
    </button>
  );
}

/** A short success message after a change, read out by screen readers. */
export function Confirmation({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div className="nhsuk-inset-text pcn-confirmation" role="status">
      <p>{message}</p>
    </div>
  );
}

export interface DateParts {
  day: string;
  month: string;
  year: string;
}

export const emptyDate: DateParts = { day: '', month: '', year: '' };

/** `2027-04-01` as the three boxes show it: 1, 4, 2027. */
export const partsOf = (iso: string): DateParts => ({ day: String(Number(iso.slice(8, 10))), month: String(Number(iso.slice(5, 7))), year: iso.slice(0, 4) });

/**
 * A day/month/year as `yyyy-mm-dd`: undefined when left blank (or the `required` message, when it must be
 * given), an ApiError-shaped 422 on `field` when it is not a real date, so it shows like the server's own.
 */
export function isoFromParts(parts: DateParts, field: string, label: string, required?: string): string | undefined {
  const [day, month, year] = [parts.day.trim(), parts.month.trim(), parts.year.trim()];
  if (!day && !month && !year) {
    if (required) throw new ApiError(422, 'invalid', required, field);
    return undefined;
  }
  const iso = `${year.padStart(4, '0')}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  const real = /^\d{4}-\d{2}-\d{2}$/.test(iso) && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso);
  if (!real) throw new ApiError(422, 'invalid', `${label} must be a real date, for example 15 3 2024`, field);
  return iso;
}

/** The NHS date input: three labelled boxes in a fieldset (never the browser's date picker). */
export function DateField({ id, legend, hint, value, onChange, error }: { id: string; legend: string; hint?: string; value: DateParts; onChange: (value: DateParts) => void; error?: string }) {
  const parts: { key: keyof DateParts; label: string; width: number }[] = [
    { key: 'day', label: 'Day', width: 2 },
    { key: 'month', label: 'Month', width: 2 },
    { key: 'year', label: 'Year', width: 4 },
  ];
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <fieldset className="nhsuk-fieldset" aria-describedby={describedBy(id, hint, error)}>
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>
        {hint && (
          <div className="nhsuk-hint" id={`${id}-hint`}>
            {hint}
          </div>
        )}
        <ErrorMessage id={id} error={error} />
        <div className="nhsuk-date-input" id={id}>
          {parts.map((part) => (
            <div className="nhsuk-date-input__item" key={part.key}>
              <div className="nhsuk-form-group">
                <label className="nhsuk-label nhsuk-date-input__label" htmlFor={`${id}-${part.key}`}>
                  {part.label}
                </label>
                <input
                  className={`nhsuk-input nhsuk-date-input__input nhsuk-input--width-${part.width}${error ? ' nhsuk-input--error' : ''}`}
                  id={`${id}-${part.key}`}
                  name={`${id}-${part.key}`}
                  type="text"
                  inputMode="numeric"
                  value={value[part.key]}
                  onChange={(event) => onChange({ ...value, [part.key]: event.target.value })}
                />
              </div>
            </div>
          ))}
        </div>
      </fieldset>
    </div>
  );
}
