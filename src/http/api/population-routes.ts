/** Population health's /api doors: one patient's explained result (GET /api/population/patients/:id), under the record's access rules. */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { patientPopulationResult } from '../../modules/population/index.ts';
import { asApiError } from './record-routes.ts';

export function populationRoutes(app: ZodApp) {
  app.get(
    '/api/population/patients/:id',
    {
      schema: {
        summary:
          'One patient’s population health result — frailty (eFI), medication review priority, multimorbidity, care gaps — each finding with the entries behind it, the day it is as of and the rule set version (for whoever may open the patient’s record; audited)',
        tags: ['population'],
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/) }),
      },
    },
    async (request) => {
      try {
        return await patientPopulationResult(app.db, request.actor!, request.params.id, { method: request.method, url: request.url, id: request.id });
      } catch (error) {
        throw asApiError(error);
      }
    },
  );
}
