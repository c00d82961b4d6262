/**
 * The FHIR store: the platform the capability modules plug into. Versioned resources with history,
 * search indexes and search → SQL, bulk import and export, Bulk Data $export and the outcomes it
 * raises. Every call takes a request context (who acts, for what purpose, the access rules and the
 * audit trail); the store imports no module. Modules use this entry and never query fhir_* tables.
 */
export type { AccessRules, AuditTrail, ChangeRecord, ChangeRecordWriter, Purpose, RequestContext, StoreEvent, Touch } from './context.ts';
export { FhirStoreRepository } from './repository.ts';
export { writeResources, type Written } from './bulk-write.ts';
export { appErrorOutcome, forbiddenOutcome, informational, toOutcomeError } from './outcomes.ts';
export { notSupported, SEARCH_LIMITS, SqlParams } from './search-sql.ts';
export { parseSearch } from './search-request.ts';
export { importFhir, type ImportCounts, type ImportItem } from './import.ts';
export { fhirFilesIn, readFhirFiles } from './files.ts';
export { countResources, exportNdjson, type ExportFilter } from './export.ts';
export { deleteExport, exportFile, getExport, settleExports, startExport, type ExportJob } from './bulk-export.ts';
export { analyseStore, keepStatisticsCurrent, type KeepStatisticsOptions } from './statistics.ts';
export {
  catchUpChanges,
  followChanges,
  readChanges,
  retrying,
  settledFeedPosition,
  type RetryOptions,
  type Change,
  type ChangeHandler,
  type ChangeKind,
  type FollowChangesOptions,
  type ReadChangesOptions,
} from './changes.ts';
export { IDEMPOTENCY_HOURS, pruneIdempotencyKeys, runIdempotently, type IdempotencyClaim, type IdempotentResult, type RememberedResponse } from './idempotency.ts';
export {
  countPatients,
  type CurrentEntry,
  readCompartment,
  readCompartments,
  readEntries,
  scanCompartments,
  type PatientCompartment,
  type ScanCompartmentsOptions,
} from './compartments.ts';
