import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';

const DAY = z.iso.date();

/** An as-of day given by a person (`--as-of`, `?asOf=`): a real calendar day, `YYYY-MM-DD`, or a clear refusal. */
export function parseAsOf(value: string, field = 'asOf'): string {
  if (!DAY.safeParse(value).success) throw new AppError('invalid', `${field} must be a calendar day written YYYY-MM-DD (e.g. 2026-04-01), not '${value.slice(0, 40)}'`, field);
  return value;
}
