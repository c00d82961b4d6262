/** Calendar days as the registry counts them: `yyyy-mm-dd`, in England's time zone. No I/O. */

const ENGLAND = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * Today in England (a move "on 1 April" takes effect at midnight UK time, BST or not). Worked out on
 * every call, never kept: the database's `registry_today()` (migration 071) is the same day.
 */
export function registryToday(now: Date = new Date()): string {
  return ENGLAND.format(now);
}

/** The day `days` after (or before, when negative) a `yyyy-mm-dd` day. */
export function addDays(day: string, days: number): string {
  const at = new Date(`${day}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

const SPOKEN = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/** A `yyyy-mm-dd` day as people write it: 1 April 2027. */
export function spokenDay(day: string): string {
  return SPOKEN.format(new Date(`${day}T00:00:00Z`));
}
