/**
 * The statistics of the population dashboards, as pure functions: the Wilson score interval of a rate, a funnel
 * plot's control limits, and small-number suppression (primary and secondary) of a table of counts.
 */

/** The standard normal quantiles the dashboards use: two-sided 95 % and 99.8 % (Spiegelhalter's funnel plots). */
export const Z_95 = 1.959963984540054;
export const Z_998 = 3.090232306167813;

export interface Interval {
  lower: number;
  upper: number;
}

/**
 * The Wilson score interval (Wilson 1927; Newcombe 1998, method 3, no continuity correction) of `events` out
 * of `trials`: the centre (p + z²/2n) / (1 + z²/n) ± z/(1 + z²/n) · √(p(1−p)/n + z²/4n²). Unlike p ± z·se it
 * stays inside [0, 1] and is not degenerate at 0 or n events, which small practices' gaps often are.
 */
export function wilsonInterval(events: number, trials: number, z = Z_95): Interval {
  if (!Number.isInteger(events) || !Number.isInteger(trials) || trials <= 0 || events < 0 || events > trials) {
    throw new RangeError(`a Wilson interval needs 0 ≤ events ≤ trials and trials > 0 (got ${events} of ${trials})`);
  }
  const p = events / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At 0 or n events the bound is exactly 0 or 1; rounding must not put it a hair outside.
  return { lower: events === 0 ? 0 : Math.max(0, centre - half), upper: events === trials ? 1 : Math.min(1, centre + half) };
}

/**
 * A funnel plot's control limits around a target rate for a unit with `denominator` cases: the normal
 * approximation to the binomial, target ± z·√(target(1−target)/n), clipped to [0, 1] (Spiegelhalter 2005, the
 * approximation his paper gives for proportions). Exact binomial limits differ visibly only below ~20 cases,
 * where counts are suppressed for analysts anyway.
 */
export function funnelLimits(target: number, denominator: number): { inner: Interval; outer: Interval } {
  if (!(target >= 0 && target <= 1) || !(denominator > 0)) throw new RangeError(`funnel limits need a target in [0, 1] and a denominator > 0 (got ${target}, ${denominator})`);
  const se = Math.sqrt((target * (1 - target)) / denominator);
  const band = (z: number): Interval => ({ lower: Math.max(0, target - z * se), upper: Math.min(1, target + z * se) });
  return { inner: band(Z_95), outer: band(Z_998) };
}

/** Where a unit's rate falls on the funnel: inside the 95 % limits, between 95 % and 99.8 %, or beyond 99.8 %. */
export function funnelPosition(rate: number, limits: { inner: Interval; outer: Interval }): 'within' | 'warning' | 'alarm' {
  if (rate < limits.outer.lower || rate > limits.outer.upper) return 'alarm';
  if (rate < limits.inner.lower || rate > limits.inner.upper) return 'warning';
  return 'within';
}

/** Counts from 1 to this are never shown to secondary users (NHS England's small-number rule). */
export const SMALLEST_SHOWN = 5;

const isSmall = (n: number) => n >= 1 && n < SMALLEST_SHOWN;

/**
 * Suppresses counts published together with sums of them. `lines` are groups of cells of which one is the sum of
 * the others (a row with its total, a column of parts with the whole). Primary: every count of 1–4 is hidden.
 * Secondary: a line with exactly one hidden count would give it away by subtraction, so the smallest count still
 * shown in that line is hidden too (zeros first: hiding a zero costs the reader nothing), repeated until no line
 * has exactly one hidden count. Returns the cells, null where hidden.
 */
export function suppressLines(cells: readonly number[], lines: ReadonlyArray<readonly number[]>): (number | null)[] {
  const hidden = cells.map(isSmall);
  const useful = lines.filter((line) => line.length > 1);
  for (let changed = true; changed; ) {
    changed = false;
    for (const line of useful) {
      if (line.filter((i) => hidden[i]).length !== 1) continue;
      const smallest = line.filter((i) => !hidden[i]).sort((a, b) => cells[a]! - cells[b]!)[0]!;
      hidden[smallest] = true;
      changed = true;
    }
  }
  return cells.map((n, i) => (hidden[i] ? null : n));
}

/** A table whose rows and columns are each a line (the last row and column its totals, when it has them). */
export function suppressTable(counts: readonly (readonly number[])[]): (number | null)[][] {
  const width = counts[0]?.length ?? 0;
  const rows = counts.map((_, r) => Array.from({ length: width }, (_, c) => r * width + c));
  const columns = Array.from({ length: width }, (_, c) => counts.map((_, r) => r * width + c));
  const flat = suppressLines(counts.flat(), [...rows, ...columns]);
  return counts.map((_, r) => flat.slice(r * width, (r + 1) * width));
}

/** One count shown or suppressed (null = "<5", or hidden so a suppressed one cannot be worked out). */
export const suppressOne = (n: number): number | null => (isSmall(n) ? null : n);
