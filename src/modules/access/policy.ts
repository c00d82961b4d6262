/**
 * Who may see what (domain.md, "Who may see what"; docs/access.md): ONE table of job roles × data
 * categories × sensitivity labels, and the one decision built from it — in words (`decide`, for a
 * single look) and as SQL (`patientSql`/`entrySql`, for searches and reads, asked in the same
 * statement that reads the rows). Nothing else in the code base decides who sees a patient's record.
 */
import { SYSTEM_ACTOR, type Actor, type Role } from './actor.ts';

// -------------------------------------------------------------------------------------------------
// Data categories and sensitivity labels
// -------------------------------------------------------------------------------------------------

/**
 * What part of a record an entry is, by its resource type. Entries of types not listed here (and in a
 * patient's record) are `clinical`: observations, encounters, procedures, reports, documents…
 */
export const CATEGORIES = ['summary', 'clinical', 'care-plan', 'what-matters', 'referrals'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_OF_TYPE: Readonly<Record<string, Exclude<Category, 'clinical'>>> = {
  Patient: 'summary',
  AllergyIntolerance: 'summary',
  Condition: 'summary',
  MedicationStatement: 'summary',
  MedicationRequest: 'summary',
  Immunization: 'summary',
  Flag: 'summary',
  Consent: 'summary',
  RelatedPerson: 'summary',
  CarePlan: 'care-plan',
  Goal: 'care-plan',
  CareTeam: 'care-plan',
  QuestionnaireResponse: 'what-matters',
  ServiceRequest: 'referrals',
  Task: 'referrals',
  /** Messages between agencies about a patient's referrals, e.g. a service's outcome sent back to the referrer. */
  Communication: 'referrals',
};

export const categoryOf = (resourceType: string): Category => CATEGORY_OF_TYPE[resourceType] ?? 'clinical';

export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** Our own sensitivity codes, for categories HL7 v3 has no code for. */
export const LOCAL_SENSITIVITY = 'https://pcn-hub.example/CodeSystem/sensitivity';

/** Sensitive kinds of entry, and the `meta.security` codings (system|code) that mark one. */
export const SENSITIVE: Readonly<Record<string, readonly string[]>> = {
  'sexual-health': [`${V3_ACT_CODE}|SEX`, `${V3_ACT_CODE}|STD`],
  hiv: [`${V3_ACT_CODE}|HIV`],
  'mental-health': [`${V3_ACT_CODE}|PSY`],
  'substance-use': [`${V3_ACT_CODE}|ETH`],
  'gender-identity': [`${LOCAL_SENSITIVITY}|gender-identity`],
  ivf: [`${LOCAL_SENSITIVITY}|ivf`],
  safeguarding: [`${LOCAL_SENSITIVITY}|safeguarding`],
  /** An entry a clinician marked private (restricted or very restricted). */
  private: [`${V3_CONFIDENTIALITY}|R`, `${V3_CONFIDENTIALITY}|V`],
};
export type Sensitive = keyof typeof SENSITIVE;
const ALL_SENSITIVE = Object.keys(SENSITIVE);

// -------------------------------------------------------------------------------------------------
// The table
// -------------------------------------------------------------------------------------------------

export interface RolePolicy {
  /** The role in words, for refusals and the docs. */
  title: string;
  /**
   * Whose records the role reaches for direct care: `pcn` — patients registered at a practice of the
   * user's PCN, or with a relationship below; `relationship` — only patients whose care team, open
   * referral or open task names the user's organisation; `all` — every patient but those who dissented from
   * sharing (admin, audited; the command line's system operator holds every record);
   * `none` — no patient-level rows.
   */
  reach: 'pcn' | 'relationship' | 'all' | 'none';
  read: readonly Category[];
  write: readonly Category[];
  /** Sensitive kinds the role may see; entries labelled with any other are hidden from it. */
  sees: readonly string[];
  /** May open one patient's record with a written reason (break-glass). */
  breakGlass: boolean;
}

const EVERY: readonly Category[] = CATEGORIES;
const COMMUNITY: readonly Category[] = ['summary', 'care-plan', 'what-matters', 'referrals'];
const NO_PATIENTS: Omit<RolePolicy, 'title'> = { reach: 'none', read: [], write: [], sees: [], breakGlass: false };

/** THE table: job role × what part of a record × which sensitive entries. docs/access.md shows it. */
export const ROLE_POLICY: Readonly<Record<Role, RolePolicy>> = {
  gp: { title: 'GP', reach: 'pcn', read: EVERY, write: EVERY, sees: ALL_SENSITIVE, breakGlass: true },
  /** The role every user had before job roles: read as a GP. */
  clinician: { title: 'clinician (GP)', reach: 'pcn', read: EVERY, write: EVERY, sees: ALL_SENSITIVE, breakGlass: true },
  nurse: {
    title: 'nurse',
    reach: 'pcn',
    read: EVERY,
    write: EVERY,
    sees: ['sexual-health', 'hiv', 'mental-health', 'substance-use', 'gender-identity', 'ivf', 'safeguarding'],
    breakGlass: true,
  },
  'clinical-pharmacist': { title: 'clinical pharmacist', reach: 'pcn', read: EVERY, write: ['summary', 'clinical', 'care-plan', 'referrals'], sees: ['hiv', 'sexual-health'], breakGlass: true },
  'pharmacy-technician': { title: 'pharmacy technician', reach: 'pcn', read: ['summary', 'care-plan', 'referrals'], write: ['summary'], sees: [], breakGlass: false },
  paramedic: { title: 'paramedic', reach: 'pcn', read: EVERY, write: ['clinical', 'care-plan', 'referrals'], sees: ['hiv', 'mental-health'], breakGlass: true },
  'first-contact-practitioner': {
    title: 'first-contact practitioner (physiotherapist)',
    reach: 'pcn',
    read: ['summary', 'clinical', 'care-plan', 'referrals'],
    write: ['clinical', 'care-plan', 'referrals'],
    sees: [],
    breakGlass: true,
  },
  'mental-health-practitioner': {
    title: 'mental health practitioner',
    reach: 'relationship',
    read: EVERY,
    write: ['clinical', 'care-plan', 'what-matters', 'referrals'],
    sees: ['mental-health', 'substance-use', 'safeguarding'],
    breakGlass: true,
  },
  'social-worker': { title: 'social worker', reach: 'relationship', read: COMMUNITY, write: ['care-plan', 'what-matters', 'referrals'], sees: ['safeguarding'], breakGlass: false },
  'social-prescribing-link-worker': { title: 'social prescribing link worker', reach: 'pcn', read: COMMUNITY, write: ['care-plan', 'what-matters', 'referrals'], sees: [], breakGlass: false },
  'care-coordinator': { title: 'care coordinator', reach: 'pcn', read: COMMUNITY, write: ['care-plan', 'what-matters', 'referrals'], sees: [], breakGlass: false },
  'pcn-manager': { title: 'PCN manager', ...NO_PATIENTS },
  'practice-manager': { title: 'practice manager', ...NO_PATIENTS },
  analyst: { title: 'analyst', ...NO_PATIENTS },
  'ig-lead': { title: 'IG lead', ...NO_PATIENTS },
  /** Acts for the organisation running the hub: every record, audited (as before job roles). */
  admin: { title: 'admin', reach: 'all', read: EVERY, write: EVERY, sees: ALL_SENSITIVE, breakGlass: false },
};

export const policyOf = (role: Role): RolePolicy => ROLE_POLICY[role];

/** The role in a refusal's words, with its code when they differ: "a PCN manager (pcn-manager)". */
export const roleWords = (role: Role): string => {
  const { title } = policyOf(role);
  return `${/^[aeiou]/i.test(title) ? 'an' : 'a'} ${title}${title === role ? '' : ` (${role})`}`;
};

/**
 * How an entry is signed: the person's name, their role and their organisation's name — "Sam Shaw, social
 * worker, Norfolk County Council Adult Social Services" — never a bare organisation code.
 */
export const signatureOf = (actor: Pick<Actor, 'name' | 'role' | 'orgCode' | 'orgName'>): string =>
  `${actor.name}, ${policyOf(actor.role).title}, ${actor.orgName ?? (actor.orgCode ? `organisation ${actor.orgCode}` : 'no organisation recorded')}`;

/**
 * The `meta.security` codings (system|code) a role may not see. Worked out once per role (the table is fixed):
 * every read asks for them. The list is shared, not to be changed by callers.
 */
export function hiddenLabels(role: Role): readonly string[] {
  let hidden = hiddenByRole.get(role);
  if (!hidden) {
    const sees = new Set(policyOf(role).sees);
    hidden = Object.freeze(ALL_SENSITIVE.filter((kind) => !sees.has(kind)).flatMap((kind) => [...SENSITIVE[kind]!]));
    hiddenByRole.set(role, hidden);
  }
  return hidden;
}
const hiddenByRole = new Map<Role, readonly string[]>();

/** Resource types of the categories a role may not read (for `clinical`, every type not listed); once per list. */
export function typesOutside(categories: readonly Category[]): { only?: string[]; except?: string[] } {
  let outside = outsideByCategories.get(categories);
  if (!outside) outsideByCategories.set(categories, (outside = Object.freeze(typesOutsideOf(categories))));
  return outside;
}
const outsideByCategories = new WeakMap<readonly Category[], { only?: string[]; except?: string[] }>();

function typesOutsideOf(categories: readonly Category[]): { only?: string[]; except?: string[] } {
  const allowed = new Set(categories);
  if (allowed.size === CATEGORIES.length) return {};
  const listed = Object.entries(CATEGORY_OF_TYPE);
  if (allowed.has('clinical')) return { except: listed.filter(([, c]) => !allowed.has(c)).map(([t]) => t) };
  return { only: listed.filter(([, c]) => allowed.has(c)).map(([t]) => t) };
}

// -------------------------------------------------------------------------------------------------
// Consent: dissent from sharing and the national data opt-out
// -------------------------------------------------------------------------------------------------

/**
 * The national data opt-out is recorded as an active Consent whose `policy.uri` is this and whose
 * provision denies: the patient is then left out of secondary use (planning, research, $export for
 * analysis) and stays in direct care.
 */
export const NATIONAL_DATA_OPT_OUT = 'https://digital.nhs.uk/services/national-data-opt-out';

/** The one decision for one look, in words (the SQL below decides the same for many rows). */
export interface Decision {
  allow: boolean;
  reason: string;
}

// -------------------------------------------------------------------------------------------------
// The SQL form
// -------------------------------------------------------------------------------------------------

/** A bound-parameter list (fhir-store's SqlParams has this shape). */
export interface Params {
  add(value: unknown): string;
}

export interface Viewer {
  role: Role;
  userId: string;
  /** The user's email, as a care team names a person (lower case). */
  email: string;
  orgCode: string | null;
  /** The practices of the user's PCN (current members). */
  practices: string[];
}

/**
 * The patient `patientId` is registered at one of these practices: their own general-practitioner
 * token, found from the patient's side by the registration index (migration 095: by patient id, index-only).
 * `|| ''` keeps the planner off the lookup index and OFFSET 0 off a hashed sub-plan: either would read every
 * registration at the practices (all 1M in an area) to answer for one patient, which small test databases'
 * statistics make look cheap. Every probe below keeps the same shape: it starts from the patient (or the row)
 * and reads only their few rows.
 */
const registeredAt = (patientId: string, practices: string) =>
  `EXISTS (SELECT 1 FROM fhir_token g WHERE g.resource_type = 'Patient' AND g.code = 'general-practitioner:identifier'
            AND g.id = ${patientId} AND g.value || '' = ANY(${practices}::text[]) OFFSET 0)`;

/**
 * The user (by email) or their organisation is on the patient's care team (a CareTeam participant), or the
 * organisation holds an open referral (an active ServiceRequest it performs) or an open task (a Task it owns,
 * not finished): an SQL function of migration 077, from the patient's own rows, planned once per session.
 */
const namedInRecord = (patientId: string, org: string, person: string) => `access_named_in_record(${patientId}, ${org}, ${person})`;

/**
 * The national data opt-out (an active deny Consent with the opt-out policy) and dissent from sharing as
 * it applies to a viewer of organisation `org` (an active deny Consent recorded by the patient's
 * registered practice, and the viewer works elsewhere): SQL functions of migration 062, which start from
 * the patient's Consents by the reference lookup index and keep their plans for the session.
 */
const optedOut = (patientId: string) => `access_opted_out(${patientId})`;
/**
 * Dissent is asked of the function only for a patient whom some Consent names: the inline probe (the reference
 * lookup index, planned with the statement) answers for the great majority without a Consent at a fraction of a
 * PL/pgSQL call, which every read paid (~20 µs on PostgreSQL, pg_stat_user_functions, 2026-12-05).
 */
const dissentsFrom = (patientId: string, org: string) =>
  `(EXISTS (SELECT 1 FROM fhir_reference c WHERE c.resource_type = 'Consent' AND c.code = 'patient' AND c.target_id = ${patientId} AND c.target_type = 'Patient')
    AND access_dissent_applies(${patientId}, ${org}))`;

/**
 * Every patient with the national data opt-out, as a SELECT of `patient_id`: the patients any Consent names
 * (the reference lookup index, Consents only), each confirmed by the same probe. For counts over a whole
 * population (dashboards), where asking the probe of every patient would cost a second a hundred thousand.
 */
export const OPTED_OUT_PATIENTS_SQL = `SELECT DISTINCT k.target_id AS patient_id FROM fhir_reference k
  WHERE k.resource_type = 'Consent' AND k.code = 'patient' AND k.target_type = 'Patient' AND ${optedOut('k.target_id')}`;

/** An open break-glass grant of this user for this patient (migration 063). */
const granted = (patientId: string, userId: string) => `access_granted(${userId}::uuid, ${patientId})`;

/** A legitimate relationship of the viewer with the patient (dissent and break-glass aside). */
export function relationshipSql(viewer: Viewer, patientId: string, params: Params, org = params.add(viewer.orgCode ?? '')): string {
  const relationships = [namedInRecord(patientId, org, params.add(viewer.email.toLowerCase()))];
  if (policyOf(viewer.role).reach === 'pcn' && viewer.practices.length > 0) relationships.unshift(registeredAt(patientId, params.add(viewer.practices)));
  return `(${relationships.join(' OR ')})`;
}

/**
 * Which patients' records the viewer may open, as a condition on a patient id expression; null when
 * every patient (the system operator, direct care). Break-glass grants open one patient each, dissent aside.
 */
export function patientSql(viewer: Viewer, purpose: 'direct-care' | 'secondary-use', patientId: string, params: Params): string | null {
  const policy = policyOf(viewer.role);
  if (policy.reach === 'none') return 'false';
  if (policy.reach === 'all') {
    // The machine's operator (a backup, an import) holds every record; a person with the admin role is still
    // kept out of a record whose patient dissented from sharing outside their registered practice.
    const exceptDissent = viewer.userId === SYSTEM_ACTOR.id ? [] : [`NOT ${dissentsFrom(patientId, params.add(viewer.orgCode ?? ''))}`];
    const conditions = [...(purpose === 'secondary-use' ? [`NOT ${optedOut(patientId)}`] : []), ...exceptDissent];
    return conditions.length ? `(${conditions.join(' AND ')})` : null;
  }
  const org = params.add(viewer.orgCode ?? '');
  const direct = `((${relationshipSql(viewer, patientId, params, org)} AND NOT ${dissentsFrom(patientId, org)}) OR ${granted(patientId, params.add(viewer.userId))})`;
  return purpose === 'secondary-use' ? `(${direct} AND NOT ${optedOut(patientId)})` : direct;
}

/**
 * Which entries (rows `r` of fhir_resource) of a record the viewer may see: their role's categories and
 * no sensitivity label it may not see. Null when every entry. Rows outside any patient's record
 * (Organization, Practitioner…) are not categorised; labels apply to them too.
 */
export function entrySql(viewer: Viewer, params: Params): string | null {
  const policy = policyOf(viewer.role);
  const conditions: string[] = [];
  const { only, except } = typesOutside(policy.read);
  if (only) conditions.push(`(r.patient_id IS NULL OR r.resource_type = ANY(${params.add(only)}::text[]))`);
  if (except?.length) conditions.push(`(r.patient_id IS NULL OR r.resource_type <> ALL(${params.add(except)}::text[]))`);
  const hidden = hiddenLabels(viewer.role);
  if (hidden.length > 0) {
    conditions.push(`NOT EXISTS (SELECT 1 FROM fhir_token s WHERE s.id = r.id AND s.resource_type || '' = r.resource_type AND s.code || '' = '_security'
                       AND coalesce(s.system, '') || '|' || s.value = ANY(${params.add(hidden)}::text[]) OFFSET 0)`);
  }
  return conditions.length ? conditions.join(' AND ') : null;
}

/** The labels of a resource, as system|code. */
export const labelsOf = (resource: { meta?: { security?: Array<{ system?: string; code?: string }> } }): string[] => (resource.meta?.security ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`);

/**
 * May the role write this entry (a resource of this type with these labels)? A user may not write into
 * a category they may not read or write, nor label an entry so that they could not see it.
 */
export function decideWrite(role: Role, resourceType: string, labels: string[]): Decision {
  const policy = policyOf(role);
  const category = categoryOf(resourceType);
  if (policy.reach === 'none') return { allow: false, reason: `${roleWords(role)} sees no patient-level records` };
  if (!policy.write.includes(category)) return { allow: false, reason: `${roleWords(role)} may not write ${category} entries (${resourceType})` };
  const hidden = new Set(hiddenLabels(role));
  const label = labels.find((l) => hidden.has(l));
  if (label) return { allow: false, reason: `${roleWords(role)} may not write entries labelled ${label}` };
  return { allow: true, reason: `${roleWords(role)} writes ${category} entries` };
}

/** May the role read an entry of this type with these labels (the words of entrySql)? */
export function decideRead(role: Role, resourceType: string, labels: string[]): Decision {
  const policy = policyOf(role);
  const category = categoryOf(resourceType);
  if (policy.reach === 'none') return { allow: false, reason: `${roleWords(role)} sees no patient-level records` };
  if (!policy.read.includes(category)) return { allow: false, reason: `${roleWords(role)} does not see ${category} entries` };
  const hidden = new Set(hiddenLabels(role));
  if (labels.some((l) => hidden.has(l))) return { allow: false, reason: `the entry is labelled sensitive for ${roleWords(role)}` };
  return { allow: true, reason: `${roleWords(role)} reads ${category} entries` };
}
