/** zod schemas for NHS identifiers, so every edge (HTTP, CSV, CLI) refuses bad ones with the same words. */
import { z } from 'zod';
import { normalisePostcode, odsCodeProblem, type OdsKind } from './ids.ts';

export const odsCode = (kind: OdsKind) =>
  z
    .string()
    .trim()
    .toUpperCase()
    .superRefine((code, ctx) => {
      const problem = odsCodeProblem(code, kind);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

/** A local code for partners that have no ODS code (a council, a charity): letters, digits and dashes. */
export const partnerCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9-]{3,20}$/, 'a partner code is 3 to 20 letters, digits or dashes (its ODS code where it has one)');

export const postcode = z.string().transform((input, ctx) => {
  const normalised = normalisePostcode(input);
  if (normalised === null) {
    ctx.addIssue({ code: 'custom', message: `'${input}' is not a valid UK postcode` });
    return z.NEVER;
  }
  return normalised;
});

export const isoDate = z.iso.date('a date is written yyyy-mm-dd');

export const personName = z.string().trim().min(1, 'a name is needed').max(200);
