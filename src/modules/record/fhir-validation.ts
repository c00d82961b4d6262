/** What makes a resource acceptable to the record: R4 structure plus the NHS's identifier rules. */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Identifier, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, nhsNumberProblem, ODS_SYSTEM, odsCodeProblem } from '../../shared/ids.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { invalidAt } from './fhir-outcomes.ts';

/** The errors in a resource (empty when it is valid); each issue's expression points at the field. */
export function recordValidationIssues(resource: Resource): OperationOutcomeIssue[] {
  loadFhirDefinitions();
  const issues: OperationOutcomeIssue[] = [];
  try {
    validateResource(resource);
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues.push(...(error.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
  }
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
