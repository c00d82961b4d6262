/**
 * Referrals' /api doors (docs/api.md, "Referrals"): refer a patient, list my organisation's sent and received
 * referrals (a service's inbox with its SLA clock), read one with its history, move it through its states
 * (If-Match: the version seen), and redirect it to another service. Each goes through the access policy and
 * the record's audit, as the acting person.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { createReferral, listReferrals, listReferralsInput, readReferral, redirectBody, redirectReferral, referralInput, transitionInput, transitionReferral } from '../../modules/referrals/index.ts';
import { asApiError } from './record-routes.ts';

const tags = ['referrals'];
const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a referral id is 1 to 64 letters, digits, dashes or dots') });

/** The record's refusals (the access policy's OperationOutcomes) in /api's words. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asApiError(error);
  }
}

/** An If-Match header's version: `W/"3"`, `"3"` or `3`. */
const versionOf = (header: string | string[] | undefined): string | undefined => {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.replace(/^W\//, '').replaceAll('"', '').trim() || undefined;
};

export function referralRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.post(
    '/api/referrals',
    { schema: { summary: 'Refer a patient to a service (or an organisation): ServiceRequest + workflow Task, one transaction; consent to share needed to send', tags, body: referralInput } },
    async (request, reply) => reply.status(201).send(await answer(() => createReferral(db, request.actor!, request.body, requestOf(request)))),
  );

  app.get(
    '/api/referrals',
    {
      schema: {
        summary: 'My organisation’s referrals: box=sent, or box=received (optionally one service’s inbox: service=<HealthcareService id>) with due time and overdue, overdue first',
        tags,
        querystring: listReferralsInput,
      },
    },
    async (request) => answer(() => listReferrals(db, request.actor!, request.query, requestOf(request))),
  );

  app.get('/api/referrals/:id', { schema: { summary: 'One referral (ServiceRequest id): status, history (who, when), outcome', tags, params: idParams } }, async (request) =>
    answer(() => readReferral(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.post(
    '/api/referrals/:id/transition',
    {
      schema: {
        summary: 'Move a referral to another state (409 naming the current state when not allowed; If-Match: the versionId seen, 412 when it changed)',
        tags,
        params: idParams,
        body: transitionInput.omit({ referralId: true, ifMatch: true }),
      },
    },
    async (request) => {
      const ifMatch = versionOf(request.headers['if-match']);
      return answer(() => transitionReferral(db, request.actor!, { ...request.body, referralId: request.params.id, ...(ifMatch ? { ifMatch } : {}) }, requestOf(request)));
    },
  );

  app.post(
    '/api/referrals/:id/redirect',
    { schema: { summary: 'Redirect a referral to another service: this one rejected, a new one sent for the same referrer', tags, params: idParams, body: redirectBody } },
    async (request, reply) => reply.status(201).send(await answer(() => redirectReferral(db, request.actor!, { ...request.body, referralId: request.params.id }, requestOf(request)))),
  );
}
