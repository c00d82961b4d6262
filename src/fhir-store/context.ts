/**
 * The request context every store call takes: who is acting, for what purpose, and the access rules
 * and audit trail that judge and record what they do. The store sits below the modules and imports
 * none of them; the access and audit modules reach it only through this context.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../storage/db.ts';
import type { SqlParams } from './search-sql.ts';

/** Direct care of one patient, or secondary use (planning, analysis) of many. */
export type Purpose = 'direct-care' | 'secondary-use';

/** What a request touched, for the audit of every look and every change. */
export interface Touch {
  /** `denied`: the access rules refused it, which is audited too (who tried to see whose record). */
  action: 'create' | 'read' | 'update' | 'delete' | 'search' | 'history' | 'denied';
  resourceType: string;
  id: string;
  patientId: string | null;
}

/** Who may see and change which patients' records, and which entries in them (the access module decides). */
export interface AccessRules {
  /** A condition on rows `r` limiting them to the patients and entries the actor may see; null when unlimited. */
  patientFilter(params: SqlParams): string | null;
  /** The patient part of the rule as a condition on a patient id (an SQL expression), e.g. a parameter; null when unlimited. */
  patientCondition(patientId: string, params: SqlParams): string | null;
  /**
   * The entry part of the rule, on rows `r`: categories and sensitivity labels the actor's role may see;
   * null when every entry. A hidden entry is answered as if it did not exist.
   */
  entryFilter(params: SqlParams): string | null;
  /** Throws a 403 OperationOutcome unless the actor may see (and add to) this patient's record. */
  assertPatient(db: Db, patientId: string): Promise<void>;
  /**
   * May the actor see this version of an entry (its labels)? The filters above judge the current version;
   * history and vread hold earlier ones, which may carry a label since removed.
   */
  seesVersion(resource: { resourceType: string; meta?: { security?: Array<{ system?: string; code?: string }> } }): boolean;
  /** Throws a 403 OperationOutcome unless the actor's role may write this entry (its category and labels). */
  assertWrite(resource: { resourceType: string; meta?: { security?: Array<{ system?: string; code?: string }> } }): void;
  /** Throws unless the actor may create a patient registered at this practice. */
  assertRegistration(practiceOds: string | null): void;
  /** Throws unless the actor may export whole populations (Bulk Data $export). */
  assertBulkExport(): void;
}

/** An event of the store that is not a look or a change of one resource: an import group, an export. */
export interface StoreEvent {
  action: string;
  entityType: string;
  entityId: string;
  summary: string;
  detail?: Record<string, unknown>;
}

/** A change's audit record, written by the statement that makes the change. */
export interface ChangeRecord {
  /** The record, in the writer's shape. */
  row: unknown;
  /** Writes records of this shape; records with the same writer can be written by one statement. */
  writer: ChangeRecordWriter;
}

export interface ChangeRecordWriter {
  /**
   * An INSERT, for a data-modifying WITH, of the records whose key is among those `written` returns (an SQL query
   * of one text column), its parameters appended to `values`.
   */
  insert(records: Array<{ key: string; row: unknown }>, values: unknown[], written: string): string;
}

/** Where the audit of looks and changes goes. */
export interface AuditTrail {
  /**
   * The record of the change `touches` made, as data: a create and its audit record are then ONE statement
   * (and creates written together, one statement for all).
   */
  changeRecord(touches: Touch[]): ChangeRecord;
  /** Records changes, in the transaction that makes them. */
  changes(tx: Db, touches: Touch[]): Promise<void>;
  /**
   * Records looks (and refused attempts), after the request, resolving once they are stored. The
   * outcome is the request's: `denied` when the access rules refused it, `error` when it failed.
   */
  looks(db: Db, touches: Touch[], outcome?: 'success' | 'denied' | 'error'): Promise<void>;
  /** Records a store event, in the transaction given. */
  event(tx: Db, event: StoreEvent): Promise<void>;
}

export interface RequestContext {
  /** Who acts (a signed-in person's email, or `system` for an audited operation), named in audit and export jobs. */
  who: string;
  purpose: Purpose;
  access: AccessRules;
  audit: AuditTrail;
  /** The server's FHIR base (for links), e.g. http://localhost:3000/fhir */
  baseUrl: string;
  /** Prefer: handling=lenient */
  lenient?: boolean;
  /**
   * Signs a new entry as its author (the access module's words for who wrote it): given each created
   * resource before it is validated and stored; absent, resources are stored as given.
   */
  sign?<T extends Resource>(resource: T): T;
  /** The HTTP request (or command), named in the audit; `id` is the server's request id. */
  request?: { method: string; url: string; id?: string };
  /**
   * Checks a change to a stored resource before it is written (given the current version and the new one, or null
   * when it is being deleted); throws to refuse it. The /fhir door sets it so that a resource with its own workflow (a referral's Task) moves only
   * through the use case that keeps that workflow's rules; the use cases' own contexts leave it unset.
   */
  guardChange?(current: Resource, next: Resource | null): void;
}
