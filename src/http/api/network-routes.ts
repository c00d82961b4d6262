import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { odsCode } from '../../shared/schemas.ts';
import { addPartner, addPartnerInput } from '../../modules/network/index.ts';
import { areaMap } from '../../modules/network/index.ts';
import { createPcn, createPcnInput } from '../../modules/network/index.ts';
import { movePractice } from '../../modules/network/index.ts';
import { getPcn, getPractice, listAreas, listPcns } from '../../modules/network/index.ts';
import { cachedRead } from '../../modules/network/index.ts';
import { updatePcn, updatePcnInput } from '../../modules/network/index.ts';
import { isoDate } from '../../shared/schemas.ts';

export const MAX_PAGE_SIZE = 500;

const pcnParams = z.object({ code: odsCode('pcn') });
const practiceParams = z.object({ ods: odsCode('practice') });

export function networkRoutes(app: ZodApp) {
  const db = app.db;

  app.get('/api/areas', { schema: { summary: 'Areas (ICBs) with totals and the money each was given', tags: ['network'] } }, async () => ({
    items: await cachedRead(db, 'areas', () => listAreas(db)),
  }));

  app.get(
    '/api/areas/:code/map',
    { schema: { summary: 'GeoJSON of an area: PCN catchments, practices and partners', tags: ['network'], params: z.object({ code: odsCode('icb') }) } },
    async (request) => cachedRead(db, `map:${request.params.code}`, () => areaMap(db, request.params.code)),
  );

  app.get(
    '/api/pcns',
    {
      schema: {
        summary: 'PCNs with list size against their area’s size rule',
        tags: ['network'],
        querystring: z.object({
          area: odsCode('icb').optional(),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
    },
    async (request) => {
      const { area, limit, offset } = request.query;
      return cachedRead(db, `pcns:${area}:${limit}:${offset}`, () => listPcns(db, { area, limit, offset }));
    },
  );

  app.post('/api/pcns', { schema: { summary: 'Create a PCN', tags: ['network'], body: createPcnInput } }, async (request, reply) => {
    await createPcn(db, request.actor!, request.body);
    return reply.status(201).send(await getPcn(db, request.body.code));
  });

  app.get('/api/pcns/:code', { schema: { summary: 'A PCN: practices, partners, history, changes', tags: ['network'], params: pcnParams } }, async (request) =>
    cachedRead(db, `pcn:${request.params.code}`, () => getPcn(db, request.params.code)),
  );

  app.patch('/api/pcns/:code', { schema: { summary: 'Rename a PCN, set its clinical director or nominated payee', tags: ['network'], params: pcnParams, body: updatePcnInput } }, async (request) => {
    await updatePcn(db, request.actor!, request.params.code, request.body);
    return getPcn(db, request.params.code);
  });

  app.post('/api/pcns/:code/partners', { schema: { summary: 'Add a partner organisation to a PCN', tags: ['network'], params: pcnParams, body: addPartnerInput } }, async (request, reply) => {
    const partner = await addPartner(db, request.actor!, request.params.code, request.body);
    return reply.status(201).send(partner);
  });

  app.get('/api/practices/:ods', { schema: { summary: 'A practice and its PCN membership history', tags: ['network'], params: practiceParams } }, async (request) =>
    cachedRead(db, `practice:${request.params.ods}`, () => getPractice(db, request.params.ods)),
  );

  app.patch(
    '/api/practices/:ods',
    {
      schema: {
        summary: 'Move a practice to another PCN ({pcnCode, date?})',
        tags: ['network'],
        params: practiceParams,
        body: z.object({ pcnCode: odsCode('pcn'), date: isoDate.optional() }),
      },
    },
    async (request) => {
      await movePractice(db, request.actor!, request.params.ods, request.body);
      return getPractice(db, request.params.ods);
    },
  );
}
