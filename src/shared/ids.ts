/** NHS identifiers: NHS number (Modulus 11), ODS organisation codes and UK postcodes. No I/O. */
import { isValid as isValidPostcode, toNormalised } from 'postcode';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Why an NHS number is not valid, or null when it is. Spaces and dashes are allowed between groups. */
export function nhsNumberProblem(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) return 'an NHS number has exactly 10 digits';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return 'this NHS number can never be valid (its check digit would be 10)';
  if ((check === 11 ? 0 : check) !== Number(digits[9])) return 'the NHS number check digit (Modulus 11) does not match';
  return null;
}

/**
 * Why a value is not an NHS number as a FHIR identifier holds it — its 10 digits, nothing else — or
 * null when it is. People may type `999 000 0018`; forms normalise it before it becomes an identifier.
 */
export function canonicalNhsNumberProblem(value: string): string | null {
  const problem = nhsNumberProblem(value);
  if (problem || /^\d{10}$/.test(value)) return problem;
  return `an NHS number in a FHIR identifier is written as its 10 digits, without spaces or dashes: ${value.replace(/[\s-]/g, '')}`;
}

/** Synthetic patients use only the test range 999 000 0000 – 999 999 9999. */
export const isTestRangeNhsNumber = (nhsNumber: string) => nhsNumber.replace(/[\s-]/g, '').startsWith('999');

export type OdsKind = 'practice' | 'pcn' | 'icb' | 'trust' | 'pharmacy' | 'any';

const ODS_SHAPES: Record<OdsKind, { pattern: RegExp; shape: string }> = {
  practice: { pattern: /^[A-Z]\d{5}$/, shape: '1 letter and 5 digits, e.g. D82001' },
  pcn: { pattern: /^U\d{5}$/, shape: 'U and 5 digits, e.g. U12345' },
  icb: { pattern: /^Q[A-Z0-9]{2}$/, shape: 'Q and 2 characters, e.g. QMM' },
  trust: { pattern: /^R[A-Z0-9]{2,4}$/, shape: 'R and 2 to 4 characters, e.g. RM1' },
  pharmacy: { pattern: /^F[A-Z0-9]{4}$/, shape: 'F and 4 characters, e.g. FA123' },
  any: { pattern: /^[A-Z0-9]{3,10}$/, shape: '3 to 10 letters and digits' },
};

/** Why a code is not an ODS code of that kind, or null when it is. Codes are upper case. */
export function odsCodeProblem(code: string, kind: OdsKind): string | null {
  const { pattern, shape } = ODS_SHAPES[kind];
  return pattern.test(code) ? null : `'${code}' is not a valid ${kind === 'any' ? 'ODS' : `${kind} ODS`} code: expected ${shape}`;
}

/** The normalised postcode ("nr13sr" → "NR1 3SR"), or null when it is not a valid UK postcode. */
export function normalisePostcode(input: string): string | null {
  const trimmed = input.trim();
  return isValidPostcode(trimmed) ? toNormalised(trimmed) : null;
}
