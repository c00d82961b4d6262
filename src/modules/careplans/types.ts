/**
 * The care team and the personalised care and support plan as the API and the web app see them, and the
 * FHIR systems they are stored with (docs/coordination.md). Browser-safe: no imports, so the web app takes
 * the section list and the merge helper without bundling server code.
 */

/** A care team member who is a person, by their email address (the access policy matches it without case). */
export const USER_EMAIL_SYSTEM = 'https://pcn-hub.example/Id/user-email';
export const CARE_TEAM_ROLE_SYSTEM = 'https://pcn-hub.example/CodeSystem/care-team-role';
export const CARE_COORDINATOR = 'care-coordinator';
export const CARE_PLAN_KIND_SYSTEM = 'https://pcn-hub.example/CodeSystem/care-plan-kind';
export const PERSONALISED_CARE_AND_SUPPORT = 'personalised-care-and-support';
/** Each section of the plan that is not a FHIR element of its own: an extension with this URL and the section's key. */
export const PLAN_SECTION_EXTENSION = 'https://pcn-hub.example/StructureDefinition/pcsp-section';
/** Who saved a version of the plan (their signature), as on referral Tasks. */
export const CHANGED_BY_EXTENSION = 'https://pcn-hub.example/StructureDefinition/changed-by';
/** Which sections a version of the plan changed (one valueCode each). */
export const CHANGED_SECTIONS_EXTENSION = 'https://pcn-hub.example/StructureDefinition/pcsp-changed-section';
/** Who last changed a section, and when (complex: section, by, at). */
export const SECTION_EDIT_EXTENSION = 'https://pcn-hub.example/StructureDefinition/pcsp-section-edit';

// -------------------------------------------------------------------------------------------------
// Care team
// -------------------------------------------------------------------------------------------------

export interface CareTeamMember {
  /**
   * The member's email (a person) or organisation code: how the API names them. Empty for a member the record names
   * only in words (kind `named`: a care team another system sent), who is listed but not changed here.
   */
  key: string;
  kind: 'person' | 'organisation' | 'named';
  /** The person's name or the organisation's. */
  name: string;
  /** Their role on the team in words ("Social worker", "GP practice"). */
  role: string;
  /** A person's organisation, where known. */
  organisation: string | null;
  careCoordinator: boolean;
}

export interface CareTeamView {
  patientId: string;
  /** The CareTeam's id and version; null while the patient has no care team. */
  id: string | null;
  versionId: string | null;
  name: string;
  members: CareTeamMember[];
  careCoordinator: CareTeamMember | null;
}

// -------------------------------------------------------------------------------------------------
// Personalised care and support plan (PRSB), section by section
// -------------------------------------------------------------------------------------------------

export const GOAL_STATUSES = ['active', 'on-hold', 'completed', 'cancelled'] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];

export interface PlanGoal {
  /** The Goal's id, once stored; a new goal has none. */
  id?: string;
  /** The goal in the person's words. */
  description: string;
  targetDate: string | null;
  status: GoalStatus;
}

/** FHIR R4 CarePlan.activity.detail.status values an action may take. */
export const ACTION_STATUSES = ['not-started', 'scheduled', 'in-progress', 'on-hold', 'completed', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export interface PlanAction {
  description: string;
  /** The agency that owns the action: its organisation code, and its name. */
  owner: { code: string; name: string };
  dueDate: string | null;
  status: ActionStatus;
}

export interface PlanSections {
  /** The person's own words: what matters to them. Always shown first. */
  whatMattersToMe: string;
  /** About me: the things the person wants those caring for them to know. */
  aboutMe: string;
  goals: PlanGoal[];
  actions: PlanAction[];
  contingencyPlan: string;
  reviewDate: string | null;
  /** People involved in making the plan (family, carers, advocates …); the care team is listed beside it. */
  peopleInvolved: string;
}

export type SectionKey = keyof PlanSections;

/** The sections in the PRSB standard's order, with their headings: what matters to me first. */
export const PLAN_SECTIONS: ReadonlyArray<{ key: SectionKey; title: string }> = [
  { key: 'whatMattersToMe', title: 'What matters to me' },
  { key: 'aboutMe', title: 'About me' },
  { key: 'goals', title: 'My goals' },
  { key: 'actions', title: 'Actions agreed' },
  { key: 'contingencyPlan', title: 'Contingency and escalation plan' },
  { key: 'reviewDate', title: 'Review date' },
  { key: 'peopleInvolved', title: 'People involved' },
];

export const sectionTitle = (key: SectionKey): string => PLAN_SECTIONS.find((s) => s.key === key)?.title ?? key;

export const EMPTY_PLAN: PlanSections = { whatMattersToMe: '', aboutMe: '', goals: [], actions: [], contingencyPlan: '', reviewDate: null, peopleInvolved: '' };

export interface SectionEdit {
  by: string;
  at: string;
}

export interface CarePlanView {
  patientId: string;
  patientName: string;
  /** The CarePlan's id and version; null (version "0") while the patient has no plan. */
  id: string | null;
  versionId: string;
  lastUpdated: string | null;
  /** The signature of whoever saved this version. */
  changedBy: string | null;
  sections: PlanSections;
  /** Who last changed each section, and when. */
  edits: Partial<Record<SectionKey, SectionEdit>>;
  /** Organisations that have contributed to the plan. */
  contributors: string[];
}

export interface CarePlanVersion {
  versionId: string;
  at: string;
  by: string | null;
  sections: SectionKey[];
}

/** What a stale save is answered with (412): both versions, the one both started from, and the sections merged. */
export interface PlanConflict {
  base: CarePlanView;
  theirs: CarePlanView;
  yours: PlanSections;
  merged: PlanSections;
  conflicts: SectionKey[];
  outcome: Record<SectionKey, SectionOutcome>;
}

export type SectionOutcome = 'unchanged' | 'theirs' | 'yours' | 'both-same' | 'conflict';
