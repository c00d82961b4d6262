/** Audit: who did what, when — written in the same transaction as the change. Owns `audit_event`. */
export { auditCall, changesForPcn, recordAudit, recordAuditGrouped, type AuditEntry, type AuditRow } from './record.ts';
