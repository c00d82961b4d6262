/**
 * What the population-health rules answer for one patient, every finding with the entries that produced it
 * (so a clinician can open each one) and the version of the rule that fired. The same shape is stored per
 * patient, served by `GET /api/population/patients/{id}` and turned into a FHIR RiskAssessment.
 */
import type { EntryType, EntryValue } from './facts.ts';

/** One record entry that made a finding, as an explanation shows it. */
export interface Evidence {
  type: EntryType;
  id: string;
  date?: string;
  organisation?: string;
  /** The code that matched, and its term from the list that holds it. */
  code?: string;
  term?: string;
  value?: EntryValue;
}

/** A rule that could not be answered exactly for this patient: the finding is withheld, never guessed. */
export interface Refusal {
  refused: true;
  /** What is missing or ambiguous, e.g. "no birth date on the record". */
  reason: string;
}

export interface DeficitFinding {
  id: string;
  name: string;
  weight: number;
  /** Which rule fired: a code in the deficit's list, or a value rule such as "eGFR < 60". */
  rule: string;
  entries: Evidence[];
}

export interface FrailtyResult {
  model: string;
  modelVersion: string;
  score: number;
  /** The model's band, e.g. fit, mild, moderate, severe. */
  category: string;
  deficits: DeficitFinding[];
  /**
   * Deficits a value rule could not decide (a comparator straddling the threshold, a unit the rule does not
   * read, a sex-specific threshold without a recorded sex) or uncoded medicines that may be distinct: not
   * counted, and listed only when the band holds whether or not they count (otherwise the result is a refusal).
   */
  undetermined?: DeficitFinding[];
}

export interface SmrReason {
  id: string;
  text: string;
  /** The medicines (and, where the rule needs them, the conditions or values) behind the reason. */
  entries: Evidence[];
}

export interface SmrResult {
  priority: boolean;
  reasons: SmrReason[];
  /** Reasons that could not be answered exactly (e.g. no birth date for an age rule); present only when the priority stands on the others. */
  undetermined?: { id: string; reason: string }[];
}

export interface LongTermCondition {
  id: string;
  name: string;
  entries: Evidence[];
}

export interface MultimorbidityResult {
  count: number;
  /** 2 or more long-term conditions. */
  multimorbid: boolean;
  /** 4 or more. */
  complex: boolean;
  conditions: LongTermCondition[];
}

export interface CareGapFinding {
  id: string;
  name: string;
  /** `open`: on the register and the care is missing; `closed`: on the register and the care is done. */
  status: 'open' | 'closed';
  /** When the gap opened (open) or was last closed (closed), `YYYY-MM-DD`, where the rule can place it. */
  since?: string;
  reason: string;
  entries: Evidence[];
}

/** What cohorts filter and dashboards group by (src/modules/population/profile.ts). */
export interface CohortProfile {
  practice?: string;
  birthDate?: string;
  gender?: string;
  postcode?: string;
  careHome: boolean;
  housebound: boolean;
  /** The latest encounter with any agency, on or before the as-of day. */
  lastContact?: string;
}

export interface PopulationResult {
  patientId: string;
  asOf: string;
  /** The version of the rule set (every model and rule file) that produced this result. */
  rulesVersion: string;
  /** Null under the model's minimum age (65 for the eFI). */
  efi: FrailtyResult | Refusal | null;
  smr: SmrResult | Refusal;
  multimorbidity: MultimorbidityResult;
  profile: CohortProfile;
  /** Only the gaps whose register the patient is on. */
  careGaps: (CareGapFinding | (Refusal & { id: string; name: string }))[];
}
