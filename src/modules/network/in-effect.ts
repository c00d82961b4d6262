/** "In effect on a day", the one rule every registry read uses (migration 071's view is the same rule for today). */
import { registryToday } from '../../shared/dates.ts';

/** SQL: membership `alias` is in effect on the day bound at `day` (e.g. `$1::date`). */
export const inEffect = (alias: string, day: string) => `${alias}.start_date <= ${day} AND (${alias}.end_date IS NULL OR ${alias}.end_date >= ${day})`;

/** The day a read is for: the one asked, else today in England, worked out now (never cached past midnight). */
export const dayOf = (asOf: string | undefined): string => asOf ?? registryToday();
