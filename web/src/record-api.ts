/**
 * The shared care record's client: FHIR R4 at /fhir with the same bearer token as /api. Failures
 * arrive as OperationOutcome and are thrown as `FhirError` (an ApiError, so the NHS error summary
 * shows them); a 403 for want of a legitimate relationship can be retried with a break-glass reason.
 */
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { ApiError } from './api.ts';
import { navigate } from './router.tsx';
import { clearSession, getToken } from './session.ts';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const AGENCY_SYSTEM = 'https://pcn-hub.example/agency';
export const WHAT_MATTERS_QUESTIONNAIRE = 'https://pcn-hub.example/Questionnaire/what-matters-to-me';

/** An OperationOutcome as an error: `expression` is the FHIRPath of the element at fault, if any. */
export class FhirError extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly expression: string | undefined,
    readonly outcome: OperationOutcome | null,
  ) {
    super(status, outcome?.issue?.[0]?.code ?? 'error', message, undefined);
    this.name = 'FhirError';
  }

  /** The server refused for want of a legitimate relationship (break glass may lift it). */
  get forbidden(): boolean {
    return this.status === 403;
  }
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

async function readOutcome(response: Response): Promise<FhirError> {
  const fallback = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    const outcome = (await response.json()) as OperationOutcome;
    const issue = outcome.issue?.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? outcome.issue?.[0];
    const text = issue?.details?.text ?? issue?.diagnostics;
    return new FhirError(response.status, text ? capitalise(text) : fallback, issue?.expression?.[0], outcome);
  } catch {
    return new FhirError(response.status, fallback, undefined, null);
  }
}

/**
 * HTTP header values are ISO-8859-1 on one line: typographic quotes and dashes become ASCII, line
 * breaks become spaces and anything else outside Latin-1 becomes "?", so fetch never refuses the reason.
 */
export function headerSafe(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/[\u2013\u2014\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/\s+/g, ' ')
    .replace(/[^\u0020-\u007E\u00A0-\u00FF]/g, '?')
    .trim()
    .slice(0, 500);
}

export interface FhirOptions {
  /** Sent as X-Break-Glass-Reason: a clinician sees a record without a legitimate relationship; audited. */
  breakGlassReason?: string | null;
}

async function fhir<T>(method: string, path: string, body?: unknown, options: FhirOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/fhir+json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/fhir+json';
  if (options.breakGlassReason) headers['X-Break-Glass-Reason'] = headerSafe(options.breakGlassReason);

  const response = await fetch(`/fhir/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    clearSession();
    const here = window.location.pathname + window.location.search;
    navigate(`/signin?next=${encodeURIComponent(here)}`);
  }
  if (!response.ok) throw await readOutcome(response);
  return (await response.json()) as T;
}

const resourcesOf = <T extends Resource>(bundle: Bundle): T[] => (bundle.entry ?? []).filter((e) => e.search?.mode !== 'outcome' && e.resource).map((e) => e.resource as T);

// -----------------------------------------------------------------------------------------------
// Searching for a patient
// -----------------------------------------------------------------------------------------------

export type PatientQuery = { kind: 'nhs'; nhsNumber: string } | { kind: 'name'; name: string; birthDate: string } | { kind: 'postcode'; postcode: string };

export const SEARCH_PAGE_SIZE = 50;

/** The search URL's parameters: every word of a name must match a part of it (FHIR `name` is a prefix match). */
export function patientSearchParams(query: PatientQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.kind === 'nhs') params.set('identifier', `${NHS_NUMBER_SYSTEM}|${query.nhsNumber}`);
  if (query.kind === 'name') {
    for (const word of query.name.split(/[\s,]+/).filter(Boolean)) params.append('name', word);
    params.set('birthdate', query.birthDate);
  }
  if (query.kind === 'postcode') params.set('address-postalcode', query.postcode);
  params.set('_count', String(SEARCH_PAGE_SIZE));
  return params;
}

export interface PatientMatches {
  patients: Patient[];
  /** The server has more than one page: the user should narrow the search. */
  more: boolean;
}

export async function searchPatients(query: PatientQuery, options: FhirOptions = {}): Promise<PatientMatches> {
  const bundle = await fhir<Bundle>('GET', `Patient?${patientSearchParams(query).toString()}`, undefined, options);
  return {
    patients: resourcesOf<Patient>(bundle).filter((r) => r.resourceType === 'Patient'),
    more: (bundle.link ?? []).some((l) => l.relation === 'next'),
  };
}

// -----------------------------------------------------------------------------------------------
// One patient's record
// -----------------------------------------------------------------------------------------------

export interface PatientRecord {
  patient: Patient;
  /** Every other entry in the record, as the server holds it. */
  entries: Resource[];
}

/** `Patient/:id/$everything`: the patient and every entry in their record, from every agency. */
export async function loadRecord(patientId: string, options: FhirOptions = {}): Promise<PatientRecord> {
  const bundle = await fhir<Bundle>('GET', `Patient/${encodeURIComponent(patientId)}/$everything`, undefined, options);
  const resources = resourcesOf(bundle);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient' && r.id === patientId);
  if (!patient) throw new FhirError(404, 'The record does not contain the patient', undefined, null);
  return { patient, entries: resources.filter((r) => r !== patient) };
}

/** The Patient alone (a form that names whom it is about). */
export const readPatient = (patientId: string, options: FhirOptions = {}): Promise<Patient> => fhir<Patient>('GET', `Patient/${encodeURIComponent(patientId)}`, undefined, options);

/** Adds one entry to the record (POST /fhir/<Type>); the server answers with what it stored. */
export function createEntry<T extends Resource>(resource: T, options: FhirOptions = {}): Promise<T> {
  return fhir<T>('POST', resource.resourceType, resource, options);
}
