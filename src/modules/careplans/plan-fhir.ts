/**
 * The plan's sections in FHIR R4 (docs/coordination.md): one active `CarePlan` coded
 * care-plan-kind|personalised-care-and-support, its text sections and review date as extensions
 * (`pcsp-section`: section code + value), goals as `Goal` resources it references, actions as activities whose
 * performer is the owning agency (an organisation identifier) with a due date and a status. Each version
 * carries who saved it and which sections it changed, and each section who last changed it. Pure.
 */
import type { CarePlan, CarePlanActivity, Extension, Goal, Organization, Reference } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { isOdsShaped, LOCAL_PARTNER_SYSTEM } from '../network/index.ts';
import {
  CARE_PLAN_KIND_SYSTEM,
  CHANGED_BY_EXTENSION,
  CHANGED_SECTIONS_EXTENSION,
  EMPTY_PLAN,
  GOAL_STATUSES,
  type GoalStatus,
  PERSONALISED_CARE_AND_SUPPORT,
  PLAN_SECTION_EXTENSION,
  type PlanAction,
  type PlanGoal,
  type PlanSections,
  SECTION_EDIT_EXTENSION,
  type SectionEdit,
  type SectionKey,
} from './types.ts';

export const PLAN_CATEGORY = {
  coding: [{ system: CARE_PLAN_KIND_SYSTEM, code: PERSONALISED_CARE_AND_SUPPORT, display: 'Personalised care and support plan' }],
  text: 'Personalised care and support plan',
};
export const PLAN_CATEGORY_TOKEN = `${CARE_PLAN_KIND_SYSTEM}|${PERSONALISED_CARE_AND_SUPPORT}`;

/** Sections held as `pcsp-section` extensions (the rest are goals and activities). */
const TEXT_SECTIONS = ['whatMattersToMe', 'aboutMe', 'contingencyPlan', 'peopleInvolved'] as const satisfies readonly SectionKey[];

const sub = (extension: Extension | undefined, url: string) => extension?.extension?.find((e) => e.url === url);

function textSectionsOf(plan: CarePlan): Pick<PlanSections, (typeof TEXT_SECTIONS)[number] | 'reviewDate'> {
  const found: Record<string, string | null> = {};
  for (const extension of plan.extension ?? []) {
    if (extension.url !== PLAN_SECTION_EXTENSION) continue;
    const key = sub(extension, 'section')?.valueCode;
    const value = sub(extension, 'value');
    if (key) found[key] = value?.valueString ?? value?.valueDate ?? null;
  }
  return {
    whatMattersToMe: found.whatMattersToMe ?? '',
    aboutMe: found.aboutMe ?? '',
    contingencyPlan: found.contingencyPlan ?? '',
    peopleInvolved: found.peopleInvolved ?? '',
    reviewDate: found.reviewDate ?? null,
  };
}

const goalStatusOf = (goal: Goal): GoalStatus => ((GOAL_STATUSES as readonly string[]).includes(goal.lifecycleStatus) ? (goal.lifecycleStatus as GoalStatus) : 'active');

export const goalOf = (goal: Goal): PlanGoal => ({
  ...(goal.id ? { id: goal.id } : {}),
  description: goal.description?.text ?? '',
  targetDate: goal.target?.[0]?.dueDate ?? null,
  status: goalStatusOf(goal),
});

function actionOf(activity: CarePlanActivity): PlanAction | undefined {
  const detail = activity.detail;
  if (!detail) return undefined;
  const owner = detail.performer?.[0];
  return {
    description: detail.description ?? '',
    owner: { code: owner?.identifier?.value ?? '', name: owner?.display ?? owner?.identifier?.value ?? '' },
    dueDate: detail.scheduledPeriod?.end ?? null,
    status: (['not-started', 'scheduled', 'in-progress', 'on-hold', 'completed', 'cancelled'] as const).find((s) => s === detail.status) ?? 'not-started',
  };
}

/** The plan's sections from its CarePlan and the Goals it references (in its order). */
export function sectionsOf(plan: CarePlan | undefined, goals: Goal[]): PlanSections {
  if (!plan) return { ...EMPTY_PLAN };
  const byId = new Map(goals.map((g) => [g.id, g]));
  return {
    ...textSectionsOf(plan),
    goals: (plan.goal ?? []).flatMap((ref) => {
      const goal = byId.get(ref.reference?.replace(/^Goal\//, ''));
      return goal ? [goalOf(goal)] : [];
    }),
    actions: (plan.activity ?? []).flatMap((a) => actionOf(a) ?? []),
  };
}

export function editsOf(plan: CarePlan | undefined): Partial<Record<SectionKey, SectionEdit>> {
  const edits: Partial<Record<SectionKey, SectionEdit>> = {};
  for (const extension of plan?.extension ?? []) {
    if (extension.url !== SECTION_EDIT_EXTENSION) continue;
    const key = sub(extension, 'section')?.valueCode as SectionKey | undefined;
    const by = sub(extension, 'by')?.valueString;
    const at = sub(extension, 'at')?.valueDateTime;
    if (key && by && at) edits[key] = { by, at };
  }
  return edits;
}

export const changedByOf = (plan: CarePlan | undefined): string | null => plan?.extension?.find((e) => e.url === CHANGED_BY_EXTENSION)?.valueString ?? null;
export const changedSectionsOf = (plan: CarePlan): SectionKey[] => (plan.extension ?? []).filter((e) => e.url === CHANGED_SECTIONS_EXTENSION && e.valueCode).map((e) => e.valueCode as SectionKey);

/** An organisation by its code (ODS, or the registry's local code of a partner such as a council). */
export const organisationReference = (code: string, display: string): Reference<Organization> => ({
  identifier: { system: isOdsShaped(code) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: code },
  display,
});

/** A Goal of the plan, new or changed (no element left undefined: the validator takes a present key as given). */
export function goalResource(patientId: string, goal: PlanGoal, existing?: Goal): Goal {
  const { target: _target, achievementStatus: _achievement, ...kept } = existing ?? ({} as Partial<Goal>);
  return {
    ...kept,
    resourceType: 'Goal',
    lifecycleStatus: goal.status,
    ...(goal.status === 'completed' ? { achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] } } : {}),
    description: { text: goal.description },
    subject: { reference: `Patient/${patientId}` },
    ...(goal.targetDate ? { target: [{ dueDate: goal.targetDate }] } : {}),
  };
}

export interface PlanSave {
  patientId: string;
  sections: PlanSections;
  goalIds: string[];
  changed: SectionKey[];
  /** The signature of the person saving, and their organisation. */
  signature: string;
  organisation: { code: string; name: string } | null;
  careTeamId: string | null;
  at: string;
}

/** The next version of the CarePlan (or its first). */
export function carePlanResource(current: CarePlan | undefined, save: PlanSave): CarePlan {
  const { sections, changed, signature, at } = save;
  const edits = { ...editsOf(current) };
  for (const key of changed) edits[key] = { by: signature, at };
  const sectionExtensions: Extension[] = [...TEXT_SECTIONS, 'reviewDate' as const].flatMap((key) => {
    const value = sections[key];
    if (!value) return [];
    return [{ url: PLAN_SECTION_EXTENSION, extension: [{ url: 'section', valueCode: key }, key === 'reviewDate' ? { url: 'value', valueDate: value } : { url: 'value', valueString: value }] }];
  });
  const editExtensions: Extension[] = Object.entries(edits).map(([key, edit]) => ({
    url: SECTION_EDIT_EXTENSION,
    extension: [
      { url: 'section', valueCode: key },
      { url: 'by', valueString: edit.by },
      { url: 'at', valueDateTime: edit.at },
    ],
  }));
  const contributors = [...(current?.contributor ?? [])];
  const org = save.organisation;
  if (org && !contributors.some((c) => c.identifier?.value === org.code)) contributors.push(organisationReference(org.code, org.name));
  const activity: CarePlanActivity[] = sections.actions.map((action) => ({
    detail: {
      status: action.status,
      description: action.description,
      performer: [organisationReference(action.owner.code, action.owner.name)],
      ...(action.dueDate ? { scheduledPeriod: { end: action.dueDate } } : {}),
    },
  }));
  const plan: CarePlan = {
    ...(current ?? {}),
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    category: [PLAN_CATEGORY],
    title: 'Personalised care and support plan',
    subject: { reference: `Patient/${save.patientId}` },
    created: current?.created ?? at,
    period: current?.period ?? { start: at.slice(0, 10) },
    ...(current?.author || !org ? {} : { author: organisationReference(org.code, org.name) }),
    ...(contributors.length ? { contributor: contributors } : {}),
    ...(save.careTeamId ? { careTeam: [{ reference: `CareTeam/${save.careTeamId}` }] } : {}),
    extension: [...sectionExtensions, ...editExtensions, { url: CHANGED_BY_EXTENSION, valueString: signature }, ...changed.map((key) => ({ url: CHANGED_SECTIONS_EXTENSION, valueCode: key }))],
  };
  plan.goal = save.goalIds.length ? save.goalIds.map((id) => ({ reference: `Goal/${id}` })) : undefined;
  plan.activity = activity.length ? activity : undefined;
  if (!plan.goal) delete plan.goal;
  if (!plan.activity) delete plan.activity;
  return plan;
}
