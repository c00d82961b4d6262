/**
 * Validating a resource against R4 costs more than indexing and storing it, so bulk imports validate
 * in a worker thread while the main thread indexes and writes. Falls back to the main thread when a
 * worker cannot start.
 */
import { Worker } from 'node:worker_threads';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { recordValidationIssues } from './fhir-validation.ts';

export interface ValidationFailure {
  index: number;
  issue: OperationOutcomeIssue;
}

const WORKER_THRESHOLD = 1000;

let worker: Worker | undefined;
let broken = false;
let nextId = 0;
const waiting = new Map<number, { resolve: (failure: ValidationFailure | null) => void; reject: (error: Error) => void }>();

function startWorker(): Worker | undefined {
  if (worker || broken) return worker;
  try {
    worker = new Worker(new URL('./validation-worker.mjs', import.meta.url));
    worker.on('message', ({ id, failure }: { id: number; failure: ValidationFailure | null }) => {
      waiting.get(id)?.resolve(failure);
      waiting.delete(id);
    });
    worker.on('error', (error) => {
      for (const { reject } of waiting.values()) reject(error);
      waiting.clear();
      worker = undefined;
      broken = true;
    });
  } catch {
    broken = true;
  }
  return worker;
}

/** The first invalid resource of the list and its first issue, or null when all are valid. */
export function firstInvalid(resources: Resource[]): Promise<ValidationFailure | null> {
  // Starting a worker costs about a second (it loads the R4 definitions): small batches stay inline.
  const validator = resources.length >= WORKER_THRESHOLD || worker ? startWorker() : undefined;
  if (!validator) {
    for (const [index, resource] of resources.entries()) {
      const issue = recordValidationIssues(resource)[0];
      if (issue) return Promise.resolve({ index, issue });
    }
    return Promise.resolve(null);
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    validator.postMessage({ id, resources });
  });
}

/** Stops the worker (an import calls this when it ends, so an idle validator never holds the process). */
export async function releaseValidator(): Promise<void> {
  const running = worker;
  worker = undefined;
  await running?.terminate();
}
