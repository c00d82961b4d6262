/** A service as /api and the demo's data file write it, checked with zod (the FHIR form is service-fhir.ts's). */
import { z } from 'zod';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time is hh:mm (24-hour)');
const text = (max: number) => z.string().trim().min(1).max(max);
const code = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a code is lower-case letters, digits and dashes');

export const openingTimeInput = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, 'name at least one day'),
    opens: time.optional(),
    closes: time.optional(),
    allDay: z.boolean().optional(),
  })
  .refine((t) => t.allDay || (t.opens && t.closes && t.opens < t.closes), { message: 'give opens before closes (hh:mm), or allDay', path: ['opens'] });

/** What the directory edits of a service; everything else a FHIR client stored is kept. */
export const serviceInput = z.object({
  slug: code.optional(),
  name: text(200),
  active: z.boolean().optional(),
  types: z.array(code).min(1, 'name at least one type of service').max(10),
  providerCode: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,30}$/, 'the providing organisation is its ODS (or local) code'),
  pcns: z.array(z.string().regex(/^[A-Za-z0-9]{3,10}$/, 'a PCN is its code')).max(200),
  eligibility: z.array(text(1000)).max(20),
  howToRefer: z.array(text(1000)).max(10),
  referralMethods: z
    .array(z.enum(['elec', 'phone', 'fax', 'semail', 'mail']))
    .max(5)
    .optional(),
  openingTimes: z.array(openingTimeInput).max(14),
  notAvailable: z.array(text(500)).max(10).optional(),
  capacity: z.number().int().min(0).max(1_000_000).nullable().optional(),
  comment: z.string().trim().max(4000).nullable().optional(),
  phone: z.string().trim().max(40).nullable().optional(),
});
export type ServiceInput = z.infer<typeof serviceInput>;
