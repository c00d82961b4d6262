/**
 * The patient a resource belongs to. A reference into the Patient compartment (the R4 Patient
 * CompartmentDefinition's parameters: Observation.subject, Condition.asserter, CarePlan.performer …)
 * must name a stored Patient — literally (`Patient/<id>`) or by NHS number, which is completed with the
 * literal reference to the one active Patient holding it — or say that it names something else. What
 * cannot be resolved (an identifier no Patient holds, a `urn:uuid:` the request did not resolve, a
 * Patient id not stored) is refused by element: a clinical entry stored without its patient would be
 * nobody's record, and every role could read it.
 */
import { getSearchParameters, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../shared/ids.ts';
import type { Db } from '../storage/db.ts';
import { invalidAt, unprocessable } from './outcomes.ts';
import { referencesOf } from './search-index.ts';
import { compartmentReferenceCodes } from './versions.ts';

export interface PatientReferences {
  /** Patients referred to literally, each with the element that does: each must be a stored Patient. */
  patients: Array<{ id: string; at: At }>;
  /** References by NHS number, to be completed with a literal reference to the Patient holding it. */
  byNhsNumber: Array<{ reference: Reference; nhsNumber: string; at: At }>;
  issues: OperationOutcomeIssue[];
}

/** Where a reference sits (`Observation.performer[1]`), found only when a message needs it. */
export type At = () => string;

const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const HOW = 'refer to a Patient as Patient/<id> or by NHS number (system https://fhir.nhs.uk/Id/nhs-number)';

/**
 * The resource's references into the Patient compartment, sorted into what must be looked up and what
 * is wrong already. Undefined for a type outside the compartment, and for a Patient (its own owner).
 */
export function findPatientReferences(resource: Resource): PatientReferences | undefined {
  const params = resource.resourceType === 'Patient' ? [] : compartmentParams(resource.resourceType);
  if (params.length === 0) return undefined;
  const found: PatientReferences = { patients: [], byNhsNumber: [], issues: [] };
  const untyped: At[] = [];
  const paths = pathsOf(resource);
  for (const { code, targets } of params) {
    for (const reference of referencesOf(resource, code)) {
      const at = () => paths().get(reference) ?? `${resource.resourceType}.${code}`;
      const problem = sortReference(resource, reference, at, targets, found, untyped);
      if (problem) found.issues.push(invalidAt(at(), problem));
    }
  }
  // An identifier of unknown type names a patient or not; beside a reference to the patient it is not.
  if (found.patients.length === 0 && found.byNhsNumber.length === 0) {
    for (const at of untyped) found.issues.push(invalidAt(at(), `an identifier that says no type (Reference.type) may be a patient's: ${HOW}, or give the type of what it names`));
  }
  return found;
}

const paramsByType = new Map<string, Array<{ code: string; targets: string[] }>>();

/** A type's compartment parameters as stored (see compartmentReferenceCodes), with the types each may refer to. */
function compartmentParams(resourceType: string): Array<{ code: string; targets: string[] }> {
  let params = paramsByType.get(resourceType);
  if (!params) {
    const definitions = getSearchParameters(resourceType) ?? {};
    params = compartmentReferenceCodes(resourceType).map((code) => ({ code, targets: definitions[code]?.target ?? [] }));
    paramsByType.set(resourceType, params);
  }
  return params;
}

function sortReference(resource: Resource, reference: Reference, at: At, targets: string[], found: PatientReferences, untyped: At[]): string | null {
  const literal = reference.reference;
  if (typeof literal === 'string') {
    if (literal.startsWith('#')) {
      const contained = (resource as { contained?: Resource[] }).contained?.find((r) => r.id === literal.slice(1));
      return contained?.resourceType === 'Patient' ? `a contained Patient is nobody's record: ${HOW}` : null;
    }
    if (/^urn:/i.test(literal)) return `${literal} is not resolved in this transaction`;
    const match = LITERAL.exec(literal);
    if (!match) return `'${literal}' is not a reference this server can resolve: ${HOW}`;
    if (match[1] === 'Patient') found.patients.push({ id: match[2]!, at });
    return null;
  }
  const identifier = reference.identifier;
  if (identifier?.system === NHS_NUMBER_SYSTEM && identifier.value) {
    if (reference.type && reference.type !== 'Patient') return `an NHS number identifies a Patient, not a ${reference.type}`;
    found.byNhsNumber.push({ reference, nhsNumber: identifier.value, at });
    return null;
  }
  if (reference.type === 'Patient') return `names no stored Patient: ${HOW}`;
  // An ODS code names an organisation; an identifier of another type says so in Reference.type.
  if (identifier && !reference.type && identifier.system !== ODS_SYSTEM && targets.includes('Patient')) untyped.push(at);
  return null;
}

/** Where each object of the resource sits (`Observation.performer[1]`), found once and only when asked. */
function pathsOf(resource: Resource): () => Map<object, string> {
  let paths: Map<object, string> | undefined;
  return () => {
    if (paths) return paths;
    paths = new Map();
    const walk = (value: unknown, path: string) => {
      if (value === null || typeof value !== 'object') return;
      paths!.set(value, path);
      if (Array.isArray(value)) for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
      else for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`);
    };
    walk(resource, resource.resourceType);
    return paths;
  };
}

/** The active Patient holding each NHS number (migration 035's table: one at most). */
export async function nhsNumberHolders(db: Db, numbers: string[]): Promise<Map<string, string>> {
  if (numbers.length === 0) return new Map();
  const rows = await db.query<{ nhs_number: string; patient_id: string }>('SELECT nhs_number, patient_id FROM fhir_patient_nhs_number WHERE nhs_number = ANY($1::text[])', [[...new Set(numbers)]]);
  return new Map(rows.map((r) => [r.nhs_number, r.patient_id]));
}

/** Which of these Patient ids are not stored (or deleted). */
export async function missingPatients(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const unique = [...new Set(ids)];
  const rows = await db.query<{ id: string }>("SELECT id FROM fhir_resource WHERE resource_type = 'Patient' AND id = ANY($1::text[]) AND NOT deleted", [unique]);
  const stored = new Set(rows.map((r) => r.id));
  return new Set(unique.filter((id) => !stored.has(id)));
}

/** Writes each reference by NHS number as the literal reference to its holder, beside the identifier; the numbers no one holds. */
export function completeByNhsNumber(found: PatientReferences, holders: ReadonlyMap<string, string>): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const { reference, nhsNumber, at } of found.byNhsNumber) {
    const holder = holders.get(nhsNumber);
    if (!holder) issues.push(invalidAt(at(), `no patient holds NHS number ${nhsNumber}`));
    else reference.reference = `Patient/${holder}`;
  }
  return issues;
}

export const patientMissing = (id: string, at: At) => invalidAt(at(), `Patient/${id} does not exist: ${HOW}`);

/**
 * The resource with its patient references checked and completed (a copy, when one was completed),
 * and the Patients it names literally, which the caller must see stored when the write commits.
 */
export async function ownedResource<T extends Resource>(db: Db, resource: T): Promise<{ resource: T; patients: PatientReferences['patients'] }> {
  let found = findPatientReferences(resource);
  if (!found) return { resource, patients: [] };
  if (found.issues.length > 0) throw unprocessable(found.issues);
  if (found.byNhsNumber.length === 0) return { resource, patients: found.patients };
  const completed = structuredClone(resource);
  found = findPatientReferences(completed)!;
  const issues = completeByNhsNumber(
    found,
    await nhsNumberHolders(
      db,
      found.byNhsNumber.map((r) => r.nhsNumber),
    ),
  );
  if (issues.length > 0) throw unprocessable(issues);
  return { resource: completed, patients: found.patients };
}

/**
 * The 409 for a Patient whose NHS number an active Patient already holds, naming that Patient. The
 * database refuses it (migration 035) without saying which number, so it is found here from the Patient.
 */
export function nhsNumberHeld(patient: Resource, holder: string): OperationOutcomeError {
  const identifiers = (patient as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? [];
  const held = identifiers.flatMap((identifier, i) => (identifier.system === NHS_NUMBER_SYSTEM && identifier.value ? [{ i, value: identifier.value }] : []));
  const which = held.length === 1 ? `NHS number ${held[0]!.value}` : 'an NHS number of this Patient';
  return new OperationOutcomeError({
    resourceType: 'OperationOutcome',
    id: 'conflict',
    issue: [
      {
        severity: 'error',
        code: 'duplicate',
        details: { text: `${which} is already held by Patient/${holder}: one active Patient per NHS number (update that Patient, or make one inactive)` },
        expression: held.length === 1 ? [`Patient.identifier[${held[0]!.i}]`] : ['Patient.identifier'],
      },
    ],
  });
}
