/** NHS textarea and radios in the same shape as components/forms.tsx (label, hint, error beside the field). */
import { Fragment, type ReactNode } from 'react';
import { describedBy, ErrorMessage, FormGroup } from '../forms.tsx';

export function TextAreaField({
  id,
  label,
  value,
  onChange,
  hint,
  error,
  rows = 5,
  bold,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  error?: string;
  rows?: number;
  /** A label that is the question of the page (nhsuk-label--s). */
  bold?: boolean;
}) {
  return (
    <FormGroup id={id} label={label} hint={hint} error={error} bold={bold}>
      <textarea
        className={`nhsuk-textarea${error ? ' nhsuk-textarea--error' : ''}`}
        id={id}
        name={id}
        rows={rows}
        value={value}
        aria-describedby={describedBy(id, hint, error)}
        aria-invalid={error ? true : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
    </FormGroup>
  );
}

export interface RadioOption {
  value: string;
  label: string;
  hint?: string;
  /** Shown under the option while it is chosen (nhsuk-radios__conditional). */
  conditional?: ReactNode;
}

/** nhsuk-radios in a fieldset; the first radio's id is `${id}` so an error summary can link to it. */
export function RadiosField({
  id,
  legend,
  hint,
  value,
  onChange,
  options,
  error,
}: {
  id: string;
  legend: string;
  hint?: string;
  value: string;
  onChange: (value: string) => void;
  options: RadioOption[];
  error?: string;
}) {
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
        <div className="nhsuk-radios nhsuk-radios--conditional">
          {options.map((option, i) => {
            const inputId = i === 0 ? id : `${id}-${option.value}`;
            const checked = value === option.value;
            return (
              <Fragment key={option.value}>
                <div className="nhsuk-radios__item">
                  <input
                    className="nhsuk-radios__input"
                    id={inputId}
                    name={id}
                    type="radio"
                    value={option.value}
                    checked={checked}
                    aria-describedby={option.hint ? `${inputId}-item-hint` : undefined}
                    aria-controls={option.conditional ? `${inputId}-conditional` : undefined}
                    onChange={() => onChange(option.value)}
                  />
                  <label className="nhsuk-label nhsuk-radios__label" htmlFor={inputId}>
                    {option.label}
                  </label>
                  {option.hint && (
                    <div className="nhsuk-hint nhsuk-radios__hint" id={`${inputId}-item-hint`}>
                      {option.hint}
                    </div>
                  )}
                </div>
                {option.conditional && (
                  <div className={`nhsuk-radios__conditional${checked ? '' : ' nhsuk-radios__conditional--hidden'}`} id={`${inputId}-conditional`}>
                    {option.conditional}
                  </div>
                )}
              </Fragment>
            );
          })}
        </div>
      </fieldset>
    </div>
  );
}
