/**
 * FHIR test helpers: the API harness with the admin signed in, a small client over app.inject that
 * speaks FHIR JSON, synthetic NHS numbers and patients, and a look at the audit trail.
 */
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '../src/shared/ids.ts';
import { apiHarness, type ApiHarness } from './api.ts';

export { NHS_NUMBER_SYSTEM, ODS_SYSTEM };

export interface FhirReply<T> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The raw body ('' when there is none). */
  text: string;
  /** The body as JSON (undefined when there is none). */
  json: T;
}

export interface FhirCall {
  body?: unknown;
  /** Sent as is (a string body is not re-encoded, for hostile input). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** An Authorization header; the admin's unless given. */
  auth?: string;
  contentType?: string;
}

export type Fhir = <T = Resource>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, call?: FhirCall) => Promise<FhirReply<T>>;

export interface FhirHarness extends ApiHarness {
  admin: string;
  fhir: Fhir;
}

export async function fhirHarness(): Promise<FhirHarness> {
  const h = await apiHarness();
  const admin = await h.signIn('admin@pcn-hub.example');
  const fhir: Fhir = async <T>(method: string, url: string, call: FhirCall = {}) => {
    const payload = call.raw ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    const response = await h.app.inject({
      method: method as 'GET',
      url: url.startsWith('http') ? new URL(url).pathname + new URL(url).search : url,
      headers: {
        authorization: call.auth ?? admin,
        ...(payload !== undefined ? { 'content-type': call.contentType ?? 'application/fhir+json' } : {}),
        ...call.headers,
      },
      ...(payload !== undefined ? { payload } : {}),
    });
    const text = response.body;
    return { status: response.statusCode, headers: response.headers, text, json: (text ? JSON.parse(text) : undefined) as T };
  };
  return { ...h, admin, fhir };
}

/** The n-th valid NHS number in the synthetic test range (999 …), skipping numbers Modulus 11 can never make valid. */
export function nhsNumber(n: number): string {
  for (let serial = n * 2; ; serial++) {
    const digits = `999${String(serial).padStart(6, '0')}`;
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${digits}${check === 11 ? 0 : check}`;
  }
}

/** A patient registered at a GP practice (by ODS code), with one NHS number. */
export function patient(nhs: string, practiceOds: string, extra: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
    generalPractitioner: [{ identifier: { system: ODS_SYSTEM, value: practiceOds } }],
    ...extra,
  };
}

/** Creates a resource as the admin (unless auth is given) and returns it as stored. */
export async function create<T extends Resource>(fhir: Fhir, resource: T, auth?: string): Promise<T & { id: string }> {
  const reply = await fhir<T & { id: string }>('POST', `/fhir/${resource.resourceType}`, { body: resource, auth });
  assert.equal(reply.status, 201, reply.text);
  return reply.json;
}

/** The matched resources of a searchset (not includes, not outcomes). */
export const matches = <T extends Resource = Resource>(bundle: Bundle) =>
  (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome').map((e) => e.resource as T & { id: string });

export const ids = (bundle: Bundle) =>
  matches(bundle)
    .map((r) => r.id)
    .sort();

/** Every issue's text and expressions, to assert on what a client is told. */
export function issues(outcome: OperationOutcome): Array<{ code: string; text: string; expression: string[] }> {
  assert.equal(outcome.resourceType, 'OperationOutcome', JSON.stringify(outcome));
  return (outcome.issue ?? []).map((i) => ({ code: i.code, text: i.details?.text ?? i.diagnostics ?? '', expression: i.expression ?? [] }));
}

export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  summary: string;
  detail: { request: string; patients: string[]; resources: string[]; breakGlassReason: string | null };
}

/** Audit entries written after the given audit_event id (see lastAuditId). */
export async function auditSince(h: ApiHarness, afterId: number): Promise<AuditRow[]> {
  return h.db.query<AuditRow>('SELECT id::int AS id, actor, action, entity_type, entity_id, summary, detail FROM audit_event WHERE id > $1 ORDER BY id', [afterId]);
}

export async function lastAuditId(h: ApiHarness): Promise<number> {
  const [row] = await h.db.query<{ id: number }>('SELECT coalesce(max(id), 0)::int AS id FROM audit_event');
  return row?.id ?? 0;
}
