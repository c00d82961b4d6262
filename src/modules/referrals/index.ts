/**
 * Referrals (issue 12; docs/coordination.md, "Referral"): a referral is a `ServiceRequest` (what is asked) with a
 * workflow `Task` (where it is), written through the FHIR store as the acting person. The state machine and the
 * inbox's SLA clock are data (types.ts, browser-safe); an open referral is a legitimate relationship for the
 * receiving organisation (the access policy reads the performer and owner identifiers).
 */
export { createReferral, newUbrn, referralFields, referralInput, withOneReceiver, writeReferral, type ReferralInput } from './create-referral.ts';
export { guardReferralChange } from './fhir-guard.ts';
export { moveReferral, readParts, transitionInput, transitionReferral, type ReferralParts, type TransitionInput } from './transition-referral.ts';
export { redirectBody, redirectInput, redirectReferral, type RedirectInput, type Redirected } from './redirect-referral.ts';
export { inboxOrder, listReferrals, listReferralsInput, MAX_REFERRAL_PAGE, readReferral, withClock, type ListReferralsInput, type ReferralPage } from './read-referrals.ts';
export {
  CHANGED_BY_EXTENSION,
  CONSENT_EXTENSION,
  FULFILL,
  HELD_FROM_EXTENSION,
  JOURNEY_SYSTEM,
  OUTCOME_TYPE_SYSTEM,
  REDIRECTED_TO_EXTENSION,
  TASK_CODE_SYSTEM,
  isWorkflowTask,
  UBRN_SYSTEM,
  orgReference,
  receivingOrg,
  referralView,
} from './referral-fhir.ts';
export type { ReferralRequest } from './as-actor.ts';
export * from './types.ts';
// BaRS-shaped messages (docs/coordination.md, "BaRS messages"): $process-message and the export of a referral as one.
export { BARS_MESSAGE_ID_EXTENSION, exportBarsMessage, processBarsMessage, type BarsExportKind, type MessageRequest } from './bars-process.ts';
export { hasBeenAnswered, requestMessage, requestMessageIdOf, responseMessage, type StoredReferral } from './bars-export.ts';
export { readBarsMessage, type BarsReading, type BarsReferralMessage } from './bars-message.ts';
