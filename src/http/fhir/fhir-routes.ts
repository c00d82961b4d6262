/**
 * FHIR R4 at /fhir. Until the shared-record issue lands the server publishes only its
 * CapabilityStatement, which says so truthfully; every other path answers with an OperationOutcome.
 */
import type { FastifyInstance } from 'fastify';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function operationOutcome(severity: 'error' | 'fatal', code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

export async function fhirRoutes(app: FastifyInstance) {
  app.get('/metadata', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(FHIR_JSON).send({
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString().slice(0, 10),
      kind: 'instance',
      software: { name: 'PCN Hub', version: '0.1.0' },
      implementation: { description: 'PCN Hub FHIR R4 server (the shared care record is being built: no resource types yet)' },
      fhirVersion: '4.0.1',
      format: ['application/fhir+json', 'json'],
      rest: [{ mode: 'server', security: { service: [{ text: 'Bearer token from POST /api/login or `pcn token`' }] }, resource: [] }],
    }),
  );
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).type(FHIR_JSON).send(operationOutcome('error', 'not-supported', `${request.method} ${request.url} is not supported yet`)),
  );
}
