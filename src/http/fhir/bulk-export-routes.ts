/** Bulk Data $export over HTTP: kick-off (202 + Content-Location), status polling, NDJSON files. */
import { createReadStream, existsSync } from 'node:fs';
import type { Group } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { deleteExport, exportFile, FhirStoreRepository, getExport, startExport } from '../../fhir-store/index.ts';
import { recordContext } from '../../modules/record/index.ts';
import { requireActor } from '../auth.ts';
import { sendOutcome } from '../errors.ts';

// Errors are thrown: the /fhir error handler answers them from the one table (src/http/errors.ts).

export async function bulkExportRoutes(app: FastifyInstance, { db, exportDir }: { db: Db; exportDir: string }) {
  const base = (request: FastifyRequest) => `${request.protocol}://${request.host}/fhir`;
  const kickOff = (patients: (request: FastifyRequest) => Promise<string[] | undefined>) => async (request: FastifyRequest, reply: FastifyReply) => {
    const actor = await requireActor(db, request);
    const query = request.query as { _type?: string; _since?: string; _outputFormat?: string };
    if (query._outputFormat && !/ndjson/.test(query._outputFormat)) throw new AppError('bad-request', 'only NDJSON output is supported', '_outputFormat');
    const types = query._type
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (types?.some((t) => !/^[A-Z][A-Za-z]+$/.test(t))) throw new AppError('bad-request', '_type lists resource types, e.g. Patient,Condition', '_type');
    const context = await recordContext(db, actor, { request: { method: request.method, url: request.url, id: request.id }, baseUrl: base(request), purpose: 'secondary-use' });
    const id = await startExport(db, context, request.url, { types, since: query._since, patientIds: await patients(request) }, exportDir);
    return reply
      .status(202)
      .header('content-location', `${base(request)}/$export-status/${id}`)
      .send();
  };

  app.get(
    '/$export',
    kickOff(async () => undefined),
  );
  app.get(
    '/Patient/$export',
    kickOff(async () => undefined),
  );
  app.get(
    '/Group/:id/$export',
    kickOff(async (request) => {
      const actor = await requireActor(db, request);
      const repo = new FhirStoreRepository(db, await recordContext(db, actor, { request: { method: request.method, url: request.url, id: request.id }, baseUrl: base(request) }));
      const group = await repo.readResource<Group>('Group', (request.params as { id: string }).id);
      return (group.member ?? []).map((m) => /^Patient\/(.+)$/.exec(m.entity.reference ?? '')?.[1]).filter((id): id is string => !!id);
    }),
  );

  app.get('/$export-status/:id', async (request, reply) => {
    const actor = await requireActor(db, request);
    const job = await getExport(db, { who: actor.email }, (request.params as { id: string }).id);
    if (!job) throw notFound('this export');
    if (job.status === 'failed')
      return sendOutcome(reply, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', details: { text: `the export failed: ${job.error}` } }] }, 500);
    if (job.status !== 'completed') return reply.status(202).header('x-progress', job.status).header('retry-after', '1').send();
    return reply
      .status(200)
      .type('application/json')
      .send({
        transactionTime: job.createdAt,
        request: job.requestUrl,
        requiresAccessToken: true,
        output: (job.output ?? []).map((f) => ({ type: f.type, url: `${base(request)}/$export-file/${job.id}/${f.type}.ndjson`, count: f.count })),
        error: [],
      });
  });

  app.delete('/$export-status/:id', async (request, reply) => {
    const actor = await requireActor(db, request);
    if (!(await deleteExport(db, { who: actor.email }, (request.params as { id: string }).id, exportDir))) throw notFound('this export');
    return reply.status(202).send();
  });

  app.get('/$export-file/:id/:file', async (request, reply) => {
    const actor = await requireActor(db, request);
    const { id, file } = request.params as { id: string; file: string };
    const type = /^([A-Z][A-Za-z]+)\.ndjson$/.exec(file)?.[1];
    const job = await getExport(db, { who: actor.email }, id);
    if (!job || !type || !existsSync(exportFile(exportDir, id, type))) throw notFound('this export file');
    return reply.type('application/fhir+ndjson').send(createReadStream(exportFile(exportDir, id, type)));
  });
}
