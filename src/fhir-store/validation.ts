/** What makes a resource acceptable to the record: R4 structure plus the NHS's identifier rules. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { canonicalNhsNumberProblem, NHS_NUMBER_SYSTEM, ODS_SYSTEM, odsCodeProblem } from '../shared/ids.ts';
import { validateR4 } from '../fhir/validator.ts';
import { invalidAt } from './outcomes.ts';

/** The errors in a resource (empty when it is valid); each issue's expression points at the field. */
export function recordValidationIssues(resource: Resource): OperationOutcomeIssue[] {
  // Text no database column can hold is refused before anything else reads it.
  const { issues, unstorable } = contentIssues(resource);
  if (unstorable) return issues;
  return [...validateR4(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal'), ...issues];
}

/**
 * One walk over the resource for what the R4 definitions cannot say: strings must be text PostgreSQL
 * can store (no NUL, no lone UTF-16 surrogate), and every Identifier of the NHS — the resource's own or
 * inside a Reference (`generalPractitioner.identifier`, `subject.identifier`) — must be well formed:
 * an NHS number as its 10 digits with a Modulus 11 check digit, an ODS code in its shape.
 */
function contentIssues(resource: Resource): { issues: OperationOutcomeIssue[]; unstorable: boolean } {
  const issues: OperationOutcomeIssue[] = [];
  let unstorable = false;
  // The keys and indexes down to the current value; a path is written out only for an issue.
  const keys: Array<string | number> = [];
  const at = (...more: string[]) => [resource.resourceType, ...keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)), ...more].join('');
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) issues.push(invalidAt(at(), `holds ${problem}`));
      unstorable ||= !!problem;
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        keys.push(i);
        walk(value[i]);
        keys.pop();
      }
      return;
    }
    const object = value as Record<string, unknown>;
    // Element names need no look: the R4 validator refuses any name it does not know.
    for (const key in object) {
      keys.push(key);
      walk(object[key]);
      keys.pop();
    }
    if (typeof object.value === 'string' && (object.system === NHS_NUMBER_SYSTEM || object.system === ODS_SYSTEM)) {
      const problem = object.system === NHS_NUMBER_SYSTEM ? canonicalNhsNumberProblem(object.value) : odsCodeProblem(object.value, 'any');
      if (problem) issues.push(invalidAt(at('.value'), problem));
    }
  };
  walk(resource);
  return { issues, unstorable };
}

/** NUL and the UTF-16 surrogates: a quick test first, as nearly every string has neither. */
const SUSPECT = /[\0\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(text: string): string | null {
  if (!SUSPECT.test(text)) return null;
  if (text.includes('\0')) return 'a NUL character (U+0000), which text cannot hold';
  if (LONE_SURROGATE.test(text)) return 'a lone UTF-16 surrogate (half a character), which text cannot hold';
  return null;
}
