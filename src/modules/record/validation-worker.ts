/** Worker thread: validates resources off the main thread during bulk imports (see validation-pool.ts). */
import { parentPort } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { recordValidationIssues } from './fhir-validation.ts';

parentPort!.on('message', ({ id, resources }: { id: number; resources: Resource[] }) => {
  for (const [index, resource] of resources.entries()) {
    const issue = recordValidationIssues(resource)[0];
    if (issue) return parentPort!.postMessage({ id, failure: { index, issue } });
  }
  parentPort!.postMessage({ id, failure: null });
});
