import { Fragment, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api.ts';
import { formatDate } from '../format.ts';
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

/** A column heading; numeric columns are right-aligned, like their cells. */
export type Heading = string | { text: string; numeric: true };

/** An nhsuk table's head row: one column header per heading. */
export function TableHead({ headings }: { headings: readonly Heading[] }) {
  return (
    <thead className="nhsuk-table__head">
      <tr className="nhsuk-table__row">
        {headings.map((heading) => {
          const text = typeof heading === 'string' ? heading : heading.text;
          return (
            <th scope="col" className={`nhsuk-table__header${typeof heading === 'string' ? '' : ' nhsuk-table__header--numeric'}`} key={text}>
              {text}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

/**
 * Where every table sits: a named region that scrolls sideways by itself when the table is wider than
 * the screen, so the page never does (WCAG 1.4.10). While it scrolls it is a tab stop, so a keyboard can
 * scroll it with the arrow keys; it can always take focus from a skip link (`id`).
 */
export function TableRegion({ label, id, children }: { label: string; id?: string; children: ReactNode }) {
  const region = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useLayoutEffect(() => {
    const element = region.current;
    if (!element) return;
    const measure = () => setScrolls(element.scrollWidth > element.clientWidth);
    measure();
    // The region narrows with the window; the table widens with its rows (or when its <details> opens).
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    if (element.firstElementChild) observer.observe(element.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    // biome-ignore lint/a11y/useSemanticElements: a named region is what WAI-ARIA asks of a scrolling container; <section> would add an outline entry per table
    <div ref={region} id={id} className="nhsuk-table-container pcn-table-region" role="region" aria-label={label} tabIndex={scrolls ? 0 : -1}>
      {children}
    </div>
  );
}

/** An in-page link that moves keyboard focus (not only the scroll position) to the element `to`. */
export function FocusLink({ to, className, children }: { to: string; className?: string; children: ReactNode }) {
  return (
    <a
      href={`#${to}`}
      className={className}
      onClick={(event) => {
        event.preventDefault();
        document.getElementById(to)?.focus();
      }}
    >
      {children}
    </a>
  );
}

/** One row of a membership history: the other side (a PCN or a practice), and the days it began and ended. */
export interface MembershipRow {
  href: string;
  name: string;
  code: string;
  startDate: string;
  endDate: string | null;
  /** An open membership that a scheduled move begins later: not current yet. */
  scheduled: boolean;
}

/**
 * A membership history, as the PCN page and the practice page both show it: a heading and a table of who
 * belonged where from when to when (an open row is scheduled or current), or a sentence when there is none.
 */
export function MembershipHistory(props: { heading: string; empty: string; label: string; column: string; current: string; rows: readonly MembershipRow[] }) {
  const { heading, empty, label, column, current, rows } = props;
  return (
    <>
      <h2>{heading}</h2>
      {rows.length === 0 ? (
        <p>{empty}</p>
      ) : (
        <TableRegion label={label}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{label}</caption>
            <TableHead headings={[column, 'From', 'To']} />
            <tbody className="nhsuk-table__body">
              {rows.map((row) => (
                <tr className="nhsuk-table__row" key={`${row.code}-${row.startDate}`}>
                  <td className="nhsuk-table__cell">
                    <Link href={row.href}>{row.name}</Link> <span className="pcn-muted">({row.code})</span>
                  </td>
                  <td className="nhsuk-table__cell">{formatDate(row.startDate)}</td>
                  <td className="nhsuk-table__cell">{row.endDate ? formatDate(row.endDate) : row.scheduled ? 'Scheduled' : current}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </>
  );
}
