/**
 * FHIR search as a client sees it: every parameter type with its modifiers and prefixes, chains,
 * includes, sorting, counting, element selection, paging that holds still while data changes, and
 * what an unknown parameter gets (strict 400, or ignored and reported under handling=lenient).
 */
import { randomUUID } from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Condition, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, ids, issues, matches, NHS_NUMBER_SYSTEM, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { newVersionsStatement, prepareVersion } from '../../fhir-store/versions.ts';

let h: FhirHarness;
const SNOMED = 'http://snomed.info/sct';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const LOINC = 'http://loinc.org';

/** Six patients whose names, dates, postcodes and genders each search below picks from. */
const people: Record<string, Patient & { id: string }> = {};
const conditions: Record<string, Condition & { id: string }> = {};
let observation: Observation & { id: string };

const address = (postalCode: string) => [{ line: ['1 High Street'], city: 'Norwich', postalCode }];
const condition = (subject: string, system: string, code: string, status: string): Condition => ({
  resourceType: 'Condition',
  subject: { reference: `Patient/${subject}` },
  code: { coding: [{ system, code }] },
  clinicalStatus: { coding: [{ system: CLINICAL, code: status }] },
});

before(async () => {
  h = await fhirHarness();
  const specs: Array<[string, Partial<Patient>]> = [
    ['bronte', { name: [{ family: 'Brontë', given: ['Zoë', 'Anne'] }], birthDate: '1950-03-15', gender: 'female', address: address('NR1 3SR') }],
    ['brown', { name: [{ family: 'Brown', given: ['Charlotte'] }], birthDate: '1960-07-01', gender: 'female', address: address('NR2 4AB') }],
    ['smith', { name: [{ family: 'Smith', given: ['John'] }], birthDate: '1975-12-31', gender: 'male', address: address('NR32 1AA') }],
    ['smithson', { name: [{ family: 'Smithson', given: ['Jo'] }], birthDate: '1990-01-01', gender: 'male', address: address('PE30 1AA') }],
    ['blacksmith', { name: [{ family: 'Blacksmith', given: ['Emily'] }], birthDate: '2001-05-20', gender: 'other', address: address('NR1 3SR') }],
    ['zephyr', { name: [{ family: 'Zephyr', given: ['Sky'] }] }],
  ];
  let n = 100;
  for (const [key, extra] of specs) people[key] = await create(h.fhir, patient(nhsNumber(n++), 'Z90101', extra));
  conditions.diabetes = await create(h.fhir, condition(people.bronte!.id, SNOMED, '44054006', 'active'));
  conditions.oldBp = await create(h.fhir, condition(people.bronte!.id, SNOMED, '38341003', 'resolved'));
  conditions.bp = await create(h.fhir, condition(people.smith!.id, SNOMED, '38341003', 'active'));
  conditions.local = await create(h.fhir, condition(people.smith!.id, 'https://example.org/local-codes', 'X1', 'inactive'));
  observation = await create(h.fhir, {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8867-4' }] },
    subject: { reference: `Patient/${people.brown!.id}` },
    valueQuantity: { value: 72, unit: '/min' },
  } as Observation);
});
after(async () => {
  await h.close();
});

/** Searches and returns the matched ids; the search must succeed. */
async function search(query: string, headers?: Record<string, string>): Promise<string[]> {
  const reply = await h.fhir<Bundle>('GET', `/fhir/${query}`, { headers });
  assert.equal(reply.status, 200, `${query}: ${reply.text}`);
  assert.equal(reply.json.type, 'searchset');
  return ids(reply.json);
}
const idsOf = (...keys: string[]) => keys.map((k) => (people[k] ?? conditions[k])!.id).sort();
const PEOPLE = '_count=100';
let serial = 1000;

test(`_id finds one or several resources (${testEngine})`, async () => {
  assert.deepEqual(await search(`Patient?_id=${people.brown!.id}`), idsOf('brown'));
  assert.deepEqual(await search(`Patient?_id=${people.brown!.id},${people.smith!.id}`), idsOf('brown', 'smith'));
  assert.deepEqual(await search('Patient?_id=no-such-id'), []);
});

test('_lastUpdated with eq, gt, ge, lt, le', async () => {
  const stamped: Array<Patient & { id: string }> = [];
  for (let i = 0; i < 3; i++) {
    stamped.push(await create(h.fhir, patient(nhsNumber(200 + i), 'Z90101', { name: [{ family: 'Stamp' }] })));
    await new Promise((r) => setTimeout(r, 5));
  }
  const [a, b, c] = stamped.map((p) => p.id) as [string, string, string];
  const at = encodeURIComponent(stamped[1]!.meta!.lastUpdated!);
  const stamp = (prefix: string) => search(`Patient?family=Stamp&_lastUpdated=${prefix}${at}`);
  assert.deepEqual(await stamp(''), [b]);
  assert.deepEqual(await stamp('eq'), [b]);
  assert.deepEqual(await stamp('gt'), [c]);
  assert.deepEqual(await stamp('ge'), [b, c].sort());
  assert.deepEqual(await stamp('lt'), [a]);
  assert.deepEqual(await stamp('le'), [a, b].sort());
  const today = stamped[1]!.meta!.lastUpdated!.slice(0, 10);
  assert.deepEqual(await search(`Patient?family=Stamp&_lastUpdated=${today}`), [a, b, c].sort());
  assert.deepEqual(await search('Patient?family=Stamp&_lastUpdated=lt2000-01-01'), []);
});

test('identifier=system|value, value alone, system alone', async () => {
  const nhs = people.smith!.identifier![0]!.value!;
  assert.deepEqual(await search(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`), idsOf('smith'));
  assert.deepEqual(await search(`Patient?identifier=${nhs}`), idsOf('smith'));
  assert.deepEqual(await search(`Patient?identifier=${encodeURIComponent(`https://example.org/other|${nhs}`)}`), []);
  assert.deepEqual(await search(`Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|`)}&family=Sm`), idsOf('smith', 'smithson'));
});

test('name, family and given match the start, ignoring case and accents', async () => {
  assert.deepEqual(await search('Patient?name=bron'), idsOf('bronte'));
  assert.deepEqual(await search('Patient?name=BRONTE'), idsOf('bronte'));
  assert.deepEqual(await search('Patient?name=charlotte'), idsOf('brown'));
  assert.deepEqual(await search('Patient?family=smith'), idsOf('smith', 'smithson'));
  assert.deepEqual(await search('Patient?given=zoe'), idsOf('bronte'));
  assert.deepEqual(await search(`Patient?given=${encodeURIComponent('ZOË')}`), idsOf('bronte'));
  assert.deepEqual(await search('Patient?family=mith'), []);
  assert.deepEqual(await search('Patient?family=sm%25'), [], 'a % in the value is a literal, not a wildcard');
  assert.deepEqual(await search('Patient?family=s_ith'), [], 'an _ in the value is a literal, not a wildcard');
});

test(':exact matches the whole value as written; :contains matches anywhere', async () => {
  assert.deepEqual(await search('Patient?family:exact=Smith'), idsOf('smith'));
  assert.deepEqual(await search('Patient?family:exact=smith'), []);
  assert.deepEqual(await search(`Patient?family:exact=${encodeURIComponent('Brontë')}`), idsOf('bronte'));
  assert.deepEqual(await search('Patient?family:exact=Bronte'), []);
  assert.deepEqual(await search('Patient?family:contains=SMITH'), idsOf('smith', 'smithson', 'blacksmith'));
  assert.deepEqual(await search('Patient?name:contains=ont'), idsOf('bronte'));
});

test('address-postalcode', async () => {
  assert.deepEqual(await search(`Patient?address-postalcode=${encodeURIComponent('NR1 3SR')}`), idsOf('bronte', 'blacksmith'));
  assert.deepEqual(await search(`Patient?address-postalcode=${encodeURIComponent('nr1 3sr')}`), idsOf('bronte', 'blacksmith'));
  assert.deepEqual(await search('Patient?address-postalcode=PE30'), idsOf('smithson'));
  assert.deepEqual(await search('Patient?address-postalcode=NR9'), []);
});

test('birthdate with eq, ne, lt, gt, le, ge, partial dates and ranges', async () => {
  const born = (value: string) => search(`Patient?birthdate=${value}&${PEOPLE}`);
  assert.deepEqual(await born('1950-03-15'), idsOf('bronte'));
  assert.deepEqual(await born('eq1950-03-15'), idsOf('bronte'));
  assert.deepEqual(await born('1950'), idsOf('bronte'));
  assert.deepEqual(await born('1960-07'), idsOf('brown'));
  assert.deepEqual(await born('ne1950-03-15'), idsOf('brown', 'smith', 'smithson', 'blacksmith'));
  assert.deepEqual(await born('lt1960-07-01'), idsOf('bronte'));
  assert.deepEqual(await born('le1960-07-01'), idsOf('bronte', 'brown'));
  assert.deepEqual(await born('gt1975-12-31'), idsOf('smithson', 'blacksmith'));
  assert.deepEqual(await born('ge1975-12-31'), idsOf('smith', 'smithson', 'blacksmith'));
  assert.deepEqual(await born('gt1975'), idsOf('smithson', 'blacksmith'));
  assert.deepEqual(await born('ge1976-01-01'), idsOf('smithson', 'blacksmith'));
  assert.deepEqual(await born('le1975-12-30'), idsOf('bronte', 'brown'));
  assert.deepEqual(await born('1976-01-01'), []);
  assert.deepEqual(await born('lt1975'), idsOf('bronte', 'brown'));
  assert.deepEqual(await search(`Patient?birthdate=ge1960&birthdate=lt1991&${PEOPLE}`), idsOf('brown', 'smith', 'smithson'));
  assert.deepEqual(await search(`Patient?birthdate:missing=true&family=Zephyr`), idsOf('zephyr'));
});

test('token code (system|code, code, system|), clinical-status, gender:not', async () => {
  assert.deepEqual(await search(`Condition?code=${encodeURIComponent(`${SNOMED}|38341003`)}`), idsOf('oldBp', 'bp'));
  assert.deepEqual(await search('Condition?code=38341003'), idsOf('oldBp', 'bp'));
  assert.deepEqual(await search(`Condition?code=${encodeURIComponent(`${SNOMED}|`)}`), idsOf('diabetes', 'oldBp', 'bp'));
  assert.deepEqual(await search(`Condition?code=${encodeURIComponent(`${LOINC}|38341003`)}`), []);
  assert.deepEqual(await search('Condition?clinical-status=active'), idsOf('diabetes', 'bp'));
  assert.deepEqual(await search(`Condition?clinical-status=${encodeURIComponent(`${CLINICAL}|resolved`)}`), idsOf('oldBp'));
  assert.deepEqual(
    await search(
      `Patient?gender:not=male&${PEOPLE}&_id=${Object.values(people)
        .map((p) => p.id)
        .join(',')}`,
    ),
    idsOf('bronte', 'brown', 'blacksmith', 'zephyr'),
  );
  assert.deepEqual(await search(`Patient?gender=male,other&${PEOPLE}`), idsOf('smith', 'smithson', 'blacksmith'));
});

test('reference patient/subject, with and without the type, and as an absolute URL', async () => {
  const bronte = people.bronte!.id;
  assert.deepEqual(await search(`Condition?patient=Patient/${bronte}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?patient=${bronte}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?subject=${bronte}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?subject=Patient/${bronte}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?subject:Patient=${bronte}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?subject=Group/${bronte}`), []);
  assert.deepEqual(await search(`Condition?subject=${encodeURIComponent(`http://localhost/fhir/Patient/${bronte}`)}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Observation?subject=${people.brown!.id}`), [observation.id]);
  assert.deepEqual(await search(`Condition?patient=${people.smith!.id},${bronte}`), idsOf('diabetes', 'oldBp', 'bp', 'local'));
});

test('chained subject:Patient.identifier=… and patient.name=…', async () => {
  const nhs = people.bronte!.identifier![0]!.value!;
  assert.deepEqual(await search(`Condition?subject:Patient.identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search(`Condition?subject.identifier=${nhs}`), idsOf('diabetes', 'oldBp'));
  assert.deepEqual(await search('Condition?patient.name=smith'), idsOf('bp', 'local'));
  assert.deepEqual(await search('Condition?patient.name=smith&code=38341003'), idsOf('bp'));
  assert.deepEqual(await search('Condition?patient.birthdate=lt1960'), idsOf('diabetes', 'oldBp'));
  const unknown = await h.fhir<OperationOutcome>('GET', '/fhir/Condition?patient.no-such-param=x');
  assert.equal(unknown.status, 400, unknown.text);
});

test('_include=Condition:subject and _revinclude=Condition:subject', async () => {
  const included = await h.fhir<Bundle>('GET', '/fhir/Condition?code=38341003&_include=Condition:subject');
  assert.equal(included.status, 200, included.text);
  assert.deepEqual(ids(included.json), idsOf('oldBp', 'bp'));
  const extra = (included.json.entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)
    .sort();
  assert.deepEqual(extra, [`Patient/${people.bronte!.id}`, `Patient/${people.smith!.id}`].sort());
  const typed = await h.fhir<Bundle>('GET', '/fhir/Condition?code=38341003&_include=Condition:subject:Patient');
  assert.equal((typed.json.entry ?? []).filter((e) => e.search?.mode === 'include').length, 2);

  const rev = await h.fhir<Bundle>('GET', `/fhir/Patient?_id=${people.bronte!.id}&_revinclude=Condition:subject`);
  assert.equal(rev.status, 200, rev.text);
  assert.deepEqual(ids(rev.json), idsOf('bronte'));
  const revExtra = (rev.json.entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => e.resource!.id)
    .sort();
  assert.deepEqual(revExtra, idsOf('diabetes', 'oldBp'));
});

test('parameters R4 defines as repeats of others answer as those do: combo-code, combo-value-quantity, phonetic, patient', async () => {
  const brown = people.brown!.id;
  const bp = await create(h.fhir, {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '85354-9' }] },
    subject: { reference: `Patient/${brown}` },
    component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 142, unit: 'mmHg' } }],
  } as Observation);
  const group = await create(h.fhir, {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '8480-6' }] },
    subject: { reference: 'Group/ward-7' },
    valueQuantity: { value: 118, unit: 'mmHg' },
  } as Observation);
  const observations = (query: string) => search(`Observation?${query}&_id=${[observation.id, bp.id, group.id].join(',')}`);
  assert.deepEqual(await observations('combo-code=8480-6'), [bp.id, group.id].sort(), 'a component code and a main code');
  assert.deepEqual(await observations('component-code=8480-6'), [bp.id]);
  assert.deepEqual(await observations(`combo-code=${encodeURIComponent(`${LOINC}|85354-9`)}`), [bp.id]);
  assert.deepEqual(await observations('combo-value-quantity=gt140'), [bp.id]);
  assert.deepEqual(await observations('combo-value-quantity=lt120'), [observation.id, group.id].sort(), 'a heart rate of 72 and a systolic of 118');
  assert.deepEqual(await observations(`combo-code:missing=true&subject=${brown}`), []);
  assert.deepEqual(await observations(`combo-value-quantity:missing=true&subject=${brown}`), [], 'the heart rate has a value, the BP a component value');
  assert.deepEqual(await observations(`patient=${brown}`), [observation.id, bp.id].sort());
  assert.deepEqual(await observations('patient=ward-7'), [], 'a Group is no patient');
  assert.deepEqual(await observations('subject=ward-7'), [group.id]);
  assert.deepEqual(await observations('patient:missing=true&code=8480-6'), [group.id]);
  assert.deepEqual(await observations('patient.name=charlotte'), [observation.id, bp.id].sort());
  assert.deepEqual(await search('Patient?phonetic=bron'), idsOf('bronte'));
  const remote = await create(h.fhir, { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `https://gp.example/fhir/Patient/${brown}` } } as Observation);
  assert.deepEqual(await search(`Observation?patient=${brown}&_id=${remote.id},${group.id}`), [remote.id], 'a subject written as an absolute URL to a Patient');
  assert.equal((await h.fhir('DELETE', `/fhir/Observation/${remote.id}`)).status, 200);

  const included = await h.fhir<Bundle>('GET', `/fhir/Observation?_id=${bp.id},${group.id}&_include=Observation:patient`);
  assert.deepEqual(
    (included.json.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource!.id),
    [brown],
  );
  const rev = await h.fhir<Bundle>('GET', `/fhir/Patient?_id=${brown}&_revinclude=Observation:patient`);
  assert.deepEqual(
    (rev.json.entry ?? [])
      .filter((e) => e.search?.mode === 'include')
      .map((e) => e.resource!.id)
      .sort(),
    [observation.id, bp.id].sort(),
  );
  const sorted = await h.fhir<Bundle>('GET', `/fhir/Observation?_id=${bp.id},${group.id},${observation.id}&_sort=-combo-code`);
  assert.deepEqual(
    matches(sorted.json).map((r) => r.id),
    [observation.id, bp.id, group.id],
    'highest code first: 8867-4, 85354-9, 8480-6',
  );
  for (const created of [bp, group]) assert.equal((await h.fhir('DELETE', `/fhir/Observation/${created.id}`)).status, 200);
});

test('_sort by name, -birthdate and _lastUpdated', async () => {
  const mine = `_id=${Object.values(people)
    .map((p) => p.id)
    .join(',')}`;
  const familyOrder = async (sort: string) => matches<Patient>((await h.fhir<Bundle>('GET', `/fhir/Patient?${mine}&_sort=${sort}`)).json).map((p) => p.name![0]!.family);
  assert.deepEqual(await familyOrder('name'), ['Blacksmith', 'Brontë', 'Brown', 'Smith', 'Smithson', 'Zephyr']);
  assert.deepEqual(await familyOrder('family'), ['Blacksmith', 'Brontë', 'Brown', 'Smith', 'Smithson', 'Zephyr']);
  assert.deepEqual(await familyOrder('-family'), ['Zephyr', 'Smithson', 'Smith', 'Brown', 'Brontë', 'Blacksmith']);
  assert.deepEqual(await familyOrder('-birthdate'), ['Blacksmith', 'Smithson', 'Smith', 'Brown', 'Brontë', 'Zephyr']);
  assert.deepEqual(await familyOrder('birthdate'), ['Brontë', 'Brown', 'Smith', 'Smithson', 'Blacksmith', 'Zephyr']);
  assert.deepEqual(await familyOrder('_lastUpdated'), ['Brontë', 'Brown', 'Smith', 'Smithson', 'Blacksmith', 'Zephyr']);
  assert.deepEqual(await familyOrder('-_lastUpdated'), ['Zephyr', 'Blacksmith', 'Smithson', 'Smith', 'Brown', 'Brontë']);
  assert.deepEqual(await familyOrder('gender,-birthdate'), ['Brown', 'Brontë', 'Smithson', 'Smith', 'Blacksmith', 'Zephyr']);
});

test('_count pages, and is capped at 1000', async () => {
  const two = await h.fhir<Bundle>('GET', '/fhir/Patient?family=b&_count=2');
  assert.equal(matches(two.json).length, 2);
  assert.ok(two.json.link?.some((l) => l.relation === 'next'));
  const all = await h.fhir<Bundle>('GET', '/fhir/Patient?family=b&_count=3');
  assert.equal(matches(all.json).length, 3);
  assert.ok(!all.json.link?.some((l) => l.relation === 'next'));

  // 1001 weights, written straight to the store (the HTTP path is not what this test is about).
  const weight: Observation = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '29463-7' }] }, valueQuantity: { value: 70 } };
  const now = new Date().toISOString();
  const weights = newVersionsStatement(Array.from({ length: 1001 }, () => prepareVersion({ ...weight, id: randomUUID() }, 1, now)))!;
  await h.db.query(weights.sql, weights.values);
  const capped = await h.fhir<Bundle>('GET', '/fhir/Observation?code=29463-7&_count=5000&_total=accurate');
  assert.equal(capped.status, 200, capped.text.slice(0, 500));
  assert.equal(capped.json.total, 1001);
  assert.equal(matches(capped.json).length, 1000);
  const next = capped.json.link?.find((l) => l.relation === 'next');
  assert.ok(next, 'a next link to the last one');
  const rest = await h.fhir<Bundle>('GET', next.url);
  assert.equal(matches(rest.json).length, 1);
});

test('_summary=count gives the total only; _total=accurate counts beyond the page', async () => {
  const counted = await h.fhir<Bundle>('GET', '/fhir/Patient?family=Sm&_summary=count');
  assert.equal(counted.status, 200, counted.text);
  assert.equal(counted.json.total, 2);
  assert.equal(counted.json.entry?.length ?? 0, 0);
  const total = await h.fhir<Bundle>('GET', '/fhir/Condition?_count=1&_total=accurate');
  assert.equal(total.json.total, 4);
  assert.equal(matches(total.json).length, 1);
});

test('_elements keeps the asked-for elements (and marks the resource SUBSETTED)', async () => {
  const reply = await h.fhir<Bundle>('GET', `/fhir/Patient?_id=${people.bronte!.id}&_elements=name,birthDate`);
  const [found] = matches<Patient>(reply.json);
  assert.deepEqual(Object.keys(found!).sort(), ['birthDate', 'id', 'meta', 'name', 'resourceType']);
  assert.equal(found!.birthDate, '1950-03-15');
  assert.ok(found!.meta?.tag?.some((t) => t.code === 'SUBSETTED'));
});

/** Follows next links from the first page, inserting `between` after each page. */
async function walk(first: string, between: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let url: string | undefined = first;
  for (let page = 0; url && page < 50; page++) {
    const reply: { status: number; text: string; json: Bundle } = await h.fhir<Bundle>('GET', url);
    assert.equal(reply.status, 200, reply.text);
    seen.push(...matches(reply.json).map((r) => r.id));
    url = reply.json.link?.find((l) => l.relation === 'next')?.url;
    await between(page);
  }
  return seen;
}

// A change that moves a resource's own sort key (any update, when sorting by _lastUpdated) moves it
// across pages by design; changes to other elements must not disturb paging.
const pagings: Array<[label: string, sort: string, changes: boolean]> = [
  ['by id (default)', '', true],
  ['by name', '&_sort=name', true],
  ['newest first', '&_sort=-_lastUpdated', false],
  ['by birthdate', '&_sort=birthdate', true],
  ['by gender, then latest birthdate', '&_sort=gender,-birthdate', true],
];
for (const [label, sort, changes] of pagings) {
  test(`paging ${label} stays stable while patients are added${changes ? ' and changed' : ''}: nothing skipped or repeated`, async () => {
    const family = `Pager${label.replace(/\W/g, '')}`;
    const original: Array<Patient & { id: string }> = [];
    for (let i = 0; i < 9; i++) {
      const extra: Partial<Patient> = { name: [{ family, given: [`P${i}`] }], birthDate: `19${50 + i}-01-01`, gender: i % 2 ? 'male' : 'female' };
      original.push(await create(h.fhir, patient(nhsNumber(serial++), 'Z90101', extra)));
    }
    const seen = await walk(`/fhir/Patient?family=${family}&_count=3${sort}`, async (page) => {
      if (page > 1) return;
      // New patients that sort first, last and in the middle, whatever the order; one already-seen patient changes.
      for (const [given, birthDate, gender] of [
        ['A', '1900-01-01', 'female'],
        ['Z', '2020-01-01', 'male'],
        ['P4a', '1955-06-01', 'other'],
      ] as const) {
        await create(h.fhir, patient(nhsNumber(serial++), 'Z90101', { name: [{ family, given: [given] }], birthDate, gender }));
      }
      const changed = original[page * 3]!;
      if (changes) await h.fhir('PUT', `/fhir/Patient/${changed.id}`, { body: { ...changed, meta: undefined, telecom: [{ system: 'phone', value: '01603 000000' }] } });
    });
    assert.equal(new Set(seen).size, seen.length, `repeated: ${seen.length - new Set(seen).size}`);
    const missed = original.filter((p) => !seen.includes(p.id));
    assert.deepEqual(
      missed.map((p) => p.name![0]!.given![0]),
      [],
      'skipped',
    );
  });
}

test('a tampered _cursor is a 400, not a server error', async () => {
  for (const cursor of [
    'not-base64!',
    Buffer.from('["x"]').toString('base64url'),
    Buffer.from('["not a date","id"]').toString('base64url'),
    Buffer.from('["1 Jan 2024 GMT+0100","id"]').toString('base64url'),
    Buffer.from('["2024-13-45T00:00:00.000000Z","id"]').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
  ]) {
    const reply = await h.fhir<OperationOutcome>('GET', `/fhir/Patient?_sort=birthdate&_cursor=${cursor}`);
    assert.equal(reply.status, 400, `${cursor}: ${reply.text}`);
    assert.equal(reply.json.resourceType, 'OperationOutcome');
  }
});

test('an unknown parameter is 400 (strict), or ignored and reported with Prefer: handling=lenient', async () => {
  const strict = await h.fhir<OperationOutcome>('GET', '/fhir/Patient?family=Smith&favourite-colour=blue');
  assert.equal(strict.status, 400, strict.text);
  assert.match(issues(strict.json)[0]!.text, /favourite-colour/);
  const strictSort = await h.fhir<OperationOutcome>('GET', '/fhir/Patient?_sort=favourite-colour');
  assert.equal(strictSort.status, 400, strictSort.text);

  const lenient = await h.fhir<Bundle>('GET', '/fhir/Patient?family=Smith&favourite-colour=blue', { headers: { prefer: 'handling=lenient' } });
  assert.equal(lenient.status, 200, lenient.text);
  assert.deepEqual(ids(lenient.json), idsOf('smith', 'smithson'));
  const reported = (lenient.json.entry ?? []).filter((e) => e.search?.mode === 'outcome').map((e) => e.resource as OperationOutcome);
  assert.equal(reported.length, 1);
  assert.match(issues(reported[0]!)[0]!.text, /favourite-colour/);
  assert.ok(!lenient.json.link?.some((l) => l.url.includes('favourite-colour')), 'links do not carry the ignored parameter');
});

test('a comma means OR within one parameter; repeated parameters mean AND', async () => {
  assert.deepEqual(await search('Patient?family=smithson,brown'), idsOf('smithson', 'brown'));
  assert.deepEqual(await search('Patient?family=smith&given=jo'), idsOf('smith', 'smithson'));
  assert.deepEqual(await search('Patient?family=smith&given=john'), idsOf('smith'));
  assert.deepEqual(await search('Condition?code=44054006,X1'), idsOf('diabetes', 'local'));
});

test('a comma means OR for dates too, each value with its own prefix', async () => {
  assert.deepEqual(await search(`Patient?birthdate=1950-03-15,1990-01-01&${PEOPLE}`), idsOf('bronte', 'smithson'));
  const mine = `_id=${Object.values(people)
    .map((p) => p.id)
    .join(',')}`;
  assert.deepEqual(await search(`Patient?birthdate=lt1951,gt2000&${mine}`), idsOf('bronte', 'blacksmith'));
});

test('search by POST _search with a form body', async () => {
  const reply = await h.app.inject({
    method: 'POST',
    url: '/fhir/Patient/_search',
    headers: { authorization: h.admin, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'family=smith&given=john',
  });
  assert.equal(reply.statusCode, 200, reply.body);
  assert.deepEqual(ids(reply.json<Bundle>()), idsOf('smith'));
});

test('an onset told in words (onsetString) is stored and searchable by patient, and no date search matches it', async () => {
  const told = { ...condition(people.zephyr!.id, SNOMED, '195967001', 'active'), onsetString: 'in childhood' } as Condition;
  const created = await h.fhir<Condition>('POST', '/fhir/Condition', { body: told });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(await search(`Condition?patient=${people.zephyr!.id}`), [created.json.id]);
  assert.deepEqual(await search(`Condition?patient=${people.zephyr!.id}&onset-date=le2100`), []);
});
