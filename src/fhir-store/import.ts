/**
 * Bulk import of FHIR data (transaction/batch/collection Bundles, or NDJSON resources) straight into
 * the store: ids assigned, urn:uuid and conditional references resolved, every resource validated,
 * then many bundles written per transaction with one statement per table. Each bundle is all-or-
 * nothing, and lands with a ledger row (fhir_import_item) holding the sha256 of its JSON: a bundle or
 * NDJSON line already in the ledger is skipped, whatever its shape (plain POSTs with urn:uuid
 * references included), as is one whose conditional Patient (ifNoneExist) or explicit ids already
 * exist. Importing the same files again, or re-running after a crash or a kill, lands each once.
 */
import { createHash } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { AppError } from '../shared/errors.ts';
import type { Db } from '../storage/db.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import type { AuditTrail } from './context.ts';
import { heldNhsNumber, newVersionsStatement, prepareVersion, type NewVersion } from './versions.ts';
import { findPatientReferences, missingPatients, nhsNumberHolders, type At } from './patient-references.ts';
import { NHS_NUMBER_SYSTEM } from '../shared/ids.ts';
import { recordValidationIssues } from './validation.ts';
import { newResourceId } from '../shared/resource-ids.ts';

/** One unit of import: a Bundle, or one NDJSON line. `label` says where it came from (file and line). */
export interface ImportItem {
  label: string;
  bundle?: Bundle;
  resource?: Resource;
  /** The JSON text it was parsed from (a file, an NDJSON line), when read from text: hashed for the ledger. */
  text?: string;
}

export interface ImportCounts {
  bundles: number;
  resources: number;
  skipped: number;
}

/**
 * Resources per transaction. Larger groups leave the pipeline part-empty for longer (the first group is
 * prepared with the database idle, the last written with this process idle); smaller ones pay more per
 * transaction. ~1,000 with three in flight measured fastest on 2 vCPUs (docs/benchmarks.md).
 */
const GROUP_RESOURCES = 1000;

interface PreparedItem {
  label: string;
  /** sha256 (hex) of the item's JSON as read, before ids are given: its key in the ledger. */
  hash: string;
  versions: NewVersion[];
  /** Token conditions that, if already stored, mean this item landed before. */
  landedIf: Array<{ resourceType: string; system: string | null; value: string }>;
  ids: Array<{ resourceType: string; id: string }>;
  /**
   * Every entry keeps the id it came with (NDJSON lines, PUT entries): stored ids then say the item landed,
   * and the ledger need not remember it. An item with any server-given id is remembered by its hash.
   */
  keyed: boolean;
  /** The entries' resources, for those whose references by NHS number are completed from the store. */
  resources: Array<Resource & { id: string }>;
  /** Patients named by this item's entries that are not among them: each must be stored. */
  namedPatients: Array<{ entry: number; id: string; at: At }>;
  /** References by an NHS number no Patient of this item holds: completed from the store. */
  byNhsNumber: Array<{ entry: number; reference: { reference?: string }; nhsNumber: string; at: At }>;
}

/** Imports the items, which it owns from then on: their resources are completed in place. */
export async function importFhir(db: Db, context: { audit: AuditTrail }, items: AsyncIterable<ImportItem> | Iterable<ImportItem>, onProgress?: (counts: ImportCounts) => void): Promise<ImportCounts> {
  loadFhirDefinitions();
  const counts: ImportCounts = { bundles: 0, resources: 0, skipped: 0 };
  let group: PreparedItem[] = [];
  let groupSize = 0;
  // While groups are written, the next is prepared (validated and indexed). A PostgreSQL server writes
  // three groups at once on three connections; PGlite runs one statement at a time.
  const inFlight: Promise<void>[] = [];
  const maxInFlight = db.engine === 'postgres' ? 3 : 1;
  const seen = new Set<string>();
  const flush = async () => {
    if (group.length === 0) return;
    const items = group.filter((item) => firstSighting(item, seen));
    counts.skipped += group.length - items.length;
    group = [];
    groupSize = 0;
    // A run racing this one may land an item between the check and the write: the ledger's key refuses the
    // second, and the group, rolled back whole, is checked again.
    const write = (attempt: number): Promise<{ items: number; resources: number }> =>
      writeGroup(db, context.audit, items, now, [...inFlight]).catch((error: unknown) => (isUniqueViolation(error) && attempt < 3 ? write(attempt + 1) : Promise.reject(error)));
    const task = write(1).then((written) => {
      counts.bundles += written.items;
      counts.resources += written.resources;
      counts.skipped += items.length - written.items;
      onProgress?.(counts);
    });
    inFlight.push(task);
    task.then(
      () => inFlight.splice(inFlight.indexOf(task), 1),
      () => undefined,
    );
    if (inFlight.length >= maxInFlight) await Promise.race(inFlight);
  };
  const now = new Date().toISOString();
  try {
    for await (const item of items) {
      // Hashed before preparing, which gives ids and resolves references in place.
      const hash = itemHash(item);
      const prepared = { ...prepareItem(item, now), hash };
      group.push(prepared);
      groupSize += prepared.versions.length;
      if (groupSize >= GROUP_RESOURCES) await flush();
    }
    await flush();
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
  }
  return counts;
}

/**
 * False for an item this run has met before (the same JSON, conditional Patient or ids): groups
 * written side by side cannot see each other's rows, so a repeat within one run is caught here.
 */
function firstSighting(item: PreparedItem, seen: Set<string>): boolean {
  const condition = item.landedIf[0];
  const keys = [item.hash, ...(condition ? [`${condition.resourceType}?${condition.system}|${condition.value}`] : item.ids.map((id) => `${id.resourceType}/${id.id}`))];
  if (keys.some((key) => seen.has(key))) return false;
  for (const key of keys) seen.add(key);
  return true;
}

/** Writes the items that have not landed yet, in one transaction. */
async function writeGroup(db: Db, audit: AuditTrail, group: PreparedItem[], now: string, earlier: Promise<void>[]): Promise<{ items: number; resources: number }> {
  await settlePatients(db, group, now, earlier);
  // Built before BEGIN, for the usual case that nothing of the group has landed yet.
  const all = newVersionsStatement(group.flatMap((item) => item.versions));
  return heldNhsNumberByRow(group, () =>
    db.transaction(async (tx) => {
      const landed = await landedItems(tx, group);
      const fresh = group.filter((_, i) => !landed.has(i));
      const versions = fresh.flatMap((item) => item.versions);
      const statement = landed.size === 0 ? all : newVersionsStatement(versions);
      const remembered = fresh.filter((item) => !item.keyed);
      if (remembered.length > 0) {
        await tx.query(`INSERT INTO fhir_import_item (hash, label, resources) SELECT decode(h, 'hex'), l, n FROM unnest($1::text[], $2::text[], $3::int[]) AS x(h, l, n)`, [
          remembered.map((item) => item.hash),
          remembered.map((item) => item.label),
          remembered.map((item) => item.versions.length),
        ]);
      }
      if (statement) await tx.query(statement.sql, statement.values);
      if (versions.length > 0) {
        const patients = new Set(versions.map((v) => v.patientId).filter(Boolean));
        await audit.event(tx, {
          action: 'fhir.import',
          entityType: 'Bundle',
          entityId: fresh[0]!.label,
          summary: `Imported ${versions.length} resources in ${fresh.length} bundle(s) for ${patients.size} patient record(s)`,
          detail: { from: fresh[0]!.label, to: fresh.at(-1)!.label, patients: [...patients].slice(0, 1000) },
        });
      }
      return { items: fresh.length, resources: versions.length };
    }),
  );
}

/**
 * The Patients a group's entries name from outside their own bundle must be stored, and references by
 * NHS number are completed with the Patient holding it. A Patient may be in a group still being written
 * (NDJSON: Patient lines, then their Observations), so what is not found is looked for again once the
 * groups before this one are done.
 */
async function settlePatients(db: Db, group: PreparedItem[], now: string, earlier: Promise<void>[]): Promise<void> {
  // Patients written by this same group land in the same statement: an entry may name them (an NDJSON
  // export's Patient.ndjson and AllergyIntolerance.ndjson lines can share a group).
  const own = ownPatients(group.flatMap((item) => item.resources));
  const named = group.flatMap((item) => item.namedPatients.map((p) => ({ item, ...p }))).filter((p) => !own.ids.has(p.id));
  const byNhsNumber = group.flatMap((item) => item.byNhsNumber.map((r) => ({ item, ...r })));
  for (const r of byNhsNumber) {
    const holder = own.byNhsNumber.get(r.nhsNumber);
    if (!holder) continue;
    r.reference.reference = `Patient/${holder}`;
    r.item.versions[r.entry] = prepareVersion(r.item.resources[r.entry]!, 1, now);
  }
  const elsewhere = byNhsNumber.filter((r) => !own.byNhsNumber.has(r.nhsNumber));
  if (named.length === 0 && elsewhere.length === 0) return;
  const look = async () =>
    [
      await missingPatients(
        db,
        named.map((p) => p.id),
      ),
      await nhsNumberHolders(
        db,
        elsewhere.map((r) => r.nhsNumber),
      ),
    ] as const;
  let [missing, holders] = await look();
  if (missing.size > 0 || elsewhere.some((r) => !holders.has(r.nhsNumber))) {
    await Promise.allSettled(earlier);
    [missing, holders] = await look();
  }
  const unstored = named.find((p) => missing.has(p.id));
  if (unstored) throw entryError(unstored.item.label, unstored.entry, unstored.at(), `Patient/${unstored.id} does not exist`);
  for (const { item, entry, reference, nhsNumber, at } of elsewhere) {
    const holder = holders.get(nhsNumber);
    if (!holder) throw entryError(item.label, entry, at(), `no patient holds NHS number ${nhsNumber}`);
    reference.reference = `Patient/${holder}`;
    item.versions[entry] = prepareVersion(item.resources[entry]!, 1, now);
  }
}

/** A Patient whose NHS number an active Patient already holds fails its group; the error names its bundle and entry, and the holder. */
async function heldNhsNumberByRow<T>(group: PreparedItem[], write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const held = heldNhsNumber(error);
    if (!held) throw error;
    const where = (id: string) => {
      for (const item of group) {
        const entry = item.versions.findIndex((v) => v.resourceType === 'Patient' && v.id === id);
        if (entry !== -1) return { item, entry };
      }
      return undefined;
    };
    const duplicate = where(held.patientId);
    const holder = where(held.holder);
    const by = `Patient/${held.holder}${holder ? ` (${holder.item.label} entry ${holder.entry}, in this import)` : ''}`;
    if (!duplicate) throw new AppError('conflict', `an imported Patient's NHS number is already held by ${by}`);
    throw new AppError(
      'conflict',
      `${duplicate.item.label} entry ${duplicate.entry} (Patient.identifier): its NHS number is already held by ${by}; nothing of this bundle was imported`,
      `${duplicate.item.label}:Bundle.entry[${duplicate.entry}]`,
    );
  }
}

/**
 * Which items of a group are already stored, in three queries for the whole group: those in the
 * ledger (items with server-given ids); and, for data imported before the ledger or by other means, a bundle whose first conditional
 * entry (the Patient, in a patient bundle) is stored, or whose explicit ids are.
 */
async function landedItems(tx: Db, group: PreparedItem[]): Promise<Set<number>> {
  const landed = new Set<number>();
  const unkeyed = group.flatMap((item, i) => (item.keyed ? [] : [{ i, hash: item.hash }]));
  if (unkeyed.length > 0) {
    const inLedger = await tx.query<{ i: number }>(`SELECT x.i FROM unnest($1::int[], $2::text[]) AS x(i, h) JOIN fhir_import_item l ON l.hash = decode(x.h, 'hex')`, [
      unkeyed.map((u) => u.i),
      unkeyed.map((u) => u.hash),
    ]);
    for (const hit of inLedger) landed.add(hit.i);
  }
  const conditional = group.flatMap((item, i) => (item.landedIf[0] ? [{ i, ...item.landedIf[0] }] : []));
  if (conditional.length > 0) {
    const hits = await tx.query<{ i: number }>(
      `SELECT DISTINCT x.i FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS x(i, t, s, v)
         JOIN fhir_token t ON t.resource_type = x.t AND t.code = 'identifier' AND t.value = x.v AND t.system IS NOT DISTINCT FROM x.s`,
      [conditional.map((c) => c.i), conditional.map((c) => c.resourceType), conditional.map((c) => c.system), conditional.map((c) => c.value)],
    );
    for (const hit of hits) landed.add(hit.i);
  }
  const explicit = group.flatMap((item, i) => (item.landedIf.length === 0 ? item.ids.map((id) => ({ i, ...id })) : []));
  if (explicit.length > 0) {
    const hits = await tx.query<{ i: number }>(`SELECT DISTINCT x.i FROM unnest($1::int[], $2::text[], $3::text[]) AS x(i, t, id) JOIN fhir_resource r ON r.resource_type = x.t AND r.id = x.id`, [
      explicit.map((e) => e.i),
      explicit.map((e) => e.resourceType),
      explicit.map((e) => e.id),
    ]);
    for (const hit of hits) landed.add(hit.i);
  }
  return landed;
}

/**
 * The item's key in the ledger: sha256 of the JSON text it was read from (the same file or line read
 * again is the same item; any change is another), or of its JSON when it was made in memory. Hashing
 * the text as read costs ~1 µs a resource; writing the JSON out again first cost ~5 (of ~110).
 */
function itemHash(item: ImportItem): string {
  return createHash('sha256')
    .update(item.text?.trim() ?? JSON.stringify(item.bundle ?? item.resource))
    .digest('hex');
}

/** A duplicate key (SQLSTATE 23505), on either engine. */
const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

function prepareItem(item: ImportItem, now: string): Omit<PreparedItem, 'hash'> {
  if (item.resource) return prepareResources(item.label, [{ resource: item.resource, keepId: true }], now);
  const bundle = item.bundle;
  if (bundle?.resourceType !== 'Bundle') throw new AppError('invalid', `${item.label}: expected a Bundle or NDJSON resources`, item.label);
  if (!['transaction', 'batch', 'collection', 'searchset'].includes(bundle.type ?? '')) {
    throw new AppError('invalid', `${item.label}: a Bundle of type '${bundle.type}' cannot be imported`, `${item.label}:Bundle.type`);
  }
  const entries = (bundle.entry ?? []).map((entry, i) => {
    if (!entry.resource) throw new AppError('invalid', `${item.label} entry ${i}: no resource`, `${item.label}:Bundle.entry[${i}]`);
    const method = entry.request?.method ?? 'POST';
    if (method !== 'POST' && method !== 'PUT') throw new AppError('invalid', `${item.label} entry ${i}: only POST and PUT entries can be imported`, `${item.label}:Bundle.entry[${i}].request.method`);
    const putId = method === 'PUT' ? /^[A-Z][A-Za-z]+\/([A-Za-z0-9\-.]{1,64})$/.exec(entry.request?.url ?? '')?.[1] : undefined;
    return { resource: putId ? { ...entry.resource, id: putId } : entry.resource, keepId: !!putId || bundle.type === 'collection', fullUrl: entry.fullUrl, ifNoneExist: entry.request?.ifNoneExist };
  });
  return prepareResources(item.label, entries, now);
}

interface Entry {
  resource: Resource;
  keepId: boolean;
  fullUrl?: string;
  ifNoneExist?: string;
}

function prepareResources(label: string, entries: Entry[], now: string): Omit<PreparedItem, 'hash'> {
  const references = new Map<string, string>();
  const withIds = entries.map((entry) => {
    const id = entry.keepId && entry.resource.id ? entry.resource.id : newResourceId();
    const reference = `${entry.resource.resourceType}/${id}`;
    if (entry.fullUrl) references.set(entry.fullUrl, reference);
    return { ...entry, resource: { ...entry.resource, id } as Resource & { id: string } };
  });
  const landedIf: PreparedItem['landedIf'] = [];
  const ids: PreparedItem['ids'] = [];
  const keyed = entries.every((entry) => entry.keepId && !!entry.resource.id && !entry.ifNoneExist);
  const item: Omit<PreparedItem, 'hash'> = { label, versions: [], landedIf, ids, keyed, resources: withIds.map((e) => e.resource), namedPatients: [], byNhsNumber: [] };
  const patients = ownPatients(withIds.map((e) => e.resource));
  item.versions = withIds.map((entry, i) => {
    const resource = entry.resource;
    resolveReferences(resource, references);
    if (entry.ifNoneExist) landedIf.push(identifierCondition(label, i, entry.resource.resourceType, entry.ifNoneExist));
    else if (entry.keepId) ids.push({ resourceType: resource.resourceType, id: resource.id });
    assertValid(label, i, resource);
    findOwner(item, i, resource, patients);
    return prepareVersion(resource, 1, now);
  });
  return item;
}

/** The item's own Patients: their ids, and the active ones by NHS number. */
function ownPatients(resources: Array<Resource & { id: string }>): { ids: Set<string>; byNhsNumber: Map<string, string> } {
  const ids = new Set<string>();
  const byNhsNumber = new Map<string, string>();
  for (const resource of resources) {
    if (resource.resourceType !== 'Patient') continue;
    ids.add(resource.id);
    if (resource.active === false) continue;
    for (const identifier of resource.identifier ?? []) if (identifier.system === NHS_NUMBER_SYSTEM && identifier.value) byNhsNumber.set(identifier.value, resource.id);
  }
  return { ids, byNhsNumber };
}

/**
 * An entry's references into the Patient compartment, as for a single write (patient-references.ts):
 * what its own bundle answers is settled here, the rest from the store when its group is written.
 */
function findOwner(item: Omit<PreparedItem, 'hash'>, entry: number, resource: Resource, own: ReturnType<typeof ownPatients>): void {
  const found = findPatientReferences(resource);
  if (!found) return;
  const issue = found.issues[0];
  if (issue) throw entryError(item.label, entry, issue.expression?.[0] ?? resource.resourceType, issue.details?.text ?? 'invalid');
  for (const { id, at } of found.patients) if (!own.ids.has(id)) item.namedPatients.push({ entry, id, at });
  for (const { reference, nhsNumber, at } of found.byNhsNumber) {
    const holder = own.byNhsNumber.get(nhsNumber);
    if (holder) reference.reference = `Patient/${holder}`;
    else item.byNhsNumber.push({ entry, reference, nhsNumber, at });
  }
}

const entryError = (label: string, entry: number, at: string, text: string) => new AppError('invalid', `${label} entry ${entry} (${at}): ${text}`, `${label}:Bundle.entry[${entry}]`);

/** `identifier=system|value` — the one conditional form imports need (resuming by NHS number). */
function identifierCondition(label: string, index: number, resourceType: string, query: string) {
  const match = /^identifier=([^|&]*)\|([^&]+)$/.exec(decodeURIComponent(query));
  if (!match) throw new AppError('invalid', `${label} entry ${index}: ifNoneExist must be identifier=system|value`, `${label}:Bundle.entry[${index}].request.ifNoneExist`);
  return { resourceType, system: match[1] || null, value: match[2]! };
}

/**
 * Replaces urn:uuid / fullUrl references with the ids just assigned, everywhere in the resource, in
 * place: the import owns the items it is given (freshly parsed or generated), and copying every
 * resource of a large import only fed the garbage collector.
 */
function resolveReferences(value: unknown, references: Map<string, string>): void {
  if (Array.isArray(value)) {
    for (const item of value) resolveReferences(item, references);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const child = object[key];
    if (key !== 'reference' || typeof child !== 'string') resolveReferences(child, references);
    else if (references.has(child)) object[key] = references.get(child);
  }
}

/** R4 and NHS identifier rules, as for a single write; the first problem names its bundle, entry and field. */
function assertValid(label: string, entry: number, resource: Resource): void {
  const issue = recordValidationIssues(resource)[0];
  if (!issue) return;
  throw entryError(label, entry, issue.expression?.[0] ?? resource.resourceType, issue.details?.text ?? issue.diagnostics ?? 'invalid');
}
