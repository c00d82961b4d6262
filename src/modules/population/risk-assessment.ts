/**
 * A patient's frailty result as a FHIR RiskAssessment, kept in the record itself so that /fhir reads and
 * searches it under the record's access rules like any other entry: status final, the Patient as subject,
 * the as-of day as occurrence, the model as method, the band in prediction.qualitativeRisk, the score in an
 * extension and the entries that made it as basis. One per patient and model, with an id made from both,
 * so re-scoring replaces it, and written only when what it says has changed (its day aside: see assessmentSays).
 */
import { createHash } from 'node:crypto';
import type { Extension, RiskAssessment } from '@medplum/fhirtypes';
import type { FrailtyResult, PopulationResult, Refusal } from './results.ts';

import { isRefusal, POPULATION_MODEL_SYSTEM } from './types.ts';

export { POPULATION_MODEL_SYSTEM };
export const FRAILTY_CATEGORY_SYSTEM = 'https://pcn-hub.example/CodeSystem/frailty-category';
/** The model's score (e.g. the eFI's deficits / 36), on the RiskAssessment. */
export const FRAILTY_SCORE_EXTENSION = 'https://pcn-hub.example/StructureDefinition/frailty-score';
/** The rule set version that produced the assessment (results.ts `rulesVersion`). */
export const RULES_VERSION_EXTENSION = 'https://pcn-hub.example/StructureDefinition/population-rules-version';

const slug = (model: string) =>
  model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'model';

/** The RiskAssessment's id for a patient and model: the same every time (ids are at most 64 characters). */
export function riskAssessmentId(patientId: string, model: string): string {
  const id = `${slug(model)}-${patientId}`;
  return id.length <= 64 ? id : `${slug(model).slice(0, 20)}-${createHash('sha256').update(patientId).digest('hex').slice(0, 40)}`;
}

const scored = (efi: FrailtyResult | Refusal | null): efi is FrailtyResult => efi !== null && !isRefusal(efi);

/** The id of the frailty RiskAssessment a result says, or null when it says none. */
export function frailtyAssessmentId(result: PopulationResult): string | null {
  return scored(result.efi) ? riskAssessmentId(result.patientId, result.efi.model) : null;
}

/** The frailty RiskAssessment a result says, or null when no frailty model scored the patient (under its age, or refused). */
export function frailtyRiskAssessment(result: PopulationResult): (RiskAssessment & { id: string }) | null {
  const { efi } = result;
  if (!scored(efi)) return null;
  const basis = [...new Set(efi.deficits.flatMap((d) => d.entries.map((e) => `${e.type}/${e.id}`)))].map((reference) => ({ reference }));
  const extension: Extension[] = [
    { url: FRAILTY_SCORE_EXTENSION, valueDecimal: efi.score },
    { url: RULES_VERSION_EXTENSION, valueString: result.rulesVersion },
  ];
  return {
    resourceType: 'RiskAssessment',
    id: riskAssessmentId(result.patientId, efi.model),
    extension,
    status: 'final',
    method: { coding: [{ system: POPULATION_MODEL_SYSTEM, code: slug(efi.model), display: efi.model }], text: `${efi.model} ${efi.modelVersion}` },
    code: { text: `Frailty (${efi.model})` },
    subject: { reference: `Patient/${result.patientId}` },
    occurrenceDateTime: result.asOf,
    ...(basis.length ? { basis } : {}),
    prediction: [{ outcome: { text: 'Frailty' }, qualitativeRisk: { coding: [{ system: FRAILTY_CATEGORY_SYSTEM, code: efi.category, display: efi.category }], text: efi.category } }],
  };
}

/** A RiskAssessment this module wrote (its method names one of our models), not one a clinician recorded. */
export const isPopulationAssessment = (r: RiskAssessment): boolean => r.method?.coding?.some((c) => c.system === POPULATION_MODEL_SYSTEM) ?? false;

/**
 * What an assessment says, as a short hash: everything but its meta and its day. A later run that finds the
 * same leaves the stored one as it is (one version when the finding changes, not one a patient a night); its
 * occurrence then stays the first day it was found.
 */
export function assessmentSays(assessment: RiskAssessment): string {
  const { meta: _meta, occurrenceDateTime: _day, ...rest } = assessment;
  return createHash('sha1').update(canonical(rest)).digest('base64');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
