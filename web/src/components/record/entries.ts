/**
 * Reading a FHIR record for people: who the patient is, when each entry happened, what it says,
 * and which organisation (and kind of agency) recorded it. Pure functions, no I/O.
 */
import type { CodeableConcept, Condition, Identifier, Observation, Patient, Quantity, QuestionnaireResponse, Reference, Resource } from '@medplum/fhirtypes';
import { nhsNumberProblem } from '../../../../src/shared/ids.ts';
import { formatDate } from '../../format.ts';
import { AGENCY_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM, WHAT_MATTERS_QUESTIONNAIRE } from '../../record-api.ts';

// -----------------------------------------------------------------------------------------------
// The patient
// -----------------------------------------------------------------------------------------------

/** Why an NHS number cannot be right, in words for the screen, or null when it is valid. */
export function nhsNumberMessage(input: string): string | null {
  const trimmed = input.trim();
  if (!trimmed) return 'Enter the NHS number';
  if (/[^\d\s-]/.test(trimmed)) return 'An NHS number has only digits, for example 999 000 0018';
  const problem = nhsNumberProblem(trimmed);
  if (!problem) return null;
  if (problem.includes('exactly 10 digits')) return `An NHS number has exactly 10 digits; you entered ${trimmed.replace(/\D/g, '').length}`;
  return 'This is not a valid NHS number: check the digits (its check digit does not match)';
}

export const nhsNumberDigits = (input: string) => input.replace(/[\s-]/g, '');

/** `9990000018` → `999 000 0018`, the way the NHS writes it. */
export function formatNhsNumber(value: string | undefined): string {
  const digits = (value ?? '').replace(/\D/g, '');
  return digits.length === 10 ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : (value ?? '');
}

export const nhsNumberOf = (patient: Patient): string | undefined => patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;

const officialName = (patient: Patient) => patient.name?.find((n) => n.use === 'official') ?? patient.name?.find((n) => n.use !== 'old') ?? patient.name?.[0];

/** NHS patient banner style: family name in capitals, then given names (`SMITH, Alice`). */
export function bannerName(patient: Patient): string {
  const name = officialName(patient);
  if (!name) return 'Name not recorded';
  const family = name.family?.toUpperCase();
  const given = name.given?.join(' ');
  const prefix = name.prefix?.length ? ` (${name.prefix.join(' ')})` : '';
  if (family && given) return `${family}, ${given}${prefix}`;
  return family ?? given ?? name.text ?? 'Name not recorded';
}

/** The name as said aloud: `Alice Smith`. */
export function plainName(patient: Patient): string {
  const name = officialName(patient);
  if (!name) return 'this patient';
  return name.text ?? ([...(name.given ?? []), name.family].filter(Boolean).join(' ') || 'this patient');
}

/** Whole years (or months under 2) between a birth date and `on`. */
export function ageText(birthDate: string | undefined, on = new Date()): string | null {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return null;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let months = (on.getUTCFullYear() - y) * 12 + (on.getUTCMonth() + 1 - m);
  if (on.getUTCDate() < d) months -= 1;
  if (months < 0) return null;
  if (months < 24) return `${months} ${months === 1 ? 'month' : 'months'}`;
  const years = Math.floor(months / 12);
  return `${years} years`;
}

const GENDERS: Record<string, string> = { male: 'Male', female: 'Female', other: 'Other', unknown: 'Not known' };
export const genderText = (gender: string | undefined) => (gender ? (GENDERS[gender] ?? gender) : 'Not recorded');

export function addressText(patient: Patient): string | null {
  const address = patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0];
  if (!address) return null;
  if (address.text) return address.text;
  return [...(address.line ?? []), address.city, address.district, address.postalCode].filter(Boolean).join(', ') || null;
}

export interface Organisation {
  name: string | null;
  code: string | null;
}

const odsOf = (identifier: Identifier | undefined) => (identifier && (!identifier.system || identifier.system === ODS_SYSTEM) ? (identifier.value ?? null) : null);

export function organisationOf(reference: Reference | undefined): Organisation | null {
  if (!reference) return null;
  const code = odsOf(reference.identifier);
  const name = reference.display ?? null;
  if (!code && !name) return reference.reference ? { name: reference.reference, code: null } : null;
  return { name, code };
}

export const organisationText = (org: Organisation | null): string => (!org ? 'Not recorded' : org.name && org.code ? `${org.name} (${org.code})` : (org.name ?? org.code ?? 'Not recorded'));

export function registeredPractice(patient: Patient): Organisation | null {
  return organisationOf(patient.generalPractitioner?.find((g) => odsOf(g.identifier)) ?? patient.generalPractitioner?.[0]);
}

// -----------------------------------------------------------------------------------------------
// Entries: when, what, who
// -----------------------------------------------------------------------------------------------

/** Any resource, seen through the elements this file reads (each type has only some of them). */
type AnyEntry = Resource & Record<string, unknown>;

const get = <T>(resource: Resource, key: string): T | undefined => (resource as AnyEntry)[key] as T | undefined;

export function codeText(concept: CodeableConcept | undefined): string | null {
  if (!concept) return null;
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.[0]?.code ?? null;
}

/** When it happened (clinically), else when it was recorded; undefined when the entry gives no date. */
export function clinicalDate(resource: Resource): string | undefined {
  const period = (key: string) => get<{ start?: string; end?: string }>(resource, key)?.start;
  const candidates: Array<string | undefined> = [
    get(resource, 'effectiveDateTime'),
    period('effectivePeriod'),
    get(resource, 'performedDateTime'),
    period('performedPeriod'),
    get(resource, 'occurrenceDateTime'),
    resource.resourceType === 'Encounter' ? period('period') : undefined,
    get(resource, 'authoredOn'),
    get(resource, 'authored'),
    get(resource, 'onsetDateTime'),
    get(resource, 'recordedDate'),
    get(resource, 'dateAsserted'),
    get(resource, 'issued'),
    get(resource, 'sent'),
    get(resource, 'date'),
    get(resource, 'created'),
    period('period'),
  ];
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0);
}

/** The entry's clinical date, else when the shared record received it. */
export const entryDate = (resource: Resource): string | undefined => clinicalDate(resource) ?? resource.meta?.lastUpdated;

/** Newest first; entries on the same day keep the order the server stored them in (newest first). */
export function newestFirst(a: Resource, b: Resource): number {
  const byDate = (entryDate(b) ?? '').slice(0, 10).localeCompare((entryDate(a) ?? '').slice(0, 10));
  if (byDate !== 0) return byDate;
  return (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? '');
}

/** The organisation that recorded the entry: the author, performer, requester … as the type names it. */
export function authorOf(resource: Resource): Organisation | null {
  const single = ['recorder', 'asserter', 'requester', 'author', 'serviceProvider', 'informationSource', 'sender', 'custodian', 'managingOrganization', 'source'];
  for (const key of single) {
    const value = get<Reference | Reference[]>(resource, key);
    const reference = Array.isArray(value) ? value[0] : value;
    if (reference && (reference.display || reference.identifier)) return organisationOf(reference);
  }
  const performers = get<Array<Reference | { actor?: Reference }>>(resource, 'performer') ?? [];
  for (const performer of performers) {
    const reference = 'actor' in performer && performer.actor ? performer.actor : (performer as Reference);
    if (reference.display || reference.identifier) return organisationOf(reference);
  }
  return null;
}

const AGENCY_LABELS: Record<string, string> = {
  'gp-practice': 'GP practice',
  pcn: 'Primary care network',
  'community-pharmacy': 'Community pharmacy',
  'social-care': 'Social care',
  'mental-health': 'Mental health',
  voluntary: 'Voluntary and community sector',
  'community-services': 'Community services',
  acute: 'Hospital (acute trust)',
  'nhs-trust': 'NHS trust',
  'care-home': 'Care home',
  ambulance: 'Ambulance service',
  hospice: 'Hospice',
  healthwatch: 'Healthwatch',
  patient: 'The patient',
  other: 'Other organisation',
};

export const NO_AGENCY = 'not-recorded';

export function agencyOf(resource: Resource): string {
  return resource.meta?.tag?.find((t) => t.system === AGENCY_SYSTEM)?.code ?? NO_AGENCY;
}

export function agencyLabel(code: string): string {
  if (code === NO_AGENCY) return 'Agency not recorded';
  return AGENCY_LABELS[code] ?? code.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The kind of agency a signed-in user's organisation is, from the shape of its ODS code. */
export function agencyForOrg(code: string | null): string | null {
  if (!code) return null;
  if (/^U\d{5}$/.test(code)) return 'pcn';
  if (/^[A-Z]\d{5}$/.test(code)) return 'gp-practice';
  if (/^F[A-Z0-9]{4}$/.test(code)) return 'community-pharmacy';
  if (/^R[A-Z0-9]{2,4}$/.test(code)) return 'nhs-trust';
  return 'other';
}

const number = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });

/** Units as people write them: `kg/m2` → `kg/m²`, `mm[Hg]` → `mmHg`. */
export const unitText = (unit: string): string => unit.replace(/m2$/, 'm²').replace('mm[Hg]', 'mmHg');

export function quantityText(quantity: Quantity | undefined): string | null {
  if (quantity?.value === undefined) return null;
  const unit = unitText(quantity.unit ?? quantity.code ?? '');
  return `${number.format(quantity.value)}${unit ? (unit === '%' ? '%' : ` ${unit}`) : ''}`;
}

export const isWhatMatters = (resource: Resource): resource is QuestionnaireResponse =>
  resource.resourceType === 'QuestionnaireResponse' && (resource as QuestionnaireResponse).questionnaire === WHAT_MATTERS_QUESTIONNAIRE;

export function noteText(resource: Resource): string | null {
  const notes = get<Array<{ text?: string }>>(resource, 'note') ?? [];
  const text = notes
    .map((n) => n.text)
    .filter(Boolean)
    .join(' ');
  return text || null;
}

export function observationValue(observation: Observation): string | null {
  const systolic = componentValue(observation, SYSTOLIC);
  const diastolic = componentValue(observation, DIASTOLIC);
  if (systolic !== undefined && diastolic !== undefined) return `${number.format(systolic)}/${number.format(diastolic)} mmHg`;
  if (observation.valueQuantity) return quantityText(observation.valueQuantity);
  if (observation.valueString) return observation.valueString;
  if (observation.valueCodeableConcept) return codeText(observation.valueCodeableConcept);
  if (observation.valueBoolean !== undefined) return observation.valueBoolean ? 'Yes' : 'No';
  return null;
}

export interface EntrySummary {
  /** What kind of entry, in plain words: "Problem", "Medicine" … */
  kind: string;
  title: string;
  detail: string | null;
}

const KIND_LABELS: Record<string, string> = {
  Condition: 'Problem',
  MedicationRequest: 'Medicine prescribed',
  MedicationStatement: 'Medicine',
  AllergyIntolerance: 'Allergy',
  Observation: 'Measurement or result',
  Encounter: 'Contact',
  Procedure: 'Procedure or review',
  QuestionnaireResponse: 'Questionnaire',
  CareTeam: 'Care team',
  ServiceRequest: 'Referral',
  Immunization: 'Vaccination',
  DocumentReference: 'Document',
  CarePlan: 'Care plan',
  Communication: 'Message',
  Appointment: 'Appointment',
  Flag: 'Alert',
};

/** One line of the timeline: what kind of entry, its title and a short detail. */
export function summarise(resource: Resource): EntrySummary {
  const kind = KIND_LABELS[resource.resourceType] ?? resource.resourceType;
  const code = (key: string) => codeText(get<CodeableConcept>(resource, key));
  const note = noteText(resource);
  switch (resource.resourceType) {
    case 'Condition': {
      const status = codeText((resource as Condition).clinicalStatus);
      return { kind, title: code('code') ?? 'Problem', detail: [status ? statusWord(status) : null, note].filter(Boolean).join('. ') || null };
    }
    case 'MedicationRequest':
    case 'MedicationStatement': {
      const dosage = get<Array<{ text?: string }>>(resource, resource.resourceType === 'MedicationRequest' ? 'dosageInstruction' : 'dosage')?.[0]?.text;
      return { kind, title: code('medicationCodeableConcept') ?? get<Reference>(resource, 'medicationReference')?.display ?? 'Medicine', detail: [dosage, note].filter(Boolean).join('. ') || null };
    }
    case 'AllergyIntolerance': {
      const reactions = (get<Array<{ manifestation?: CodeableConcept[] }>>(resource, 'reaction') ?? []).flatMap((r) => (r.manifestation ?? []).map(codeText)).filter(Boolean);
      return { kind, title: code('code') ?? 'Allergy', detail: [reactions.length ? `Reaction: ${reactions.join(', ')}` : null, note].filter(Boolean).join('. ') || null };
    }
    case 'Observation': {
      const value = observationValue(resource as Observation);
      return { kind, title: code('code') ?? 'Observation', detail: [value, note].filter(Boolean).join('. ') || null };
    }
    case 'Encounter': {
      const type = codeText(get<CodeableConcept[]>(resource, 'type')?.[0]) ?? get<{ display?: string }>(resource, 'class')?.display ?? 'Contact';
      const reason = codeText(get<CodeableConcept[]>(resource, 'reasonCode')?.[0]);
      return { kind, title: type, detail: reason ? `Reason: ${reason}` : null };
    }
    case 'QuestionnaireResponse': {
      const response = resource as QuestionnaireResponse;
      const whatMatters = response.questionnaire === WHAT_MATTERS_QUESTIONNAIRE;
      const first = answersOf(response)[0];
      return whatMatters
        ? { kind: 'In the patient’s own words', title: 'What matters to me', detail: first ? `“${first.answer}”` : null }
        : { kind, title: response.questionnaire ?? 'Questionnaire', detail: first ? `${first.question}: ${first.answer}` : null };
    }
    case 'CareTeam':
      return { kind, title: get<string>(resource, 'name') ?? 'Care team', detail: note };
    case 'Communication': {
      // A referral's outcome sent back by the service: its category says so, its topic names the referral.
      const said = get<Array<{ contentString?: string }>>(resource, 'payload')?.find((p) => p.contentString)?.contentString;
      return { kind: codeText(get<CodeableConcept[]>(resource, 'category')?.[0]) ?? kind, title: code('topic') ?? 'Message', detail: said ?? note };
    }
    default:
      return { kind, title: code('code') ?? code('type') ?? resource.resourceType, detail: note };
  }
}

const statusWord = (status: string) => status.charAt(0).toUpperCase() + status.slice(1);

export interface Answered {
  question: string;
  answer: string;
}

/** A QuestionnaireResponse's questions and answers, nested items flattened in order. */
export function answersOf(response: QuestionnaireResponse): Answered[] {
  const out: Answered[] = [];
  const walk = (items: QuestionnaireResponse['item']) => {
    for (const item of items ?? []) {
      const answers = (item.answer ?? [])
        .map(
          (a) =>
            a.valueString ??
            (a.valueCoding ? (a.valueCoding.display ?? a.valueCoding.code) : undefined) ??
            (a.valueDate ? formatDate(a.valueDate) : undefined) ??
            (a.valueBoolean !== undefined ? (a.valueBoolean ? 'Yes' : 'No') : undefined) ??
            (a.valueInteger !== undefined ? String(a.valueInteger) : undefined),
        )
        .filter((a): a is string => !!a);
      if (answers.length) out.push({ question: item.text ?? item.linkId, answer: answers.join('; ') });
      walk(item.item);
      for (const answer of item.answer ?? []) walk(answer.item);
    }
  };
  walk(response.item);
  return out;
}

// -----------------------------------------------------------------------------------------------
// Observations over time
// -----------------------------------------------------------------------------------------------

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const SYSTOLIC = ['8480-6', '271649006'];
const DIASTOLIC = ['8462-4', '271650006'];
const BP_PANEL = ['85354-9', '75367002'];
const HBA1C = ['4548-4', '59261-8', '17856-6', '1049301000000100', '999791000000106', '1019431000000105'];
const BMI = ['39156-5', '60621009'];

const hasCode = (concept: CodeableConcept | undefined, codes: string[]) =>
  (concept?.coding ?? []).some((c) => (c.system === LOINC || c.system === SNOMED || !c.system) && !!c.code && codes.includes(c.code));

function componentValue(observation: Observation, codes: string[]): number | undefined {
  return observation.component?.find((c) => hasCode(c.code, codes))?.valueQuantity?.value;
}

export type TrendKind = 'bp' | 'hba1c' | 'bmi';

export interface Reading {
  date: string;
  value: number;
}

export interface Trend {
  kind: TrendKind;
  title: string;
  /** The title mid-sentence: "blood pressure", "HbA1c", "BMI". */
  noun: string;
  unit: string;
  series: Array<{ name: string; readings: Reading[] }>;
}

/** Which trend an Observation belongs to, if any (by LOINC/SNOMED code, or its words as a fallback). */
export function trendKindOf(observation: Observation): TrendKind | null {
  const words = (codeText(observation.code) ?? '').toLowerCase();
  if (hasCode(observation.code, [...BP_PANEL, ...SYSTOLIC, ...DIASTOLIC]) || componentValue(observation, SYSTOLIC) !== undefined) return 'bp';
  if (hasCode(observation.code, HBA1C) || /hba1c|haemoglobin a1c|hemoglobin a1c/.test(words)) return 'hba1c';
  if (hasCode(observation.code, BMI) || /body mass index|\bbmi\b/.test(words)) return 'bmi';
  return null;
}

const usable = (o: Observation) => o.status !== 'entered-in-error' && o.status !== 'cancelled';

/** Blood pressure, HbA1c and BMI readings, oldest first, for the trend charts (empty trends left out). */
export function trendsOf(entries: Resource[]): Trend[] {
  const observations = entries.filter((e): e is Observation => e.resourceType === 'Observation').filter(usable);
  const systolic: Reading[] = [];
  const diastolic: Reading[] = [];
  const hba1c: Reading[] = [];
  const bmi: Reading[] = [];
  const units: Partial<Record<TrendKind, string>> = {};
  for (const observation of observations) {
    const date = entryDate(observation);
    const kind = trendKindOf(observation);
    if (!date || !kind) continue;
    if (kind === 'bp') {
      const s = componentValue(observation, SYSTOLIC) ?? (hasCode(observation.code, SYSTOLIC) ? observation.valueQuantity?.value : undefined);
      const d = componentValue(observation, DIASTOLIC) ?? (hasCode(observation.code, DIASTOLIC) ? observation.valueQuantity?.value : undefined);
      if (s !== undefined) systolic.push({ date, value: s });
      if (d !== undefined) diastolic.push({ date, value: d });
      continue;
    }
    const value = observation.valueQuantity?.value;
    if (value === undefined) continue;
    (kind === 'hba1c' ? hba1c : bmi).push({ date, value });
    units[kind] ??= observation.valueQuantity?.unit ?? observation.valueQuantity?.code;
  }
  const byDate = (a: Reading, b: Reading) => a.date.localeCompare(b.date);
  const trends: Trend[] = [
    {
      kind: 'bp',
      title: 'Blood pressure',
      noun: 'blood pressure',
      unit: 'mmHg',
      series: [
        { name: 'Systolic', readings: systolic.sort(byDate) },
        { name: 'Diastolic', readings: diastolic.sort(byDate) },
      ],
    },
    { kind: 'hba1c', title: 'HbA1c', noun: 'HbA1c', unit: unitText(units.hba1c ?? 'mmol/mol'), series: [{ name: 'HbA1c', readings: hba1c.sort(byDate) }] },
    { kind: 'bmi', title: 'Body mass index (BMI)', noun: 'BMI', unit: unitText(units.bmi ?? 'kg/m2'), series: [{ name: 'BMI', readings: bmi.sort(byDate) }] },
  ];
  return trends.map((t) => ({ ...t, series: t.series.filter((s) => s.readings.length > 0) })).filter((t) => t.series.length > 0);
}

/** Observations that are not drawn as a trend, newest first. */
export function otherObservations(entries: Resource[]): Observation[] {
  return entries
    .filter((e): e is Observation => e.resourceType === 'Observation')
    .filter((o) => usable(o) && trendKindOf(o) === null)
    .sort(newestFirst);
}
