/**
 * MDT meetings (/api/mdt/meetings…) and care homes (/api/care-homes…): schedule a PCN's meeting, record attendance,
 * build its agenda from a cohort or worklist or by hand, write each patient's discussion and actions, close it (the
 * minutes go onto each patient's record); list care homes by PCN, one home's residents and its weekly round. What
 * is shown of a patient is what the viewer may open in their record (audited).
 */
import { OperationOutcomeError } from '@medplum/core';
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import type { ZodApp } from '../app.ts';
import {
  actionInput,
  referralActionInput,
  addAction,
  addReferralAction,
  addToAgenda,
  addToAgendaInput,
  alignCareHome,
  attendanceInput,
  closeMeeting,
  discussionInput,
  listCareHomes,
  listMeetings,
  readCareHome,
  readMeeting,
  recordAttendance,
  removeAttendance,
  removeFromAgenda,
  saveDiscussion,
  scheduleMeeting,
  scheduleMeetingInput,
} from '../../modules/mdt/index.ts';
import { outcomeStatus } from '../errors.ts';
import { asApiError } from './record-routes.ts';

const meetingParams = z.object({ id: z.uuid('a meeting id is a UUID') });
const itemParams = z.object({ id: z.uuid('a meeting id is a UUID'), itemId: z.uuid('an agenda item id is a UUID') });
const attendeeParams = z.object({ id: z.uuid('a meeting id is a UUID'), attendeeId: z.uuid('an attendee id is a UUID') });
const homeParams = z.object({
  code: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9-]{3,20}$/, 'a care home code is 3 to 20 letters, digits or dashes'),
});
const tags = ['mdt'];

/** The record's refusals (the access policy's OperationOutcomes) and the store's validation in /api's words. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OperationOutcomeError && outcomeStatus(error.outcome) === 422) {
      const issue = error.outcome.issue?.[0];
      throw new AppError('invalid', issue?.details?.text ?? 'the record refused this entry', issue?.expression?.[0]);
    }
    throw asApiError(error);
  }
}

export function mdtRoutes(app: ZodApp) {
  const db = app.db;
  const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

  app.get('/api/mdt/meetings', { schema: { summary: 'The MDT meetings of the PCNs I work for: scheduled (soonest first), then closed', tags } }, async (request) => ({
    items: await listMeetings(db, request.actor!),
  }));

  app.post(
    '/api/mdt/meetings',
    { schema: { summary: 'Schedule an MDT meeting for my PCN (or the one named): title, date and time, place or link, chair', tags, body: scheduleMeetingInput } },
    async (request, reply) => reply.status(201).send(await scheduleMeeting(db, request.actor!, request.body, requestOf(request))),
  );

  app.get(
    '/api/mdt/meetings/:id',
    { schema: { summary: 'A meeting: schedule, attendance and agenda — each patient, discussion and actions as far as I may open their record (audited)', tags, params: meetingParams } },
    async (request) => answer(() => readMeeting(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.post(
    '/api/mdt/meetings/:id/agenda',
    {
      schema: {
        summary: 'Add patients to the agenda: every patient of a cohort or worklist I may see ({cohortId} / {worklistId}), or one by hand ({patientId} / {nhsNumber})',
        tags,
        params: meetingParams,
        body: addToAgendaInput,
      },
    },
    async (request) => answer(() => addToAgenda(db, request.actor!, request.params.id, request.body, requestOf(request))),
  );

  app.delete(
    '/api/mdt/meetings/:id/agenda/:itemId',
    { schema: { summary: 'Take a patient off the agenda: their draft discussion is deleted and open actions cancelled; closing writes nothing about them', tags, params: itemParams } },
    async (request, reply) => {
      await answer(() => removeFromAgenda(db, request.actor!, request.params.id, request.params.itemId, requestOf(request)));
      return reply.status(204).send();
    },
  );

  app.put(
    '/api/mdt/meetings/:id/agenda/:itemId/discussion',
    { schema: { summary: 'Write (or rewrite) the discussion of one patient: a Procedure on their record, in progress until the meeting closes', tags, params: itemParams, body: discussionInput } },
    async (request) => answer(() => saveDiscussion(db, request.actor!, request.params.id, request.params.itemId, request.body, requestOf(request))),
  );

  app.post(
    '/api/mdt/meetings/:id/agenda/:itemId/actions',
    {
      schema: {
        summary: 'Record an action for one patient: a Task (kind mdt-action) owned by a person (ownerEmail) or a role in an organisation (ownerOrg + ownerRole), due by a date',
        tags,
        params: itemParams,
        body: actionInput,
      },
    },
    async (request, reply) => reply.status(201).send(await answer(() => addAction(db, request.actor!, request.params.id, request.params.itemId, request.body, requestOf(request)))),
  );

  app.post(
    '/api/mdt/meetings/:id/agenda/:itemId/referrals',
    {
      schema: {
        summary:
          'Record a referral as one patient’s action: sent now to a directory service (serviceId) or an organisation (performerOrg), with the patient’s consent to share; it joins the receiving inbox and the minutes',
        tags,
        params: itemParams,
        body: referralActionInput,
      },
    },
    async (request, reply) => reply.status(201).send(await answer(() => addReferralAction(db, request.actor!, request.params.id, request.params.itemId, request.body, requestOf(request)))),
  );

  app.post(
    '/api/mdt/meetings/:id/attendance',
    { schema: { summary: 'Record who came or sent apologies: name, email, organisation, role', tags, params: meetingParams, body: attendanceInput } },
    async (request, reply) => reply.status(201).send({ items: await recordAttendance(db, request.actor!, request.params.id, request.body, requestOf(request)) }),
  );

  app.delete('/api/mdt/meetings/:id/attendance/:attendeeId', { schema: { summary: 'Remove an attendance entry made in error', tags, params: attendeeParams } }, async (request) => ({
    items: await removeAttendance(db, request.actor!, request.params.id, request.params.attendeeId, requestOf(request)),
  }));

  app.post(
    '/api/mdt/meetings/:id/close',
    { schema: { summary: 'Close the meeting: the minutes go onto the record of every patient still on the agenda, in one transaction', tags, params: meetingParams } },
    async (request) => answer(() => closeMeeting(db, request.actor!, request.params.id, requestOf(request))),
  );

  app.get(
    '/api/care-homes',
    {
      schema: { summary: 'Care homes and the PCN each is aligned to (those aligned to one PCN with ?pcn=)', tags, querystring: z.object({ pcn: z.string().trim().toUpperCase().max(20).optional() }) },
    },
    async (request) => ({ items: await listCareHomes(db, request.query.pcn) }),
  );

  app.get(
    '/api/care-homes/:code',
    { schema: { summary: 'One care home: its residents whose record I may open, and this week’s home round with why each is due (audited)', tags, params: homeParams } },
    async (request) => answer(() => readCareHome(db, request.actor!, request.params.code, requestOf(request))),
  );

  app.put(
    '/api/care-homes/:code/alignment',
    {
      schema: {
        summary: 'Align a care home to one PCN (that PCN’s manager or an admin); a home aligned to another PCN is refused with 409',
        tags,
        params: homeParams,
        body: z.object({ pcnCode: z.string().trim().toUpperCase().max(20) }).strict(),
      },
    },
    async (request) => alignCareHome(db, request.actor!, request.params.code, request.body.pcnCode),
  );
}
