/**
 * Care teams and personalised care and support plans (issue 12; docs/coordination.md): a patient's `CareTeam`
 * across organisations with a named care coordinator, and the ONE `CarePlan` + `Goal`s in the PRSB standard's
 * sections that every member edits, versioned by the store, concurrent saves caught by If-Match and merged
 * section by section. Everything is read and written through the store as the acting person (access and audit).
 */
export {
  addCareTeamMember,
  careCoordinatorOf,
  careTeamInput,
  careTeamMemberInput,
  careTeamView,
  findCareTeam,
  readCareTeam,
  removeCareTeamMember,
  replaceCareTeam,
  setCareCoordinator,
  type CareTeamInput,
  type CareTeamMemberInput,
} from './care-team.ts';
export { carePlanHistory, PlanConflictError, planSectionsInput, readCarePlan, saveCarePlan, saveCarePlanInput, versionFromIfMatch } from './care-plan.ts';
export { changedSections, mergePlans, type PlanMerge } from './merge.ts';
export * from './types.ts';
