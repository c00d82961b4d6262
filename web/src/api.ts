/**
 * The typed client for PCN Hub's JSON API. Every call sends the signed-in user's token; a 401
 * ends the session and sends the browser to the sign-in page.
 */
import { navigate } from './router.tsx';
import { clearSession, getToken } from './session.ts';

// The API's shapes are the server's own types (type-only imports): one definition serves both sides.
import type { AreaSummary, PartnerType, PcnDetail, PcnSummary, PracticeDetail, SizeStatus } from '../../src/modules/network/index.ts';
import type { PublicUser, RecordAccessFlags } from '../../src/http/api/auth-routes.ts';
export type { AreaSummary, PartnerType, PcnDetail, PcnSummary, PracticeDetail, SizeStatus };
/** The signed-in user as the session keeps them: who they are, and what their role may do with the record. */
export type User = PublicUser & Partial<RecordAccessFlags>;
export type { AllocationView as Allocation } from '../../src/modules/funding/index.ts';
// A value, so from the browser-safe types.ts rather than the module's entry (which would bundle server code).
export { PARTNER_TYPES } from '../../src/modules/network/types.ts';
export type Role = User['role'];
import type { AccessLogPage, AuditReview } from '../../src/modules/audit/index.ts';
export type { AccessLogPage, AuditReview };
import type { UserListing } from '../../src/modules/access/index.ts';
export type { UserListing };
import type { Caseload, CaseloadPatient, Inbox, InboxItem, PatientListing, Reveal } from '../../src/modules/record/index.ts';
export type { Caseload, CaseloadPatient, Inbox, InboxItem, PatientListing, Reveal };

type Position = [number, number] | [number, number, number];
export type MapGeometry = { type: 'Point'; coordinates: Position } | { type: 'Polygon'; coordinates: Position[][] } | { type: 'MultiPolygon'; coordinates: Position[][][] };

export type MapFeatureProperties =
  | { kind: 'catchment'; pcnCode: string; name: string; sizeStatus: SizeStatus; listSize: number }
  | { kind: 'practice'; ods: string; name: string; pcnCode: string | null; listSize: number }
  | { kind: 'partner'; code: string; name: string; type: PartnerType };

export interface MapFeature {
  type: 'Feature';
  geometry: MapGeometry;
  properties: MapFeatureProperties;
}

export interface AreaMap {
  type: 'FeatureCollection';
  features: MapFeature[];
}

export interface ClientConfig {
  mapTiles?: string | null;
  /** Minutes without activity after which the web app signs a person out; 0: never. */
  idleSignOutMinutes?: number;
}

/** The API's error body `{error:{code,message,field?}}`, thrown by every call that fails. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown };
}

/**
 * The server's messages are written for logs too ("code: 'X1' is not …", lower case); on screen
 * the field is already named by its label, and NHS style starts a message with a capital.
 */
function displayMessage(message: string, field: string | undefined): string {
  const text = field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function readError(response: Response): Promise<ApiError> {
  const fallback = `The server answered ${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as ErrorBody;
    const { code, message, field } = body.error ?? {};
    const fieldName = typeof field === 'string' ? field : undefined;
    return new ApiError(response.status, typeof code === 'string' ? code : 'error', typeof message === 'string' ? displayMessage(message, fieldName) : fallback, fieldName);
  } catch {
    return new ApiError(response.status, 'error', fallback);
  }
}

async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { Accept: accept };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A failed sign-in is also a 401, but it must stay on the page to show why.
  if (response.status === 401 && path !== '/api/login') {
    clearSession();
    const here = window.location.pathname + window.location.search;
    navigate(here.startsWith('/signin') ? '/signin' : `/signin?next=${encodeURIComponent(here)}`);
  }
  if (!response.ok) throw await readError(response);
  if (response.status === 204) return undefined as T;
  if (accept !== 'application/json') return (await response.text()) as T;
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  login: (email: string, password: string) => request<{ token: string; user: PublicUser; access: RecordAccessFlags }>('POST', '/api/login', { email, password }),
  /** Signs the token out on the server, so that a copy of it is refused too. */
  logout: () => request<void>('POST', '/api/logout'),
  config: () => request<ClientConfig>('GET', '/api/config'),
  areas: () => request<{ items: AreaSummary[] }>('GET', '/api/areas'),
  areaMap: (areaCode: string) => request<AreaMap>('GET', `/api/areas/${enc(areaCode)}/map`),
  /** One page of PCNs (the server allows up to 500 a page, which is every PCN of an area). */
  pcns: (areaCode?: string) => request<{ items: PcnSummary[]; total: number }>('GET', areaCode ? `/api/pcns?area=${enc(areaCode)}&limit=500` : '/api/pcns?limit=500'),
  pcn: (code: string) => request<PcnDetail>('GET', `/api/pcns/${enc(code)}`),
  createPcn: (input: { code: string; name: string; areaCode: string; clinicalDirector?: string; nominatedPayeeOds?: string }) => request<{ code: string }>('POST', '/api/pcns', input),
  setClinicalDirector: (code: string, clinicalDirector: string) => request<unknown>('PATCH', `/api/pcns/${enc(code)}`, { clinicalDirector }),
  addPartner: (pcnCode: string, input: { code?: string; name: string; type: PartnerType; postcode?: string; role?: string }) => request<unknown>('POST', `/api/pcns/${enc(pcnCode)}/partners`, input),
  practice: (ods: string) => request<PracticeDetail>('GET', `/api/practices/${enc(ods)}`),
  movePractice: (ods: string, input: { pcnCode: string; date?: string }) => request<unknown>('PATCH', `/api/practices/${enc(ods)}`, input),
  /** My patients: those whose active care team names my organisation. */
  myPatients: () => request<Caseload>('GET', '/api/my/patients'),
  /** My organisation's open referrals and tasks. */
  myInbox: () => request<Inbox>('GET', '/api/my/inbox'),
  /** Who the patient with this exact NHS number is, when they are not one of mine (break-glass roles; audited). */
  reveal: (nhsNumber: string) => request<Reveal>('GET', `/api/patients/reveal?nhsNumber=${enc(nhsNumber)}`),
  /** Opens one patient's record with a written reason (audited): the record then opens without asking again. */
  breakGlass: (patientId: string, reason: string) => request<{ patientId: string; reason: string | null; expiresAt: string | null }>('POST', `/api/patients/${enc(patientId)}/break-glass`, { reason }),
  /** Who looked at a patient's record, newest first, a page at a time. */
  accessLog: (patientId: string, page = 1) => request<AccessLogPage>('GET', `/api/patients/${enc(patientId)}/access-log?page=${page}&pageSize=20`),
  auditReview: (days = 30) => request<AuditReview>('GET', `/api/audit/review?days=${days}`),
  auditReviewCsv: (days = 30) => request<string>('GET', `/api/audit/review?days=${days}&format=csv`, undefined, 'text/csv'),
  /** People management (admins): everyone who signs in, and the changes a joiner, mover or leaver needs. */
  users: () => request<{ items: UserListing[] }>('GET', '/api/users'),
  changeUser: (email: string, change: { role?: Role; org?: string | null; name?: string }) => request<UserListing>('PATCH', `/api/users/${enc(email)}`, change),
  disableUser: (email: string) => request<UserListing>('POST', `/api/users/${enc(email)}/disable`),
  resetPassword: (email: string, password: string) => request<void>('POST', `/api/users/${enc(email)}/password`, { password }),
};
