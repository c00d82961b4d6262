/** Runs a piece of care planning as the acting person: through their record context (access policy), looks audited after. */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import { FhirStoreRepository } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import type { Actor } from '../access/index.ts';
import { cachedRead, loadRegistry } from '../network/index.ts';
import { recordContext, type RecordRequest } from '../record/index.ts';

export type PlanRequest = RecordRequest['request'];

export async function asActor<T>(db: Db, actor: Actor, request: PlanRequest, work: (repo: FhirStoreRepository) => Promise<T>): Promise<T> {
  const context = await recordContext(db, actor, { request });
  const repo = new FhirStoreRepository(db, context);
  let outcome: 'success' | 'denied' | 'error' = 'success';
  try {
    return await work(repo);
  } catch (error) {
    outcome = repo.touches.some((t) => t.action === 'denied') ? 'denied' : 'error';
    throw error;
  } finally {
    await context.audit.looks(db, repo.touches, outcome);
  }
}

/** The patient, read as the actor: a 403 (no relationship) or 404 before anything else is done. */
export const readPatient = (repo: FhirStoreRepository, patientId: string) => repo.readResource<Patient>('Patient', patientId);

/** "Alice Smith", for headings. */
export function patientName(patient: Patient): string {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  return name?.text ?? ([...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || 'Name not recorded');
}

/** The registry's name of a PCN, practice or partner organisation by its code; undefined when none has it. */
export async function organisationName(db: Db, code: string): Promise<string | undefined> {
  const names = await cachedRead(db, 'careplans:organisation-names', async () => {
    const registry = await loadRegistry(db);
    return new Map<string, string>([
      ...registry.pcns.map((p) => [p.code, p.name] as const),
      ...registry.practices.map((p) => [p.ods, p.name] as const),
      ...registry.partners.map((p) => [p.code, p.name] as const),
    ]);
  });
  return names.get(code.toUpperCase());
}

/** The store refused a write because If-Match named a version that is no longer current (412). */
export const isPreconditionFailed = (error: unknown): boolean => error instanceof OperationOutcomeError && getStatus(error.outcome) === 412;
