/** What makes a resource acceptable to the record: R4 structure plus the NHS's identifier rules. */
import type { Identifier, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, nhsNumberProblem, ODS_SYSTEM, odsCodeProblem } from '../shared/ids.ts';
import { validateR4 } from '../fhir/validator.ts';
import { invalidAt } from './outcomes.ts';

/** The errors in a resource (empty when it is valid); each issue's expression points at the field. */
export function recordValidationIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues = validateR4(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  // Most resources hold a list of identifiers; a few (QuestionnaireResponse, Bundle) hold one.
  const held = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  const identifiers = Array.isArray(held) ? held : held ? [held] : [];
  identifiers.forEach((identifier, i) => {
    if (identifier.value === undefined) return;
    const at = Array.isArray(held) ? `${resource.resourceType}.identifier[${i}].value` : `${resource.resourceType}.identifier.value`;
    const problem =
      identifier.system === NHS_NUMBER_SYSTEM ? nhsNumberProblem(identifier.value) : identifier.system === ODS_SYSTEM ? odsCodeProblem(identifier.value, 'any') : null;
    if (problem) issues.push(invalidAt(at, problem));
  });
  return issues;
}
