import { useMemo, useState, type ReactNode } from 'react';
import { TableRegion } from './page-parts.tsx';

export interface Column<Row> {
  key: string;
  header: string;
  /** The value sorted on; numbers sort numerically, strings in en-GB order. */
  sortValue: (row: Row) => string | number | null;
  cell?: (row: Row) => ReactNode;
  numeric?: boolean;
  /** The row's header cell (`<th scope="row">`), usually the code. */
  rowHeader?: boolean;
}

type Direction = 'ascending' | 'descending';

const collator = new Intl.Collator('en-GB', { numeric: true, sensitivity: 'base' });

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // blanks last
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/**
 * An nhsuk-table whose column headers are buttons that sort it, using nhsuk-frontend's own
 * sortable-header markup (`th[data-sort][aria-sort] > button.nhsuk-link`) so its arrows show.
 */
export function SortableTable<Row>({
  caption,
  columns,
  rows,
  rowKey,
  initialSort,
  id,
}: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  initialSort?: { key: string; direction: Direction };
  /** The table's region, for a skip link to move focus to. */
  id?: string;
}) {
  const [sort, setSort] = useState(initialSort ?? { key: columns[0]?.key ?? '', direction: 'ascending' as Direction });

  const sorted = useMemo(() => {
    const column = columns.find((c) => c.key === sort.key);
    if (!column) return rows;
    const sign = sort.direction === 'ascending' ? 1 : -1;
    return [...rows].sort((a, b) => sign * compare(column.sortValue(a), column.sortValue(b)));
  }, [rows, columns, sort]);

  const toggle = (key: string) =>
    setSort((current) => ({
      key,
      direction: current.key === key && current.direction === 'ascending' ? 'descending' : 'ascending',
    }));

  const active = columns.find((c) => c.key === sort.key);

  return (
    <>
      <TableRegion label={caption} id={id}>
        <table className="nhsuk-table nhsuk-table--sortable">
          <caption className="nhsuk-table__caption">
            {caption}
            <span className="nhsuk-u-visually-hidden"> (column headers are sortable)</span>
          </caption>
          <thead className="nhsuk-table__head">
            <tr className="nhsuk-table__row">
              {columns.map((column) => (
                <th
                  key={column.key}
                  scope="col"
                  className={`nhsuk-table__header${column.numeric ? ' nhsuk-table__header--numeric' : ''}`}
                  data-sort=""
                  aria-sort={sort.key === column.key ? sort.direction : undefined}
                >
                  <button type="button" className="nhsuk-link" onClick={() => toggle(column.key)}>
                    {column.header}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {sorted.map((row) => (
              <tr className="nhsuk-table__row" key={rowKey(row)}>
                {columns.map((column) => {
                  const content = column.cell ? column.cell(row) : column.sortValue(row);
                  const className = `nhsuk-table__cell${column.numeric ? ' nhsuk-table__cell--numeric' : ''}`;
                  return column.rowHeader ? (
                    <th key={column.key} scope="row" className={className}>
                      {content}
                    </th>
                  ) : (
                    <td key={column.key} className={className}>
                      {content}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      <div className="nhsuk-u-visually-hidden" role="status" aria-live="polite">
        {active ? `Sorted by ${active.header}, ${sort.direction}` : ''}
      </div>
    </>
  );
}
