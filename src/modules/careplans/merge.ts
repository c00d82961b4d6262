/**
 * The three-way merge of a care and support plan, section by section: from the version both writers started
 * with (base), the one saved meanwhile (theirs) and the one being saved (yours). A section only one side
 * changed takes that side's; a section both changed alike is taken once; a section both changed differently
 * is a conflict for the person saving to settle (the merge holds theirs there until they do). Pure.
 */
import { PLAN_SECTIONS, type PlanSections, type SectionKey, type SectionOutcome } from './types.ts';

export interface PlanMerge {
  merged: PlanSections;
  conflicts: SectionKey[];
  outcome: Record<SectionKey, SectionOutcome>;
}

/** A section's value in one canonical text: key order and a goal's missing id do not make two values differ. */
function canonical(key: SectionKey, value: PlanSections[SectionKey]): string {
  if (key === 'goals') return JSON.stringify((value as PlanSections['goals']).map((g) => [g.id ?? null, g.description, g.targetDate, g.status]));
  if (key === 'actions') return JSON.stringify((value as PlanSections['actions']).map((a) => [a.description, a.owner.code, a.dueDate, a.status]));
  return JSON.stringify(value ?? null);
}

export const sameSection = <K extends SectionKey>(key: K, a: PlanSections[K], b: PlanSections[K]): boolean => canonical(key, a) === canonical(key, b);

/** The sections in which `after` differs from `before`, in the plan's order. */
export const changedSections = (before: PlanSections, after: PlanSections): SectionKey[] => PLAN_SECTIONS.map((s) => s.key).filter((key) => !sameSection(key, before[key], after[key]));

export function mergePlans(base: PlanSections, theirs: PlanSections, yours: PlanSections): PlanMerge {
  const merged = { ...theirs } as Record<SectionKey, unknown>;
  const outcome = {} as Record<SectionKey, SectionOutcome>;
  const conflicts: SectionKey[] = [];
  for (const { key } of PLAN_SECTIONS) {
    const theyChanged = !sameSection(key, base[key], theirs[key]);
    const youChanged = !sameSection(key, base[key], yours[key]);
    if (!theyChanged && !youChanged) outcome[key] = 'unchanged';
    else if (!youChanged) outcome[key] = 'theirs';
    else if (!theyChanged) {
      outcome[key] = 'yours';
      merged[key] = yours[key];
    } else if (sameSection(key, theirs[key], yours[key])) outcome[key] = 'both-same';
    else {
      outcome[key] = 'conflict';
      conflicts.push(key);
    }
  }
  return { merged: merged as unknown as PlanSections, conflicts, outcome };
}
