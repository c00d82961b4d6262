/**
 * SMART on FHIR Backend Services at the edge: the discovery document and the OAuth 2.0 token endpoint.
 * The exchange itself is the access module's (exchangeClientAssertion); this file only speaks HTTP.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CLIENT_ALGORITHMS, OAuthError, exchangeClientAssertion, type TokenRequest } from '../modules/access/index.ts';
import { sendError } from './errors.ts';

export const TOKEN_PATH = '/oauth/token';

/** This server's token endpoint as a client sees it: the `aud` its assertions must carry. */
export const tokenUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}${TOKEN_PATH}`;

export async function oauthRoutes(app: FastifyInstance) {
  // OAuth token requests are forms (RFC 6749 4.4.2); only this plugin reads them.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_client"');
      return reply.status(error.status).header('cache-control', 'no-store').send({ error: error.error, error_description: error.description });
    }
    return sendError(error, request, reply);
  });

  app.get('/fhir/.well-known/smart-configuration', { config: { public: true }, schema: { summary: 'SMART on FHIR discovery (Backend Services)', tags: ['fhir'] } }, async (request) => ({
    token_endpoint: tokenUrl(request),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ALGORITHMS],
    scopes_supported: ['system/*.read', 'system/*.rs', 'system/*.write', 'system/*.cud', 'system/Patient.read', 'system/Patient.rs'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  }));

  app.post(
    TOKEN_PATH,
    { config: { public: true }, schema: { summary: 'OAuth 2.0 client credentials with a signed JWT assertion (SMART Backend Services)', tags: ['fhir'] } },
    async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, unknown>;
      if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'send the token request as application/x-www-form-urlencoded');
      const field = (name: keyof TokenRequest) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
      const answer = await exchangeClientAssertion(
        app.db,
        { grant_type: field('grant_type'), client_assertion_type: field('client_assertion_type'), client_assertion: field('client_assertion'), scope: field('scope') },
        tokenUrl(request),
      );
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(answer);
    },
  );
}
