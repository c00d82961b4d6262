/** The registry: area → PCNs → practices (membership history) and partners. Owns area, pcn, practice, practice_membership, partner, pcn_partner. */
export { addPartner, addPartnerInput, type AddPartnerInput } from './add-partner.ts';
export { areaMap } from './area-map.ts';
export { createPcn, createPcnInput, type CreatePcnInput } from './create-pcn.ts';
export { loadRegistry } from './load-registry.ts';
export {
  cancelMove,
  correctMove,
  correctMoveInput,
  getMove,
  movePractice,
  movePracticeInput,
  previewCorrection,
  previewMove,
  type CorrectMoveInput,
  type MovePracticeInput,
  type MovePreview,
  type PcnChange,
} from './move-practice.ts';
export {
  getPcn,
  getPractice,
  listAreas,
  listPcns,
  type AreaSummary,
  type PcnDetail,
  type PcnPage,
  type PcnSummary,
  type PracticeDetail,
  type PracticeMove,
} from './read-registry.ts';
export { cachedRead, registryChanged } from './registry-cache.ts';
export { readRegistryDir, writeRegistryDir } from './registry-csv.ts';
export {
  LOCAL_ORGANISATION_SYSTEM,
  LOCAL_PARTNER_SYSTEM,
  ORGANISATION_RELATIONSHIP_SYSTEM,
  ORGANISATION_ROLE_SYSTEM,
  PARTNER_TYPE_SYSTEM,
  fhirId,
  isOdsShaped,
  organizationId,
  parseClinicianName,
  registryAsFhir,
  registryFhirBundle,
} from './registry-fhir.ts';
export { saveRegistry, type SaveCounts, type SaveProgress } from './save-registry.ts';
export { sizeVerdict, type SizeVerdict } from './size-rule.ts';
export * from './types.ts';
export { updatePcn, updatePcnInput, type UpdatePcnInput } from './update-pcn.ts';
