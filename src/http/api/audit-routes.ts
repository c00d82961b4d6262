/** The audit log over /api: a patient's "who looked at my record", and the IG lead's review (JSON or CSV). */
import { OperationOutcomeError } from '@medplum/core';
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { forbidden } from '../../shared/errors.ts';
import { accessLog, auditReview, auditReviewCsv, mayReviewAudit, REVIEW_DAYS } from '../../modules/audit/index.ts';
import { recordAccessFor } from '../../modules/record/index.ts';

const accessLogEntry = z.object({
  at: z.string(),
  organisation: z.string().nullable(),
  /** The registry's name for the organisation, so no one reads a bare code. */
  organisationName: z.string().nullable(),
  role: z.string().nullable(),
  action: z.string(),
  outcome: z.enum(['success', 'denied', 'error']),
  purpose: z.string().nullable(),
  breakGlassReason: z.string().nullable(),
});

export function auditRoutes(app: ZodApp) {
  const db = app.db;

  app.get(
    '/api/patients/:id/access-log',
    {
      schema: {
        summary: 'Who looked at this patient’s record: organisation, role, when and why, newest first (for whoever may see the record, and audit reviewers)',
        tags: ['audit'],
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a FHIR resource id') }),
        querystring: z.object({ page: z.coerce.number().int().min(1).max(10_000).default(1), pageSize: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ entries: z.array(accessLogEntry), page: z.number(), pageSize: z.number(), hasMore: z.boolean() }) },
      },
    },
    async (request) => {
      const actor = request.actor!;
      if (!mayReviewAudit(actor)) {
        // The record's own access rule decides: whoever may see the patient's record may see who else did.
        const access = await recordAccessFor(db, actor);
        try {
          await access.assertPatient(db, request.params.id);
        } catch (error) {
          if (error instanceof OperationOutcomeError) throw forbidden(error.outcome.issue?.[0]?.details?.text ?? 'you may not see this patient’s record');
          throw error;
        }
      }
      return accessLog(db, { actor, requestId: request.id }, request.params.id, request.query.page, request.query.pageSize);
    },
  );

  app.get(
    '/api/audit/review',
    {
      schema: {
        summary: 'The IG lead’s review: break-glass uses and unusual access (one user touching many patients’ records in a day); ?format=csv for a CSV export',
        tags: ['audit'],
        querystring: z.object({ days: z.coerce.number().int().min(1).max(366).default(REVIEW_DAYS), format: z.enum(['json', 'csv']).default('json') }),
      },
    },
    async (request, reply) => {
      const actor = request.actor!;
      if (!mayReviewAudit(actor)) throw forbidden('only an IG lead or an admin may review the audit log');
      const review = await auditReview(db, { actor, requestId: request.id }, request.query.days);
      if (request.query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="audit-review-${new Date().toISOString().slice(0, 10)}.csv"`)
          .send(auditReviewCsv(review));
      }
      return review;
    },
  );
}
