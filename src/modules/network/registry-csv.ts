/**
 * The registry as a folder of CSV files: our own export, or the NHS ODS ePCN publication (PCN Details,
 * PCN Core Partner Details). readRegistryDir validates everything and writes nothing, stopping at the
 * first problem with its file, line and column; saveRegistry then writes the snapshot in one go.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { AppError, notFound } from '../../shared/errors.ts';
import { isoDate, odsCode, partnerCode, postcode } from '../../shared/schemas.ts';
import type { Db } from '../../storage/db.ts';
import { ALLOCATION_CSV_COLUMNS, allocationCsvRows } from '../funding/index.ts';
import { PARTNER_TYPES, type Allocation, type Area, type Membership, type Partner, type Pcn, type PcnPartner, type Practice, type RegistrySnapshot } from './types.ts';

type Kind = 'areas' | 'pcns' | 'practices' | 'memberships' | 'partners' | 'allocations';

/**
 * Other headers that mean our columns: the ePCN file's, and its wording before 2022 (CCG for sub-ICB).
 * Headers that differ from ours only by case, spaces, line breaks or punctuation need no entry:
 * `PCN Code`, `Open Date` and `Close Date` already are pcn_code, open_date and close_date.
 */
const COLUMN_ALIASES: Partial<Record<Kind, Record<string, readonly string[]>>> = {
  pcns: {
    area_code: ['Current Sub ICB Location Code', 'Current Clinical Commissioning Group Code'],
    area_name: ['Sub ICB Location', 'Current Sub ICB Location Name', 'Current Clinical Commissioning Group Name', 'Clinical Commissioning Group'],
  },
  practices: {
    ods_code: ['Partner Organisation Code'],
    name: ['Partner Name'],
    joined_date: ['Practice to PCN Relationship Start Date'],
    left_date: ['Practice to PCN Relationship End Date'],
  },
};

/** NHS England's rule for a PCN's list when an area arrives without its own range (an ePCN import). */
const DEFAULT_SIZE_MIN = 30_000;
const MAX_INT4 = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// Cell and row schemas: cells arrive trimmed, an empty optional cell becomes null
// ---------------------------------------------------------------------------------------------

/** A cell that must convert; the message quotes the value as written. */
const cell = <T>(convert: (value: string) => T | undefined, problem: (value: string) => string) =>
  z.string().transform((value, ctx) => {
    const converted = convert(value);
    if (converted !== undefined) return converted;
    ctx.addIssue({ code: 'custom', message: problem(value) });
    return z.NEVER;
  });

// The issue's path is the column, so the message reads "open_date is required".
const filled = z.string().min(1, { error: (issue) => `${String(issue.path?.at(-1))} is required` });
const required = <T extends z.ZodType<unknown, string>>(schema: T) => filled.pipe(schema);
const optional = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z
    .string()
    .transform((value) => (value === '' ? null : value))
    .pipe(schema.nullable());
const text = z.string();

/** yyyy-mm-dd, or the ePCN's yyyymmdd; always yyyy-mm-dd out. */
const date = cell(
  (value) => {
    const iso = /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}` : value;
    return isoDate.safeParse(iso).success ? iso : undefined;
  },
  (value) => `'${value}' is not a date: write yyyy-mm-dd or yyyymmdd`,
);
const wholeNumber = (max: number) => (value: string) => (/^\d+$/.test(value) && Number(value) <= max ? Number(value) : undefined);
const listSize = cell(wholeNumber(MAX_INT4), (value) => `'${value}' is not a list size: expected a whole number of patients, 0 or more`);
const pence = cell(wholeNumber(Number.MAX_SAFE_INTEGER), (value) => `'${value}' is not an amount in pence: expected a whole number, 0 or more`);
const coordinate = (name: string, limit: number) =>
  cell(
    (value) => (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value) && Math.abs(Number(value)) <= limit ? Number(value) : undefined),
    (value) => `'${value}' is not a ${name}: expected a number from -${limit} to ${limit}`,
  );
const latitude = coordinate('latitude', 90);
const longitude = coordinate('longitude', 180);
const financialYear = cell(
  (value) => (/^\d{4}\/\d{2}$/.test(value) ? value : undefined),
  (value) => `'${value}' is not a financial year: write it like 2024/25`,
);
const partnerType = cell(
  (value) => PARTNER_TYPES.find((type) => type === value.toLowerCase()),
  (value) => `'${value}' is not a partner type: expected one of ${PARTNER_TYPES.join(', ')}`,
);

const ROWS = {
  areas: z.object({ code: required(odsCode('any')), name: filled, size_min: optional(listSize), size_max: optional(listSize) }),
  pcns: z.object({
    pcn_code: required(odsCode('pcn')),
    pcn_name: filled,
    area_code: required(odsCode('any')),
    area_name: optional(text),
    clinical_director: optional(text),
    nominated_payee_ods: optional(odsCode('practice')),
    open_date: required(date),
    close_date: optional(date),
  }),
  practices: z.object({
    ods_code: required(odsCode('practice')),
    name: filled,
    postcode: optional(postcode),
    town: optional(text),
    // Empty: a practice in no PCN (the export writes one so, for a practice whose membership has ended).
    pcn_code: optional(odsCode('pcn')),
    list_size: optional(listSize),
    latitude: optional(latitude),
    longitude: optional(longitude),
    joined_date: optional(date),
    left_date: optional(date),
  }),
  memberships: z.object({
    ods_code: required(odsCode('practice')),
    pcn_code: required(odsCode('pcn')),
    start_date: required(date),
    end_date: optional(date),
    // The nominated payee, from start_date, of the PCN this practice leaves (it was that PCN's payee).
    payee_after_ods: optional(odsCode('practice')),
  }),
  partners: z.object({
    pcn_code: optional(odsCode('pcn')), // empty: a partner not yet linked to a PCN
    partner_code: required(partnerCode),
    name: filled,
    type: required(partnerType),
    role: optional(text),
    postcode: optional(postcode),
    latitude: optional(latitude),
    longitude: optional(longitude),
  }),
  allocations: z.object({
    area_code: required(odsCode('any')),
    pcn_code: optional(odsCode('pcn')),
    amount_pence: required(pence),
    purpose: filled,
    financial_year: required(financialYear),
    source: filled,
  }),
} satisfies Record<Kind, z.ZodObject>;

interface FileSpec {
  kind: Kind;
  file: string;
  /** The ePCN publication's name for the same file. */
  epcn?: string;
  required: boolean;
  /** Columns the header must have. */
  columns: readonly string[];
}

const FILES: Record<Kind, FileSpec> = {
  areas: { kind: 'areas', file: 'areas.csv', required: false, columns: ['code', 'name'] },
  pcns: { kind: 'pcns', file: 'pcns.csv', epcn: 'PCN Details.csv', required: true, columns: ['pcn_code', 'pcn_name', 'area_code', 'open_date'] },
  practices: { kind: 'practices', file: 'practices.csv', epcn: 'PCN Core Partner Details.csv', required: true, columns: ['ods_code', 'name', 'pcn_code'] },
  memberships: { kind: 'memberships', file: 'memberships.csv', required: false, columns: ['ods_code', 'pcn_code', 'start_date'] },
  partners: { kind: 'partners', file: 'partners.csv', required: false, columns: ['pcn_code', 'partner_code', 'name', 'type'] },
  allocations: { kind: 'allocations', file: 'allocations.csv', required: false, columns: ['area_code', 'amount_pence', 'purpose', 'financial_year', 'source'] },
};

type RowData = { [K in Kind]: z.output<(typeof ROWS)[K]> };
type RowOf<K extends Kind> = RowData[K] & { line: number };
// Typed per kind through a mapped type, so readTable<K> knows what its schema gives.
const ROW_SCHEMAS: { [K in Kind]: z.ZodType<RowData[K]> } = ROWS;
interface Table<K extends Kind> {
  file: string;
  rows: RowOf<K>[];
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

const rowError = (file: string, line: number, column: string, message: string) => new AppError('invalid', `${file} line ${line}, column ${column}: ${message}`, `${file}:${line}:${column}`);

/** Codes already known: the database's, then each file's as it is read. */
interface Known {
  areas: Set<string>;
  pcnOpenDates: Map<string, string>;
  practices: Set<string>;
}

/** Reads and checks a folder of registry CSV files; throws at the first problem. Writes nothing. */
export async function readRegistryDir(db: Db, dir: string): Promise<RegistrySnapshot> {
  const names = await csvFileNames(dir);
  const tables = {
    areas: await readTable(dir, names, 'areas'),
    pcns: await readTable(dir, names, 'pcns'),
    practices: await readTable(dir, names, 'practices'),
    memberships: await readTable(dir, names, 'memberships'),
    partners: await readTable(dir, names, 'partners'),
    allocations: await readTable(dir, names, 'allocations'),
  };
  const known = await knownCodes(db);
  const areas = readAreas(tables.areas, known);
  const { pcns, newAreas } = readPcns(tables.pcns, known);
  const { practices, memberships: joined } = readPractices(tables.practices, known);
  checkPayees(tables.pcns, known);
  const memberships = mergeMemberships(joined, readMemberships(tables.memberships, known));
  checkOneMembershipAtATime(memberships);
  return {
    areas: [...areas, ...newAreas],
    pcns,
    practices,
    memberships: memberships.map((m) => m.membership),
    ...readPartners(tables.partners, known),
    allocations: readAllocations(tables.allocations, known),
  };
}

async function csvFileNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => /\.csv$/i.test(name));
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) throw notFound(`Folder ${dir}`);
    throw error;
  }
}

/** 'Current Sub ICB Loc\r\nCode' → 'currentsubicblocationcode': case, spacing and punctuation do not count, Loc = Location. */
function headerKey(header: string): string {
  return header
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .map((word) => (word === 'loc' ? 'location' : word))
    .join('');
}

const fileKey = (name: string) => headerKey(name.replace(/\.csv$/i, ''));

function findFile(names: readonly string[], spec: FileSpec): string | undefined {
  const wanted = new Set([spec.file, spec.epcn].filter((name) => name !== undefined).map(fileKey));
  const found = names.filter((name) => wanted.has(fileKey(name)));
  if (found.length > 1) throw new AppError('invalid', `${found.join(' and ')} both hold ${spec.kind}: keep one`, found[1]);
  if (found[0] === undefined && spec.required) {
    throw new AppError('invalid', `${spec.file}${spec.epcn ? ` (or the ePCN ${spec.epcn})` : ''} is missing`, spec.file);
  }
  return found[0];
}

async function readTable<K extends Kind>(dir: string, names: readonly string[], kind: K): Promise<Table<K>> {
  const spec = FILES[kind];
  const file = findFile(names, spec);
  if (file === undefined) return { file: spec.file, rows: [] };
  const [header, ...records] = parseCsv(file, await readFile(join(dir, file)));
  if (header === undefined) throw new AppError('invalid', `${file} is empty: it needs a header line`, file);
  const columns = columnIndexes(file, header, spec);
  return { file, rows: records.map((record) => readRow(file, kind, header.cells.length, columns, record)) };
}

/** One record checked against its file's row schema: cells trimmed, a column the file lacks read as empty. */
function readRow<K extends Kind>(file: string, kind: K, width: number, columns: Map<string, number>, { line, cells }: CsvRecord): RowOf<K> {
  const stray = cells.findIndex((value, index) => index >= width && value.trim() !== '');
  if (stray >= 0) throw rowError(file, line, String(stray + 1), `'${cells[stray]}' has no header above it`);
  const raw = Object.fromEntries(Object.keys(ROWS[kind].shape).map((column) => [column, cells[columns.get(column) ?? -1]?.trim() ?? '']));
  const parsed = ROW_SCHEMAS[kind].safeParse(raw);
  if (parsed.success) return { ...parsed.data, line };
  const [issue] = parsed.error.issues;
  throw rowError(file, line, String(issue?.path[0] ?? '?'), issue?.message ?? 'is not valid');
}

/** Our column for each header the file carries; other columns (addresses, ePCN extras) are ignored. */
function columnIndexes(file: string, header: CsvRecord, spec: FileSpec): Map<string, number> {
  const columnOf = new Map<string, string>();
  for (const column of Object.keys(ROWS[spec.kind].shape)) {
    for (const title of [column, ...(COLUMN_ALIASES[spec.kind]?.[column] ?? [])]) columnOf.set(headerKey(title), column);
  }
  const indexes = new Map<string, number>();
  header.cells.forEach((title, index) => {
    const column = columnOf.get(headerKey(title));
    if (column === undefined) return;
    if (indexes.has(column)) throw rowError(file, header.line, column, `two columns mean ${column}: keep one`);
    indexes.set(column, index);
  });
  const missing = spec.columns.find((column) => !indexes.has(column));
  if (missing) throw rowError(file, header.line, missing, `the required column ${missing} is missing`);
  return indexes;
}

interface CsvRecord {
  line: number; // physical line the record starts on; the header is line 1
  cells: string[];
}

/** Records with their line numbers (csv-parse counts a quoted \r\n as two lines, so lines are counted here). */
function parseCsv(file: string, content: Buffer): CsvRecord[] {
  const lineAt = lineCounter(content);
  const records: CsvRecord[] = [];
  let start = 0;
  try {
    parse(content, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (cells: string[], info) => {
        if (cells.some((value) => value.trim() !== '')) records.push({ line: lineAt(start), cells });
        start = info.bytes;
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = lineAt(start);
    throw new AppError('invalid', `${file} line ${line}: this is not valid CSV (${error.code})`, `${file}:${line}`);
  }
  return records;
}

const LF = 0x0a;
const CR = 0x0d;
const BLANK = new Set([0x20, 0x09, LF, CR]);

/** The physical line at a byte offset, skipping blank space first; offsets must not go backwards. */
function lineCounter(content: Buffer): (offset: number) => number {
  let at = 0;
  let line = 1;
  return (offset) => {
    while (BLANK.has(content[offset] ?? -1)) offset++;
    for (; at < offset; at++) {
      if (content[at] === LF || (content[at] === CR && content[at + 1] !== LF)) line++;
    }
    return line;
  };
}

async function knownCodes(db: Db): Promise<Known> {
  const areas = await db.query<{ code: string }>('SELECT code FROM area');
  const pcns = await db.query<{ code: string; openDate: string }>(`SELECT code, to_char(open_date, 'YYYY-MM-DD') AS "openDate" FROM pcn`);
  const practices = await db.query<{ ods: string }>('SELECT ods FROM practice');
  return {
    areas: new Set(areas.map((a) => a.code)),
    pcnOpenDates: new Map(pcns.map((p) => [p.code, p.openDate])),
    practices: new Set(practices.map((p) => p.ods)),
  };
}

/** Throws when a code appeared on an earlier line; else remembers this line. */
function assertFirst(seen: Map<string, number>, key: string, file: string, line: number, column: string, what: string): void {
  const earlier = seen.get(key);
  if (earlier !== undefined) throw rowError(file, line, column, `duplicate ${what}: already on line ${earlier}`);
  seen.set(key, line);
}

function assertEndsAfterStart(file: string, line: number, column: string, start: string, end: string | null): void {
  if (end !== null && end < start) throw rowError(file, line, column, `${end} is before the start, ${start}`);
}

function readAreas(table: Table<'areas'>, known: Known): Area[] {
  const seen = new Map<string, number>();
  return table.rows.map((row) => {
    assertFirst(seen, row.code, table.file, row.line, 'code', `area ${row.code}`);
    const sizeMin = row.size_min ?? DEFAULT_SIZE_MIN;
    if (row.size_max !== null && row.size_max < sizeMin) {
      throw rowError(table.file, row.line, 'size_max', `${row.size_max} is below size_min, ${sizeMin}`);
    }
    known.areas.add(row.code);
    return { code: row.code, name: row.name, sizeMin, sizeMax: row.size_max };
  });
}

/** PCNs; an area neither known nor in areas.csv is created from the row's area name (as ePCN files give it). */
function readPcns(table: Table<'pcns'>, known: Known): { pcns: Pcn[]; newAreas: Area[] } {
  const seen = new Map<string, number>();
  const newAreas = new Map<string, Area>();
  const pcns = table.rows.map((row): Pcn => {
    assertFirst(seen, row.pcn_code, table.file, row.line, 'pcn_code', `PCN ${row.pcn_code}`);
    assertEndsAfterStart(table.file, row.line, 'close_date', row.open_date, row.close_date);
    if (!known.areas.has(row.area_code) && !newAreas.has(row.area_code)) {
      if (row.area_name === null) throw rowError(table.file, row.line, 'area_code', `unknown area ${row.area_code}: add it to areas.csv`);
      newAreas.set(row.area_code, { code: row.area_code, name: row.area_name, sizeMin: DEFAULT_SIZE_MIN, sizeMax: null });
    }
    return {
      code: row.pcn_code,
      name: row.pcn_name,
      areaCode: row.area_code,
      clinicalDirector: row.clinical_director,
      nominatedPayeeOds: row.nominated_payee_ods,
      openDate: row.open_date,
      closeDate: row.close_date,
    };
  });
  for (const row of table.rows) known.pcnOpenDates.set(row.pcn_code, row.open_date);
  for (const code of newAreas.keys()) known.areas.add(code);
  return { pcns, newAreas: [...newAreas.values()] };
}

/** A membership with the file line it came from, to point at when it clashes with another. */
interface SourcedMembership {
  membership: Membership;
  file: string;
  line: number;
}

function pcnOpenDate(known: Known, file: string, line: number, pcnCode: string): string {
  const openDate = known.pcnOpenDates.get(pcnCode);
  if (openDate === undefined) throw rowError(file, line, 'pcn_code', `unknown PCN ${pcnCode}: it is neither in the PCN file nor in the database`);
  return openDate;
}

/**
 * Practices and the memberships their rows give. An ePCN file lists a practice once per PCN it has
 * belonged to; the practice's details come from its latest row.
 */
function readPractices(table: Table<'practices'>, known: Known): { practices: Practice[]; memberships: SourcedMembership[] } {
  const latest = new Map<string, { row: RowOf<'practices'>; since: string }>();
  const memberships: SourcedMembership[] = [];
  for (const row of table.rows) {
    const membership = row.pcn_code === null ? null : joinedMembership(table.file, row, row.pcn_code, known);
    if (membership) memberships.push({ membership, file: table.file, line: row.line });
    // An open membership sorts after any ended one; a row with no PCN counts as the oldest.
    const since = !membership ? '' : membership.endDate === null ? `~${membership.startDate}` : membership.startDate;
    const previous = latest.get(row.ods_code);
    if (!previous || since > previous.since) latest.set(row.ods_code, { row, since });
  }
  for (const ods of latest.keys()) known.practices.add(ods);
  const practices = [...latest.values()].map(
    ({ row }): Practice => ({
      ods: row.ods_code,
      name: row.name,
      postcode: row.postcode,
      town: row.town,
      latitude: row.latitude,
      longitude: row.longitude,
      listSize: row.list_size,
    }),
  );
  return { practices, memberships };
}

/** The membership a practice row gives: from joined_date, or from its PCN's opening when that is empty. */
function joinedMembership(file: string, row: RowOf<'practices'>, pcnCode: string, known: Known): Membership {
  const openDate = pcnOpenDate(known, file, row.line, pcnCode); // also refuses an unknown PCN
  const startDate = row.joined_date ?? openDate;
  assertEndsAfterStart(file, row.line, 'left_date', startDate, row.left_date);
  return { practiceOds: row.ods_code, pcnCode, startDate, endDate: row.left_date };
}

function checkPayees(table: Table<'pcns'>, known: Known): void {
  for (const row of table.rows) {
    const payee = row.nominated_payee_ods;
    if (payee !== null && !known.practices.has(payee)) {
      throw rowError(table.file, row.line, 'nominated_payee_ods', `nominated payee ${payee} is not a practice in the practice file or the database`);
    }
  }
}

function readMemberships(table: Table<'memberships'>, known: Known): SourcedMembership[] {
  return table.rows.map((row) => {
    if (!known.practices.has(row.ods_code)) {
      throw rowError(table.file, row.line, 'ods_code', `unknown practice ${row.ods_code}: it is neither in the practice file nor in the database`);
    }
    pcnOpenDate(known, table.file, row.line, row.pcn_code);
    assertEndsAfterStart(table.file, row.line, 'end_date', row.start_date, row.end_date);
    if (row.payee_after_ods !== null && !known.practices.has(row.payee_after_ods)) {
      throw rowError(table.file, row.line, 'payee_after_ods', `unknown practice ${row.payee_after_ods}: it is neither in the practice file nor in the database`);
    }
    const membership: Membership = { practiceOds: row.ods_code, pcnCode: row.pcn_code, startDate: row.start_date, endDate: row.end_date };
    if (row.payee_after_ods !== null) membership.payeeAfterOds = row.payee_after_ods;
    return { membership, file: table.file, line: row.line };
  });
}

const membershipKey = (m: Membership) => `${m.practiceOds}|${m.pcnCode}|${m.startDate}`;

/** The practice file's memberships plus memberships.csv, which wins where both hold the same one. */
function mergeMemberships(fromPractices: SourcedMembership[], fromHistory: SourcedMembership[]): SourcedMembership[] {
  const inHistory = new Set(fromHistory.map((m) => membershipKey(m.membership)));
  return [...fromPractices.filter((m) => !inHistory.has(membershipKey(m.membership))), ...fromHistory];
}

/** A practice belongs to one PCN at a time: its memberships may not overlap, and at most one is open. */
function checkOneMembershipAtATime(memberships: SourcedMembership[]): void {
  const byPractice = new Map<string, SourcedMembership[]>();
  for (const m of memberships) byPractice.set(m.membership.practiceOds, [...(byPractice.get(m.membership.practiceOds) ?? []), m]);
  for (const list of byPractice.values()) {
    const byStart = [...list].sort((a, b) => a.membership.startDate.localeCompare(b.membership.startDate));
    for (let i = 1; i < byStart.length; i++) {
      const [earlier, later] = [byStart[i - 1], byStart[i]] as [SourcedMembership, SourcedMembership];
      if (earlier.membership.endDate !== null && earlier.membership.endDate < later.membership.startDate) continue;
      // Point at whichever of the two was read second, naming the first.
      const [first, second] = memberships.indexOf(earlier) < memberships.indexOf(later) ? [earlier, later] : [later, earlier];
      throw membershipClash(first, second);
    }
  }
}

function membershipClash(first: SourcedMembership, second: SourcedMembership): AppError {
  const where = first.file === second.file ? `line ${first.line}` : `${first.file} line ${first.line}`;
  const { practiceOds } = second.membership;
  const period = (m: Membership) => `${m.pcnCode} from ${m.startDate} to ${m.endDate ?? 'now'}`;
  const message =
    first.membership.endDate === null && second.membership.endDate === null
      ? `duplicate practice ${practiceOds}: ${where} already has it with no end date`
      : `${practiceOds} in ${period(second.membership)} overlaps ${period(first.membership)} on ${where}`;
  return rowError(second.file, second.line, 'ods_code', message);
}

const PARTNER_DETAILS = ['name', 'type', 'postcode', 'latitude', 'longitude'] as const;

/** One row per PCN–partner link; a partner on several rows must be described the same on each. */
function readPartners(table: Table<'partners'>, known: Known): { partners: Partner[]; pcnPartners: PcnPartner[] } {
  const firstRow = new Map<string, RowOf<'partners'>>();
  const links = new Map<string, number>();
  const pcnPartners: PcnPartner[] = [];
  for (const row of table.rows) {
    const first = firstRow.get(row.partner_code);
    const differs = first && PARTNER_DETAILS.find((column) => first[column] !== row[column]);
    if (first && differs) throw rowError(table.file, row.line, differs, `partner ${row.partner_code} has a different ${differs} on line ${first.line}`);
    if (!first) firstRow.set(row.partner_code, row);
    if (row.pcn_code === null) continue;
    pcnOpenDate(known, table.file, row.line, row.pcn_code);
    assertFirst(links, `${row.pcn_code}|${row.partner_code}`, table.file, row.line, 'partner_code', `link of ${row.pcn_code} to ${row.partner_code}`);
    pcnPartners.push({ pcnCode: row.pcn_code, partnerCode: row.partner_code, role: row.role });
  }
  const partners = [...firstRow.values()].map(
    (row): Partner => ({
      code: row.partner_code,
      name: row.name,
      type: row.type,
      postcode: row.postcode,
      latitude: row.latitude,
      longitude: row.longitude,
    }),
  );
  return { partners, pcnPartners };
}

function readAllocations(table: Table<'allocations'>, known: Known): Allocation[] {
  return table.rows.map((row) => {
    if (!known.areas.has(row.area_code)) throw rowError(table.file, row.line, 'area_code', `unknown area ${row.area_code}: add it to areas.csv`);
    if (row.pcn_code !== null) pcnOpenDate(known, table.file, row.line, row.pcn_code);
    return {
      areaCode: row.area_code,
      pcnCode: row.pcn_code,
      amountPence: row.amount_pence,
      purpose: row.purpose,
      financialYear: row.financial_year,
      source: row.source,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * What each exported file holds; the SQL names its columns as the file does. Orders are by code in
 * byte order (COLLATE "C"), so two databases holding the same registry export the same bytes.
 */
const EXPORTS = [
  {
    file: 'areas.csv',
    columns: ['code', 'name', 'size_min', 'size_max'],
    sql: 'SELECT code, name, size_min, size_max FROM area ORDER BY code COLLATE "C"',
  },
  {
    file: 'pcns.csv',
    columns: ['pcn_code', 'pcn_name', 'area_code', 'clinical_director', 'nominated_payee_ods', 'open_date', 'close_date'],
    sql: `SELECT code AS pcn_code, name AS pcn_name, area_code, clinical_director, pcn_payee_on(code, registry_today()) AS nominated_payee_ods,
                 to_char(open_date, 'YYYY-MM-DD') AS open_date, to_char(close_date, 'YYYY-MM-DD') AS close_date
            FROM pcn ORDER BY code COLLATE "C"`,
  },
  {
    file: 'practices.csv',
    columns: ['ods_code', 'name', 'postcode', 'town', 'pcn_code', 'list_size', 'latitude', 'longitude', 'joined_date'],
    sql: `SELECT pr.ods AS ods_code, pr.name, pr.postcode, pr.town, m.pcn_code, pr.list_size, pr.latitude, pr.longitude,
                 to_char(m.start_date, 'YYYY-MM-DD') AS joined_date
            FROM practice pr
            LEFT JOIN practice_membership_in_effect m ON m.practice_ods = pr.ods
           ORDER BY pr.ods COLLATE "C"`,
  },
  {
    file: 'memberships.csv',
    columns: ['ods_code', 'pcn_code', 'start_date', 'end_date', 'payee_after_ods'],
    sql: `SELECT m.practice_ods AS ods_code, m.pcn_code, to_char(m.start_date, 'YYYY-MM-DD') AS start_date,
                 to_char(m.end_date, 'YYYY-MM-DD') AS end_date, c.practice_ods AS payee_after_ods
            FROM practice_membership m LEFT JOIN pcn_payee_change c ON c.membership_id = m.id
           ORDER BY m.practice_ods COLLATE "C", m.start_date, m.pcn_code COLLATE "C"`,
  },
  {
    // A partner linked to no PCN still gets a row, with pcn_code empty.
    file: 'partners.csv',
    columns: ['pcn_code', 'partner_code', 'name', 'type', 'role', 'postcode', 'latitude', 'longitude'],
    sql: `SELECT l.pcn_code, p.code AS partner_code, p.name, p.type, l.role, p.postcode, p.latitude, p.longitude
            FROM partner p LEFT JOIN pcn_partner l ON l.partner_code = p.code
           ORDER BY l.pcn_code COLLATE "C" NULLS LAST, p.code COLLATE "C"`,
  },
  // The funding module's table, read through its entry.
  { file: 'allocations.csv', columns: ALLOCATION_CSV_COLUMNS, read: allocationCsvRows },
] as const;

/** Writes the registry as CSV files that readRegistryDir reads back to the same registry. */
export async function writeRegistryDir(db: Db, dir: string): Promise<{ files: string[]; pcns: number; practices: number }> {
  // One snapshot of the database, so a change made meanwhile cannot split the files.
  const tables = await db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const rows = [];
    for (const e of EXPORTS) rows.push('sql' in e ? await tx.query(e.sql) : await e.read(tx));
    return rows;
  });
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [i, { file, columns }] of EXPORTS.entries()) {
    const path = join(dir, file);
    await writeFile(path, stringify(tables[i] ?? [], { header: true, columns: [...columns] }));
    files.push(path);
  }
  const count = (file: string) => tables[EXPORTS.findIndex((e) => e.file === file)]?.length ?? 0;
  return { files, pcns: count('pcns.csv'), practices: count('practices.csv') };
}
