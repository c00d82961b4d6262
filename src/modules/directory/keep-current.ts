/**
 * The directory's figures kept current: follows the record's change feed (consumer `directory`, Task and
 * ServiceRequest changes) and keeps one service_referral row per referral's workflow Task — its status and
 * timings, and the HealthcareService its ServiceRequest's performer names — in the transaction that moves the
 * consumer's position, so after a crash or a restart nothing is missed or counted twice. The rows hold no
 * patient; the referrals themselves are read through the store as the system (audited once when it starts).
 */
import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirStoreRepository, followChanges, retrying, type Change, type RequestContext } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { consumerContext } from '../record/index.ts';

export const DIRECTORY_CONSUMER = 'directory';
const FULFILL = 'http://hl7.org/fhir/CodeSystem/task-code|fulfill';

export interface KeepFiguresOptions {
  signal: AbortSignal;
  /** How long to wait when caught up (default 1,000 ms). */
  pollMs?: number;
  /** With it, a batch that fails is reported and tried again after retryMs (default 30 s); without, the promise rejects. */
  onError?: (error: unknown) => void;
  retryMs?: number;
}

/** Follows the feed until the signal aborts. */
export async function keepDirectoryFiguresCurrent(db: Db, options: KeepFiguresOptions): Promise<void> {
  const { onError, signal } = options;
  const context = await consumerContext(db, DIRECTORY_CONSUMER, {
    action: 'directory.follow',
    summary: "Service directory: each service's referral figures (states and timings only) kept from referral changes",
  });
  const follow = () => followChanges(db, DIRECTORY_CONSUMER, (changes, tx) => projectReferrals(tx, context, changes), { signal, pollMs: options.pollMs, types: ['Task', 'ServiceRequest'] });
  return retrying(follow, { signal, onError, retryMs: options.retryMs });
}

const idsOf = (changes: readonly Change[], type: string) => [...new Set(changes.filter((c) => c.resourceType === type).map((c) => c.id))];

const referenceId = (reference: string | undefined, type: string) => (reference?.startsWith(`${type}/`) ? reference.slice(type.length + 1) : null);

const serviceOf = (request: ServiceRequest) => (request.performer ?? []).map((p) => referenceId(p.reference, 'HealthcareService')).find((id) => id !== null) ?? null;

const isReferralTask = (task: Task) => (task.code?.coding ?? []).some((c) => `${c.system}|${c.code}` === FULFILL) && referenceId(task.focus?.reference, 'ServiceRequest') !== null;

/** One batch of the feed into the projection, inside the consumer's transaction. */
export async function projectReferrals(tx: Db, context: RequestContext, changes: readonly Change[]): Promise<void> {
  const repo = new FhirStoreRepository(tx, context);
  const taskIds = idsOf(changes, 'Task');
  const tasks = (await repo.readCurrent<Task>('Task', taskIds)).filter(isReferralTask);
  const kept = new Set(tasks.map((t) => t.id!));
  // Gone from the store, or no longer a referral's workflow Task: no longer counted.
  const dropped = taskIds.filter((id) => !kept.has(id));
  if (dropped.length) await tx.query('DELETE FROM service_referral WHERE task_id = ANY($1::text[])', [dropped]);

  const requestIds = [...new Set([...idsOf(changes, 'ServiceRequest'), ...tasks.map((t) => referenceId(t.focus!.reference, 'ServiceRequest')!)])];
  const requests = new Map((await repo.readCurrent<ServiceRequest>('ServiceRequest', requestIds)).map((r) => [r.id!, r]));

  if (tasks.length) {
    const rows = tasks.map((task) => {
      const requestId = referenceId(task.focus!.reference, 'ServiceRequest')!;
      const request = requests.get(requestId);
      return [
        task.id!,
        requestId,
        request ? serviceOf(request) : null,
        task.status,
        task.authoredOn ?? request?.authoredOn ?? null,
        task.executionPeriod?.start ?? null,
        task.executionPeriod?.end ?? null,
      ];
    });
    const columns = rows[0]!.map((_, i) => rows.map((row) => row[i]));
    await tx.query(
      `INSERT INTO service_referral (task_id, service_request_id, service_id, status, authored_on, accepted_at, finished_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
       ON CONFLICT (task_id) DO UPDATE SET service_request_id = excluded.service_request_id, service_id = excluded.service_id, status = excluded.status,
         authored_on = excluded.authored_on, accepted_at = excluded.accepted_at, finished_at = excluded.finished_at, updated_at = now()`,
      columns,
    );
  }
  // A request changed on its own (its performer named, or the request deleted): its Tasks follow it.
  const changedRequests = idsOf(changes, 'ServiceRequest');
  if (changedRequests.length) {
    await tx.query(
      `UPDATE service_referral s SET service_id = v.service_id, updated_at = now()
         FROM unnest($1::text[], $2::text[]) AS v(request_id, service_id)
        WHERE s.service_request_id = v.request_id AND s.service_id IS DISTINCT FROM v.service_id`,
      [changedRequests, changedRequests.map((id) => (requests.has(id) ? serviceOf(requests.get(id)!) : null))],
    );
  }
}
