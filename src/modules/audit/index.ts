/** Audit: who did what, when — written in the same transaction as the change; append-only and hash-chained. Owns `audit_event` and `audit_chain`. */
export { changeRecordRow, changeRecordWriter, changesForPcn, recordAudit, recordAuditGrouped, type AuditEntry, type AuditOutcome, type AuditRow } from './record.ts';
export { sealAudit, startAuditSealer, verifyAudit, type VerifyResult } from './chain.ts';
export {
  accessLog,
  auditReview,
  type AuditReader,
  auditReviewCsv,
  mayReviewAudit,
  recentlyViewedPatients,
  REVIEW_DAYS,
  UNUSUAL_PATIENTS_PER_DAY,
  type AccessLogPage,
  type AuditReview,
} from './review.ts';
export { organisationNameSql } from './organisation-names.ts';
