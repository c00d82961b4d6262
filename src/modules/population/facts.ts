/**
 * What the population-health rules see of one patient: their age and sex and the coded entries of their
 * record from every agency, flattened from FHIR once by the store scan (one shape for every rule, so the
 * rules never parse FHIR). The rules are pure functions of (facts, as-of date).
 */

/** A FHIR resource type the rules read. */
export type EntryType = 'Condition' | 'Observation' | 'MedicationRequest' | 'MedicationStatement' | 'Procedure' | 'Encounter' | 'CarePlan' | 'CareTeam';

/**
 * The entry's standing, normalised from the resource's own status elements:
 * - `active`: a current problem (Condition.clinicalStatus active/recurrence/relapse), an active or on-hold
 *   medicine, a final/amended/corrected observation, a completed procedure, an active care plan or team;
 * - `resolved`: a problem resolved, inactive or in remission — it was recorded, so it still counts where
 *   "ever recorded" counts;
 * - `ended`: a medicine stopped, completed or cancelled; a care plan or team ended;
 * - `void`: entered in error, refuted, or an observation cancelled — it never counts for anything.
 */
export type EntryStanding = 'active' | 'resolved' | 'ended' | 'void';

export interface EntryValue {
  value: number;
  /** UCUM code where the entry gives one (e.g. `mmol/mol`, `mm[Hg]`, `mL/min/{1.73_m2}`). */
  unit?: string;
  /** The value's comparator, when not an exact value (`<`, `<=`, `>=`, `>`): a rule on a threshold must refuse to guess. */
  comparator?: '<' | '<=' | '>=' | '>';
}

export interface RecordEntry {
  type: EntryType;
  /** The resource's logical id: an explanation names it so a clinician can open the entry. */
  id: string;
  /**
   * The SNOMED CT concept ids the entry is coded with (`http://snomed.info/sct` and dm+d
   * `https://dmd.nhs.uk` codings; dm+d product ids are SNOMED ids). Other systems (LOINC, text-only) are
   * left out: the published lists are SNOMED CT.
   */
  codes: readonly string[];
  /**
   * The entry's clinical date, `YYYY-MM-DD` (Condition onset, else recorded date; Observation effective,
   * else issued; MedicationRequest authoredOn; MedicationStatement effective/dateAsserted; Procedure
   * performed; Encounter period start; CarePlan period start, else created; CareTeam period start).
   * Undefined when the entry gives none: a rule with a time window cannot place it and must not count it.
   */
  date?: string;
  standing: EntryStanding;
  /** Observation.valueQuantity. */
  value?: EntryValue;
  /** Observation.component values by their SNOMED codes (e.g. systolic and diastolic of a blood pressure). */
  components?: readonly { codes: readonly string[]; value: EntryValue }[];
  /** ODS code of the organisation that recorded the entry, where the record says (for the explanation). */
  organisation?: string;
}

export interface PatientFacts {
  /** The Patient's logical id. */
  patientId: string;
  /** `YYYY-MM-DD`; undefined when the record has none (age rules then refuse to place the patient). */
  birthDate?: string;
  gender?: 'male' | 'female' | 'other' | 'unknown';
  /** ODS code of the registered practice, where known. */
  practice?: string;
  /** The home address's postcode (normalised, e.g. `NR1 3SR`), where the record has one: cohorts by place and deprivation. */
  postcode?: string;
  entries: readonly RecordEntry[];
}

/** Whole years of age on a date (`YYYY-MM-DD`): the birthday itself counts as the new year. */
export function ageOn(birthDate: string, on: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}
