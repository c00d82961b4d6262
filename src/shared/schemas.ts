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
const PARTNER_CODE = /^[A-Z0-9-]{3,20}$/;
export const partnerCode = z.string().trim().toUpperCase().regex(PARTNER_CODE, 'a partner code is 3 to 20 letters, digits or dashes (its ODS code where it has one)');

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

// Form fields: the same rules in the words the NHS service manual uses for error messages ("Select the PCN…",
// "Enter…"), naming what is wrong without echoing back what was typed. Each message is a sentence written for
// people, so the API answers it as it is (src/http/errors.ts) and a form shows it beside its field.

const writtenForPeople = new Set<string>();

/** Marks a validation message as written for people: the API sends it without the field's path before it. */
export function forPeople(message: string): string {
  writtenForPeople.add(message);
  return message;
}

export const isForPeople = (message: string): boolean => writtenForPeople.has(message);

/** An ODS code of one kind a person gives: `missing` when absent or blank, `wrong` when not that kind's shape. */
export const odsCodeField = (kind: OdsKind, said: { missing: string; wrong: string }) => {
  const messages = { missing: forPeople(said.missing), wrong: forPeople(said.wrong) };
  return z
    .string({ error: messages.missing })
    .trim()
    .toUpperCase()
    .superRefine((code, ctx) => {
      if (code === '') ctx.addIssue({ code: 'custom', message: messages.missing });
      else if (odsCodeProblem(code, kind)) ctx.addIssue({ code: 'custom', message: messages.wrong });
    });
};

/** A `yyyy-mm-dd` day that exists (2027-02-29 does not). */
export const dateField = (message: string) => z.iso.date({ error: forPeople(message) });

/** A name or short text a person types: `missing` when absent or blank. */
export const textField = (missing: string, what: string) =>
  z
    .string({ error: forPeople(missing) })
    .trim()
    .min(1, missing)
    .max(200, forPeople(`${what} must be 200 characters or fewer`));

/** Words a person must write (a title, a discussion): `missing` when absent or blank, at most `max` characters. */
export const wordsField = (missing: string, max: number, tooLong = `Enter ${max.toLocaleString('en-GB')} characters or fewer`) =>
  z
    .string({ error: forPeople(missing) })
    .trim()
    .min(1, forPeople(missing))
    .max(max, forPeople(tooLong));

export const postcodeField = (message: string) =>
  z.string({ error: forPeople(message) }).transform((input, ctx) => {
    const normalised = normalisePostcode(input);
    if (normalised === null) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return normalised;
  });

/** A partner's code a person gives (its ODS code where it has one). */
export const partnerCodeField = (message: string) =>
  z
    .string({ error: forPeople(message) })
    .trim()
    .toUpperCase()
    .regex(PARTNER_CODE, message);

/** A number in a range, one message for every way of missing it. */
export const numberField = (min: number, max: number, message: string) =>
  z
    .number({ error: forPeople(message) })
    .min(min, message)
    .max(max, message);
