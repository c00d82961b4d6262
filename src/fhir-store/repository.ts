/**
 * The shared care record's FHIR repository on our Db: versioned current + history tables, search
 * indexes, access rules and audit. @medplum/fhir-router drives it (REST semantics, batch/transaction,
 * conditional create/update, PATCH, GraphQL); this class holds storage, search and who may see what.
 */
import { badRequest, getReferenceString, gone, normalizeOperationOutcome, notFound, OperationOutcomeError, Operator, preconditionFailed, type SearchRequest, type WithId } from '@medplum/core';
import { FhirRepository, type CreateResourceOptions, type UpdateResourceOptions } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, BundleLink, Reference, Resource } from '@medplum/fhirtypes';
import { applyPatch, type Operation } from 'rfc6902';
import type { Db } from '../storage/db.ts';
import { ODS_SYSTEM } from '../shared/ids.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { extractIndex, storedAs, type IndexRows } from './search-index.ts';
import { invalidAt, toOutcomeError, unprocessable } from './outcomes.ts';
import { parseSearch } from './search-request.ts';
import { afterCursor, checkIncludes, decodeCursor, encodeCursor, filtersToSql, keysetOrder, keyTexts, sortKeys, SEARCH_LIMITS, SqlParams, storedCodes, type SortKey } from './search-sql.ts';
import { compartmentPatient, deleteVersion, heldNhsNumber, insertNewResource, prepareVersion, replaceVersion, type NewVersion } from './versions.ts';
import { missingPatients, nhsNumberHeld, ownedResource, patientMissing, type PatientReferences } from './patient-references.ts';
import { recordValidationIssues } from './validation.ts';
import type { RequestContext, Touch } from './context.ts';
import { newResourceId } from '../shared/resource-ids.ts';

export const MAX_COUNT = 1000;
export const DEFAULT_COUNT = 20;

export type { RequestContext, Touch } from './context.ts';

interface StoredRow {
  content: Resource | null;
  deleted: boolean;
  version_id: number;
  patient_id: string | null;
}

export class FhirStoreRepository extends FhirRepository<Db> {
  private db: Db;
  readonly touches: Touch[] = [];
  private depth = 0;
  /** Search parameters ignored under Prefer: handling=lenient, reported back in the Bundle. */
  readonly ignoredParameters: string[] = [];
  /** The resource the latest write was about: a failed transaction names its entry from it. */
  lastWrite: { resourceType: string; id: string } | undefined;
  /** `Type/id` of each resource an update created (update as create), answered 201 rather than the router's 200. */
  readonly createdByUpdate = new Set<string>();
  /** Patients the writes of the open transaction name: each must be stored when it commits (an entry may come before its Patient). */
  private namedPatients: Array<PatientReferences['patients'][number] & { resourceType: string; resourceId: string }> = [];

  constructor(
    db: Db,
    private readonly context: RequestContext,
    /**
     * The caller runs the whole request in one transaction of its own and records its one audit entry
     * there (`auditRequestChanges`): the writes inside (a batch's entries) do not record their own.
     */
    private readonly options: { auditAtEnd?: boolean } = {},
  ) {
    super();
    loadFhirDefinitions();
    this.db = db;
  }

  setMode(): void {}

  generateId(): string {
    return newResourceId();
  }

  async withTransaction<TResult>(callback: (client: Db) => Promise<TResult>, options?: { serializable?: boolean }): Promise<TResult> {
    const outer = this.db;
    const touched = this.touches.length;
    const outermost = this.depth === 0;
    if (outermost) this.namedPatients = [];
    try {
      return await outer.transaction(async (tx) => {
        // Conditional create/update must not race: serialise them on one advisory lock.
        if (options?.serializable) await tx.query('SELECT pg_advisory_xact_lock(727102)');
        this.db = tx;
        this.depth++;
        try {
          const result = await callback(tx);
          if (outermost) await this.assertNamedPatientsStored(tx);
          // The changes' audit entry commits with the changes themselves, or not at all.
          if (outermost && !this.options.auditAtEnd) await this.auditRequestChanges(tx);
          return result;
        } finally {
          this.depth--;
          this.db = outer;
        }
      });
    } catch (error) {
      // Rolled back, so nothing in it was done; a refusal in it was still an attempt, and stays audited.
      const undone = this.touches.splice(touched);
      this.touches.push(...undone.filter((t) => t.action === 'denied'));
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Writes
  // ---------------------------------------------------------------------------------------------

  async createResource<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    const id = options?.assignedId && resource.id ? resource.id : this.generateId();
    const signed = this.context.sign ? this.context.sign(resource) : resource;
    return this.writeVersion({ ...signed, id }, 'create');
  }

  async updateResource<T extends Resource>(resource: T, options?: UpdateResourceOptions): Promise<WithId<T>> {
    if (!resource.id) throw new OperationOutcomeError(unprocessable([invalidAt(`${resource.resourceType}.id`, 'an update needs the resource id')]).outcome);
    return this.writeVersion(resource as WithId<T>, 'update', options?.ifMatch);
  }

  async patchResource<T extends Resource>(resourceType: T['resourceType'], id: string, patch: Operation[]): Promise<WithId<T>> {
    this.lastWrite = { resourceType, id };
    return this.withTransaction(async () => {
      const current = await this.readResource<T>(resourceType, id);
      const patched = structuredClone(current) as T;
      const results = applyPatch(patched, patch);
      const failure = results.find((r) => r !== null);
      if (failure) throw unprocessable([invalidAt(resourceType, `the patch cannot be applied: ${failure.message}`)]);
      if (patched.resourceType !== resourceType || patched.id !== id) throw unprocessable([invalidAt(`${resourceType}.id`, 'a patch may not change resourceType or id')]);
      return this.writeVersion(patched as WithId<T>, 'update');
    });
  }

  async deleteResource(resourceType: string, id: string): Promise<void> {
    this.lastWrite = { resourceType, id };
    await this.withTransaction(async (tx) => {
      const row = await this.currentRow(tx, resourceType, id, true);
      if (!row) throw new OperationOutcomeError(notFound);
      if (row.patient_id) await this.assertPatient(tx, resourceType, id, row.patient_id);
      await this.assertEntrySeen(tx, resourceType, id, row.patient_id);
      if (row.deleted) return; // deleting again changes nothing, and is no error (FHIR R4 http.html#delete)
      if (row.content) this.context.guardChange?.(row.content, null);
      await deleteVersion(tx, resourceType, id, row.version_id + 1);
      this.touch('delete', resourceType, id, row.patient_id);
    });
  }

  private async writeVersion<T extends Resource>(given: WithId<T>, mode: 'create' | 'update', ifMatch?: string): Promise<WithId<T>> {
    this.lastWrite = { resourceType: given.resourceType, id: given.id };
    // Validation first: text the database cannot hold must not reach a query, even as a search.
    this.validate(given);
    const { resource, patients } = await ownedResource(this.db, await this.resolveConditionalReferences(given));
    // The role's right to write this kind of entry (its category, its labels), audited when refused.
    await this.audited(resource.resourceType, resource.id, null, () => this.context.access.assertWrite(resource));
    if (mode === 'create' && this.depth === 0) return this.createAlone(resource, patients);
    return this.withTransaction(async (tx) => {
      const existing = mode === 'update' ? await this.currentRow(tx, resource.resourceType, resource.id, true) : undefined;
      if (existing) await this.assertEntrySeen(tx, resource.resourceType, resource.id, existing.patient_id);
      if (ifMatch !== undefined && String(existing?.version_id) !== ifMatch) throw new OperationOutcomeError(preconditionFailed);
      if (existing?.content && !existing.deleted) this.context.guardChange?.(existing.content, resource);
      const version = prepareVersion(resource, (existing?.version_id ?? 0) + 1, new Date().toISOString());
      await this.assertMayWrite(tx, version.content, version.index, version.patientId, existing?.patient_id ?? null);
      this.namedPatients.push(...patients.map((p) => ({ ...p, resourceType: version.resourceType, resourceId: version.id })));
      await this.storing(version, async () => {
        if (existing) await replaceVersion(tx, version);
        else if (!(await insertNewResource(tx, version))) throw alreadyExists(version);
      });
      this.touch(existing ? 'update' : 'create', version.resourceType, version.id, version.patientId);
      if (mode === 'update' && !existing) this.createdByUpdate.add(`${version.resourceType}/${version.id}`);
      return version.content as WithId<T>;
    });
  }

  /**
   * A create outside any transaction (a plain POST): the resource, its index rows and the audit entry
   * go in one statement, atomic by itself, so it needs neither BEGIN nor COMMIT. The same statement
   * checks that the Patients it names are stored.
   */
  private async createAlone<T extends Resource>(resource: WithId<T>, patients: PatientReferences['patients'], askInStatement = true): Promise<WithId<T>> {
    const version = prepareVersion(resource, 1, new Date().toISOString());
    // An entry in a patient's record: the access rule is asked inside the create statement (one round trip).
    const { patientId } = version;
    const limited = this.context.access.patientCondition('NULL', new SqlParams()) !== null;
    const rule =
      askInStatement && limited && patientId && version.resourceType !== 'Patient'
        ? (patient: string, values: unknown[]) => this.context.access.patientCondition(patient, new SqlParams(values))!
        : undefined;
    if (!rule) await this.assertMayWrite(this.db, version.content, version.index, version.patientId, null);
    const touch: Touch = { action: 'create', resourceType: version.resourceType, id: version.id, patientId: version.patientId };
    // The request's one audit record, in the create's own statement: the create and whatever the request looked at before it.
    const audit = this.options.auditAtEnd ? undefined : this.context.audit.changeRecord([...this.touches, touch]);
    const created = await this.storing(version, () => insertNewResource(this.db, version, { audit, patients: patients.map((p) => p.id), rule }));
    if (created === 'refused') {
      // The refusal, audited as such (assertPatient throws); should the rule allow it by now, the create runs as before.
      await this.assertPatient(this.db, version.resourceType, version.id, patientId!);
      return this.createAlone(resource, patients, false);
    }
    if (created === 'no-patient') {
      const missing = await missingPatients(
        this.db,
        patients.map((p) => p.id),
      );
      throw unprocessable(patients.filter((p) => missing.has(p.id)).map((p) => patientMissing(p.id, p.at)));
    }
    if (!created) throw alreadyExists(version);
    if (this.options.auditAtEnd) this.touches.push(touch);
    else this.touches.splice(0); // recorded by the create's statement
    return version.content as WithId<T>;
  }

  /** Runs a write of `version`; a Patient whose NHS number another active Patient holds is a 409 naming it. */
  private async storing<R>(version: NewVersion, write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } catch (error) {
      const held = heldNhsNumber(error);
      if (held) throw nhsNumberHeld(version.content, held.holder);
      throw error;
    }
  }

  /** Every Patient the transaction's writes named is stored, now that all its entries are written. */
  private async assertNamedPatientsStored(tx: Db): Promise<void> {
    const named = this.namedPatients.splice(0);
    const missing = await missingPatients(
      tx,
      named.map((p) => p.id),
    );
    const unstored = named.filter((p) => missing.has(p.id));
    if (unstored.length === 0) return;
    this.lastWrite = { resourceType: unstored[0]!.resourceType, id: unstored[0]!.resourceId };
    throw unprocessable(unstored.filter((p) => p.resourceId === unstored[0]!.resourceId).map((p) => patientMissing(p.id, p.at)));
  }

  private async assertMayWrite(tx: Db, resource: WithId<Resource>, index: IndexRows, patientId: string | null, previousPatientId: string | null): Promise<void> {
    const { resourceType, id } = resource;
    if (resourceType === 'Patient') {
      const registered = index.tokens.find(([code, system]) => code === 'general-practitioner:identifier' && system === ODS_SYSTEM);
      if (previousPatientId) await this.assertPatient(tx, resourceType, id, previousPatientId);
      else await this.audited(resourceType, id, null, () => this.context.access.assertRegistration(registered?.[2] ?? null));
      return;
    }
    if (previousPatientId) await this.assertPatient(tx, resourceType, id, previousPatientId);
    if (patientId && patientId !== previousPatientId) await this.assertPatient(tx, resourceType, id, patientId);
  }

  /** An entry the actor's role may not see may not be changed either: it is answered as not found (audited). */
  private async assertEntrySeen(tx: Db, resourceType: string, id: string, patientId: string | null): Promise<void> {
    const params = new SqlParams();
    const entries = this.context.access.entryFilter(params);
    if (entries === null) return;
    const [row] = await tx.query<{ visible: boolean }>(
      `SELECT ${entries} AS visible FROM fhir_resource r WHERE r.resource_type = ${params.add(resourceType)} AND r.id = ${params.add(id)}`,
      params.values,
    );
    if (row && !row.visible) {
      this.touch('denied', resourceType, id, patientId);
      throw new OperationOutcomeError(notFound);
    }
  }

  /** The access rule for one patient's record. */
  private assertPatient(db: Db, resourceType: string, id: string, patientId: string): Promise<void> {
    return this.audited(resourceType, id, patientId, () => this.context.access.assertPatient(db, patientId));
  }

  /** Runs an access check; a refusal is recorded for the audit (who tried to see or change whose record). */
  private async audited(resourceType: string, id: string, patientId: string | null, check: () => void | Promise<void>): Promise<void> {
    try {
      await check();
    } catch (error) {
      this.touch('denied', resourceType, id, patientId);
      throw error;
    }
  }

  /**
   * Conditional references (`Patient?identifier=…`, FHIR's transaction rules) become literal ones.
   * Each must match exactly one resource the actor may see.
   */
  private async resolveConditionalReferences<T extends Resource>(resource: T): Promise<T> {
    if (conditionalReferences(resource, resource.resourceType).length === 0) return resource;
    const resolved = structuredClone(resource);
    for (const { holder, path } of conditionalReferences(resolved, resolved.resourceType)) {
      const [type, query = ''] = holder.reference.split('?', 2) as [string, string?];
      const found = await this.searchResources({ ...parseSearch(type, new URLSearchParams(query)), count: 2 });
      if (found.length !== 1) throw new OperationOutcomeError(badRequest(`the conditional reference '${holder.reference}' matches ${found.length === 0 ? 'no' : 'more than one'} resource`, path));
      holder.reference = getReferenceString(found[0]!);
    }
    return resolved;
  }

  /** R4 structure (cardinality, types) plus the NHS's own identifier rules. */
  private validate(resource: Resource): void {
    const issues = recordValidationIssues(resource);
    if (issues.length > 0) throw unprocessable(issues);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  private async currentRow(db: Db, resourceType: string, id: string, forUpdate = false): Promise<StoredRow | undefined> {
    const [row] = await db.query<StoredRow>(`SELECT content, deleted, version_id, patient_id FROM fhir_resource WHERE resource_type = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [
      resourceType,
      id,
    ]);
    return row;
  }

  /**
   * The current row, with the access rule (the same condition a search filters by) decided in the same
   * statement: a permitted read is one round trip. A row the condition does not allow goes through
   * assertPatient, which refuses it and audits the refusal.
   */
  private async readableRow(resourceType: string, id: string, db = this.db): Promise<(StoredRow & { allowed: boolean; visible: boolean }) | undefined> {
    const params = new SqlParams();
    const where = `r.resource_type = ${params.add(resourceType)} AND r.id = ${params.add(id)}`;
    const patients = this.context.access.patientCondition('r.patient_id', params);
    const entries = this.context.access.entryFilter(params);
    const [row] = await db.query<StoredRow & { allowed: boolean; visible: boolean }>(
      `SELECT r.content, r.deleted, r.version_id, r.patient_id, ${patients === null ? 'true' : `(r.patient_id IS NULL OR ${patients})`} AS allowed, ${entries ?? 'true'} AS visible
         FROM fhir_resource r WHERE ${where}`,
      params.values,
    );
    return row;
  }

  /**
   * The current row if the actor may see it: a patient they may not see is a 403 (audited; a break-glass
   * reason may open that one record), an entry their role may not see (its category or a sensitivity
   * label) is answered as if it did not exist (audited as a refusal), so nothing betrays it.
   */
  private async seenRow(resourceType: string, id: string, db = this.db): Promise<StoredRow> {
    const row = await this.readableRow(resourceType, id, db);
    if (!row) throw new OperationOutcomeError(notFound);
    if (row.patient_id && !row.allowed) await this.assertPatient(db, resourceType, id, row.patient_id);
    if (!row.visible) {
      this.touch('denied', resourceType, id, row.patient_id);
      throw new OperationOutcomeError(notFound);
    }
    return row;
  }

  async readResource<T extends Resource>(resourceType: string, id: string): Promise<WithId<T>> {
    const row = await this.seenRow(resourceType, id);
    if (row.deleted) throw new OperationOutcomeError(gone);
    this.touch('read', resourceType, id, row.patient_id);
    return row.content as WithId<T>;
  }

  async readReference<T extends Resource>(reference: Reference<T>): Promise<WithId<T>> {
    const [resourceType, id] = (reference.reference ?? '').split('/');
    if (!resourceType || !id) throw new OperationOutcomeError(notFound);
    return this.readResource<T>(resourceType, id);
  }

  async readReferences<T extends Resource>(references: readonly Reference<T>[]): Promise<(T | Error)[]> {
    return Promise.all(references.map((ref) => this.readReference(ref).catch((error: Error) => error)));
  }

  /**
   * The current versions of these resources that exist and the context may see (a deleted or hidden one is simply
   * not there), by `_id` searches of SEARCH_LIMITS.orValues ids each: for consumers reading a batch of changes.
   */
  async readCurrent<T extends Resource>(resourceType: T['resourceType'], ids: readonly string[]): Promise<WithId<T>[]> {
    const unique = [...new Set(ids)];
    const found: WithId<T>[] = [];
    for (let i = 0; i < unique.length; i += SEARCH_LIMITS.orValues) {
      const chunk = unique.slice(i, i + SEARCH_LIMITS.orValues);
      found.push(...((await this.searchResources(parseSearch(resourceType, { _id: chunk.join(','), _count: String(chunk.length) }))) as WithId<T>[]));
    }
    return found;
  }

  async readVersion<T extends Resource>(resourceType: string, id: string, versionId: string): Promise<WithId<T>> {
    if (!/^\d{1,18}$/.test(versionId)) throw new OperationOutcomeError(notFound);
    const current = await this.seenRow(resourceType, id);
    const [row] = await this.db.query<{ content: Resource | null; deleted: boolean }>('SELECT content, deleted FROM fhir_version WHERE resource_type = $1 AND id = $2 AND version_id = $3', [
      resourceType,
      id,
      Number(versionId),
    ]);
    if (!row) throw new OperationOutcomeError(notFound);
    if (row.deleted) throw new OperationOutcomeError(gone);
    // An earlier version labelled so that this actor may not see it is answered as if it did not exist.
    if (!this.context.access.seesVersion(row.content!)) {
      this.touch('denied', resourceType, id, current.patient_id);
      throw new OperationOutcomeError(notFound);
    }
    this.touch('read', resourceType, id, current.patient_id);
    return row.content as WithId<T>;
  }

  async readHistory<T extends Resource>(resourceType: string, id: string): Promise<Bundle<WithId<T>>> {
    const current = await this.seenRow(resourceType, id);
    const rows = await this.db.query<{ content: WithId<T> | null; deleted: boolean; version_id: number; last_updated: string }>(
      `SELECT content, deleted, version_id, to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_updated
         FROM fhir_version WHERE resource_type = $1 AND id = $2 ORDER BY version_id DESC LIMIT ${MAX_COUNT}`,
      [resourceType, id],
    );
    this.touch('history', resourceType, id, current.patient_id);
    return historyBundle(
      this.context.baseUrl,
      resourceType,
      rows.filter((r) => this.seenVersion(r.content)).map((r) => ({ ...r, resource_type: resourceType, id })),
    );
  }

  /** Type-level history (_history on a resource type), newest first, access-filtered. */
  async readTypeHistory(resourceType: string, options: { since?: string; count?: number }): Promise<Bundle> {
    const params = new SqlParams();
    const conditions = [`h.resource_type = ${params.add(resourceType)}`];
    if (options.since) conditions.push(`h.last_updated >= ${params.add(options.since)}`);
    const filter = this.context.access.patientFilter(params);
    if (filter) conditions.push(`EXISTS (SELECT 1 FROM fhir_resource r WHERE r.resource_type = h.resource_type AND r.id = h.id AND ${filter})`);
    const count = Math.min(options.count ?? DEFAULT_COUNT, MAX_COUNT);
    const rows = await this.db.query<{ resource_type: string; id: string; content: Resource | null; deleted: boolean; version_id: number; last_updated: string }>(
      `SELECT h.resource_type, h.id, h.content, h.deleted, h.version_id,
              to_char(h.last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_updated
         FROM fhir_version h WHERE ${conditions.join(' AND ')} ORDER BY h.last_updated DESC, h.id LIMIT ${count}`,
      params.values,
    );
    const seen = rows.filter((row) => this.seenVersion(row.content));
    for (const row of seen) this.touch('history', row.resource_type, row.id, patientOf(row.content));
    return historyBundle(this.context.baseUrl, resourceType, seen);
  }

  /** A version in a history the actor may see: a deletion (no content), or one whose labels they may see. */
  private seenVersion(content: Resource | null): boolean {
    return content === null || this.context.access.seesVersion(content);
  }

  // ---------------------------------------------------------------------------------------------
  // Search
  // ---------------------------------------------------------------------------------------------

  async search<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    try {
      return await this.runSearch(request);
    } catch (error) {
      throw toOutcomeError(error);
    }
  }

  private async runSearch<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    checkIncludes(request);
    const params = new SqlParams();
    const options = { lenient: this.context.lenient ?? false, ignored: this.ignoredParameters, visible: (p: SqlParams) => this.context.access.patientFilter(p) };
    const conditions = [`r.resource_type = ${params.add(request.resourceType)}`, 'NOT r.deleted', ...filtersToSql(request, params, options)];
    const accessFilter = this.context.access.patientFilter(params);
    if (accessFilter) conditions.push(accessFilter);
    const where = conditions.join(' AND ');
    const countOnly = request.summary === undefined && request.count === 0;
    const count = Number.isInteger(request.count) ? Math.min(Math.max(request.count!, 0), MAX_COUNT) : DEFAULT_COUNT;
    // _offset is honoured when a client sends it; our own next links carry a keyset _cursor instead.
    const offset = Number.isInteger(request.offset) && request.offset! > 0 ? request.offset! : 0;
    const wantTotal = request.total === 'accurate' || request.total === 'estimate' || count === 0 || countOnly;
    const total = wantTotal ? Number((await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource r WHERE ${where}`, params.values))[0]?.n ?? 0) : undefined;

    let rows: Array<{ id: string; content: WithId<T>; patient_id: string | null } & Record<string, string | null>> = [];
    let keys: SortKey[] = [];
    if (count > 0) {
      keys = sortKeys(request, params, options);
      const after = request.cursor ? afterCursor(keys, decodeCursor(request.cursor, keys), params) : 'true';
      rows = await this.db.query(
        `SELECT s.id, s.content, s.patient_id${keyTexts(keys)}
           FROM (SELECT r.id, r.content, r.patient_id${keys.map((key, i) => `, ${key.sql} AS k${i}`).join('')} FROM fhir_resource r WHERE ${where}) s
          WHERE ${after} ORDER BY ${keysetOrder(keys)} LIMIT ${count + 1}${offset ? ` OFFSET ${offset}` : ''}`,
        params.values,
      );
    }
    const hasMore = rows.length > count;
    rows = rows.slice(0, count);
    for (const row of rows) this.touch('search', request.resourceType, row.id, row.patient_id);

    const entries: BundleEntry<WithId<T>>[] = rows.map((row) => ({
      fullUrl: `${this.context.baseUrl}/${request.resourceType}/${row.id}`,
      resource: selectElements(row.content, request.fields, request.summary),
      search: { mode: 'match' },
    }));
    entries.push(
      ...((await this.includes(
        request,
        rows.map((r) => r.id),
      )) as BundleEntry<WithId<T>>[]),
    );
    const links: BundleLink[] = [{ relation: 'self', url: searchUrl(this.context.baseUrl, request, this.ignoredParameters, {}) }];
    if (hasMore) {
      const last = rows.at(-1)!;
      const cursor = encodeCursor([...keys.map((_key, i) => last[`c${i}`] ?? null), last.id]);
      links.push({ relation: 'next', url: searchUrl(this.context.baseUrl, request, this.ignoredParameters, { _cursor: cursor }) });
    }
    const bundle: Bundle<WithId<T>> = { resourceType: 'Bundle', type: 'searchset', ...(total !== undefined ? { total } : {}), link: links, entry: entries };
    if (this.ignoredParameters.length > 0) {
      (bundle.entry as BundleEntry[]).push({
        resource: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'warning', code: 'not-supported', details: { text: `ignored unknown search parameters: ${this.ignoredParameters.join(', ')}` } }],
        },
        search: { mode: 'outcome' },
      });
    }
    return bundle;
  }

  /** _include and _revinclude, filtered by the same access rules. */
  private async includes(request: SearchRequest, ids: string[]): Promise<BundleEntry[]> {
    if (ids.length === 0 || (!request.include?.length && !request.revInclude?.length)) return [];
    const found = new Map<string, { content: Resource; patient_id: string | null }>();
    const params = new SqlParams();
    const accessFilter = this.context.access.patientFilter(params);
    const allowed = accessFilter ? ` AND ${accessFilter}` : '';
    for (const include of request.include ?? []) {
      const p = new SqlParams();
      p.values.push(...params.values);
      const rows = await this.db.query<{ content: Resource; patient_id: string | null }>(
        `SELECT r.content, r.patient_id FROM fhir_reference x JOIN fhir_resource r ON r.resource_type = x.target_type AND r.id = x.target_id AND NOT r.deleted
          WHERE x.resource_type = ${p.add(include.resourceType)} AND ${storedCodes('x', storedAs(include.resourceType, include.searchParam), p)} AND x.id = ANY(${p.add(ids)}::text[])
                ${include.targetType ? `AND x.target_type = ${p.add(include.targetType)}` : ''}${allowed}`,
        p.values,
      );
      for (const row of rows) found.set(`${row.content.resourceType}/${row.content.id}`, row);
    }
    for (const rev of request.revInclude ?? []) {
      const p = new SqlParams();
      p.values.push(...params.values);
      const rows = await this.db.query<{ content: Resource; patient_id: string | null }>(
        `SELECT r.content, r.patient_id FROM fhir_reference x JOIN fhir_resource r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted
          WHERE x.resource_type = ${p.add(rev.resourceType)} AND ${storedCodes('x', storedAs(rev.resourceType, rev.searchParam), p)}
            AND x.target_type = ${p.add(request.resourceType)} AND x.target_id = ANY(${p.add(ids)}::text[])${allowed} LIMIT ${MAX_COUNT}`,
        p.values,
      );
      for (const row of rows) found.set(`${row.content.resourceType}/${row.content.id}`, row);
    }
    return [...found.values()].map((row) => {
      this.touch('search', row.content.resourceType, row.content.id!, row.patient_id);
      return { fullUrl: `${this.context.baseUrl}/${getReferenceString(row.content)}`, resource: row.content, search: { mode: 'include' } };
    });
  }

  /** The matches only: medplum's default would also return _include'd resources and the lenient-handling outcome. */
  override async searchResources<T extends Resource>(request: SearchRequest<T>): Promise<WithId<T>[]> {
    const bundle = await this.search(request);
    return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as WithId<T>);
  }

  async searchByReference<T extends Resource>(request: SearchRequest<T>, referenceField: string, references: string[]): Promise<Record<string, WithId<T>[]>> {
    const result: Record<string, WithId<T>[]> = {};
    for (const reference of references) {
      result[reference] = await this.searchResources({ ...request, filters: [...(request.filters ?? []), { code: referenceField, operator: Operator.EQUALS, value: reference }] });
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Patient compartment
  // ---------------------------------------------------------------------------------------------

  /** Everything in one patient's record: the Patient and every entry that points at them. */
  async everything(patientId: string, options: { count?: number; since?: string } = {}): Promise<Bundle> {
    const patient = await this.readResource('Patient', patientId);
    const params = new SqlParams();
    const since = options.since ? ` AND r.last_updated >= ${params.add(options.since)}` : '';
    const entries = this.context.access.entryFilter(params);
    const rows = await this.db.query<{ content: Resource }>(
      `SELECT r.content FROM fhir_resource r WHERE r.patient_id = ${params.add(patientId)} AND NOT r.deleted AND r.resource_type <> 'Patient'${since}${entries ? ` AND ${entries}` : ''}
        ORDER BY r.last_updated DESC LIMIT ${Math.min(options.count ?? 5000, 10_000)}`,
      params.values,
    );
    this.touch('read', 'Patient', patientId, patientId);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total: rows.length + 1,
      entry: [patient, ...rows.map((r) => r.content)].map((resource) => ({ fullUrl: `${this.context.baseUrl}/${getReferenceString(resource)}`, resource, search: { mode: 'match' } })),
    };
  }

  /**
   * When the request changed the record, writes its one audit entry in the transaction given: everything
   * the request touched so far (a PATCH reads, then updates; a conditional reference searches first),
   * taken off the list the request audits afterwards. A request that only looked is audited after it.
   */
  async auditRequestChanges(tx: Db): Promise<void> {
    const touched = this.touches.slice(0);
    if (!touched.some((t) => t.action === 'create' || t.action === 'update' || t.action === 'delete')) return;
    await this.context.audit.changes(tx, touched);
    this.touches.splice(0, touched.length);
  }

  private touch(action: Touch['action'], resourceType: string, id: string, patientId: string | null): void {
    this.touches.push({ action, resourceType, id, patientId });
  }
}

// -----------------------------------------------------------------------------------------------

const alreadyExists = ({ resourceType, id }: NewVersion) => new OperationOutcomeError(normalizeOperationOutcome(new Error(`${resourceType}/${id} already exists`)));

const CONDITIONAL_REFERENCE = /^[A-Z][A-Za-z]+\?./;

/** Every Reference in a resource whose reference is a search (`Type?param=value`), with its FHIRPath-like path. */
function conditionalReferences(value: unknown, path: string, found: Array<{ holder: { reference: string }; path: string }> = []) {
  if (Array.isArray(value)) for (const [i, item] of value.entries()) conditionalReferences(item, `${path}[${i}]`, found);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'reference' && typeof item === 'string' && CONDITIONAL_REFERENCE.test(item)) found.push({ holder: value as { reference: string }, path: `${path}.reference` });
      else conditionalReferences(item, `${path}.${key}`, found);
    }
  }
  return found;
}

function patientOf(resource: Resource | null): string | null {
  if (!resource) return null;
  return resource.resourceType === 'Patient' ? resource.id! : compartmentPatient(resource.resourceType, extractIndex(resource));
}

function historyBundle<T extends Resource>(
  baseUrl: string,
  _type: string,
  rows: Array<{ resource_type: string; id: string; content: Resource | null; deleted: boolean; version_id: number; last_updated: string }>,
): Bundle<WithId<T>> {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: rows.length,
    entry: rows.map((row) => ({
      fullUrl: `${baseUrl}/${row.resource_type}/${row.id}`,
      ...(row.content ? { resource: row.content as WithId<T> } : {}),
      request: { method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT', url: `${row.resource_type}/${row.id}` },
      response: { status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200', lastModified: row.last_updated, etag: `W/"${row.version_id}"` },
    })),
  };
}

/** _elements and _summary: keep the asked-for top-level elements plus the mandatory ones. */
function selectElements<T extends Resource>(resource: T, fields: string[] | undefined, summary: string | undefined): T {
  if (!fields?.length && summary !== 'true' && summary !== 'data' && summary !== 'text') return resource;
  if (summary === 'data') {
    const { text: _text, ...rest } = resource as T & { text?: unknown };
    return rest as T;
  }
  const keep = new Set(['resourceType', 'id', 'meta', ...(fields ?? ['identifier', 'name', 'status', 'code', 'subject', 'patient', 'birthDate', 'gender', 'active'])]);
  const picked = Object.fromEntries(Object.entries(resource).filter(([key]) => keep.has(key))) as T;
  picked.meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }] };
  return picked;
}

/** The search as a URL (self and next links), without the parameters that were ignored under handling=lenient. */
function searchUrl(baseUrl: string, request: SearchRequest, ignored: string[], extra: Record<string, string>): string {
  const query = new URLSearchParams();
  for (const filter of request.filters ?? []) {
    if (ignored.includes(filter.code)) continue;
    if (PREFIX_OPERATORS.has(filter.operator)) query.append(filter.code, `${filter.operator}${filter.value}`);
    else query.append(modifierCode(filter), filter.value);
  }
  for (const rule of request.sortRules ?? []) if (!ignored.includes(`_sort=${rule.code}`)) query.append('_sort', `${rule.descending ? '-' : ''}${rule.code}`);
  if (request.count !== undefined) query.set('_count', String(request.count));
  for (const include of request.include ?? []) query.append('_include', `${include.resourceType}:${include.searchParam}${include.targetType ? `:${include.targetType}` : ''}`);
  for (const rev of request.revInclude ?? []) query.append('_revinclude', `${rev.resourceType}:${rev.searchParam}${rev.targetType ? `:${rev.targetType}` : ''}`);
  if (request.fields?.length) query.set('_elements', request.fields.join(','));
  if (request.total) query.set('_total', request.total);
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  const text = query.toString();
  return `${baseUrl}/${request.resourceType}${text ? `?${text}` : ''}`;
}

const PREFIX_OPERATORS = new Set(['ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** Filters back into query form: modifiers (:exact, :contains, :not, :missing…) and date/number prefixes. */
function modifierCode(filter: { code: string; operator: string }): string {
  const modifiers: Record<string, string> = {
    exact: ':exact',
    contains: ':contains',
    not: ':not',
    missing: ':missing',
    present: ':missing',
    text: ':text',
    above: ':above',
    below: ':below',
    in: ':in',
    'not-in': ':not-in',
    'of-type': ':of-type',
    identifier: ':identifier',
  };
  return `${filter.code}${modifiers[filter.operator] ?? ''}`;
}
