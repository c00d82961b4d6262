/**
 * Population health's cohorts and worklists (/api/population/cohorts…, /api/population/worklists…): build, count,
 * save and share a cohort within a PCN, list its patients (as the access policy allows; audited), export it as CSV
 * (identifiable for direct care, pseudonymised otherwise), and work it as a worklist of statuses.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import {
  careGapNames,
  cohortPatients,
  createWorklist,
  createWorklistInput,
  deleteCohort,
  exportCohort,
  listCohorts,
  listWorklists,
  previewCohortInput,
  previewCohortSize,
  readCohort,
  readWorklist,
  saveCohort,
  saveCohortInput,
  updateCohort,
  updateCohortInput,
  updateWorklistPatient,
  updateWorklistPatientInput,
  worklistPatientHistory,
} from '../../modules/population/index.ts';
import { asApiError } from './record-routes.ts';

const idParams = z.object({ id: z.uuid('an id is a UUID') });
const rowParams = z.object({ id: z.uuid('an id is a UUID'), patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a patient id is 1 to 64 letters, digits, dashes or dots') });
const tags = ['population'];

/** The record's refusals (the access policy's OperationOutcomes) in /api's words. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asApiError(error);
  }
}

export function cohortRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.get('/api/population/care-gaps', { schema: { summary: 'The care gaps a cohort or worklist may name: id and name', tags } }, async () => ({
    items: careGapNames(),
  }));

  app.get('/api/population/cohorts', { schema: { summary: 'The saved cohorts of the PCNs I work for (every PCN’s for an admin or analyst)', tags } }, async (request) => ({
    items: await listCohorts(db, request.actor!),
  }));

  app.post(
    '/api/population/cohorts/preview',
    { schema: { summary: 'How many patients a definition matches now, in my PCN or the one named (suppressed under 5 for those who see aggregates only)', tags, body: previewCohortInput } },
    async (request) => previewCohortSize(db, request.actor!, request.body),
  );

  app.post('/api/population/cohorts', { schema: { summary: 'Save a cohort for my PCN (or the one named), shared within it', tags, body: saveCohortInput } }, async (request, reply) =>
    reply.status(201).send(await saveCohort(db, request.actor!, request.body, requestOf(request))),
  );

  app.get('/api/population/cohorts/:id', { schema: { summary: 'A saved cohort, with its size now and its size over time', tags, params: idParams } }, async (request) =>
    readCohort(db, request.actor!, request.params.id),
  );

  app.patch(
    '/api/population/cohorts/:id',
    { schema: { summary: 'Change a cohort’s name or definition (its owner), naming the version changed (409 when another change came first)', tags, params: idParams, body: updateCohortInput } },
    async (request) => updateCohort(db, request.actor!, request.params.id, request.body, requestOf(request)),
  );

  app.delete('/api/population/cohorts/:id', { schema: { summary: 'Delete a cohort (its owner)', tags, params: idParams } }, async (request, reply) => {
    await deleteCohort(db, request.actor!, request.params.id, requestOf(request));
    return reply.status(204).send();
  });

  app.get('/api/population/cohorts/:id/patients', { schema: { summary: 'The cohort’s patients whose record I may open (direct-care roles; audited once)', tags, params: idParams } }, async (request) =>
    answer(() => cohortPatients(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.get(
    '/api/population/cohorts/:id/export',
    {
      schema: {
        summary:
          'The cohort as CSV: identifiable (my patients only) for direct-care roles, pseudonymised (national data opt-out honoured, fewer than 5 refused) otherwise or with ?form=pseudonymised; audited',
        tags,
        params: idParams,
        querystring: z.object({ form: z.enum(['identifiable', 'pseudonymised']).optional() }),
      },
    },
    async (request, reply) => {
      const exported = await answer(() => exportCohort(db, request.actor!, request.params.id, request.query.form, requestOf(request)));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${exported.filename}"`).header('cache-control', 'no-store').send(exported.csv);
    },
  );

  app.get(
    '/api/population/worklists',
    { schema: { summary: 'The worklists of the PCNs I work for, with progress (counts per status, and how many the record shows done)', tags } },
    async (request) => ({
      items: await listWorklists(db, request.actor!),
    }),
  );

  app.post(
    '/api/population/worklists',
    { schema: { summary: 'Make a worklist from a saved cohort, assigned to a role, for a care gap or a medication review (smr)', tags, body: createWorklistInput } },
    async (request, reply) => reply.status(201).send(await createWorklist(db, request.actor!, request.body, requestOf(request))),
  );

  app.get(
    '/api/population/worklists/:id',
    { schema: { summary: 'A worklist: progress and the rows of patients whose record I may open, each with whether the record now shows the action (audited once)', tags, params: idParams } },
    async (request) => answer(() => readWorklist(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.patch(
    '/api/population/worklists/:id/patients/:patientId',
    {
      schema: {
        summary: 'Change one patient’s status, note or owner on a worklist, naming the row’s version (409 with the row as it stands when another change came first)',
        tags,
        params: rowParams,
        body: updateWorklistPatientInput,
      },
    },
    async (request) => answer(() => updateWorklistPatient(db, request.actor!, request.params.id, request.params.patientId, request.body, requestOf(request))),
  );

  app.get(
    '/api/population/worklists/:id/patients/:patientId/history',
    { schema: { summary: 'Every change to one patient’s row on a worklist, oldest first', tags, params: rowParams } },
    async (request) => answer(async () => ({ items: await worklistPatientHistory(db, request.actor!, request.params.id, request.params.patientId) })),
  );
}
