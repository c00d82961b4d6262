import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capitalize, evalFhirPathTyped, getDataType, getResourceTypes, getSearchParameters, toTypedValue, type InternalSchemaElement, type TypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { demoArea } from '../demo/demo-area.ts';
import { registryFhirBundle } from '../modules/network/index.ts';
import { dateBounds, extractIndex, extractIndexWithFhirPath, indexedParams, normaliseString, rowsOfParameter, storedAs, type IndexRows } from './search-index.ts';
import { syntheticPopulation } from '../demo/synthetic-population.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { compileSearchPath } from '../fhir/search-paths.ts';

loadFhirDefinitions();

/** Bundle entries given ids, with `urn:uuid:` references rewritten to `Type/id` as a server would store them. */
function storedEntries(bundle: Bundle, idPrefix: string): Resource[] {
  const entries = (bundle.entry ?? []).map((entry, i) => ({ fullUrl: entry.fullUrl, resource: { ...entry.resource!, id: entry.resource!.id ?? `${idPrefix}-${i}` } }));
  const stored = new Map(entries.filter((e) => e.fullUrl).map((e) => [e.fullUrl!, `${e.resource.resourceType}/${e.resource.id}`]));
  const rewrite = (_key: string, value: unknown) => (typeof value === 'string' && stored.has(value) ? stored.get(value) : value);
  return entries.map((e) => JSON.parse(JSON.stringify(e.resource, rewrite)) as Resource);
}

const area = demoArea(1);
const population = [...syntheticPopulation({ ...area, patients: 150, seed: 1, asOf: '2026-11-01' })].flatMap((bundle, i) => storedEntries(bundle, `p${i}`));
const registry = storedEntries(registryFhirBundle(area), 'registry');

const REFERENCE_SHAPES = [
  { reference: 'Patient/1' },
  { reference: 'http://x/fhir/Patient/1' },
  { reference: 'urn:uuid:5f1c7f4e-8a51-4a8e-9d5e-0c1d2e3f4a5b' },
  { reference: '#contained-1' },
  { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' } },
  { type: 'Patient', identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' } },
  { reference: 'Group/1' },
  { reference: 'Patient/1/_history/2' },
  { reference: 'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018' },
  { reference: 'Practitioner/p1', display: 'Dr Okafor' },
];

/**
 * Choice types, every reference shape, `_given` extensions and missing values, by hand. Typed loosely
 * on purpose: the last few are invalid FHIR, which the index must still agree on.
 */
const handMade = [
  {
    resourceType: 'Observation',
    id: 'q',
    status: 'final',
    code: { text: 'Weight' },
    valueQuantity: { value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    subject: REFERENCE_SHAPES[0],
  },
  { resourceType: 'Observation', id: 's', status: 'final', code: { text: 'Note' }, valueString: 'Zoë is well', subject: REFERENCE_SHAPES[1] },
  {
    resourceType: 'Observation',
    id: 'c',
    status: 'final',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '1' }] },
    valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '2' }], text: 'Two' },
    subject: REFERENCE_SHAPES[2],
  },
  { resourceType: 'Observation', id: 'none', status: 'final', code: {} },
  {
    resourceType: 'Observation',
    id: 'bp',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: REFERENCE_SHAPES[3],
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }, valueCodeableConcept: { text: 'high' } },
    ],
  },
  { resourceType: 'Condition', id: 'dt', subject: REFERENCE_SHAPES[4], onsetDateTime: '2012-04-13', abatementDateTime: '2013-02-28T10:00:00Z' },
  { resourceType: 'Condition', id: 'age', subject: REFERENCE_SHAPES[5], onsetAge: { value: 52, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' } },
  { resourceType: 'Condition', id: 'period', subject: REFERENCE_SHAPES[6], onsetPeriod: { start: '2020-02', end: '2020-03-01' }, abatementString: 'resolved' },
  { resourceType: 'Condition', id: 'string', subject: REFERENCE_SHAPES[7], onsetString: 'childhood', abatementBoolean: true },
  { resourceType: 'Condition', id: 'range', subject: REFERENCE_SHAPES[8], onsetRange: { low: { value: 1 }, high: { value: 2 } } },
  {
    resourceType: 'Patient',
    id: 'ext',
    name: [{ family: 'Ångström', given: ['Jo', null, 'Ann'], _given: [null, { extension: [{ url: 'http://x/initial', valueString: 'B' }] }] }, { given: [] }, { text: '' }],
    birthDate: '2000-02-29',
    _birthDate: { extension: [{ url: 'http://x/accuracy', valueCode: 'estimated' }] },
    gender: 'female',
    telecom: [{ system: 'phone', value: '07700 900047' }, { system: 'email', value: 'jo@example.org' }, { value: 'no system' }],
    deceasedDateTime: '2026-01-31',
    generalPractitioner: [...REFERENCE_SHAPES],
    link: [{ other: REFERENCE_SHAPES[6], type: 'seealso' }],
  },
  { resourceType: 'Patient', id: 'alive', deceasedBoolean: false, address: [{ postalCode: 'NR1 3SR', line: ['1 High St'] }] },
  { resourceType: 'Encounter', id: 'refs', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Group/1' }, participant: REFERENCE_SHAPES.map((individual) => ({ individual })) },
  { resourceType: 'Appointment', id: 'refs', status: 'booked', participant: REFERENCE_SHAPES.map((actor) => ({ actor, status: 'accepted' })) },
  { resourceType: 'Provenance', id: 'null-target', target: [null, { reference: 'Patient/1' }], recorded: '2020-01-01T00:00:00Z', agent: [{ who: { reference: 'Patient/1' } }] },
  { resourceType: 'Person', id: 'p', address: [{ city: 'Norwich' }], link: REFERENCE_SHAPES.map((target) => ({ target })) },
  // Invalid, but the index must still agree: empty strings, two choices present, an array where one value goes.
  { resourceType: 'Patient', id: 'blank', gender: '', birthDate: '', telecom: [{ system: ['phone', 'phone'], value: '01603 000000' }] },
  { resourceType: 'Observation', id: 'two-values', status: 'final', code: { text: 'x' }, valueString: 'first?', valueQuantity: { value: 1 } },
  { resourceType: 'Condition', id: 'two-onsets', subject: REFERENCE_SHAPES[0], onsetString: 'first?', onsetDateTime: '2020-01-01' },
] as unknown as Resource[];

// ---------------------------------------------------------------------------------------------
// Schema-made resources: every element of every R4 resource type filled in, so that every
// compiled expression meets data whatever type it is for. Variants rotate choice types,
// reference shapes, codes and primitive extensions.
// ---------------------------------------------------------------------------------------------

const CODES = ['phone', 'email', 'composed-of', 'depends-on', 'derived-from', 'predecessor', 'successor', 'official'];
const PRIMITIVES: Record<string, readonly unknown[]> = {
  boolean: [true, false],
  integer: [3, 0],
  positiveInt: [1, 7],
  unsignedInt: [0, 2],
  decimal: [1.5, 72],
  date: ['2020', '2020-05', '2020-05-17', '2020-12-31', '2024-02-29'],
  dateTime: ['2020-05-17T10:00:00Z', '2020-05-17', '2021', '2019-06'],
  instant: ['2020-05-17T10:00:00.000Z'],
  time: ['10:00:00'],
  code: CODES,
  uri: ['Patient/1', 'http://x/fhir/Patient/1', 'urn:uuid:5f1c7f4e-8a51-4a8e-9d5e-0c1d2e3f4a5b', '#c1'],
  url: ['http://x/fhir/ValueSet/1'],
  canonical: ['http://x/fhir/Questionnaire/1', 'Questionnaire/1'],
  id: ['id-1'],
  oid: ['urn:oid:1.2.3'],
  uuid: ['urn:uuid:5f1c7f4e-8a51-4a8e-9d5e-0c1d2e3f4a5b'],
  base64Binary: ['AAAA'],
  xhtml: ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>'],
};
const TEXT = ['Zoë Ångström', 'NR1 3SR', 'plain'];

function pick<T>(values: readonly T[], n: number): T {
  return values[n % values.length]!;
}

function madeValue(type: string, variant: number, depth: number): unknown {
  if (type === 'Reference') return pick(REFERENCE_SHAPES, variant);
  if (type === 'Resource') return { resourceType: pick(['Patient', 'Composition', 'MessageHeader'], variant), id: 'c1' };
  if (type === 'Extension') return { url: 'http://x/extension', valueString: 'x' };
  const primitive = PRIMITIVES[type];
  if (primitive) return pick(primitive, variant);
  if (type === 'string' || type === 'markdown') return pick(TEXT, variant);
  return depth < 3 ? madeElement(type, variant, depth + 1) : undefined;
}

function madeElement(type: string, variant: number, depth: number): Record<string, unknown> {
  const made: Record<string, unknown> = {};
  let n = variant;
  for (const [key, element] of Object.entries(getDataType(type).elements)) {
    if (key === 'id' || key === 'extension' || key === 'modifierExtension' || key === 'contained') continue;
    n++;
    fillElement(made, key, element, n, depth);
  }
  return made;
}

function fillElement(made: Record<string, unknown>, key: string, element: InternalSchemaElement, n: number, depth: number): void {
  const type = pick(element.type, n).code;
  const name = key.endsWith('[x]') ? key.slice(0, -3) + capitalize(type) : key;
  const value = madeValue(type, n, depth);
  if (value === undefined) return;
  // Arrays of two, sometimes equal (so that `|` has duplicates to remove).
  made[name] = element.isArray ? [value, n % 3 === 0 ? value : madeValue(type, n + 1, depth)] : value;
  const isPrimitive = type in PRIMITIVES || type === 'string' || type === 'markdown';
  if (isPrimitive && n % 4 === 1) {
    const extension = { extension: [{ url: 'http://x/primitive', valueString: 'e' }] };
    made[`_${name}`] = element.isArray ? [null, extension] : extension;
  }
}

const schemaMade: Resource[] = getResourceTypes().flatMap((resourceType) =>
  [0, 1, 2, 3, 4, 5].map((variant) => ({ ...madeElement(resourceType, variant, 0), resourceType, id: `made-${variant}` }) as Resource),
);

const resources = [...population, ...registry, ...handMade, ...schemaMade];

function byType(): Map<string, Resource[]> {
  const groups = new Map<string, Resource[]>();
  for (const resource of resources) groups.set(resource.resourceType, [...(groups.get(resource.resourceType) ?? []), resource]);
  return groups;
}

type Outcome = { values: TypedValue[] } | { threw: true };
function outcome(evaluate: () => TypedValue[]): Outcome {
  try {
    return { values: evaluate() };
  } catch {
    return { threw: true };
  }
}

test('every compiled search path returns what FHIRPath returns, for every R4 resource type', () => {
  const groups = byType();
  let pairs = 0;
  let compiled = 0;
  let comparisons = 0;
  for (const resourceType of getResourceTypes()) {
    for (const param of indexedParams(resourceType)) {
      pairs++;
      const extract = compileSearchPath(resourceType, param.atom);
      if (!extract) continue;
      compiled++;
      for (const resource of groups.get(resourceType) ?? []) {
        const expected = outcome(() => evalFhirPathTyped(param.atom, [toTypedValue(resource)]));
        assert.deepEqual(
          outcome(() => extract(resource)),
          expected,
          `${resourceType}.${param.code} (${param.atom.toString()}) on ${resource.resourceType}/${resource.id}`,
        );
        comparisons++;
      }
    }
  }
  assert.ok(compiled / pairs > 0.95, `${compiled} of ${pairs} (type, parameter) pairs compile`);
  assert.ok(comparisons > 10_000);
});

test('the sample meets every kind of compiled value: choice types, every reference shape, extensions, throws', () => {
  const observation = handMade.find((r) => r.id === 'c')!;
  const valueConcept = indexedParams('Observation').find((p) => p.code === 'value-concept')!;
  assert.deepEqual(valueConcept.extract?.(observation), [{ type: 'CodeableConcept', value: { coding: [{ system: 'http://snomed.info/sct', code: '2' }], text: 'Two' } }]);
  // medplum's as() function does not filter: onset-age of an onsetDateTime is that dateTime.
  const onsetAge = indexedParams('Condition').find((p) => p.code === 'onset-age')!;
  assert.deepEqual(onsetAge.extract?.(handMade.find((r) => r.id === 'dt')!), [{ type: 'dateTime', value: '2012-04-13' }]);
  // Only relative, versioned, search and typed-identifier references resolve to a Patient.
  const appointmentPatient = indexedParams('Appointment').find((p) => p.code === 'patient')!;
  const resolved = appointmentPatient.extract?.(handMade.find((r) => r.resourceType === 'Appointment')!);
  assert.deepEqual(
    resolved?.map((v) => v.value),
    [REFERENCE_SHAPES[0], REFERENCE_SHAPES[5], REFERENCE_SHAPES[7], REFERENCE_SHAPES[8]],
  );
  const provenancePatient = indexedParams('Provenance').find((p) => p.code === 'patient')!;
  assert.throws(() => provenancePatient.extract?.(handMade.find((r) => r.resourceType === 'Provenance')!));
  const given = indexedParams('Patient').find((p) => p.code === 'given')!;
  assert.deepEqual(given.extract?.(handMade.find((r) => r.id === 'ext')!), [
    { type: 'string', value: 'Jo' },
    { type: 'string', value: { extension: [{ url: 'http://x/initial', valueString: 'B' }] } },
    { type: 'string', value: 'Ann' },
  ]);
});

test('extractIndex gives the same rows as pure FHIRPath', () => {
  for (const resource of resources) {
    assert.deepEqual(extractIndex(resource), extractIndexWithFhirPath(resource), `${resource.resourceType}/${resource.id}`);
  }
});

/** Rows of the given codes as comparable text, the code left out (a union has each value once). */
function valuesUnder(rows: IndexRows, codes: string[], targetType?: string): string[] {
  const all = [...rows.tokens, ...rows.strings, ...rows.dates, ...rows.numbers, ...rows.references];
  const under = all.filter(([code, ...rest]) => codes.includes(code) && (!targetType || rest[0] === targetType));
  return [...new Set(under.map(([, ...rest]) => JSON.stringify(rest)))].sort();
}

test('a parameter stored as others (combo-code, phonetic, Observation patient) has exactly their rows', () => {
  assert.deepEqual(storedAs('Observation', 'combo-code'), { codes: ['code', 'component-code'] });
  assert.deepEqual(storedAs('Patient', 'phonetic'), { codes: ['name'] });
  assert.deepEqual(storedAs('Observation', 'patient'), { codes: ['subject'], targetType: 'Patient' });
  assert.deepEqual(storedAs('Observation', 'patient:identifier'), { codes: ['patient:identifier'] }, 'a typed identifier resolves as a Patient, so its tokens stay its own');
  assert.deepEqual(storedAs('Patient', 'name'), { codes: ['name'] });
  let compared = 0;
  for (const resource of resources) {
    const stored = extractIndex(resource);
    for (const code of Object.keys(getSearchParameters(resource.resourceType) ?? {})) {
      const as = storedAs(resource.resourceType, code);
      if (as.codes.length === 1 && as.codes[0] === code) continue;
      let own: IndexRows;
      try {
        own = rowsOfParameter(resource, code);
      } catch {
        continue; // an expression this resource cannot answer (Provenance's patient on a bad target)
      }
      const where = `${resource.resourceType}/${resource.id} ${code}`;
      if (!as.targetType) {
        assert.deepEqual(valuesUnder(stored, as.codes), valuesUnder(own, [code]), where);
      } else {
        const found = valuesUnder(stored, as.codes, as.targetType);
        const expected = valuesUnder({ ...own, tokens: [] }, [code]);
        // FHIRPath's resolve() leaves out an absolute URL to a Patient; the stored rows (rightly) keep it.
        if (JSON.stringify(resource).includes('"reference":"http'))
          assert.ok(
            expected.every((v) => found.includes(v)),
            where,
          );
        else assert.deepEqual(found, expected, where);
      }
      compared++;
    }
  }
  assert.ok(compared > 1000, `${compared} comparisons`);
});

test('the fast paths of normaliseString and dateBounds agree with their general forms', () => {
  const generalNormalise = (value: string) =>
    value
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toLowerCase();
  const texts = ['Zoë', 'ÅNGSTRÖM', 'NR1 3SR', 'a^b`c', 'plain lower', ...Array.from({ length: 0x300 }, (_, code) => String.fromCharCode(code))];
  for (const text of texts) assert.equal(normaliseString(text), generalNormalise(text), JSON.stringify(text));

  const generalNextDay = (date: string) => {
    const next = new Date(`${date}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    return next.toISOString();
  };
  const dates = ['0000-01-01', '2020-02-30', '2021-02-29', '2020-13-01', '2020-00-10', '2020-01-00', '2020-04-31'];
  for (let day = Date.UTC(1599, 0, 1); day < Date.UTC(2401, 0, 1); day += 86_400_000) dates.push(new Date(day).toISOString().slice(0, 10));
  for (const date of dates) {
    assert.deepEqual(
      outcome(() => [{ type: 'date', value: dateBounds(date)[1] }]),
      outcome(() => [{ type: 'date', value: generalNextDay(date) }]),
      date,
    );
  }
});
