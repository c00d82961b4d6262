import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalFhirPathTyped, getAllDataTypes, parseFhirPath, UCUM } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import { holdsWhenAbsent } from './invariants.ts';

loadFhirDefinitions();

test('an invariant skipped because its elements are absent would have held: checked with medplum on every R4 type', () => {
  const patient: TypedValue = { type: 'Patient', value: { resourceType: 'Patient' } };
  let skipped = 0;
  for (const type of Object.values(getAllDataTypes())) {
    // A type's own invariants apply to its values; an element's to the element's values.
    const constraints = [
      ...(type.constraints ?? []).map((constraint) => ({ constraint, on: type.name })),
      ...Object.values(type.elements).flatMap((e) => (e.constraints ?? []).map((constraint) => ({ constraint, on: e.type[0]?.code ?? 'Element' }))),
    ];
    for (const { constraint, on } of constraints) {
      if (constraint.severity !== 'error' || !holdsWhenAbsent(constraint.expression)) continue;
      const context: TypedValue = { type: on, value: {} };
      const result = evalFhirPathTyped(parseFhirPath(constraint.expression), [context], { '%context': context, '%resource': patient, '%rootResource': patient, '%ucum': { type: 'uri', value: UCUM } });
      assert.ok(!(result.length === 1 && result[0]!.value === false), `${type.name} ${constraint.key}: ${constraint.expression}`);
      skipped++;
    }
  }
  assert.ok(skipped > 100, `${skipped} plans checked`);
});
