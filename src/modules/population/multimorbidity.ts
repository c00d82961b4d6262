/**
 * Multimorbidity: the long-term conditions of rules/long-term-conditions.json a patient has on a date, each
 * from published code lists, with QOF's register logic for a condition that can resolve: it counts when its
 * latest diagnosis code is later than its latest resolved code (a resolved code on the same day resolves it).
 * Entries entered in error, undated, or after the as-of date are not read.
 */
import { z } from 'zod';
import type { PatientFacts } from './facts.ts';
import type { Evidence, LongTermCondition, MultimorbidityResult } from './results.ts';
import { codeListFor, parseRuleFile, type RuleFileKind, readRuleJson, ruleFileError, ruleFileName } from './rule-file.ts';
import { onRecordBy } from './windows.ts';

const ConditionsFile = z
  .object({
    $comment: z.string().optional(),
    id: z.string().min(1),
    version: z.string().min(1),
    multimorbidAtLeast: z.number().int().positive(),
    complexAtLeast: z.number().int().positive(),
    conditions: z
      .array(
        z
          .object({
            $comment: z.string().optional(),
            id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and hyphens'),
            name: z.string().min(1),
            codeLists: z.array(z.string().min(1)).min(1),
            /** Lists whose codes say the condition has resolved (QOF `…RES_COD`). */
            resolvedBy: z.array(z.string().min(1)).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

const KIND: RuleFileKind = { kind: 'long-term conditions', items: 'conditions', item: 'condition' };

interface CodeRole {
  condition: number;
  resolves: boolean;
  term: string;
}

export interface LongTermConditions {
  multimorbidAtLeast: number;
  complexAtLeast: number;
  conditions: readonly { id: string; name: string }[];
  index: ReadonlyMap<string, readonly CodeRole[]>;
}

export function loadLongTermConditions(url: URL): LongTermConditions {
  return compileLongTermConditions(readRuleJson(url, KIND), ruleFileName(url));
}

export function compileLongTermConditions(json: unknown, file: string): LongTermConditions {
  const rules = parseRuleFile(json, ConditionsFile, file, KIND);
  const index = new Map<string, CodeRole[]>();
  const seen = new Set<string>();
  rules.conditions.forEach((condition, position) => {
    const fail = (message: string): never => {
      throw ruleFileError(KIND, file, condition.id, message);
    };
    if (seen.has(condition.id)) fail('a second condition with this id');
    seen.add(condition.id);
    const roles = new Map<string, CodeRole>();
    for (const name of condition.codeLists) for (const [code, term] of codeListFor(name, fail).terms) roles.set(code, { condition: position, resolves: false, term });
    for (const name of condition.resolvedBy ?? []) {
      for (const [code, term] of codeListFor(name, fail).terms) {
        if (roles.get(code)?.resolves === false) fail(`${code} is both a diagnosis and a resolved code (${name})`);
        roles.set(code, { condition: position, resolves: true, term });
      }
    }
    for (const [code, role] of roles) {
      const known = index.get(code);
      if (known) known.push(role);
      else index.set(code, [role]);
    }
  });
  return {
    multimorbidAtLeast: rules.multimorbidAtLeast,
    complexAtLeast: rules.complexAtLeast,
    conditions: rules.conditions.map(({ id, name }) => ({ id, name })),
    index,
  };
}

/** The patient's long-term conditions on a date under the given declaration. */
export function countConditions(rules: LongTermConditions, facts: PatientFacts, asOf: string): MultimorbidityResult {
  const count = rules.conditions.length;
  const diagnosed = new Array<string | undefined>(count);
  const resolved = new Array<string | undefined>(count);
  const evidence = new Array<Evidence[] | undefined>(count);
  for (const entry of facts.entries) {
    if (!onRecordBy(entry, asOf)) continue;
    for (const code of entry.codes) {
      const roles = rules.index.get(code);
      if (roles === undefined) continue;
      for (const role of roles) {
        const latest = role.resolves ? resolved : diagnosed;
        if ((latest[role.condition] ?? '') < entry.date) latest[role.condition] = entry.date;
        if (role.resolves) continue;
        const found = (evidence[role.condition] ??= []);
        if (found.at(-1)?.id === entry.id) continue;
        const item: Evidence = { type: entry.type, id: entry.id, date: entry.date, code, term: role.term };
        if (entry.organisation !== undefined) item.organisation = entry.organisation;
        found.push(item);
      }
    }
  }
  const conditions: LongTermCondition[] = [];
  for (let i = 0; i < count; i++) {
    const diagnosis = diagnosed[i];
    const resolution = resolved[i];
    if (diagnosis === undefined || (resolution !== undefined && resolution >= diagnosis)) continue;
    conditions.push({ ...rules.conditions[i]!, entries: evidence[i]! });
  }
  return {
    count: conditions.length,
    multimorbid: conditions.length >= rules.multimorbidAtLeast,
    complex: conditions.length >= rules.complexAtLeast,
    conditions,
  };
}

let shipped: LongTermConditions | undefined;

/** The shipped declaration (rules/long-term-conditions.json), compiled on first use. */
export function longTermConditions(): LongTermConditions {
  return (shipped ??= loadLongTermConditions(new URL('./rules/long-term-conditions.json', import.meta.url)));
}

export function countLongTermConditions(facts: PatientFacts, asOf: string): MultimorbidityResult {
  return countConditions(longTermConditions(), facts, asOf);
}
