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
import { newVersionsStatement, prepareVersion, type NewVersion } from './versions.ts';
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
      writeGroup(db, context.audit, items).catch((error: unknown) => (isUniqueViolation(error) && attempt < 3 ? write(attempt + 1) : Promise.reject(error)));
    const task = write(1).then((written) => {
      counts.bundles += written.items;
      counts.resources += written.resources;
      counts.skipped += items.length - written.items;
      onProgress?.(counts);
    });
    inFlight.push(task);
    task.then(() => inFlight.splice(inFlight.indexOf(task), 1), () => undefined);
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
async function writeGroup(db: Db, audit: AuditTrail, group: PreparedItem[]): Promise<{ items: number; resources: number }> {
  // Built before BEGIN, for the usual case that nothing of the group has landed yet.
  const all = newVersionsStatement(group.flatMap((item) => item.versions));
  return db.transaction(async (tx) => {
    const landed = await landedItems(tx, group);
    const fresh = group.filter((_, i) => !landed.has(i));
    const versions = fresh.flatMap((item) => item.versions);
    const statement = landed.size === 0 ? all : newVersionsStatement(versions);
    if (fresh.length > 0) {
      await tx.query(
        `INSERT INTO fhir_import_item (hash, label, resources) SELECT decode(h, 'hex'), l, n FROM unnest($1::text[], $2::text[], $3::int[]) AS x(h, l, n)`,
        [fresh.map((item) => item.hash), fresh.map((item) => item.label), fresh.map((item) => item.versions.length)],
      );
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
  });
}

/**
 * Which items of a group are already stored, in three queries for the whole group: those in the
 * ledger; and, for data imported before the ledger or by other means, a bundle whose first conditional
 * entry (the Patient, in a patient bundle) is stored, or whose explicit ids are.
 */
async function landedItems(tx: Db, group: PreparedItem[]): Promise<Set<number>> {
  const landed = new Set<number>();
  const inLedger = await tx.query<{ i: number }>(
    `SELECT (x.i - 1)::int AS i FROM unnest($1::text[]) WITH ORDINALITY AS x(h, i) JOIN fhir_import_item l ON l.hash = decode(x.h, 'hex')`,
    [group.map((item) => item.hash)],
  );
  for (const hit of inLedger) landed.add(hit.i);
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
    const hits = await tx.query<{ i: number }>(
      `SELECT DISTINCT x.i FROM unnest($1::int[], $2::text[], $3::text[]) AS x(i, t, id) JOIN fhir_resource r ON r.resource_type = x.t AND r.id = x.id`,
      [explicit.map((e) => e.i), explicit.map((e) => e.resourceType), explicit.map((e) => e.id)],
    );
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
  return createHash('sha256').update(item.text?.trim() ?? JSON.stringify(item.bundle ?? item.resource)).digest('hex');
}

/** A duplicate key (SQLSTATE 23505), on either engine. */
const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

function prepareItem(item: ImportItem, now: string): Omit<PreparedItem, 'hash'> {
  if (item.resource) return prepareResources(item.label, [{ resource: item.resource, keepId: true }], now);
  const bundle = item.bundle;
  if (!bundle || bundle.resourceType !== 'Bundle') throw new AppError('invalid', `${item.label}: expected a Bundle or NDJSON resources`, item.label);
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
  const versions = withIds.map((entry, i) => {
    const resource = entry.resource;
    resolveReferences(resource, references);
    if (entry.ifNoneExist) landedIf.push(identifierCondition(label, i, entry.resource.resourceType, entry.ifNoneExist));
    else if (entry.keepId) ids.push({ resourceType: resource.resourceType, id: resource.id });
    const version = prepareVersion(resource, 1, now);
    assertValid(label, i, version);
    return version;
  });
  return { label, versions, landedIf, ids };
}

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
function assertValid(label: string, entry: number, version: NewVersion): void {
  const issue = recordValidationIssues(version.content)[0];
  if (!issue) return;
  const where = issue.expression?.[0] ?? version.resourceType;
  throw new AppError('invalid', `${label} entry ${entry} (${where}): ${issue.details?.text ?? issue.diagnostics ?? 'invalid'}`, `${label}:Bundle.entry[${entry}]`);
}
