/**
 * A cohort's definition: filters over population_patient (the projection of each patient's stored result), and
 * the one SQL condition they make. Only what the projection holds can be asked: a filter on data the hub does
 * not have (deprivation, which needs IMD data for postcodes) is refused by name rather than guessed.
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { dateField, forPeople, odsCodeField } from '../../shared/schemas.ts';
import type { SqlParams } from '../../fhir-store/index.ts';
import { careGapNames } from './care-gaps.ts';

export const EFI_CATEGORIES = ['fit', 'mild', 'moderate', 'severe'] as const;

const gapId = (field: string) =>
  z.string().refine((id) => careGapNames().some((gap) => gap.id === id), {
    message: forPeople(
      `Select a care gap the rules know for ${field}: ${careGapNames()
        .map((gap) => gap.id)
        .join(', ')}`,
    ),
  });
const age = (what: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(130, forPeople(`Enter the ${what} age as a whole number of years from 0 to 130`));

export const cohortDefinition = z
  .object({
    efiCategories: z
      .array(z.enum(EFI_CATEGORIES, forPeople('Select eFI bands from fit, mild, moderate and severe')))
      .min(1)
      .optional(),
    smrPriority: z.boolean().optional(),
    openGap: gapId('openGap').optional(),
    closedGap: gapId('closedGap').optional(),
    minLtcCount: z.number().int().min(0).max(50).optional(),
    ageMin: age('lowest').optional(),
    ageMax: age('highest').optional(),
    practices: z
      .array(odsCodeField('practice', { missing: 'Select a practice', wrong: 'Enter each practice as an ODS code: 1 letter and 5 digits, like D82001' }))
      .min(1)
      .optional(),
    careHome: z.boolean().optional(),
    housebound: z.boolean().optional(),
    lastContactBefore: dateField('The last contact before date must be a real date, written yyyy-mm-dd').optional(),
    lastContactAfter: dateField('The last contact after date must be a real date, written yyyy-mm-dd').optional(),
    // Deprivation needs the English indices (IMD) by postcode, which the hub does not hold: accepted by the schema only to be refused by name below.
    deprivationDecile: z.unknown().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.ageMin !== undefined && d.ageMax !== undefined && d.ageMin > d.ageMax)
      ctx.addIssue({ code: 'custom', path: ['ageMax'], message: forPeople('The highest age must be the lowest age or more') });
  });
export type CohortDefinition = z.output<typeof cohortDefinition>;

/** Refuses a filter the hub has no data for (a 422 naming it), before anything is counted. */
export function assertAnswerable(definition: CohortDefinition): void {
  if (definition.deprivationDecile !== undefined) throw new AppError('invalid', 'deprivation decile: no deprivation data loaded', 'definition.deprivationDecile');
}

/**
 * The definition as a condition on population_patient_now rows aliased `p`, within the practices `scope` (the
 * cohort's PCN's practices in effect, bound as a text[]). Age is on each result's as-of day as it stands now (a
 * row the latest run found unchanged holds as of that run's day); a patient without a birth date is in no age range.
 */
export function cohortSql(definition: CohortDefinition, scope: string, params: SqlParams): string {
  assertAnswerable(definition);
  const where = [`p.practice_ods = ANY(${scope}::text[])`];
  const d = definition;
  if (d.practices) where.push(`p.practice_ods = ANY(${params.add(d.practices)}::text[])`);
  if (d.efiCategories) where.push(`p.efi_category = ANY(${params.add(d.efiCategories)}::text[])`);
  if (d.smrPriority !== undefined) where.push(`p.smr_priority = ${params.add(d.smrPriority)}`);
  if (d.openGap) where.push(`${params.add(d.openGap)} = ANY(p.open_gaps)`);
  if (d.closedGap) where.push(`${params.add(d.closedGap)} = ANY(p.closed_gaps)`);
  if (d.minLtcCount !== undefined) where.push(`p.ltc_count >= ${params.add(d.minLtcCount)}`);
  const ageOn = 'extract(year FROM age(p.as_of, p.birth_date))';
  if (d.ageMin !== undefined) where.push(`${ageOn} >= ${params.add(d.ageMin)}`);
  if (d.ageMax !== undefined) where.push(`${ageOn} <= ${params.add(d.ageMax)}`);
  if (d.careHome !== undefined) where.push(`p.care_home = ${params.add(d.careHome)}`);
  if (d.housebound !== undefined) where.push(`p.housebound = ${params.add(d.housebound)}`);
  // No contact on record at all is "last contact before" any day: those are the people proactive care looks for.
  if (d.lastContactBefore) where.push(`(p.last_contact IS NULL OR p.last_contact < ${params.add(d.lastContactBefore)}::date)`);
  if (d.lastContactAfter) where.push(`p.last_contact > ${params.add(d.lastContactAfter)}::date`);
  return where.join(' AND ');
}
