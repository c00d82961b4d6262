/**
 * Care teams and personalised care and support plans (/api/patients/:id/care-team…, /api/patients/:id/care-plan…):
 * the patient's team across organisations and its care coordinator, and the ONE plan every member edits. Each is
 * read and changed as the signed-in person through the record's access policy, and audited. A plan save must say
 * which version it was made from (If-Match; 428 without); a stale one is a 412 carrying both versions to merge.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import {
  addCareTeamMember,
  carePlanHistory,
  careTeamInput,
  careTeamMemberInput,
  PlanConflictError,
  readCarePlan,
  readCareTeam,
  removeCareTeamMember,
  replaceCareTeam,
  saveCarePlan,
  saveCarePlanInput,
  setCareCoordinator,
  versionFromIfMatch,
} from '../../modules/careplans/index.ts';
import { asApiError } from './record-routes.ts';

const patientParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a patient id is 1 to 64 letters, digits, dashes or dots') });
const memberKey = z.string().trim().min(3).max(320);
const tags = ['care plans'];

async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asApiError(error);
  }
}

export function carePlanRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.get(
    '/api/patients/:id/care-team',
    { schema: { summary: 'The patient’s care team: members (people and organisations, with roles) and the care coordinator', tags, params: patientParams } },
    async (request) => answer(() => readCareTeam(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.put(
    '/api/patients/:id/care-team',
    {
      schema: {
        summary: 'Replace the care team’s members (and name); at most one care coordinator. Only those who may write care-plan entries for the patient',
        tags,
        params: patientParams,
        body: careTeamInput,
      },
    },
    async (request) => answer(() => replaceCareTeam(db, request.actor!, request.params.id, request.body, requestOf(request))),
  );

  app.post(
    '/api/patients/:id/care-team/members',
    {
      schema: {
        summary: 'Add a member (a person by email, or an organisation by ods code) with their role; being on the team gives them the relationship the access policy asks for',
        tags,
        params: patientParams,
        body: careTeamMemberInput,
      },
    },
    async (request) => answer(() => addCareTeamMember(db, request.actor!, request.params.id, request.body, requestOf(request))),
  );

  app.delete(
    '/api/patients/:id/care-team/members/:member',
    { schema: { summary: 'Remove a member (email or organisation code): the access their place on the team gave ends', tags, params: patientParams.extend({ member: memberKey }) } },
    async (request) => answer(() => removeCareTeamMember(db, request.actor!, request.params.id, request.params.member, requestOf(request))),
  );

  app.put(
    '/api/patients/:id/care-team/coordinator',
    { schema: { summary: 'Name a member (email or organisation code) as the patient’s care coordinator', tags, params: patientParams, body: z.object({ member: memberKey }) } },
    async (request) => answer(() => setCareCoordinator(db, request.actor!, request.params.id, request.body.member, requestOf(request))),
  );

  app.get(
    '/api/patients/:id/care-plan',
    { schema: { summary: 'The patient’s personalised care and support plan in the PRSB sections (version "0" while there is none); ETag names its version', tags, params: patientParams } },
    async (request, reply) => {
      const plan = await answer(() => readCarePlan(db, request.actor!, request.params.id, requestOf(request)));
      return reply.header('ETag', `W/"${plan.versionId}"`).send(plan);
    },
  );

  app.put(
    '/api/patients/:id/care-plan',
    {
      schema: {
        summary:
          'Save the plan from the version named by If-Match (W/"0" when there was none). 428 without If-Match; 412 when another save came first, with both versions, their base and the sections merged where only one side changed them',
        tags,
        params: patientParams,
        headers: z.object({ 'if-match': z.string().max(40).optional() }),
        body: saveCarePlanInput,
      },
    },
    async (request, reply) => {
      const fromVersion = versionFromIfMatch(request.headers['if-match']);
      if (fromVersion === undefined) {
        return reply.status(428).send({
          error: {
            code: 'precondition-required',
            message: 'If-Match is required: name the version of the plan the change was made from (W/"0" when there was none), so a change made meanwhile is not overwritten',
            field: 'If-Match',
          },
        });
      }
      try {
        const plan = await answer(() => saveCarePlan(db, request.actor!, request.params.id, fromVersion, request.body.sections, requestOf(request)));
        return reply.header('ETag', `W/"${plan.versionId}"`).send(plan);
      } catch (error) {
        if (!(error instanceof PlanConflictError)) throw error;
        return reply.status(412).send({ error: { code: error.code, message: error.message, field: 'If-Match' }, conflict: error.conflict });
      }
    },
  );

  app.get(
    '/api/patients/:id/care-plan/history',
    { schema: { summary: 'Every version of the plan, newest first: when, by whom, which sections changed', tags, params: patientParams } },
    async (request) => answer(() => carePlanHistory(db, request.actor!, request.params.id, requestOf(request))),
  );
}
