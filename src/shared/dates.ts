/** Calendar days as the registry counts them: `yyyy-mm-dd`, in England's time zone. No I/O. */

const ENGLAND = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

let lastMinute = { minute: Number.NaN, day: '' };

/**
 * Today in England (a move "on 1 April" takes effect at midnight UK time, BST or not); the database's
 * `registry_today()` (migration 071) is the same day. Kept for the minute it was asked in: England's offset
 * changes only on the hour, so every instant of one UTC minute is the same English day (formatting in a
 * time zone was ~1 % of a FHIR read's CPU).
 */
export function registryToday(now: Date = new Date()): string {
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== lastMinute.minute) lastMinute = { minute, day: ENGLAND.format(now) };
  return lastMinute.day;
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
