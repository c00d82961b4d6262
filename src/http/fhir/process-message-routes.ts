/**
 * BaRS-shaped referral messages over FHIR: `POST /fhir/$process-message` (FHIR R4 messaging, synchronous: the
 * response message is the answer) and `GET /fhir/ServiceRequest/:id/$bars-message`, any referral as a message.
 * The referrals module does the work; this file only translates HTTP. Errors go to the /fhir error handler.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exportBarsMessage, processBarsMessage } from '../../modules/referrals/index.ts';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { requireActor } from '../auth.ts';
import { FHIR_JSON } from '../errors.ts';

const base = (request: FastifyRequest) => `${request.protocol}://${request.host}/fhir`;
const requestOf = (request: FastifyRequest) => ({ method: request.method, url: request.url, id: request.id });

export async function processMessageRoutes(app: FastifyInstance, { db }: { db: Db }) {
  app.post('/$process-message', async (request, reply) => {
    const actor = await requireActor(db, request);
    const query = request.query as { async?: string; 'response-url'?: string };
    // The operation's `async` and `response-url` go in the URL; only synchronous messaging is offered.
    if (query.async === 'true' || query['response-url'])
      throw new AppError('bad-request', 'only synchronous messaging is offered: the response message is the answer to this request (leave out async and response-url)', 'async');
    const response = await processBarsMessage(db, actor, request.body, { request: requestOf(request), baseUrl: base(request) });
    return reply.status(200).type(FHIR_JSON).send(JSON.stringify(response));
  });

  app.get('/ServiceRequest/:id/$bars-message', async (request, reply) => {
    const actor = await requireActor(db, request);
    const { id } = request.params as { id: string };
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new AppError('bad-request', 'a ServiceRequest id is 1 to 64 letters, digits, dashes or dots', 'id');
    const kind = (request.query as { kind?: string }).kind;
    if (kind !== undefined && kind !== 'request' && kind !== 'response')
      throw new AppError('bad-request', 'kind is request or response (leave it out for the latest: the response once the service has answered)', 'kind');
    const message = await exportBarsMessage(db, actor, id, kind, { request: requestOf(request), baseUrl: base(request) });
    return reply.status(200).type(FHIR_JSON).send(JSON.stringify(message));
  });
}
