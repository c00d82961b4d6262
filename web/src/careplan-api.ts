/**
 * The care team and care and support plan API (src/http/api/careplan-routes.ts). Apart from api.ts because a plan
 * save sends If-Match and its refusal (412) carries both versions to merge, which api.ts's calls do not read.
 */
import { ApiError } from './api.ts';
import { navigate } from './router.tsx';
import { clearSession, getToken } from './session.ts';
import type { CarePlanVersion, CarePlanView, CareTeamView, PlanConflict, PlanSections } from '../../src/modules/careplans/index.ts';

export type { CarePlanVersion, CarePlanView, CareTeamMember, CareTeamView, PlanConflict, PlanSections, SectionKey } from '../../src/modules/careplans/index.ts';

interface Answer {
  status: number;
  body: { error?: { code?: string; message?: string; field?: string }; conflict?: PlanConflict } & Record<string, unknown>;
}

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const token = getToken();
  const response = await fetch(path, {
    method,
    headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    clearSession();
    navigate(`/signin?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

const errorOf = ({ status, body }: Answer): ApiError => {
  const message = body.error?.message ?? `The server answered ${status}`;
  return new ApiError(status, body.error?.code ?? 'error', message.charAt(0).toUpperCase() + message.slice(1), body.error?.field);
};

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await send(method, path, body);
  if (answer.status >= 400) throw errorOf(answer);
  return answer.body as T;
}

const enc = encodeURIComponent;
const base = (patientId: string) => `/api/patients/${enc(patientId)}`;

export type SaveResult = { saved: CarePlanView } | { conflict: PlanConflict; message: string };

export const carePlanApi = {
  careTeam: (patientId: string) => json<CareTeamView>('GET', `${base(patientId)}/care-team`),
  addMember: (patientId: string, member: { email?: string; ods?: string; role: string; careCoordinator?: boolean }) => json<CareTeamView>('POST', `${base(patientId)}/care-team/members`, member),
  removeMember: (patientId: string, key: string) => json<CareTeamView>('DELETE', `${base(patientId)}/care-team/members/${enc(key)}`),
  setCoordinator: (patientId: string, key: string) => json<CareTeamView>('PUT', `${base(patientId)}/care-team/coordinator`, { member: key }),
  plan: (patientId: string) => json<CarePlanView>('GET', `${base(patientId)}/care-plan`),
  history: (patientId: string) => json<{ versions: CarePlanVersion[] }>('GET', `${base(patientId)}/care-plan/history`),
  /** Saves the plan from `fromVersion`; another save since then answers with both versions to merge. */
  async save(patientId: string, fromVersion: string, sections: PlanSections): Promise<SaveResult> {
    const answer = await send('PUT', `${base(patientId)}/care-plan`, { sections }, { 'If-Match': `W/"${fromVersion}"` });
    if (answer.status === 412 && answer.body.conflict) return { conflict: answer.body.conflict, message: errorOf(answer).message };
    if (answer.status >= 400) throw errorOf(answer);
    return { saved: answer.body as unknown as CarePlanView };
  },
};
