/**
 * The rule set's version: a short hash of every rule file in rules/ and every code list in
 * reference/codelists/, so a stored result names exactly the rules that made it, and a change to any
 * of them is a new version (results of the old one are re-scored, never silently mixed).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

function hashFolder(hash: ReturnType<typeof createHash>, folder: URL): void {
  for (const name of readdirSync(folder).sort()) {
    hash.update(name);
    hash.update(readFileSync(new URL(name, folder)));
  }
}

function rulesVersion(): string {
  const hash = createHash('sha256');
  hashFolder(hash, new URL('./rules/', import.meta.url));
  hashFolder(hash, new URL('../../../reference/codelists/', import.meta.url));
  hash.update(readFileSync(new URL('../../../reference/efi-deficits.json', import.meta.url)));
  return hash.digest('hex').slice(0, 12);
}

export const RULES_VERSION = rulesVersion();
