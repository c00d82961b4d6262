/** Display formats in en-GB: money arrives as integer pence, dates as ISO strings. */
// From the browser-safe types.ts: the module's entry would bundle server code.
import { PARTNER_TYPE_LABELS } from '../../src/modules/network/types.ts';

const gbp = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });
const count = new Intl.NumberFormat('en-GB');
const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const moment = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export const formatPence = (pence: number): string => gbp.format(pence / 100);
export const formatCount = (n: number): string => count.format(n);

/** `2019-07-01` → `1 July 2019`; anything unreadable is shown as given. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return Number.isNaN(date.getTime()) ? iso : day.format(date);
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : moment.format(date);
}

/** "25,000–70,000", or "at least 25,000" when the area sets no maximum. */
export const formatRange = (min: number, max: number | null): string => (max === null ? `at least ${formatCount(min)}` : `${formatCount(min)}–${formatCount(max)}`);

export const partnerTypeLabel = (type: string): string => (PARTNER_TYPE_LABELS as Record<string, string>)[type] ?? type;
