import type { SizeStatus } from './types.ts';

const count = new Intl.NumberFormat('en-GB');

export interface SizeVerdict {
  status: SizeStatus;
  /** Why the PCN breaches its area's rule, or null when it is within. A breach is a warning, not an error. */
  reason: string | null;
}

/** A PCN's registered list against its area's working range (e.g. Norfolk & Waveney's 25,000–70,000). */
export function sizeVerdict(listSize: number, rule: { sizeMin: number; sizeMax: number | null }): SizeVerdict {
  if (listSize < rule.sizeMin) {
    return { status: 'below', reason: `List size ${count.format(listSize)} is below the area's minimum of ${count.format(rule.sizeMin)}` };
  }
  if (rule.sizeMax !== null && listSize > rule.sizeMax) {
    return { status: 'above', reason: `List size ${count.format(listSize)} is above the area's maximum of ${count.format(rule.sizeMax)}` };
  }
  return { status: 'within', reason: null };
}
