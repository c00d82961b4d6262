import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { odsCode } from '../../shared/schemas.ts';
import { addPartner, addPartnerInput } from '../../modules/network/index.ts';
import { areaMap } from '../../modules/network/index.ts';
import { createPcn, createPcnInput } from '../../modules/network/index.ts';
import { cancelMove, correctMove, correctMoveInput, getMove, movePractice, movePracticeInput, previewCorrection, previewMove } from '../../modules/network/index.ts';
import { getPcn, getPractice, listAreas, listPcns } from '../../modules/network/index.ts';
import { cachedRead } from '../../modules/network/index.ts';
import { updatePcn, updatePcnInput } from '../../modules/network/index.ts';
import { registryToday } from '../../shared/dates.ts';
import { dateField } from '../../shared/schemas.ts';

export const MAX_PAGE_SIZE = 500;

const pcnParams = z.object({ code: odsCode('pcn') });
const practiceParams = z.object({ ods: odsCode('practice') });
/** `?asOf=yyyy-mm-dd`: the registry as it stands (or, with moves scheduled, will stand) on that day. */
const asOfField = dateField('The day to read the registry on must be a real date, written yyyy-mm-dd').optional();
const asOfQuery = z.object({ asOf: asOfField });
/** The day a read is for. Cached reads are keyed by it, so today's answer is never served after midnight. */
const dayOf = (query: { asOf?: string }) => query.asOf ?? registryToday();

export function networkRoutes(app: ZodApp) {
  const db = app.db;

  app.get('/api/areas', { schema: { summary: 'Areas (ICBs) with totals and the money each was given', tags: ['network'], querystring: asOfQuery } }, async (request) => {
    const day = dayOf(request.query);
    return { items: await cachedRead(db, `areas:${day}`, () => listAreas(db, day)) };
  });

  app.get(
    '/api/areas/:code/map',
    { schema: { summary: 'GeoJSON of an area: PCN catchments, practices and partners', tags: ['network'], params: z.object({ code: odsCode('icb') }), querystring: asOfQuery } },
    async (request) => {
      const day = dayOf(request.query);
      return cachedRead(db, `map:${request.params.code}:${day}`, () => areaMap(db, request.params.code, day));
    },
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
          asOf: asOfField,
        }),
      },
    },
    async (request) => {
      const { area, limit, offset } = request.query;
      const day = dayOf(request.query);
      return cachedRead(db, `pcns:${area}:${limit}:${offset}:${day}`, () => listPcns(db, { area, limit, offset, asOf: day }));
    },
  );

  app.post('/api/pcns', { schema: { summary: 'Create a PCN', tags: ['network'], body: createPcnInput } }, async (request, reply) => {
    await createPcn(db, request.actor!, request.body);
    return reply.status(201).send(await getPcn(db, request.body.code));
  });

  app.get(
    '/api/pcns/:code',
    { schema: { summary: 'A PCN: practices, partners, history, changes, practices joining and leaving', tags: ['network'], params: pcnParams, querystring: asOfQuery } },
    async (request) => {
      const day = dayOf(request.query);
      return cachedRead(db, `pcn:${request.params.code}:${day}`, () => getPcn(db, request.params.code, day));
    },
  );

  app.patch('/api/pcns/:code', { schema: { summary: 'Rename a PCN, set its clinical director or nominated payee', tags: ['network'], params: pcnParams, body: updatePcnInput } }, async (request) => {
    await updatePcn(db, request.actor!, request.params.code, request.body);
    return getPcn(db, request.params.code);
  });

  app.post('/api/pcns/:code/partners', { schema: { summary: 'Add a partner organisation to a PCN', tags: ['network'], params: pcnParams, body: addPartnerInput } }, async (request, reply) => {
    const partner = await addPartner(db, request.actor!, request.params.code, request.body);
    return reply.status(201).send(partner);
  });

  app.get(
    '/api/practices/:ods',
    { schema: { summary: 'A practice, its PCN membership history and any move that can still be changed', tags: ['network'], params: practiceParams, querystring: asOfQuery } },
    async (request) => {
      const day = dayOf(request.query);
      return cachedRead(db, `practice:${request.params.ods}:${day}`, () => getPractice(db, request.params.ods, day));
    },
  );

  app.patch(
    '/api/practices/:ods',
    {
      schema: {
        summary: 'Move a practice to another PCN ({pcnCode, date?, newPayeeOds?}); a date after today schedules the move',
        tags: ['network'],
        params: practiceParams,
        body: movePracticeInput,
      },
    },
    async (request) => {
      await movePractice(db, request.actor!, request.params.ods, request.body);
      return getPractice(db, request.params.ods);
    },
  );

  app.get(
    '/api/practices/:ods/move-preview',
    { schema: { summary: 'What a move would change (list sizes against the size rule, the payee), without making it', tags: ['network'], params: practiceParams, querystring: movePracticeInput } },
    async (request) => previewMove(db, request.actor!, request.params.ods, request.query),
  );

  app.get(
    '/api/practices/:ods/move',
    { schema: { summary: 'The practice’s move that can still be corrected or cancelled (scheduled, or made today)', tags: ['network'], params: practiceParams } },
    async (request) => getMove(db, request.params.ods),
  );

  app.get(
    '/api/practices/:ods/move/preview',
    {
      schema: {
        summary: 'What correcting the practice’s open move would change ({pcnCode?, date?, newPayeeOds?}), without making it',
        tags: ['network'],
        params: practiceParams,
        querystring: movePracticeInput.partial(),
      },
    },
    async (request) => previewCorrection(db, request.actor!, request.params.ods, request.query),
  );

  app.patch(
    '/api/practices/:ods/move',
    { schema: { summary: 'Correct a scheduled move, or one made today ({pcnCode?, date?, newPayeeOds?})', tags: ['network'], params: practiceParams, body: correctMoveInput } },
    async (request) => {
      await correctMove(db, request.actor!, request.params.ods, request.body);
      return getPractice(db, request.params.ods);
    },
  );

  app.delete(
    '/api/practices/:ods/move',
    { schema: { summary: 'Cancel a scheduled move, or one made today: the practice stays where it was', tags: ['network'], params: practiceParams } },
    async (request) => {
      await cancelMove(db, request.actor!, request.params.ods);
      return getPractice(db, request.params.ods);
    },
  );
}
