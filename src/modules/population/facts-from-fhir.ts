/**
 * A patient's FHIR resources flattened into the facts every rule reads (facts.ts): each entry's SNOMED CT and
 * dm+d codes, its clinical date as England's calendar day, its standing normalised from the resource's own
 * status elements, its values, and the ODS code of the organisation that recorded it. Done once per patient,
 * so no rule parses FHIR and every rule reads the same normalisation.
 *
 * Statuses the contract does not name are mapped to the standing under which they cannot make a finding that
 * is not there: a result not yet final, a procedure not (yet) done, a prescription still a draft or a care plan
 * or team only proposed is `void`; a status of `unknown` on something that did happen (a medicine issued, a
 * plan made) is `ended`, so it counts where "ever recorded" counts and never as current.
 */
import type {
  CarePlan,
  CareTeam,
  CodeableConcept,
  Condition,
  Encounter,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Quantity,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { registryToday } from '../../shared/dates.ts';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { normalisePostcode } from '../../shared/ids.ts';
import type { EntryStanding, EntryType, EntryValue, PatientFacts, RecordEntry } from './facts.ts';

export const SNOMED_SYSTEM = 'http://snomed.info/sct';
/** dm+d as this project writes it (src/demo/synthetic-population.ts); dm+d product ids are SNOMED CT ids. */
export const DMD_SYSTEM = 'https://dmd.nhs.uk';
const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/** The resource types the rules read (with the Patient itself): what the store scan is asked for. */
export const FACT_TYPES: readonly EntryType[] = ['Condition', 'Observation', 'MedicationRequest', 'MedicationStatement', 'Procedure', 'Encounter', 'CarePlan', 'CareTeam'];

/** The facts of one patient from their Patient resource and the entries of their record (other types are left out). */
export function factsFromFhir(patient: Patient & { id: string }, resources: readonly Resource[]): PatientFacts {
  const entries: RecordEntry[] = [];
  for (const resource of resources) {
    const entry = entryOf(resource);
    if (entry) entries.push(entry);
  }
  const birthDate = patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? patient.birthDate : undefined;
  const practice = odsOf(patient.generalPractitioner) ?? odsOf(patient.managingOrganization);
  const postcode = homePostcode(patient);
  return {
    patientId: patient.id,
    ...(birthDate ? { birthDate } : {}),
    ...(patient.gender ? { gender: patient.gender } : {}),
    ...(practice ? { practice } : {}),
    ...(postcode ? { postcode } : {}),
    entries,
  };
}

/**
 * The facts of a record read whole earlier, with these entries as they stand now: each named entry's old form
 * out, its current one (when it is still in this patient's record) in at its place in the record's order — the
 * facts a read of the whole record would make, when nothing else in it changed since.
 */
export function withEntries(facts: PatientFacts, replaced: ReadonlySet<string>, current: readonly Resource[]): PatientFacts {
  const entries = facts.entries.filter((e) => !replaced.has(`${e.type}/${e.id}`));
  for (const resource of current) {
    const entry = entryOf(resource);
    if (!entry) continue;
    let at = entries.length;
    while (at > 0 && entryOrder(entries[at - 1]!, entry) > 0) at--;
    entries.splice(at, 0, entry);
  }
  return { ...facts, entries };
}

/** A record's order as the store reads it whole (readCompartments: type, then id, each by code points, COLLATE "C"). */
function entryOrder(a: RecordEntry, b: RecordEntry): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

/** The current home address's postcode (else the first address's), upper-case with one space; none when it is not a UK postcode. */
function homePostcode(patient: Patient): string | undefined {
  const addresses = (patient.address ?? []).filter((a) => !a.period?.end && a.use !== 'old');
  const address = addresses.find((a) => a.use === 'home') ?? addresses[0];
  return address?.postalCode ? (normalisePostcode(address.postalCode) ?? undefined) : undefined;
}

function entryOf(resource: Resource): RecordEntry | undefined {
  switch (resource.resourceType) {
    case 'Condition':
      return entry(resource, conceptCodes(resource.code), conditionDate(resource), conditionStanding(resource), [resource.asserter, resource.recorder]);
    case 'Observation':
      return observationEntry(resource);
    case 'MedicationRequest':
      return entry(resource, conceptCodes(resource.medicationCodeableConcept), day(resource.authoredOn), medicationRequestStanding(resource.status), [
        resource.requester,
        resource.performer,
        resource.recorder,
      ]);
    case 'MedicationStatement':
      return entry(
        resource,
        conceptCodes(resource.medicationCodeableConcept),
        day(resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.dateAsserted),
        medicationStatementStanding(resource.status),
        [resource.informationSource],
      );
    case 'Procedure':
      return entry(resource, conceptCodes(resource.code), day(resource.performedDateTime ?? resource.performedPeriod?.start), procedureStanding(resource.status), [
        ...(resource.performer ?? []).flatMap((p) => [p.actor, p.onBehalfOf]),
        resource.recorder,
        resource.asserter,
      ]);
    case 'Encounter':
      return entry(resource, conceptCodes(...(resource.type ?? [])), day(resource.period?.start), encounterStanding(resource.status), [resource.serviceProvider]);
    case 'CarePlan':
      return entry(resource, conceptCodes(...(resource.category ?? [])), day(resource.period?.start ?? resource.created), carePlanStanding(resource.status), [
        resource.author,
        ...(resource.contributor ?? []),
      ]);
    case 'CareTeam':
      return entry(resource, conceptCodes(...(resource.category ?? [])), day(resource.period?.start), careTeamStanding(resource.status), [...(resource.managingOrganization ?? [])]);
    default:
      return undefined;
  }
}

function entry(resource: Resource, codes: string[], date: string | undefined, standing: EntryStanding, recorders: readonly (Reference | undefined)[]): RecordEntry {
  const organisation = odsOf(recorders);
  return {
    type: resource.resourceType as EntryType,
    id: resource.id ?? '',
    codes,
    ...(date ? { date } : {}),
    standing,
    ...(organisation ? { organisation } : {}),
  };
}

function observationEntry(resource: Observation): RecordEntry {
  const base = entry(
    resource,
    conceptCodes(resource.code),
    day(resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.effectiveInstant ?? resource.issued),
    observationStanding(resource.status),
    [...(resource.performer ?? [])],
  );
  const value = quantityValue(resource.valueQuantity);
  const components = (resource.component ?? []).flatMap((c) => {
    const componentValue = quantityValue(c.valueQuantity);
    return componentValue ? [{ codes: conceptCodes(c.code), value: componentValue }] : [];
  });
  return { ...base, ...(value ? { value } : {}), ...(components.length ? { components } : {}) };
}

/** SNOMED CT and dm+d codes of the concepts, each once, in the order written. */
function conceptCodes(...concepts: (CodeableConcept | undefined)[]): string[] {
  const codes = new Set<string>();
  for (const concept of concepts) {
    for (const coding of concept?.coding ?? []) {
      if ((coding.system === SNOMED_SYSTEM || coding.system === DMD_SYSTEM) && coding.code) codes.add(coding.code);
    }
  }
  return [...codes];
}

/**
 * A FHIR date or dateTime as England's calendar day: a date as written; a dateTime (which carries its offset)
 * as the day it fell on in England. A year or a month alone cannot be placed on a day: undefined.
 */
export function day(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : registryToday(at);
}

const COMPARATORS = new Set(['<', '<=', '>=', '>']);

/**
 * Quantity → value: the UCUM code when the quantity is UCUM-coded (else no unit: a rule then cannot compare
 * it and refuses). A comparator outside the four (`ad`) says nothing a threshold can use: no value.
 */
function quantityValue(quantity: Quantity | undefined): EntryValue | undefined {
  if (quantity?.value === undefined) return undefined;
  if (quantity.comparator !== undefined && !COMPARATORS.has(quantity.comparator)) return undefined;
  const unit = quantity.system === UCUM_SYSTEM && quantity.code ? quantity.code : undefined;
  return {
    value: quantity.value,
    ...(unit ? { unit } : {}),
    ...(quantity.comparator ? { comparator: quantity.comparator as EntryValue['comparator'] } : {}),
  };
}

/** The ODS code of the first reference (or `actor` of one) naming an organisation by its ODS code. */
function odsOf(references: Reference | readonly (Reference | undefined)[] | undefined): string | undefined {
  const list = Array.isArray(references) ? references : [references as Reference | undefined];
  for (const reference of list) {
    const identifier = reference?.identifier;
    if (identifier?.system === ODS_SYSTEM && identifier.value) return identifier.value.trim().toUpperCase();
  }
  return undefined;
}

const codeOf = (concept: CodeableConcept | undefined, system: string): string | undefined => concept?.coding?.find((c) => c.system === system)?.code;

function conditionDate(resource: Condition): string | undefined {
  return day(resource.onsetDateTime ?? resource.onsetPeriod?.start) ?? day(resource.recordedDate);
}

function conditionStanding(resource: Condition): EntryStanding {
  const verification = codeOf(resource.verificationStatus, 'http://terminology.hl7.org/CodeSystem/condition-ver-status');
  if (verification === 'entered-in-error' || verification === 'refuted') return 'void';
  const clinical = codeOf(resource.clinicalStatus, 'http://terminology.hl7.org/CodeSystem/condition-clinical');
  if (clinical === 'inactive' || clinical === 'remission' || clinical === 'resolved') return 'resolved';
  // active, recurrence, relapse; R4 requires a clinical status on every Condition not entered in error (con-3/con-4).
  return 'active';
}

function observationStanding(status: Observation['status']): EntryStanding {
  return status === 'final' || status === 'amended' || status === 'corrected' ? 'active' : 'void';
}

function medicationRequestStanding(status: MedicationRequest['status']): EntryStanding {
  if (status === 'active' || status === 'on-hold') return 'active';
  if (status === 'stopped' || status === 'completed' || status === 'cancelled' || status === 'unknown') return 'ended';
  return 'void'; // entered-in-error, draft
}

function medicationStatementStanding(status: MedicationStatement['status']): EntryStanding {
  if (status === 'active' || status === 'intended' || status === 'on-hold') return 'active';
  if (status === 'completed' || status === 'stopped' || status === 'unknown') return 'ended';
  return 'void'; // entered-in-error, not-taken
}

function procedureStanding(status: Procedure['status']): EntryStanding {
  if (status === 'completed') return 'active';
  if (status === 'stopped') return 'ended';
  return 'void'; // not-done, entered-in-error, and not done yet: preparation, in-progress, on-hold, unknown
}

function encounterStanding(status: Encounter['status']): EntryStanding {
  if (status === 'planned' || status === 'cancelled' || status === 'entered-in-error') return 'void';
  // Like a completed procedure, a contact that took place (or is taking place) is `active`: it counts as done.
  return status === 'unknown' ? 'ended' : 'active';
}

function carePlanStanding(status: CarePlan['status']): EntryStanding {
  if (status === 'active' || status === 'on-hold') return 'active';
  if (status === 'completed' || status === 'revoked' || status === 'unknown') return 'ended';
  return 'void'; // entered-in-error, draft
}

function careTeamStanding(status: CareTeam['status']): EntryStanding {
  if (status === 'active' || status === 'suspended' || status === undefined) return 'active';
  if (status === 'inactive') return 'ended';
  return 'void'; // entered-in-error, proposed
}
