/**
 * The typed client for PCN Hub's JSON API. Every call sends the signed-in user's token; a 401
 * ends the session and sends the browser to the sign-in page.
 */
import { navigate } from './router.tsx';
import { clearSession, getToken } from './session.ts';

// The API's shapes are the server's own types (type-only imports): one definition serves both sides.
import type { AreaSummary, MovePreview, PartnerType, PcnChange, PcnDetail, PcnSummary, PracticeDetail, PracticeMove, SizeStatus } from '../../src/modules/network/index.ts';
import type { PublicUser, RecordAccessFlags } from '../../src/http/api/auth-routes.ts';
export type { AreaSummary, MovePreview, PartnerType, PcnChange, PcnDetail, PcnSummary, PracticeDetail, PracticeMove, SizeStatus };
/** The signed-in user as the session keeps them: who they are, and what their role may do with the record. */
export type User = PublicUser & Partial<RecordAccessFlags>;
export type { AllocationView as Allocation } from '../../src/modules/funding/index.ts';
// A value, so from the browser-safe types.ts rather than the module's entry (which would bundle server code).
export { PARTNER_TYPES } from '../../src/modules/network/types.ts';
export type Role = User['role'];
type NewSession = { token: string; user: PublicUser; access: RecordAccessFlags };
import type { AccessLogPage, AuditReview } from '../../src/modules/audit/index.ts';
export type { AccessLogPage, AuditReview };
import type { UserListing } from '../../src/modules/access/index.ts';
export type { UserListing };
import type { Caseload, CaseloadPatient, Inbox, InboxItem, PatientListing, Reveal } from '../../src/modules/record/index.ts';
import type * as Population from '../../src/modules/population/index.ts';
export type {
  CareGapFinding,
  Cohort,
  CohortCount,
  CohortDefinition,
  CohortPatients,
  CohortSize,
  Evidence,
  FrailtyResult,
  PopulationResult,
  Progress,
  Refusal,
  Worklist,
  WorklistPatientState,
  WorklistRole,
  WorklistStatus,
  WorklistView,
} from '../../src/modules/population/index.ts';
import type { Dashboard, Funnel, Trends, UnitFigures } from '../../src/modules/population/index.ts';
import type { Notifications, NotificationView, TaskAction, TaskList, TaskOwner, TaskView, TaskViewName } from '../../src/modules/tasks/index.ts';
export type { Notifications, NotificationView, TaskAction, TaskList, TaskOwner, TaskView, TaskViewName };
/** Whom a task is for: a person by email, or a role in an organisation (its code). */
export type TaskAssignee = { email: string } | { org: string; role: Role };
export type { Dashboard, Funnel, Trends, UnitFigures };
export { isRefusal, POPULATION_MODEL_SYSTEM } from '../../src/modules/population/types.ts';
export { ACTION_STATUSES, GOAL_STATUSES, PLAN_SECTIONS, sectionTitle } from '../../src/modules/careplans/types.ts';
export type { Caseload, CaseloadPatient, Inbox, InboxItem, PatientListing, Reveal };
import type { ReferralInput, ReferralPage } from '../../src/modules/referrals/index.ts';
import type { Referral, ReferralState } from '../../src/modules/referrals/types.ts';
export type { Referral, ReferralInput, ReferralPage, ReferralState };
// The state machine the server enforces, so pages offer only the moves it allows (browser-safe types.ts).
export { ACTION_LABELS, moveFrom, REFERRAL_STATES, type ReferralSide } from '../../src/modules/referrals/types.ts';
import type { DirectoryService, OpeningTime, ServiceFigures } from '../../src/modules/directory/types.ts';
export type { DirectoryService, OpeningTime, ServiceFigures };
export { SERVICE_TYPE_LABELS, serviceTypeLabel } from '../../src/modules/directory/types.ts';
/** The directory's fields of a service, as PUT /api/services/:id takes them (src/modules/directory/service-input.ts). */
export interface ServiceUpdate {
  name: string;
  active: boolean;
  types: string[];
  providerCode: string;
  pcns: string[];
  eligibility: string[];
  howToRefer: string[];
  referralMethods: string[];
  openingTimes: OpeningTime[];
  notAvailable: string[];
  capacity: number | null;
  comment: string | null;
  phone: string | null;
}

export interface ServiceSearch {
  items: DirectoryService[];
  near: { label: string; latitude: number; longitude: number } | null;
}
import type * as Mdt from '../../src/modules/mdt/index.ts';
export type { ActionView, AgendaItemView, Attendee, CareHome, Meeting, MeetingView, Resident } from '../../src/modules/mdt/index.ts';

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
  /** Single sign-on through the organisation's identity provider, when configured: its button's words. */
  singleSignOn?: { label: string } | null;
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

/** Several fields wrong at once (the API's `errors`), each an ApiError; the first is this error's own. */
export class ApiErrors extends ApiError {
  constructor(readonly errors: [ApiError, ...ApiError[]]) {
    const [first] = errors;
    super(first.status, first.code, first.message, first.field);
    this.name = 'ApiErrors';
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown; errors?: unknown };
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
    const { code, message, field, errors } = body.error ?? {};
    const errorOf = (text: unknown, at: unknown) => {
      const fieldName = typeof at === 'string' ? at : undefined;
      return new ApiError(response.status, typeof code === 'string' ? code : 'error', typeof text === 'string' ? displayMessage(text, fieldName) : fallback, fieldName);
    };
    const each = Array.isArray(errors) ? errors.map((e: { message?: unknown; field?: unknown }) => errorOf(e?.message, e?.field)) : [];
    return each.length > 1 ? new ApiErrors(each as [ApiError, ...ApiError[]]) : errorOf(message, field);
  } catch {
    return new ApiError(response.status, 'error', fallback);
  }
}

const SIGN_IN_PATHS = new Set(['/api/login', '/api/auth/oidc/session']);

async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json', extra: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: accept, ...extra };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A failed sign-in is also a 401, but it must stay on the page to show why.
  if (response.status === 401 && !SIGN_IN_PATHS.has(path)) {
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

const moveQuery = (input: MoveInput) => new URLSearchParams(Object.entries(input).filter((entry): entry is [string, string] => entry[1] !== undefined));

/** A move: the PCN it joins, the day (default today) and, when the practice is its PCN's payee, that PCN's new payee. */
export interface MoveInput {
  pcnCode: string;
  date?: string;
  newPayeeOds?: string;
}

export const api = {
  login: (email: string, password: string) => request<NewSession>('POST', '/api/login', { email, password }),
  /** Single sign-on's last step: the one-time code the server put in the page's fragment, swapped for a session. */
  singleSignOn: (code: string) => request<NewSession & { next: string }>('POST', '/api/auth/oidc/session', { code }),
  /** Signs the token out on the server, so that a copy of it is refused too. */
  logout: () => request<void>('POST', '/api/logout'),
  config: () => request<ClientConfig>('GET', '/api/config'),
  /** The server's health, with the demo population's progress while it is still being added. */
  health: () => request<{ status: string; demoSeeding?: { patients: number; of: number } }>('GET', '/healthz'),
  areas: () => request<{ items: AreaSummary[] }>('GET', '/api/areas'),
  areaMap: (areaCode: string) => request<AreaMap>('GET', `/api/areas/${enc(areaCode)}/map`),
  /** One page of PCNs (the server allows up to 500 a page, which is every PCN of an area). */
  pcns: (areaCode?: string) => request<{ items: PcnSummary[]; total: number }>('GET', areaCode ? `/api/pcns?area=${enc(areaCode)}&limit=500` : '/api/pcns?limit=500'),
  pcn: (code: string) => request<PcnDetail>('GET', `/api/pcns/${enc(code)}`),
  createPcn: (input: { code: string; name: string; areaCode: string; clinicalDirector?: string; nominatedPayeeOds?: string }) => request<{ code: string }>('POST', '/api/pcns', input),
  setClinicalDirector: (code: string, clinicalDirector: string) => request<unknown>('PATCH', `/api/pcns/${enc(code)}`, { clinicalDirector }),
  addPartner: (pcnCode: string, input: { code?: string; name: string; type: PartnerType; postcode?: string; role?: string }) => request<unknown>('POST', `/api/pcns/${enc(pcnCode)}/partners`, input),
  practice: (ods: string) => request<PracticeDetail>('GET', `/api/practices/${enc(ods)}`),
  movePractice: (ods: string, input: MoveInput) => request<PracticeDetail>('PATCH', `/api/practices/${enc(ods)}`, input),
  /** What a move would change (list sizes against the rule, the payee), checked as the move would be; writes nothing. */
  previewMove: (ods: string, input: MoveInput) => request<MovePreview>('GET', `/api/practices/${enc(ods)}/move-preview?${moveQuery(input)}`),
  /** What correcting the open move would change; writes nothing. */
  previewCorrection: (ods: string, input: MoveInput) => request<MovePreview>('GET', `/api/practices/${enc(ods)}/move/preview?${moveQuery(input)}`),
  /** Corrects a scheduled move, or one made today (its target, date or the payee's successor). */
  correctMove: (ods: string, input: MoveInput) => request<PracticeDetail>('PATCH', `/api/practices/${enc(ods)}/move`, input),
  /** Cancels a scheduled move, or one made today. */
  cancelMove: (ods: string) => request<PracticeDetail>('DELETE', `/api/practices/${enc(ods)}/move`),
  /** My patients: those whose active care team names my organisation. */
  myPatients: () => request<Caseload>('GET', '/api/my/patients'),
  /** My organisation's open referrals and tasks. */
  myInbox: () => request<Inbox>('GET', '/api/my/inbox'),
  /** Who the patient with this exact NHS number is, when they are not one of mine (break-glass roles; audited). */
  reveal: (nhsNumber: string) => request<Reveal>('GET', `/api/patients/reveal?nhsNumber=${enc(nhsNumber)}`),
  /** Opens one patient's record with a written reason (audited): the record then opens without asking again. */
  breakGlass: (patientId: string, reason: string) => request<{ patientId: string; reason: string | null; expiresAt: string | null }>('POST', `/api/patients/${enc(patientId)}/break-glass`, { reason }),
  /** The patient's population-health result (frailty, medication review, long-term conditions, care gaps), each finding with its entries. */
  populationResult: (patientId: string) => request<Population.PopulationResult>('GET', `/api/population/patients/${enc(patientId)}`),
  careGaps: () => request<{ items: Array<{ id: string; name: string }> }>('GET', '/api/population/care-gaps'),
  cohorts: () => request<{ items: Population.Cohort[] }>('GET', '/api/population/cohorts'),
  /** How many patients a definition matches now (suppressed under 5 for those who see aggregates only). */
  previewCohort: (definition: Population.CohortDefinition) => request<Population.CohortCount>('POST', '/api/population/cohorts/preview', { definition }),
  saveCohort: (name: string, definition: Population.CohortDefinition) => request<Population.Cohort>('POST', '/api/population/cohorts', { name, definition }),
  cohort: (id: string) => request<Population.Cohort & { size: Population.CohortSize }>('GET', `/api/population/cohorts/${enc(id)}`),
  deleteCohort: (id: string) => request<void>('DELETE', `/api/population/cohorts/${enc(id)}`),
  cohortPatients: (id: string) => request<Population.CohortPatients>('GET', `/api/population/cohorts/${enc(id)}/patients`),
  cohortCsv: (id: string, form?: 'identifiable' | 'pseudonymised') => request<string>('GET', `/api/population/cohorts/${enc(id)}/export${form ? `?form=${form}` : ''}`, undefined, 'text/csv'),
  worklists: () => request<{ items: Array<Population.Worklist & { progress: Population.Progress }> }>('GET', '/api/population/worklists'),
  createWorklist: (input: { cohortId: string; name: string; purpose: string; role: Population.WorklistRole }) =>
    request<Population.Worklist & { patients: number }>('POST', '/api/population/worklists', input),
  worklist: (id: string) => request<Population.WorklistView>('GET', `/api/population/worklists/${enc(id)}`),
  updateWorklistRow: (id: string, patientId: string, change: { version: number; status?: Population.WorklistStatus; note?: string }) =>
    request<Population.WorklistPatientState>('PATCH', `/api/population/worklists/${enc(id)}/patients/${enc(patientId)}`, change),
  /** A practice's, PCN's or area's population dashboard; `rank` orders the area's PCNs (`smr`, `frailty:<band>`, `gap:<id>`). */
  populationDashboard: (kind: 'practice' | 'pcn' | 'area', code: string, rank?: string) =>
    request<Dashboard>('GET', `/api/population/dashboard?${new URLSearchParams({ [kind]: code, ...(rank ? { rank } : {}) })}`),
  populationFunnel: (kind: 'practice' | 'pcn' | 'area', code: string, gap: string) => request<Funnel>('GET', `/api/population/dashboard/funnel?${new URLSearchParams({ [kind]: code, gap })}`),
  populationTrends: (kind: 'practice' | 'pcn' | 'area', code: string) => request<Trends>('GET', `/api/population/dashboard/trends?${new URLSearchParams({ [kind]: code })}`),
  /** Who looked at a patient's record, newest first, a page at a time. */
  accessLog: (patientId: string, page = 1) => request<AccessLogPage>('GET', `/api/patients/${enc(patientId)}/access-log?page=${page}&pageSize=20`),
  auditReview: (days = 30) => request<AuditReview>('GET', `/api/audit/review?days=${days}`),
  auditReviewCsv: (days = 30) => request<string>('GET', `/api/audit/review?days=${days}&format=csv`, undefined, 'text/csv'),
  /** People management (admins): everyone who signs in, and the changes a joiner, mover or leaver needs. */
  users: () => request<{ items: UserListing[] }>('GET', '/api/users'),
  changeUser: (email: string, change: { role?: Role; org?: string | null; name?: string }) => request<UserListing>('PATCH', `/api/users/${enc(email)}`, change),
  disableUser: (email: string) => request<UserListing>('POST', `/api/users/${enc(email)}/disable`),
  resetPassword: (email: string, password: string) => request<void>('POST', `/api/users/${enc(email)}/password`, { password }),
  /** My tasks, or my team's: open first, by due date, overdue marked. */
  tasks: (view: TaskViewName) => request<TaskList>('GET', `/api/tasks?view=${view}`),
  createTask: (input: { description: string; assignee: TaskAssignee; due?: string; patientId?: string }) => request<TaskView>('POST', '/api/tasks', input),
  /** Start, complete or cancel a task from the version shown (409 when it moved on meanwhile). */
  reassignTask: (id: string, assignee: TaskAssignee, version?: string | null) => request<TaskView>('POST', `/api/tasks/${enc(id)}/reassign`, { assignee, ...(version ? { version } : {}) }),
  moveTask: (id: string, action: TaskAction, version?: string | null) => request<TaskView>('POST', `/api/tasks/${enc(id)}/${action}`, version ? { version } : {}),
  /** My notifications (newest first) and how many are unread. */
  notifications: () => request<Notifications>('GET', '/api/notifications'),
  readNotification: (id: string) => request<void>('POST', `/api/notifications/${enc(id)}/read`),
  readAllNotifications: () => request<{ marked: number }>('POST', '/api/notifications/read-all'),
  /** Referrals (ServiceRequest + workflow Task): send, list sent/received (a service's inbox), read, move. */
  createReferral: (input: ReferralInput) => request<Referral>('POST', '/api/referrals', input),
  referrals: (box: 'sent' | 'received', options: { service?: string; status?: string } = {}) =>
    request<ReferralPage>('GET', `/api/referrals?${new URLSearchParams({ box, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v)) })}`),
  referral: (id: string) => request<Referral>('GET', `/api/referrals/${enc(id)}`),
  moveReferral: (id: string, to: ReferralState, detail: { reason?: string; outcome?: string } = {}) => request<Referral>('POST', `/api/referrals/${enc(id)}/transition`, { to, ...detail }),
  /** The receiving service sends it on: this one rejected naming where it went, a new one for the same referrer. */
  redirectReferral: (id: string, body: { serviceId: string; reason: string }) => request<{ from: Referral; to: Referral }>('POST', `/api/referrals/${enc(id)}/redirect`, body),
  services: (query: { need?: string; q?: string; pcn?: string; near?: string }) =>
    request<ServiceSearch>('GET', `/api/services?${new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]))}`),
  service: (id: string) => request<DirectoryService>('GET', `/api/services/${enc(id)}`),
  /** Changes a service's directory entry; `versionId` is the version read (a change made since is a 412). */
  updateService: (id: string, input: ServiceUpdate, versionId: string | null) =>
    request<DirectoryService>('PUT', `/api/services/${enc(id)}`, input, 'application/json', versionId ? { 'If-Match': `W/"${versionId}"` } : {}),
  /** MDT meetings of my PCN(s), and one as I may see it (patients whose record I may not open are listed without detail). */
  meetings: () => request<{ items: Mdt.Meeting[] }>('GET', '/api/mdt/meetings'),
  scheduleMeeting: (input: { title: string; startsAt: string; place: string }) => request<Mdt.Meeting>('POST', '/api/mdt/meetings', input),
  meeting: (id: string) => request<Mdt.MeetingView>('GET', `/api/mdt/meetings/${enc(id)}`),
  addToAgenda: (id: string, from: { cohortId: string } | { worklistId: string } | { nhsNumber: string }) =>
    request<{ added: number; alreadyListed: number }>('POST', `/api/mdt/meetings/${enc(id)}/agenda`, from),
  removeFromAgenda: (id: string, itemId: string) => request<void>('DELETE', `/api/mdt/meetings/${enc(id)}/agenda/${enc(itemId)}`),
  saveDiscussion: (id: string, itemId: string, notes: string) => request<unknown>('PUT', `/api/mdt/meetings/${enc(id)}/agenda/${enc(itemId)}/discussion`, { notes }),
  addAction: (id: string, itemId: string, action: { description: string; due: string; ownerEmail?: string; ownerOrg?: string; ownerRole?: string }) =>
    request<Mdt.ActionView>('POST', `/api/mdt/meetings/${enc(id)}/agenda/${enc(itemId)}/actions`, action),
  addReferralAction: (
    id: string,
    itemId: string,
    referral: { serviceId?: string; performerOrg?: string; reason: string; priority: 'routine' | 'urgent' | 'asap'; consentToShare: boolean; whatMatters?: string },
  ) => request<Mdt.ActionView>('POST', `/api/mdt/meetings/${enc(id)}/agenda/${enc(itemId)}/referrals`, referral),
  recordAttendance: (id: string, attendee: { name: string; org: string; role: string; status: 'present' | 'apologies' }) =>
    request<{ items: Mdt.Attendee[] }>('POST', `/api/mdt/meetings/${enc(id)}/attendance`, attendee),
  closeMeeting: (id: string) => request<Mdt.Meeting & { minutesWritten: number }>('POST', `/api/mdt/meetings/${enc(id)}/close`),
  careHomes: (pcn?: string) => request<{ items: Mdt.CareHome[] }>('GET', pcn ? `/api/care-homes?pcn=${enc(pcn)}` : '/api/care-homes'),
  /** Aligns a care home the registry links to several PCNs to one of them (that PCN's manager, or an admin). */
  alignCareHome: (code: string, pcnCode: string) => request<Mdt.CareHome>('PUT', `/api/care-homes/${enc(code)}/alignment`, { pcnCode }),
  careHome: (code: string) => request<Mdt.CareHome & { residents: Mdt.Resident[]; round: Mdt.Resident[]; roundRule: string; weekOf: string }>('GET', `/api/care-homes/${enc(code)}`),
};
