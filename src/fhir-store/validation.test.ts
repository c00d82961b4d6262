import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { deepFreeze } from '../../test/deep-freeze.ts';
import { demoArea } from '../demo/demo-area.ts';
import { registryFhirBundle } from '../modules/network/index.ts';
import { recordValidationIssues } from './validation.ts';
import { syntheticPopulation } from '../demo/synthetic-population.ts';

const shown = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error').map((i) => [i.expression?.[0], i.details?.text]);

const resourcesOf = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource!);

test('every resource of 300 synthetic patients, the registry, and their transaction bundles is valid', () => {
  const snapshot = demoArea(1);
  const bundles = [...syntheticPopulation({ ...snapshot, patients: 300, seed: 1, asOf: '2026-11-01' }), registryFhirBundle(snapshot)];
  let checked = 0;
  for (const bundle of bundles) {
    for (const resource of resourcesOf(bundle)) {
      assert.deepEqual(shown(recordValidationIssues(deepFreeze(resource))), [], `${resource.resourceType}/${resource.id}`);
      checked++;
    }
    assert.deepEqual(shown(recordValidationIssues(bundle)), [], 'the transaction bundle');
  }
  assert.ok(checked > 2000, `${checked} resources`);
});
