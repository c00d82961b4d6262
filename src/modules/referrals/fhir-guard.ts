/**
 * A referral changes state only through its use case (transitionReferral: the state machine, who and when, the
 * ServiceRequest kept in step, the outcome on the record) or a BaRS message — never by a bare PUT, PATCH or DELETE on
 * /fhir, which would skip all of that: not its workflow Task's status, not its ServiceRequest's status, and neither
 * is deleted (a referral is cancelled, and its history stays). The /fhir door hands this to the store as its change
 * guard; other edits (a note on the Task, say) pass, as do ServiceRequests that are not referrals.
 */
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { AppError } from '../../shared/errors.ts';
import { isWorkflowTask, UBRN_SYSTEM } from './referral-fhir.ts';

const isReferral = (resource: Resource): resource is ServiceRequest => resource.resourceType === 'ServiceRequest' && (resource.identifier ?? []).some((i) => i.system === UBRN_SYSTEM);

const THE_WAY = 'POST /api/referrals/{id}/transition (or a BaRS message), which keeps its states, history and ServiceRequest in step';

/** Refuses a change to a referral's Task or ServiceRequest that would bypass its workflow; `next` is null for a delete. */
export function guardReferralChange(current: Resource, next: Resource | null): void {
  const task = isWorkflowTask(current);
  if (!task && !isReferral(current)) return;
  const what = task ? 'Task' : 'ServiceRequest';
  if (next === null) {
    throw new AppError('conflict', `a referral's ${what} is not deleted: the referral is ${current.status}; cancel it through ${THE_WAY}`, `${what}.status`);
  }
  if (next.resourceType !== current.resourceType || current.status === (next as Task | ServiceRequest).status) return;
  const state = task ? `the referral is ${current.status}` : `the referral's request is ${current.status}`;
  throw new AppError('conflict', `${state}; it moves to ${(next as Task | ServiceRequest).status} only through ${THE_WAY}`, `${what}.status`);
}
