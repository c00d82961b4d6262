import type { ReactNode } from 'react';

/** An nhsuk-summary-list of key/value rows; rows with a null value are left out. */
export function SummaryList({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="nhsuk-summary-list">
      {rows
        .filter(([, value]) => value !== null && value !== undefined)
        .map(([key, value]) => (
          <div className="nhsuk-summary-list__row" key={key}>
            <dt className="nhsuk-summary-list__key">{key}</dt>
            <dd className="nhsuk-summary-list__value">{value}</dd>
          </div>
        ))}
    </dl>
  );
}
