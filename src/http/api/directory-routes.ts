/**
 * The service directory's /api doors: search (need, PCN, place, text) with each service's figures, one service,
 * and editing (admins; PCN managers for their PCN's partners; anyone for their own organisation's services).
 * The same services read and search on /fhir as HealthcareService.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { createService, readService, searchServices, serviceInput, updateService } from '../../modules/directory/index.ts';

const tags = ['directory'];
const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a service id is 1 to 64 letters, digits, dashes or dots') });
const optionalText = (max: number) => z.string().trim().max(max).optional();

export function directoryRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.get(
    '/api/services',
    {
      schema: {
        summary:
          'The service directory: services matching a need (a service type, or words of one), free text, a PCN covered and a place (town, postcode or "lat,lon": nearest first), each with its figures (median time to accept, share accepted, open referrals against capacity)',
        tags,
        querystring: z.object({
          need: optionalText(100),
          q: optionalText(200),
          pcn: z
            .string()
            .trim()
            .regex(/^[A-Za-z0-9]{0,10}$/, 'a PCN is its code')
            .optional(),
          near: optionalText(100),
          includeInactive: z.enum(['true', 'false']).optional(),
        }),
      },
    },
    async (request) => {
      const { includeInactive, ...query } = request.query;
      return searchServices(db, request.actor!, { ...query, includeInactive: includeInactive === 'true' }, requestOf(request));
    },
  );

  app.get('/api/services/:id', { schema: { summary: 'One service: eligibility, how to refer, opening times, PCNs covered and its figures', tags, params: idParams } }, async (request) =>
    readService(db, request.actor!, request.params.id, requestOf(request)),
  );

  app.post('/api/services', { schema: { summary: 'Add a service to the directory (id service-<slug>; 409 when the slug is taken)', tags, body: serviceInput } }, async (request, reply) =>
    reply.status(201).send(await createService(db, request.actor!, request.body, requestOf(request))),
  );

  app.put(
    '/api/services/:id',
    {
      schema: {
        summary: 'Change a service (the directory’s fields; anything else stored over FHIR is kept). If-Match: the versionId read, so a change made since is a 412',
        tags,
        params: idParams,
        body: serviceInput,
        headers: z.object({ 'if-match': z.string().optional() }),
      },
    },
    async (request) => {
      const ifMatch = request.headers['if-match']?.replace(/^W\//, '').replaceAll('"', '');
      return updateService(db, request.actor!, request.params.id, request.body, requestOf(request), ifMatch);
    },
  );
}
