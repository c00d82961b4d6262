import { Fragment } from 'react';
import { ApiError } from '../api.ts';
import { Link } from '../router.tsx';

export interface Crumb {
  href: string;
  text: string;
}

/** nhsuk-breadcrumb: the trail on wide screens, a back link to the last crumb on narrow ones. */
export function Breadcrumb({ crumbs }: { crumbs: Crumb[] }) {
  const last = crumbs[crumbs.length - 1];
  return (
    <nav className="nhsuk-breadcrumb" aria-label="Breadcrumb">
      <ol className="nhsuk-breadcrumb__list">
        {crumbs.map((crumb) => (
          <li className="nhsuk-breadcrumb__list-item" key={crumb.href}>
            <Link className="nhsuk-breadcrumb__link" href={crumb.href}>
              {crumb.text}
            </Link>
          </li>
        ))}
      </ol>
      {last && (
        <Link className="nhsuk-back-link" href={last.href}>
          <span className="nhsuk-u-visually-hidden">Back to </span>
          {last.text}
        </Link>
      )}
    </nav>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="nhsuk-body" role="status">
      Loading {what}…
    </p>
  );
}

/** What a page shows when its data could not be loaded: not found, not allowed, or a failure. */
export function LoadFailed({ error, what, retry }: { error: Error; what: string; retry: () => void }) {
  const status = error instanceof ApiError ? error.status : 0;
  const heading = status === 404 ? `${what} not found` : status === 403 ? `You cannot see this ${what.toLowerCase()}` : 'Sorry, there is a problem';
  return (
    <Fragment>
      <h1>{heading}</h1>
      <p>{error.message}</p>
      {status !== 404 && status !== 403 && (
        <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={retry}>
          Try again
        </button>
      )}
      <p>
        <Link href="/">Go to the area overview</Link>
      </p>
    </Fragment>
  );
}

/** An nhsuk table's head row: one column header per heading. */
export function TableHead({ headings }: { headings: readonly string[] }) {
  return (
    <thead className="nhsuk-table__head">
      <tr className="nhsuk-table__row">
        {headings.map((heading) => (
          <th scope="col" className="nhsuk-table__header" key={heading}>
            {heading}
          </th>
        ))}
      </tr>
    </thead>
  );
}
