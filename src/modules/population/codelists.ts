/**
 * The published code lists in reference/codelists/, read through one loader that knows each file's shape:
 * CSV files name their code column differently (`code`, `dmd_id`, `id`, `snomed_id`), the GM-SDE `.txt`
 * files are tab-separated with no header. A list is read once and kept; an unknown name, an unreadable file
 * or a row without a code is an error naming the file (and the row).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

export interface CodeList {
  /** The file's name without its extension, e.g. `pcd-afib_cod` or `gmsde-bisphosphonates`. */
  readonly name: string;
  /** SNOMED CT concept ids (dm+d product ids are SNOMED ids too). */
  readonly codes: ReadonlySet<string>;
  /** Each code's term as the list gives it. */
  readonly terms: ReadonlyMap<string, string>;
}

const FOLDER = new URL('../../../reference/codelists/', import.meta.url);
/** The header column that holds the code, in order of preference (`code` and `dmd_id` hold the same value where both exist). */
const CODE_COLUMNS = ['code', 'dmd_id', 'id', 'snomed_id'] as const;
const TERM_COLUMNS = ['term', 'dmd_name'] as const;
const SCTID = /^\d{6,18}$/;

const lists = new Map<string, CodeList>();

/** One published code list by name (the file name without `.csv` / `.txt`). */
export function codeList(name: string): CodeList {
  const known = lists.get(name);
  if (known) return known;
  const list = readCodeList(name);
  lists.set(name, list);
  return list;
}

/** The union of several lists' codes (a rule over "any oral anticoagulant" names the lists it joins). */
export function codesOf(names: readonly string[]): ReadonlySet<string> {
  const codes = new Set<string>();
  for (const name of names) for (const code of codeList(name).codes) codes.add(code);
  return codes;
}

function readCodeList(name: string): CodeList {
  if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`code list "${name}": not a code list name`);
  const csv = new URL(`${name}.csv`, FOLDER);
  const txt = new URL(`${name}.txt`, FOLDER);
  const url = existsSync(csv) ? csv : existsSync(txt) ? txt : null;
  if (!url) throw new Error(`code list "${name}": no ${name}.csv or ${name}.txt in ${fileURLToPath(FOLDER)}`);
  const text = readFileSync(url, 'utf8');
  const rows = url === txt ? tabRows(text) : csvRows(name, text);
  const terms = new Map<string, string>();
  rows.forEach(([code, term], index) => {
    if (!SCTID.test(code)) throw new Error(`code list "${name}", row ${index + 1}: "${code}" is not a SNOMED CT id (the list may hold Read codes; SOURCES.md names its system)`);
    if (!terms.has(code)) terms.set(code, term);
  });
  if (terms.size === 0) throw new Error(`code list "${name}": no codes`);
  return { name, codes: new Set(terms.keys()), terms };
}

function tabRows(text: string): [string, string][] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [code = '', term = ''] = line.split('\t');
      return [code.trim(), term.trim()];
    });
}

function csvRows(name: string, text: string): [string, string][] {
  const records = parse(text, { columns: true, skip_empty_lines: true, bom: true, trim: true }) as Record<string, string>[];
  const header = Object.keys(records[0] ?? {});
  const codeColumn = CODE_COLUMNS.find((c) => header.includes(c));
  if (!codeColumn) throw new Error(`code list "${name}": no code column (looked for ${CODE_COLUMNS.join(', ')}; found ${header.join(', ')})`);
  const termColumn = TERM_COLUMNS.find((c) => header.includes(c));
  return records.map((record) => [record[codeColumn] ?? '', termColumn ? (record[termColumn] ?? '') : '']);
}
