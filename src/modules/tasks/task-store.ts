/**
 * Tasks are read and written through the store as the actor (their access rules, their audit trail): a task about
 * a patient needs the writer to be allowed to write `referrals` entries for that patient, and reading one needs
 * the patient's record open to the reader. Refusals come back in /api's words.
 */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { Patient, Task } from '@medplum/fhirtypes';
import type { FhirStoreRepository } from '../../fhir-store/index.ts';
import type { z } from 'zod';
import { AppError, invalid } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { asActor as asRecordActor, patientListing, type PatientListing, type RecordRequest } from '../record/index.ts';
import { kindOf, taskPatientId, taskView, type TaskView } from './task-shape.ts';

export type TaskRequest = RecordRequest['request'];

/** Runs store work as the actor (the record's asActor: access rules and audit), refusals in the API's words. */
export async function asActor<T>(db: Db, actor: Actor, request: TaskRequest, work: (repo: FhirStoreRepository) => Promise<T>): Promise<T> {
  try {
    return await asRecordActor(db, actor, request, work);
  } catch (error) {
    throw inApiWords(error);
  }
}

/** The store's OperationOutcome refusals as AppErrors (403 with the policy's reason, 404, 422 naming the element). */
export function inApiWords(error: unknown): unknown {
  if (!(error instanceof OperationOutcomeError)) return error;
  const issue = error.outcome.issue?.[0];
  const text = issue?.details?.text ?? issue?.diagnostics ?? 'refused';
  const status = getStatus(error.outcome);
  if (status === 403) return new AppError('forbidden', text);
  if (status === 404) return new AppError('not-found', 'this task was not found');
  if (status === 410) return new AppError('gone', 'this task was deleted');
  if (status === 412) return new AppError('conflict', 'the task was changed by someone else meanwhile: look again');
  if (status === 422) return new AppError('invalid', text, issue?.expression?.[0]);
  return error;
}

/** A colleague task or MDT action the actor may see; anything else (a referral's workflow Task) is not found here. */
export async function readTask(repo: FhirStoreRepository, id: string): Promise<Task> {
  const task = await repo.readResource<Task>('Task', id);
  if (!kindOf(task)) throw new AppError('not-found', 'this task was not found');
  return task;
}

/** The task with its patient's listing (read as the actor, so audited as a look at that record). */
export async function viewOf(repo: FhirStoreRepository, task: Task, today: string): Promise<TaskView> {
  const patientId = taskPatientId(task);
  let patient: PatientListing | null = null;
  if (patientId) {
    try {
      patient = patientListing(await repo.readResource<Patient>('Patient', patientId));
    } catch (error) {
      if (!(error instanceof OperationOutcomeError)) throw error;
    }
  }
  return taskView(task, patient, today);
}

/** A use case's input, or a 422 naming its first wrong field (for callers that do not come through the HTTP edge). */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw invalid(issue.path.join('.') || 'task', issue.message);
}
