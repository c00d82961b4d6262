/**
 * A referral's workflow Task changes state only through its use case (transitionReferral: the state machine, who
 * and when, the ServiceRequest kept in step, the outcome on the record) or a BaRS message — never by a bare PUT or
 * PATCH on /fhir, which would skip all of that. The /fhir door hands this to the store as its change guard; other
 * edits of the Task (a note, say) pass.
 */
import type { Resource, Task } from '@medplum/fhirtypes';
import { AppError } from '../../shared/errors.ts';
import { TASK_CODE_SYSTEM } from './referral-fhir.ts';

const isWorkflowTask = (resource: Resource): resource is Task => resource.resourceType === 'Task' && (resource.code?.coding ?? []).some((c) => c.system === TASK_CODE_SYSTEM && c.code === 'fulfill');

export function guardReferralChange(current: Resource, next: Resource): void {
  if (!isWorkflowTask(current) || next.resourceType !== 'Task' || current.status === next.status) return;
  throw new AppError(
    'conflict',
    `the referral is ${current.status}; it moves to ${next.status} only through POST /api/referrals/{id}/transition (or a BaRS message), which keeps its states, history and ServiceRequest in step`,
    'Task.status',
  );
}
