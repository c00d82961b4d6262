/**
 * The ONE personalised care and support plan of a patient (PRSB sections; plan-fhir.ts has the FHIR shape),
 * which every member of the care team edits. Each save names the version it started from (If-Match); a save
 * from a version since superseded is refused with both versions — the one stored (theirs), the one sent (yours)
 * and the one both started from (base) — and the sections merged where only one side changed them, so the
 * second writer settles the rest and saves the merge against the version stored now.
 */
import type { CarePlan, Goal, Patient } from '@medplum/fhirtypes';
import { z } from 'zod';
import { type FhirStoreRepository, parseSearch } from '../../fhir-store/index.ts';
import { AppError, invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, signatureOf } from '../access/index.ts';
import { asActor, isPreconditionFailed, organisationName, type PlanRequest, patientName, readPatient } from './as-actor.ts';
import { findCareTeam } from './care-team.ts';
import { changedSections, mergePlans } from './merge.ts';
import { carePlanResource, changedByOf, changedSectionsOf, editsOf, goalResource, PLAN_CATEGORY_TOKEN, sectionsOf } from './plan-fhir.ts';
import { ACTION_STATUSES, type CarePlanVersion, type CarePlanView, EMPTY_PLAN, GOAL_STATUSES, type PlanConflict, type PlanSections } from './types.ts';

const day = z.iso.date('a date is yyyy-mm-dd');
const words = (max: number) => z.string().trim().max(max);

export const planSectionsInput = z.object({
  whatMattersToMe: words(10_000),
  aboutMe: words(10_000),
  goals: z
    .array(
      z.object({
        id: z
          .string()
          .regex(/^[A-Za-z0-9\-.]{1,64}$/)
          .optional(),
        description: z.string().trim().min(1, 'a goal needs its words').max(1000),
        targetDate: day.nullable(),
        status: z.enum(GOAL_STATUSES),
      }),
    )
    .max(50),
  actions: z
    .array(
      z.object({
        description: z.string().trim().min(1, 'an action needs its words').max(1000),
        owner: z.object({
          code: z
            .string()
            .trim()
            .toUpperCase()
            .regex(/^[A-Z0-9-]{3,20}$/, 'the owner is an organisation code'),
          name: z.string().max(200).default(''),
        }),
        dueDate: day.nullable(),
        status: z.enum(ACTION_STATUSES),
      }),
    )
    .max(50),
  contingencyPlan: words(10_000),
  reviewDate: day.nullable(),
  peopleInvolved: words(5000),
});

export const saveCarePlanInput = z.object({ sections: planSectionsInput });

/** A save from a version that is no longer the stored one: 412, carrying both versions (types.ts PlanConflict). */
export class PlanConflictError extends AppError {
  constructor(readonly conflict: PlanConflict) {
    const by = conflict.theirs.changedBy ? ` by ${conflict.theirs.changedBy}` : '';
    super(
      'precondition-failed',
      `the plan was changed${by} since you opened it (version ${conflict.base.versionId}; it is now version ${conflict.theirs.versionId}): merge the two and save against version ${conflict.theirs.versionId}`,
    );
  }
}

interface StoredPlan {
  plan: CarePlan & { id: string };
  goals: Goal[];
}

/** The patient's active personalised care and support plan as the actor sees it, and its goals. */
async function currentPlan(repo: FhirStoreRepository, patientId: string): Promise<StoredPlan | undefined> {
  const bundle = await repo.search(parseSearch('CarePlan', { subject: `Patient/${patientId}`, category: PLAN_CATEGORY_TOKEN, status: 'active', _count: '10' }));
  const plans = (bundle.entry ?? []).map((e) => e.resource).filter((p): p is CarePlan & { id: string } => p?.resourceType === 'CarePlan');
  const plan = plans.sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''))[0];
  if (!plan) return undefined;
  return { plan, goals: await goalsOf(repo, plan) };
}

async function goalsOf(repo: FhirStoreRepository, plan: CarePlan): Promise<Goal[]> {
  const ids = (plan.goal ?? []).flatMap((g) => (g.reference?.startsWith('Goal/') ? [g.reference.slice(5)] : []));
  if (ids.length === 0) return [];
  const bundle = await repo.search(parseSearch('Goal', { _id: ids.join(','), _count: String(ids.length) }));
  return (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'Goal' ? [e.resource] : []));
}

function viewOf(patient: Patient, stored: StoredPlan | undefined): CarePlanView {
  const plan = stored?.plan;
  return {
    patientId: patient.id!,
    patientName: patientName(patient),
    id: plan?.id ?? null,
    versionId: plan?.meta?.versionId ?? '0',
    lastUpdated: plan?.meta?.lastUpdated ?? null,
    changedBy: changedByOf(plan),
    sections: sectionsOf(plan, stored?.goals ?? []),
    edits: editsOf(plan),
    contributors: (plan?.contributor ?? []).map((c) => c.display ?? c.identifier?.value ?? '').filter(Boolean),
  };
}

/**
 * The plan as it stood at one of its versions: that CarePlan version, with each goal as it was when that version
 * was saved (goals are written before the plan, in the same transaction).
 */
async function planAtVersion(repo: FhirStoreRepository, patient: Patient, planId: string, versionId: string): Promise<CarePlanView> {
  const plan = await repo.readVersion<CarePlan>('CarePlan', planId, versionId);
  const savedAt = plan.meta?.lastUpdated ?? '';
  const goals: Goal[] = [];
  for (const ref of plan.goal ?? []) {
    const id = ref.reference?.replace(/^Goal\//, '');
    if (!id) continue;
    const history = await repo.readHistory<Goal>('Goal', id);
    const then = (history.entry ?? []).map((e) => e.resource).find((g): g is Goal & { id: string } => !!g && (g.meta?.lastUpdated ?? '') <= savedAt);
    if (then) goals.push(then);
  }
  return viewOf(patient, { plan: plan as CarePlan & { id: string }, goals });
}

/** The patient's plan as the actor may see it; version "0" and empty sections while there is none. */
export function readCarePlan(db: Db, actor: Actor, patientId: string, request: PlanRequest): Promise<CarePlanView> {
  return asActor(db, actor, request, async (repo) => viewOf(await readPatient(repo, patientId), await currentPlan(repo, patientId)));
}

class Stale extends Error {}

/** "3", `"3"`, `W/"3"` → "3"; undefined when the header is absent. */
export function versionFromIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,18})"?\s*$/.exec(header);
  if (!match) throw new AppError('bad-request', 'If-Match must name the version the change was made from, e.g. W/"3" (W/"0" when there was no plan yet)', 'If-Match');
  return match[1];
}

/**
 * Saves the plan as the actor, from version `fromVersion` ("0": there was no plan). Goals are written as Goal
 * resources (removed ones cancelled), then the CarePlan. Nothing changed: nothing written. Stale: PlanConflictError.
 */
export async function saveCarePlan(db: Db, actor: Actor, patientId: string, fromVersion: string, sections: PlanSections, request: PlanRequest): Promise<CarePlanView> {
  const yours = await withOwnerNames(db, sections);
  return asActor(db, actor, request, async (repo) => {
    const patient = await readPatient(repo, patientId);
    try {
      return await repo.withTransaction(
        async () => {
          const stored = await currentPlan(repo, patientId);
          const current = viewOf(patient, stored);
          if (current.versionId !== fromVersion) throw new Stale();
          const changed = changedSections(current.sections, yours);
          if (changed.length === 0) return current;
          const goals = changed.includes('goals') ? await writeGoals(repo, patientId, stored?.goals ?? [], yours.goals) : (stored?.goals ?? []);
          const team = await findCareTeam(repo, patientId);
          const next = carePlanResource(stored?.plan, {
            patientId,
            sections: yours,
            goalIds: goals.filter((g) => g.lifecycleStatus !== 'cancelled').map((g) => g.id!),
            changed,
            signature: signatureOf(actor),
            organisation: actor.orgCode ? { code: actor.orgCode, name: actor.orgName ?? actor.orgCode } : null,
            careTeamId: team?.id ?? null,
            at: new Date().toISOString(),
          });
          const saved = stored ? await repo.updateResource(next, { ifMatch: stored.plan.meta?.versionId }) : await repo.createResource(next);
          return viewOf(patient, { plan: saved, goals: goals.filter((g) => g.lifecycleStatus !== 'cancelled') });
        },
        { serializable: fromVersion === '0' },
      );
    } catch (error) {
      // Stale when read, or overtaken between the read and the write by a save from the same version.
      if (!(error instanceof Stale) && !isPreconditionFailed(error)) throw error;
    }
    // Read after the refused transaction, so these looks are audited like any other.
    const theirs = viewOf(patient, await currentPlan(repo, patientId));
    const base = fromVersion === '0' || !theirs.id || Number(fromVersion) > Number(theirs.versionId) ? viewOf(patient, undefined) : await planAtVersion(repo, patient, theirs.id, fromVersion);
    if (fromVersion !== '0' && base.versionId === '0') throw invalid('If-Match', `If-Match: the plan has no version ${fromVersion}`);
    throw new PlanConflictError({ base, theirs, yours, ...mergePlans(base.sections, theirs.sections, yours) });
  });
}

/** Fills in each action owner's name from the registry; an unknown organisation is refused naming the action. */
async function withOwnerNames(db: Db, sections: PlanSections): Promise<PlanSections> {
  const actions = await Promise.all(
    sections.actions.map(async (action, i) => {
      const name = await organisationName(db, action.owner.code);
      if (!name) throw invalid(`sections.actions.${i}.owner.code`, `no PCN, practice or partner organisation has the code ${action.owner.code}`);
      return { ...action, owner: { code: action.owner.code, name } };
    }),
  );
  return { ...EMPTY_PLAN, ...sections, actions };
}

/** Writes the goals sent: new ones created, changed ones updated, those no longer in the plan cancelled. Returns them in the plan's order. */
async function writeGoals(repo: FhirStoreRepository, patientId: string, stored: Goal[], wanted: PlanSections['goals']): Promise<Goal[]> {
  const byId = new Map(stored.map((g) => [g.id!, g]));
  const kept = new Set<string>();
  const result: Goal[] = [];
  for (const goal of wanted) {
    const existing = goal.id ? byId.get(goal.id) : undefined;
    if (existing) {
      kept.add(existing.id!);
      const next = goalResource(patientId, goal, existing);
      const same = JSON.stringify(sectionsOfGoal(next)) === JSON.stringify(sectionsOfGoal(existing));
      result.push(same ? existing : await repo.updateResource(next));
    } else {
      result.push(await repo.createResource(goalResource(patientId, { ...goal, id: undefined })));
    }
  }
  for (const goal of stored) {
    if (!kept.has(goal.id!)) await repo.updateResource({ ...goal, lifecycleStatus: 'cancelled' });
  }
  return result;
}

const sectionsOfGoal = (goal: Goal) => [goal.lifecycleStatus, goal.description?.text, goal.target?.[0]?.dueDate ?? null];

/** Every version of the plan, newest first: when, who, which sections. */
export function carePlanHistory(db: Db, actor: Actor, patientId: string, request: PlanRequest): Promise<{ patientId: string; id: string | null; versions: CarePlanVersion[] }> {
  return asActor(db, actor, request, async (repo) => {
    await readPatient(repo, patientId);
    const stored = await currentPlan(repo, patientId);
    if (!stored) return { patientId, id: null, versions: [] };
    const history = await repo.readHistory<CarePlan>('CarePlan', stored.plan.id);
    const versions = (history.entry ?? []).flatMap((entry) => {
      const plan = entry.resource;
      if (!plan) return [];
      return [{ versionId: plan.meta?.versionId ?? '', at: plan.meta?.lastUpdated ?? '', by: changedByOf(plan), sections: changedSectionsOf(plan) }];
    });
    return { patientId, id: stored.plan.id, versions };
  });
}
