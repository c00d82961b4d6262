/**
 * Reading a rule file of rules/ (or a test model): JSON, checked with its zod schema, every problem an error
 * that names the file and, inside a list of items (a model's deficits, the long-term conditions), the item by
 * its id, e.g. `frailty model rules/efi.json, deficit "ckd" (deficits[5].weight): Too small`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { type CodeList, codeList } from './codelists.ts';

export interface RuleFileKind {
  /** What the file is, e.g. `frailty model`. */
  kind: string;
  /** The key of the file's list of items, and what one item is called, e.g. `deficits` / `deficit`. */
  items: string;
  item: string;
}

/** The file's name as errors give it: its folder and name (`rules/efi.json`). */
export function ruleFileName(url: URL): string {
  return fileURLToPath(url).split('/').slice(-2).join('/');
}

export function readRuleJson(url: URL, kind: RuleFileKind): unknown {
  try {
    return JSON.parse(readFileSync(url, 'utf8'));
  } catch (error) {
    throw new Error(`${kind.kind} ${ruleFileName(url)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function parseRuleFile<T>(json: unknown, schema: z.ZodType<T>, file: string, kind: RuleFileKind): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`${kind.kind} ${file}${where(json, issue.path, kind)}: ${issue.message}`);
}

/** ` deficit "ckd" (deficits[5].weight)` for an issue inside an item, else ` (bands[1].atMost)`. */
function where(json: unknown, path: readonly PropertyKey[], kind: RuleFileKind): string {
  const at = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  if (path[0] === kind.items && typeof path[1] === 'number') {
    const items = (json as Record<string, unknown>)[kind.items];
    const id = Array.isArray(items) ? (items[path[1]] as { id?: unknown } | undefined)?.id : undefined;
    if (typeof id === 'string') return `, ${kind.item} "${id}" (${at})`;
  }
  return at ? ` (${at})` : '';
}

/** An error naming the file and, where given, the item. */
export function ruleFileError(kind: RuleFileKind, file: string, item: string | undefined, message: string): Error {
  return new Error(`${kind.kind} ${file}${item ? `, ${kind.item} "${item}"` : ''}: ${message}`);
}

/** A published code list a rule names; an unknown or unreadable list goes to `fail` (which names the rule). */
export function codeListFor(name: string, fail: (message: string) => never): CodeList {
  try {
    return codeList(name);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}
