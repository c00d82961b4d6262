/** Money is held as integer pence everywhere; these convert at the edges only. */
export function poundsToPence(pounds: number): number {
  return Math.round(pounds * 100);
}

const gbp = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });
export const formatPence = (pence: number) => gbp.format(pence / 100);
