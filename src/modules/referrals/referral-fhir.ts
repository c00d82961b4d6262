/**
 * The referral's FHIR shapes (docs/coordination.md, "Referral"): the systems and extensions it carries, and the
 * `Referral` view read from its ServiceRequest, workflow Task, Patient and the Task's versions.
 */
import type { Bundle, Extension, Identifier, Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../../shared/ids.ts';
import { isOdsShaped, LOCAL_PARTNER_SYSTEM } from '../network/index.ts';
import { patientListing } from '../record/index.ts';
import type { Referral, ReferralHistoryItem, ReferralPriority, ReferralState } from './types.ts';

export { LOCAL_PARTNER_SYSTEM, ODS_SYSTEM };

/** An organisation's identifier: its ODS code, or — for a partner with a local code (LA-NORFOLK) — the registry's partner system, as the synthetic population names it. */
export const orgIdentifier = (code: string): Identifier => ({ system: isOdsShaped(code) ? ODS_SYSTEM : LOCAL_PARTNER_SYSTEM, value: code });
/** The organisation code of an identifier of either system above. */
export const orgCodeOf = (identifier: Identifier | undefined): string | undefined => (identifier?.system === ODS_SYSTEM || identifier?.system === LOCAL_PARTNER_SYSTEM ? identifier.value : undefined);
export const orgReference = (code: string, display: string): Reference => ({ identifier: orgIdentifier(code), display });
export const UBRN_SYSTEM = 'https://fhir.nhs.uk/Id/UBRN';
export const JOURNEY_SYSTEM = 'https://pcn-hub.example/Id/journey';
export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
/** A referral's workflow Task: coded `task-code|fulfill`. */
export const isWorkflowTask = (resource: { resourceType?: string } | undefined): resource is Task =>
  resource?.resourceType === 'Task' && ((resource as Task).code?.coding ?? []).some((c) => c.system === TASK_CODE_SYSTEM && c.code === 'fulfill');
export const FULFILL = `${TASK_CODE_SYSTEM}|fulfill`;
export const CONSENT_EXTENSION = 'https://pcn-hub.example/StructureDefinition/consent-to-share';
export const CHANGED_BY_EXTENSION = 'https://pcn-hub.example/StructureDefinition/changed-by';
/** The state an on-hold referral left, so it can go back to exactly that one. */
export const HELD_FROM_EXTENSION = 'https://pcn-hub.example/StructureDefinition/held-from';
/** A referral this one was redirected to (on the rejected Task), or from (on the new ServiceRequest). */
export const REDIRECTED_TO_EXTENSION = 'https://pcn-hub.example/StructureDefinition/redirected-to';
export const OUTCOME_TYPE_SYSTEM = 'https://pcn-hub.example/CodeSystem/referral-output';

export const extensionValue = (resource: { extension?: Extension[] }, url: string): Extension | undefined => resource.extension?.find((e) => e.url === url);

/** The receiving organisation: the performer named by ODS identifier. */
export function receivingOrg(request: ServiceRequest): { code: string; display: string } {
  const named = request.performer?.find((p) => orgCodeOf(p.identifier));
  return { code: orgCodeOf(named?.identifier) ?? '', display: named?.display ?? named?.identifier?.value ?? '' };
}

export const serviceIdOf = (request: ServiceRequest): string | null => {
  const reference = request.performer?.find((p) => p.reference?.startsWith('HealthcareService/'))?.reference;
  return reference ? reference.slice('HealthcareService/'.length) : null;
};

/** The outcome text and the record entry it was written as, from Task.output. */
export function outcomeOf(task: Task): { text: string | null; entry: string | null } {
  let text: string | null = null;
  let entry: string | null = null;
  for (const output of task.output ?? []) {
    if (output.valueString !== undefined) text = output.valueString;
    if (output.valueReference?.reference) entry = output.valueReference.reference;
  }
  return { text, entry };
}

/** Each version of the Task, oldest first: the state it entered, when, and who moved it. Versions that kept the state are left out. */
export function historyOf(versions: Task[]): ReferralHistoryItem[] {
  const items: ReferralHistoryItem[] = [];
  for (const version of versions) {
    const status = version.status as ReferralState;
    if (items.at(-1)?.status === status) continue;
    items.push({
      status,
      at: version.lastModified ?? version.meta?.lastUpdated ?? '',
      by: extensionValue(version, CHANGED_BY_EXTENSION)?.valueString ?? null,
      reason: version.statusReason?.text ?? null,
    });
  }
  return items;
}

/** The versions in a history Bundle (newest first, as the store gives them), oldest first. */
export const versionsOf = (bundle: Bundle): Task[] =>
  (bundle.entry ?? [])
    .map((e) => e.resource as Task | undefined)
    .filter((t): t is Task => !!t)
    .reverse();

export function patientSummary(patient: Patient | undefined, id: string): Referral['patient'] {
  if (!patient) return { id, name: 'Patient not shown', nhsNumber: null };
  const listing = patientListing(patient);
  return { id, name: listing.name, nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? null };
}

/** The `Referral` view of a ServiceRequest and its workflow Task. */
export function referralView(request: ServiceRequest, task: Task, patient: Patient | undefined, history: ReferralHistoryItem[]): Referral {
  const org = receivingOrg(request);
  const service = request.performer?.find((p) => p.reference?.startsWith('HealthcareService/'));
  const outcome = outcomeOf(task);
  const patientId = (request.subject?.reference ?? '').replace(/^Patient\//, '');
  return {
    id: request.id!,
    ubrn: request.identifier?.find((i) => i.system === UBRN_SYSTEM)?.value ?? '',
    journeyId: request.requisition?.system === JOURNEY_SYSTEM ? (request.requisition.value ?? null) : null,
    taskId: task.id!,
    status: task.status as ReferralState,
    priority: (request.priority ?? 'routine') as ReferralPriority,
    patient: patientSummary(patient, patientId),
    service: { id: serviceIdOf(request), name: service?.display ?? org.display, org: org.code },
    requester: { org: orgCodeOf(request.requester?.identifier) ?? '', display: request.requester?.display ?? request.requester?.identifier?.value ?? '' },
    reason: request.reasonCode?.[0]?.text ?? '',
    whatMatters: request.note?.[0]?.text ?? null,
    consentToShare: extensionValue(request, CONSENT_EXTENSION)?.valueBoolean === true,
    attachments: (request.supportingInfo ?? []).map((r) => r.reference ?? '').filter(Boolean),
    attached: (request.supportingInfo ?? []).filter((r) => r.reference).map((r) => ({ reference: r.reference!, display: r.display ?? r.reference! })),
    authoredOn: task.authoredOn ?? request.authoredOn ?? '',
    acceptedAt: task.executionPeriod?.start ?? null,
    finishedAt: task.executionPeriod?.end ?? null,
    outcome: outcome.text,
    outcomeEntry: outcome.entry,
    statusReason: task.statusReason?.text ?? null,
    versionId: task.meta?.versionId ?? '',
    history,
  };
}
