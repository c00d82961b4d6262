/**
 * Time windows of the population rules, on `YYYY-MM-DD` dates compared as strings (they sort as dates).
 * "In the 12 months before the as-of date" is: after the date 12 calendar months earlier, and on or before
 * the as-of date. So for 2026-12-04, 2025-12-05 is inside and 2025-12-04 is not.
 */
import type { RecordEntry } from './facts.ts';

/**
 * The date `months` calendar months before `date`. A day the earlier month does not have is clamped to its
 * last day (2024-02-29 less 12 months is 2023-02-28), so a window never reaches past a month's end.
 */
export function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

/**
 * Whether an entry is part of the record on the as-of date: not entered in error, and dated on or before it.
 * An undated entry cannot be placed before the as-of date, so no rule counts it.
 */
export function onRecordBy(entry: RecordEntry, asOf: string): entry is RecordEntry & { date: string } {
  return entry.standing !== 'void' && entry.date !== undefined && entry.date <= asOf;
}
