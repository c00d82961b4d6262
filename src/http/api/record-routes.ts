/**
 * The record's /api doors: a professional's own patients and inbox (GET /api/my/patients, /api/my/inbox),
 * who a patient outside their care is before breaking glass (GET /api/patients/reveal), break-glass for
 * one patient (POST /api/patients/:id/break-glass) and the IG lead's review of every break-glass opening
 * (GET /api/break-glass). Each goes through the access module's policy and the record's audit, like /fhir.
 */
import { OperationOutcomeError } from '@medplum/core';
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { AppError, forbidden } from '../../shared/errors.ts';
import { FhirStoreRepository } from '../../fhir-store/index.ts';
import { type Actor, BREAK_GLASS_HOURS, breakGlassReview, checkBreakGlassReason, openGrantOf } from '../../modules/access/index.ts';
import type { Db } from '../../storage/db.ts';
import { mayReviewAudit } from '../../modules/audit/index.ts';
import { careTeamPatients, organisationInbox, recordContext, revealForBreakGlass } from '../../modules/record/index.ts';
import { canonicalNhsNumberProblem } from '../../shared/ids.ts';
import { outcomeStatus } from '../errors.ts';

/** The store's OperationOutcome refusals in /api's words. */
export function asApiError(error: unknown): unknown {
  if (!(error instanceof OperationOutcomeError)) return error;
  const text = error.outcome.issue?.[0]?.details?.text ?? 'refused';
  const status = outcomeStatus(error.outcome);
  if (status === 403) return forbidden(text);
  if (status === 404) return new AppError('not-found', 'this patient was not found');
  if (status === 410) return new AppError('gone', 'this patient’s record was deleted');
  return error;
}

export function recordRoutes(app: ZodApp, options: { breakGlassHours?: number } = {}) {
  const db = app.db;
  const hours = options.breakGlassHours ?? BREAK_GLASS_HOURS;

  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  /** A professional's own list, read as them through the access policy (audited); refusals in /api's words. */
  const ownList = <T>(url: string, summary: string, load: (db: Db, actor: Actor, request: { method: string; url: string; id: string }) => Promise<T>) =>
    app.get(url, { schema: { summary, tags: ['record'] } }, async (request) => {
      try {
        return await load(db, request.actor!, requestOf(request));
      } catch (error) {
        throw asApiError(error);
      }
    });
  ownList('/api/my/patients', 'My patients: those whose active care team names my organisation (through the access policy; audited)', careTeamPatients);
  ownList('/api/my/inbox', 'My organisation’s inbox: open referrals it performs and open tasks it owns (through the access policy; audited)', organisationInbox);

  app.get(
    '/api/patients/reveal',
    {
      schema: {
        summary: 'Who the patient with this exact NHS number is (name, NHS number, date of birth) when they are not one of mine, to decide on break-glass (break-glass roles only; audited)',
        tags: ['record'],
        querystring: z.object({
          nhsNumber: z.string().refine((value) => canonicalNhsNumberProblem(value) === null, { message: 'nhsNumber must be a valid NHS number: its 10 digits' }),
        }),
      },
    },
    async (request) => revealForBreakGlass(db, request.actor!, request.query.nhsNumber, requestOf(request)),
  );

  app.post(
    '/api/patients/:id/break-glass',
    {
      schema: {
        summary: 'Open one patient’s record in an emergency with a written reason (audited, reviewed by the IG lead); answers until when',
        tags: ['record'],
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/) }),
        body: z.object({ reason: z.string().max(1000) }),
      },
    },
    async (request) => {
      const reason = checkBreakGlassReason(request.body.reason);
      const actor = request.actor!;
      const context = await recordContext(db, actor, { request: { method: request.method, url: request.url }, breakGlassReason: reason, breakGlassHours: hours });
      const repo = new FhirStoreRepository(db, context);
      try {
        // Reading the Patient with the reason opens the grant (the access rule's break-glass), audited with it.
        await repo.readResource('Patient', request.params.id);
      } catch (error) {
        throw asApiError(error);
      } finally {
        await context.audit.looks(db, repo.touches);
      }
      const grant = await openGrantOf(db, actor, request.params.id);
      return { patientId: request.params.id, reason: grant?.reason ?? null, expiresAt: grant?.expiresAt ?? null, relationship: !grant };
    },
  );

  app.get(
    '/api/break-glass',
    {
      schema: {
        summary: 'Every break-glass opening, newest first: the IG lead’s review',
        tags: ['record'],
        querystring: z.object({ since: z.iso.datetime({ offset: true }).optional() }),
      },
    },
    async (request) => {
      const actor = request.actor!;
      if (!mayReviewAudit(actor)) throw forbidden('only an IG lead or an admin reviews break-glass use');
      return { items: await breakGlassReview(db, { since: request.query.since }) };
    },
  );
}
