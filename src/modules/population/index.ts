/**
 * Population health: frailty (eFI and other models as data), structured medication review priority,
 * multimorbidity and care gaps over the whole network, each result explained down to its entries.
 * Rules are pure functions of a patient's facts and an as-of date; the published code lists in
 * reference/codelists/ say which codes count.
 */
export { codeList, codesOf, type CodeList } from './codelists.ts';
export { ageOn, type EntryStanding, type EntryType, type EntryValue, type PatientFacts, type RecordEntry } from './facts.ts';
export type {
  CareGapFinding,
  DeficitFinding,
  Evidence,
  FrailtyResult,
  LongTermCondition,
  MultimorbidityResult,
  PopulationResult,
  Refusal,
  SmrReason,
  SmrResult,
} from './results.ts';
export { evaluatePatient } from './evaluate.ts';
export { RULES_VERSION } from './rules-version.ts';
export { DMD_SYSTEM, FACT_TYPES, SNOMED_SYSTEM, factsFromFhir } from './facts-from-fhir.ts';
export { parseAsOf } from './as-of.ts';
export { runPopulation, type PopulationRun, type PopulationRunOptions } from './run-population.ts';
export { POPULATION_CONSUMER, keepPopulationCurrent, type KeepCurrentOptions } from './keep-current.ts';
export { RESULTS_AT_ONCE, patientPopulationResult, populationResultsVia, type PatientPopulationResult } from './patient-result.ts';
export {
  FRAILTY_CATEGORY_SYSTEM,
  FRAILTY_SCORE_EXTENSION,
  POPULATION_MODEL_SYSTEM,
  RULES_VERSION_EXTENSION,
  frailtyRiskAssessment,
  riskAssessmentId,
} from './risk-assessment.ts';
export { EFI_CATEGORIES, cohortDefinition, type CohortDefinition } from './cohort-definition.ts';
export type { Cohort } from './cohort-store.ts';
export { saveCohort, saveCohortInput, type SaveCohortInput } from './save-cohort.ts';
export { updateCohort, updateCohortInput, type UpdateCohortInput } from './update-cohort.ts';
export { deleteCohort } from './delete-cohort.ts';
export { listCohorts } from './list-cohorts.ts';
export { SUPPRESS_BELOW, readCohort, previewCohortInput, previewCohortSize, type CohortCount, type CohortSize, type PreviewCohortInput } from './cohort-size.ts';
export { COHORT_PAGE, cohortPatients, type CohortPatient, type CohortPatients } from './cohort-patients.ts';
export { IDENTIFIABLE_COLUMNS, PSEUDONYMISED_COLUMNS, ageBand, exportCohort, type CohortExport, type ExportForm } from './export-cohort.ts';
export { SMR_PURPOSE, WORKLIST_ROLES, WORKLIST_STATUSES, type Worklist, type WorklistRole, type WorklistStatus } from './worklist-store.ts';
export { WORKLIST_LIMIT, createWorklist, createWorklistInput, type CreateWorklistInput } from './create-worklist.ts';
export { listWorklists, readWorklist, type ActionShown, type Progress, type WorklistRowView, type WorklistView } from './read-worklists.ts';
export { updateWorklistPatient, updateWorklistPatientInput, worklistPatientHistory, type UpdateWorklistPatientInput, type WorklistPatientState } from './update-worklist-patient.ts';
export {
  EFI_BANDS,
  dashboardPurpose,
  populationDashboard,
  populationFunnel,
  populationTrends,
  rankUnits,
  type Count,
  type Dashboard,
  type DashboardRequest,
  type DashboardScope,
  type Funnel,
  type FunnelPoint,
  type GapFigures,
  type RankMeasure,
  type Trends,
  type UnitFigures,
} from './dashboard.ts';
export { careGapNames } from './care-gaps.ts';
export { snapshotDashboardMonth } from './dashboard-data.ts';
export { Z_95, Z_998, funnelLimits, suppressTable, wilsonInterval } from './dashboard-stats.ts';
