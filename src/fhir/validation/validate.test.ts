import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getAllDataTypes, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { deepFreeze } from '../../../test/deep-freeze.ts';
import { loadFhirDefinitions } from '../definitions.ts';
import { MAX_DEPTH, validateR4 } from './validate.ts';

loadFhirDefinitions();

const errorsOf = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error');
const shown = (issues: OperationOutcomeIssue[]) => errorsOf(issues).map((i) => [i.expression?.[0], i.details?.text]);

test('every R4 resource type compiles, and an empty one is refused only for its required elements and invariants', () => {
  const resourceTypes = Object.values(getAllDataTypes()).filter((t) => t.kind === 'resource' && !['Resource', 'DomainResource'].includes(t.name));
  assert.ok(resourceTypes.length > 140);
  for (const type of resourceTypes) {
    const issues = errorsOf(validateR4({ resourceType: type.name }));
    assert.ok(
      issues.every((i) => i.code === 'required' || i.code === 'invariant'),
      `${type.name}: ${JSON.stringify(issues)}`,
    );
  }
});

interface InvalidCase {
  readonly name: string;
  readonly resource: unknown;
  /** Every error, as [expression, text]. */
  readonly errors: [string, string | RegExp][];
  /** Why medplum's validateResource accepts it, when it does. */
  readonly medplumMisses?: string;
}

const observation = { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' } };

const nested = (depth: number) => {
  let extension: object = { url: 'http://x.example/e', valueString: 'leaf' };
  for (let i = 0; i < depth; i++) extension = { url: 'http://x.example/e', extension: [extension] };
  return { resourceType: 'Patient', extension: [extension] };
};

const invalidCases: InvalidCase[] = [
  { name: 'unknown property', resource: { resourceType: 'Patient', favouriteColour: 'blue' }, errors: [['Patient.favouriteColour', "'favouriteColour' is not an element of Patient"]] },
  {
    name: 'unknown property in a backbone element',
    resource: { resourceType: 'Patient', contact: [{ name: { family: 'Smith' }, nickname: 'Smithy' }] },
    errors: [['Patient.contact[0].nickname', "'nickname' is not an element of Patient.contact"]],
  },
  { name: 'wrong JSON type', resource: { resourceType: 'Patient', birthDate: 19650910 }, errors: [['Patient.birthDate', 'Expected a string (FHIR date), got a number']] },
  { name: 'wrong JSON type for a boolean', resource: { resourceType: 'Patient', active: 'true' }, errors: [['Patient.active', 'Expected a boolean (FHIR boolean), got a string']] },
  { name: 'bad date', resource: { resourceType: 'Patient', birthDate: 'yesterday' }, errors: [['Patient.birthDate', "Invalid date format: 'yesterday' (expected YYYY, YYYY-MM or YYYY-MM-DD)"]] },
  {
    name: 'dateTime with a time but no time zone',
    resource: { ...observation, effectiveDateTime: '2026-01-05T10:00:00' },
    errors: [['Observation.effectiveDateTime', "Invalid dateTime format: '2026-01-05T10:00:00' (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)"]],
    medplumMisses: 'its dateTime regex makes the time zone optional, which R4 does not',
  },
  {
    name: 'bad id',
    resource: { resourceType: 'Patient', id: 'bad id!' },
    errors: [['Patient.id', 'Invalid id format: \'bad id!\' (expected 1 to 64 letters, digits, "-" or ".")']],
    medplumMisses: 'it checks Resource.id as a plain string',
  },
  {
    name: 'an integer with a fraction',
    resource: { resourceType: 'Patient', multipleBirthInteger: 1.5 },
    errors: [['Patient.multipleBirthInteger', 'Expected a whole number (FHIR integer), got 1.5']],
  },
  {
    name: 'array where a single value is expected',
    resource: { resourceType: 'Patient', gender: ['female', 'male'] },
    errors: [['Patient.gender', 'Expected a single value, got an array (Patient.gender has at most 1)']],
  },
  {
    name: 'single value where an array is expected',
    resource: { resourceType: 'Patient', name: { family: 'Smith' } },
    errors: [['Patient.name', 'Expected an array (Patient.name may repeat), got an object']],
  },
  {
    name: 'missing required elements',
    resource: { resourceType: 'Observation', valueString: 'x' },
    errors: [
      ['Observation.status', 'Observation.status is required'],
      ['Observation.code', 'Observation.code is required'],
    ],
  },
  { name: 'missing required element of a data type', resource: { resourceType: 'Patient', extension: [{ valueString: 'x' }] }, errors: [['Patient.extension[0].url', 'Extension.url is required']] },
  {
    name: 'two types of one choice',
    resource: { ...observation, valueString: 'a', valueBoolean: true },
    errors: [['Observation.valueBoolean', 'Only one of valueString and valueBoolean may be present: Observation.value[x] takes one type']],
    medplumMisses: 'it only warns about a second choice type',
  },
  { name: 'unknown type of a choice', resource: { ...observation, valueMoney: { value: 1 } }, errors: [['Observation.valueMoney', "'valueMoney' is not an element of Observation"]] },
  {
    name: 'bad code in a required binding',
    resource: { ...observation, status: 'bogus' },
    errors: [['Observation.status', "'bogus' is not one of registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown"]],
    medplumMisses: 'it does not check bindings',
  },
  {
    name: 'bad gender',
    resource: { resourceType: 'Patient', gender: 'x' },
    errors: [['Patient.gender', "'x' is not one of male, female, other, unknown"]],
    medplumMisses: 'it does not check bindings',
  },
  {
    name: 'bad code in a CodeableConcept with a required binding (only its own system is judged)',
    resource: {
      resourceType: 'AllergyIntolerance',
      patient: { reference: 'Patient/1' },
      clinicalStatus: {
        coding: [
          { system: 'http://snomed.info/sct', code: '55561003' },
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'gone' },
        ],
      },
    },
    errors: [['AllergyIntolerance.clinicalStatus.coding[1].code', "'gone' is not one of active, inactive, resolved (http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical)"]],
    medplumMisses: 'it does not check bindings',
  },
  { name: 'null in an array', resource: { resourceType: 'Patient', name: [null] }, errors: [['Patient.name[0]', 'Invalid null value: leave the element out instead']] },
  { name: 'null value', resource: { resourceType: 'Patient', birthDate: null }, errors: [['Patient.birthDate', 'Invalid null value: leave the element out instead']] },
  {
    name: 'empty string',
    resource: { resourceType: 'Patient', name: [{ family: '' }] },
    errors: [['Patient.name[0].family', 'Empty string: leave the element out instead']],
    medplumMisses: 'it treats an empty string as absent',
  },
  { name: 'whitespace-only string', resource: { resourceType: 'Patient', name: [{ family: '   ' }] }, errors: [['Patient.name[0].family', 'String must contain non-whitespace content']] },
  { name: 'empty object', resource: { resourceType: 'Patient', name: [{}] }, errors: [['Patient.name[0]', 'Empty object: leave the element out instead']] },
  {
    name: 'empty array',
    resource: { resourceType: 'Patient', name: [] },
    errors: [['Patient.name', 'Empty array: leave the element out instead']],
    medplumMisses: 'it treats an empty array as absent',
  },
  {
    name: 'a string over 1 MB',
    resource: { resourceType: 'Patient', name: [{ family: 'x'.repeat(1024 * 1024 + 1) }] },
    errors: [['Patient.name[0].family', `A string may be at most 1 MB (1048576 characters); this one has ${1024 * 1024 + 1}`]],
  },
  {
    name: 'invalid nested value',
    resource: { resourceType: 'Patient', name: [{ family: 'Smith' }, { given: [7] }] },
    errors: [['Patient.name[1].given[0]', 'Expected a string (FHIR string), got a number']],
  },
  {
    name: 'invalid value inside a contained resource',
    resource: { resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'gp', birthDate: '1970-13-01' }], generalPractitioner: [{ reference: '#gp' }] },
    errors: [['Patient.contained[0].birthDate', "Invalid date format: '1970-13-01' (expected YYYY, YYYY-MM or YYYY-MM-DD)"]],
  },
  {
    name: 'unknown resource type inside a Bundle',
    resource: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Pateint' } }] },
    errors: [['Bundle.entry[0].resource.resourceType', "'Pateint' is not an R4 resource type"]],
  },
  {
    name: 'invariant of a backbone element (pat-1)',
    resource: { resourceType: 'Patient', contact: [{ gender: 'female' }] },
    errors: [['Patient.contact[0]', "Constraint pat-1 not met: SHALL at least contain a contact's details or a reference to an organization"]],
  },
  {
    name: 'invariant of a resource (obs-6)',
    resource: { ...observation, valueString: 'x', dataAbsentReason: { text: 'not asked' } },
    errors: [['Observation', 'Constraint obs-6 not met: dataAbsentReason SHALL only be present if Observation.value[x] is not present']],
  },
  {
    name: 'invariant of a data type (per-1: a Period that ends before it starts)',
    resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start: '2026-02-01', end: '2026-01-01' } },
    errors: [['Encounter.period', 'Constraint per-1 not met: If present, start SHALL have a lower value than end']],
    medplumMisses: 'it evaluates the invariants of a data type (Period, Quantity …) only on the resource root',
  },
  {
    name: 'invariant of a data type (qty-3: a unit code without its system)',
    resource: { ...observation, valueQuantity: { value: 72, code: '/min' } },
    errors: [['Observation.valueQuantity', 'Constraint qty-3 not met: If a code for the unit is present, the system SHALL also be present']],
    medplumMisses: 'it evaluates the invariants of a data type (Period, Quantity …) only on the resource root',
  },
  {
    name: 'JSON nested 10,000 levels deep',
    resource: nested(10_000),
    errors: [[`Patient${'.extension[0]'.repeat(MAX_DEPTH)}`, `Nested more than ${MAX_DEPTH} levels deep`]],
  },
  {
    name: '__proto__ key',
    resource: JSON.parse('{"resourceType":"Patient","__proto__":{"polluted":true}}'),
    errors: [['Patient.__proto__', "'__proto__' is not an element of Patient"]],
    medplumMisses: "its `key in elements` test finds Object.prototype's __proto__",
  },
  {
    name: 'constructor key',
    resource: JSON.parse('{"resourceType":"Patient","name":[{"family":"Proto","constructor":{"prototype":{"polluted":true}}}]}'),
    errors: [['Patient.name[0].constructor', "'constructor' is not an element of HumanName"]],
    medplumMisses: "its `key in elements` test finds Object.prototype's constructor",
  },
  { name: 'not a resource at all', resource: ['Patient'], errors: [['Resource', 'Expected a resource (a JSON object), got an array']] },
];

for (const c of invalidCases) {
  test(`refused: ${c.name}`, () => {
    const issues = validateR4(deepFreeze(c.resource));
    const actual = shown(issues);
    assert.equal(actual.length, c.errors.length, JSON.stringify(actual));
    c.errors.forEach(([expression, text], i) => {
      assert.equal(actual[i]![0], expression);
      if (typeof text === 'string') assert.equal(actual[i]![1], text);
      else assert.match(actual[i]![1]!, text);
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
}

test('medplum also refuses every invalid case, except the gaps listed', () => {
  for (const c of invalidCases.filter((c) => !c.medplumMisses)) {
    // Medplum throws an OperationOutcomeError; on the 10k-deep JSON it runs out of stack instead.
    assert.throws(() => validateResource(c.resource as Resource), `medplum refuses: ${c.name}`);
  }
  for (const c of invalidCases.filter((c) => c.medplumMisses)) {
    assert.doesNotThrow(() => validateResource(c.resource as Resource), `medplum accepts ${c.name}: ${c.medplumMisses} (if it now refuses, drop medplumMisses)`);
  }
});

test('accepted: primitive extensions beside a value, and nulls that keep two arrays aligned', () => {
  const patient = {
    resourceType: 'Patient',
    birthDate: '1970',
    _birthDate: { extension: [{ url: 'http://x.example/accuracy', valueCode: 'year' }] },
    name: [{ given: ['Ann', null], _given: [null, { extension: [{ url: 'http://x.example/unspoken', valueBoolean: true }] }] }],
  };
  assert.deepEqual(validateR4(deepFreeze(patient)), []);
  assert.doesNotThrow(() => validateResource(patient as Resource));
  assert.deepEqual(shown(validateR4({ resourceType: 'Patient', name: [{ given: [null] }] })), [['Patient.name[0].given[0]', 'Invalid null value: leave the element out instead']]);
});

test('a reference to a type the element does not allow is a warning, not an error', () => {
  const issues = validateR4({ resourceType: 'Patient', managingOrganization: { reference: 'Patient/1' }, generalPractitioner: [{ reference: 'urn:uuid:5b5b5b5b-0000-4000-8000-000000000001' }] });
  assert.deepEqual(
    issues.map((i) => [i.severity, i.expression?.[0], i.details?.text]),
    [['warning', 'Patient.managingOrganization', 'Refers to a Patient, but Patient.managingOrganization may refer only to Organization']],
  );
});
