/**
 * A small UCUM canonicalisation, enough to compare clinical quantities like for like: mass, volume,
 * amount of substance, length, time and pressure with their usual prefixes, and one quotient of two of
 * them (mg/dL, mmol/L). A unit outside this table is compared by its code only (R4 leaves canonical
 * matching to the server); a unit in another dimension never matches.
 */
export const UCUM = 'http://unitsofmeasure.org';

/** Each unit's size in its dimension's base unit, as exact decimal text (PostgreSQL numeric does the sums). */
const DIMENSIONS: Record<string, Record<string, string>> = {
  mass: { kg: '1000', g: '1', mg: '0.001', ug: '0.000001', ng: '0.000000001', pg: '0.000000000001', '[lb_av]': '453.59237', '[oz_av]': '28.349523125' },
  volume: { L: '1', l: '1', dL: '0.1', dl: '0.1', cL: '0.01', mL: '0.001', ml: '0.001', uL: '0.000001', ul: '0.000001', fL: '0.000000000000001' },
  amount: { mol: '1', mmol: '0.001', umol: '0.000001', nmol: '0.000000001', pmol: '0.000000000001' },
  length: { km: '1000', m: '1', cm: '0.01', mm: '0.001', um: '0.000001', nm: '0.000000001', '[in_i]': '0.0254', '[ft_i]': '0.3048' },
  time: { ms: '0.001', s: '1', min: '60', h: '3600', d: '86400', wk: '604800', mo: '2629800', a: '31557600' },
  pressure: { Pa: '1', hPa: '100', kPa: '1000', 'mm[Hg]': '133.322', 'cm[H2O]': '98.0665', mbar: '100', bar: '100000' },
};

const DIMENSION_OF = new Map(Object.entries(DIMENSIONS).flatMap(([dimension, units]) => Object.keys(units).map((unit) => [unit, dimension] as const)));

/** A unit's size as numerator/denominator in its dimension's base (`mg/dL` is 0.001 / 0.1 of g/L). */
export interface UnitSize {
  unit: string;
  numerator: string;
  denominator: string;
}

function sizeOf(unit: string): { dimension: string; numerator: string; denominator: string } | undefined {
  const dimension = DIMENSION_OF.get(unit);
  if (dimension) return { dimension, numerator: DIMENSIONS[dimension]![unit]!, denominator: '1' };
  const [top, bottom, ...rest] = unit.split('/');
  const over = top && bottom && rest.length === 0 ? [DIMENSION_OF.get(top), DIMENSION_OF.get(bottom)] : [];
  if (!over[0] || !over[1]) return undefined;
  return { dimension: `${over[0]}/${over[1]}`, numerator: DIMENSIONS[over[0]]![top!]!, denominator: DIMENSIONS[over[1]]![bottom!]! };
}

/**
 * The search unit's size and every unit of the same dimension with its size, or undefined when the unit
 * is not one this table canonicalises (then only the same code matches).
 */
export function commensurableUnits(unit: string): { size: UnitSize; units: UnitSize[] } | undefined {
  const size = sizeOf(unit);
  if (!size) return undefined;
  const [top, bottom] = size.dimension.split('/') as [string, string | undefined];
  const tops = Object.entries(DIMENSIONS[top]!);
  const units = bottom
    ? tops.flatMap(([t, n]) => Object.entries(DIMENSIONS[bottom]!).map(([b, d]) => ({ unit: `${t}/${b}`, numerator: n, denominator: d })))
    : tops.map(([t, n]) => ({ unit: t, numerator: n, denominator: '1' }));
  return { size: { unit, numerator: size.numerator, denominator: size.denominator }, units };
}
