/**
 * Redirect: the receiving service sends the referral on to another service — a new referral (same patient,
 * reason, urgency, what matters, consent and attachments; the original referrer stays its requester) and this
 * one rejected naming where it went, in ONE transaction. The new one is written first, while the redirecting
 * service still holds its relationship with the patient (rejecting ends it).
 */
import { z } from 'zod';
import type { Db } from '../../storage/db.ts';
import { invalid } from '../../shared/errors.ts';
import type { Actor } from '../access/index.ts';
import { asActor, type ReferralRequest } from './as-actor.ts';
import { referralFields, referralInput, withOneReceiver, writeReferral } from './create-referral.ts';
import { CONSENT_EXTENSION, extensionValue, REDIRECTED_TO_EXTENSION } from './referral-fhir.ts';
import { moveReferral, readParts } from './transition-referral.ts';
import type { Referral } from './types.ts';

const redirectFields = referralFields.pick({ serviceId: true, performerOrg: true }).extend({
  reason: z.string().trim().min(1, 'reason: say why the referral goes to another service').max(4000),
});
/** The request body (the referral is named by the path). */
export const redirectBody = withOneReceiver(redirectFields);
export const redirectInput = withOneReceiver(redirectFields.extend({ referralId: referralFields.shape.patientId }));
export type RedirectInput = z.input<typeof redirectInput>;

export interface Redirected {
  /** This referral, now rejected. */
  from: Referral;
  /** The new referral to the other service. */
  to: Referral;
}

export async function redirectReferral(db: Db, actor: Actor, given: RedirectInput, request: ReferralRequest): Promise<Redirected> {
  const input = redirectInput.parse(given);
  return asActor(db, actor, request, (repo) =>
    repo.withTransaction(async (tx) => {
      const { serviceRequest } = await readParts(repo, input.referralId);
      const patientId = (serviceRequest.subject?.reference ?? '').replace(/^Patient\//, '');
      if (!serviceRequest.requester) throw invalid('referralId', 'the referral names no referrer to redirect for');
      const to = await writeReferral(
        tx,
        repo,
        actor,
        referralInput.parse({
          patientId,
          ...(input.serviceId ? { serviceId: input.serviceId } : { performerOrg: input.performerOrg }),
          reason: serviceRequest.reasonCode?.[0]?.text ?? input.reason,
          priority: serviceRequest.priority ?? 'routine',
          ...(serviceRequest.note?.[0]?.text ? { whatMatters: serviceRequest.note[0].text } : {}),
          consentToShare: extensionValue(serviceRequest, CONSENT_EXTENSION)?.valueBoolean === true,
          attachments: (serviceRequest.supportingInfo ?? []).map((r) => r.reference ?? '').filter(Boolean),
          ...(serviceRequest.requisition?.value ? { journeyId: serviceRequest.requisition.value } : {}),
        }),
        {
          requester: { identifier: serviceRequest.requester.identifier, display: serviceRequest.requester.display },
          extension: [{ url: REDIRECTED_TO_EXTENSION, valueReference: { reference: `ServiceRequest/${serviceRequest.id}`, display: 'redirected from' } }],
        },
      );
      const from = await moveReferral(repo, actor, { referralId: input.referralId, to: 'rejected', reason: `Redirected to ${to.service.name}: ${input.reason}` });
      return { from, to };
    }),
  );
}
