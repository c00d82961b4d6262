/**
 * Every (parameter type, modifier or prefix) the server answers, each with a resource that must match
 * and one that must not; every pair it refuses answers 400 not-supported naming the parameter; the bounds
 * that keep one search from stalling the server; values PostgreSQL text cannot hold; and the same search
 * shape giving the same SQL text.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Organization, Patient, RiskAssessment, ValueSet } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, ids, issues, NHS_NUMBER_SYSTEM, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { parseSearch, SqlParams } from '../../fhir-store/index.ts';
import { filtersToSql } from '../../fhir-store/search-sql.ts';

let h: FhirHarness;
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** Fixtures by name; each pair's query is checked against all of them. */
const r: Record<string, { id: string; resourceType: string }> = {};

const observation = (subject: string, extra: Partial<Observation>): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'unnamed' },
  subject: { reference: `Patient/${subject}` },
  ...extra,
});

before(async () => {
  h = await fhirHarness();
  r.icb = await create<Organization>(h.fhir, { resourceType: 'Organization', name: 'Norfolk and Waveney ICB' });
  r.pcn = await create<Organization>(h.fhir, { resourceType: 'Organization', name: 'Central Norwich PCN', partOf: { reference: `Organization/${r.icb.id}` } });
  r.other = await create<Organization>(h.fhir, { resourceType: 'Organization', name: 'Elsewhere PCN' });
  r.ann = await create<Patient>(
    h.fhir,
    patient(nhsNumber(700), 'Z90101', { name: [{ family: 'Åkerman', given: ['Ann'] }], birthDate: '1950-03-15', managingOrganization: { reference: `Organization/${r.pcn.id}` } }),
  );
  r.bob = await create<Patient>(
    h.fhir,
    patient(nhsNumber(701), 'Z90101', { name: [{ family: 'Akers', given: ['Bob'] }], birthDate: '1990-01-01', managingOrganization: { reference: `Organization/${r.other.id}` } }),
  );
  r.cy = await create<Patient>(h.fhir, patient(nhsNumber(702), 'Z90101', { name: [{ family: 'Blake', given: ['Cy'] }] }));
  const ann = r.ann.id;
  r.pulse = await create(
    h.fhir,
    observation(ann, {
      code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }], text: 'Pulse' },
      category: [{ coding: [{ system: CATEGORY, code: 'vital-signs' }] }],
      subject: { reference: `Patient/${ann}`, identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber(700) } },
      effectiveDateTime: '2020-05-01T10:00:00Z',
      valueQuantity: { value: 72, unit: '/min', system: UCUM, code: '/min' },
    }),
  );
  r.grams = await create(
    h.fhir,
    observation(r.bob.id, {
      code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
      effectivePeriod: { start: '2020-01-01', end: '2020-01-31' },
      valueQuantity: { value: 0.0054, unit: 'g', system: UCUM, code: 'g' },
    }),
  );
  r.kilos = await create(h.fhir, observation(ann, { status: 'amended', effectiveDateTime: '2021-06-15', valueQuantity: { value: 5, unit: 'kg', system: UCUM, code: 'kg' } }));
  r.local = await create(h.fhir, observation(ann, { valueQuantity: { value: 5, unit: 'mg', system: 'https://example.org/units', code: 'MILLIGRAM' } }));
  r.glucose = await create(h.fhir, observation(ann, { valueQuantity: { value: 0.99, unit: 'g/L', system: UCUM, code: 'g/L' } }));
  r.quarter = await create<RiskAssessment>(h.fhir, { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${ann}` }, prediction: [{ probabilityDecimal: 0.25 }] });
  r.half = await create<RiskAssessment>(h.fhir, { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${ann}` }, prediction: [{ probabilityDecimal: 0.5 }] });
  r.tagged = await create(h.fhir, observation(ann, { meta: { tag: [{ system: 'https://pcn-hub.example/tag', code: 'audit-sample' }] } }));
  r.labelled = await create(h.fhir, observation(ann, { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } }));
  r.acme = await create<ValueSet>(h.fhir, { resourceType: 'ValueSet', status: 'active', url: 'http://acme.org/fhir/ValueSet/123' });
  r.acmeOther = await create<ValueSet>(h.fhir, { resourceType: 'ValueSet', status: 'active', url: 'http://acme.org/fhirx/ValueSet/9' });
  r.noUrl = await create<ValueSet>(h.fhir, { resourceType: 'ValueSet', status: 'draft' });
});
after(async () => {
  await h.close();
});

/** [type, modifier or prefix, query, fixtures that must match, fixtures that must not]. */
const PAIRS: Array<[string, string, string, string[], string[]]> = [
  ['string', '(none)', 'Patient?family=aker', ['ann', 'bob'], ['cy']],
  ['string', ':exact', `Patient?family:exact=${encodeURIComponent('Åkerman')}`, ['ann'], ['bob']],
  ['string', ':contains', 'Patient?family:contains=KER', ['ann', 'bob'], ['cy']],
  ['string', ':missing', 'Patient?family:missing=false&given=ann', ['ann'], ['bob']],
  ['token', '(none)', `Observation?code=${encodeURIComponent(`${LOINC}|8867-4`)}`, ['pulse'], ['grams']],
  ['token', ':not', 'Observation?category:not=vital-signs', ['grams', 'kilos'], ['pulse']],
  ['token', ':text', 'Observation?code:text=heart', ['pulse'], ['grams']],
  ['token', ':text (CodeableConcept.text, any case)', 'Observation?code:text=PULS', ['pulse'], ['grams', 'kilos']],
  ['token', ':missing', 'Observation?category:missing=true', ['grams'], ['pulse']],
  ['uri', '(none)', `ValueSet?url=${encodeURIComponent('http://acme.org/fhir/ValueSet/123')}`, ['acme'], ['acmeOther']],
  ['uri', ':below', `ValueSet?url:below=${encodeURIComponent('http://acme.org/fhir')}`, ['acme'], ['acmeOther']],
  ['uri', ':above', `ValueSet?url:above=${encodeURIComponent('http://acme.org/fhir/ValueSet/123/_history/5')}`, ['acme'], ['acmeOther']],
  ['uri', ':missing', 'ValueSet?url:missing=true', ['noUrl'], ['acme']],
  ['reference', '(none)', 'Observation?subject=Patient/{ann}', ['pulse', 'kilos'], ['grams']],
  ['reference', ':[type]', 'Observation?subject:Patient={ann}', ['pulse', 'kilos'], ['grams']],
  ['reference', ':[type] (another type)', 'Observation?subject:Group={ann}&code=8867-4', [], ['pulse']],
  ['reference', ':identifier', `Observation?subject:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber(700)}`)}`, ['pulse'], ['kilos']],
  ['reference', ':missing', 'Organization?partof:missing=false', ['pcn'], ['icb']],
  ['reference', 'chain (1 link)', 'Observation?subject:Patient.family=akers', ['grams'], ['pulse']],
  ['reference', 'chain (3 links)', `Observation?subject:Patient.organization.partof.name=${encodeURIComponent('Norfolk')}`, ['pulse', 'kilos'], ['grams']],
  ['date', '(none)', 'Observation?date=2020-05-01', ['pulse'], ['grams']],
  ['date', 'eq', 'Observation?date=eq2020-01', ['grams'], ['pulse']],
  ['date', 'ne', 'Observation?date=ne2020-01', ['pulse', 'kilos'], ['grams']],
  ['date', 'gt', 'Observation?date=gt2020-03', ['pulse', 'kilos'], ['grams']],
  ['date', 'lt', 'Observation?date=lt2020-03', ['grams'], ['pulse']],
  ['date', 'ge', 'Observation?date=ge2021-06-15', ['kilos'], ['pulse']],
  ['date', 'le', 'Observation?date=le2020-01-01', ['grams'], ['pulse']],
  ['date', 'sa', 'Observation?date=sa2020-01-15', ['pulse', 'kilos'], ['grams']],
  ['date', 'eb', 'Observation?date=eb2020-05-01', ['grams'], ['pulse', 'kilos']],
  ['date', 'ap', 'Observation?date=ap2021-06-01', ['kilos'], ['pulse', 'grams']],
  ['date', 'comma (OR)', 'Patient?birthdate=1950-03-15,1990-01-01', ['ann', 'bob'], ['cy']],
  ['date', ':missing', 'Patient?birthdate:missing=true', ['cy'], ['ann']],
  ['number', '(none)', 'RiskAssessment?probability=0.25', ['quarter'], ['half']],
  ['number', 'eq (the range its precision implies)', 'RiskAssessment?probability=eq0.3', ['quarter'], ['half']],
  ['number', 'eq (upper bound excluded)', 'RiskAssessment?probability=eq0.2', [], ['quarter', 'half']],
  ['number', 'ne', 'RiskAssessment?probability=ne0.25', ['half'], ['quarter']],
  ['number', 'gt', 'RiskAssessment?probability=gt0.25', ['half'], ['quarter']],
  ['number', 'lt', 'RiskAssessment?probability=lt0.5', ['quarter'], ['half']],
  ['number', 'ge', 'RiskAssessment?probability=ge0.5', ['half'], ['quarter']],
  ['number', 'le', 'RiskAssessment?probability=le0.25', ['quarter'], ['half']],
  ['number', 'ap', 'RiskAssessment?probability=ap0.27', ['quarter'], ['half']],
  ['number', ':missing', 'RiskAssessment?probability:missing=false', ['quarter', 'half'], []],
  ['quantity', '(none): any unit', 'Observation?value-quantity=5', ['kilos', 'local'], ['pulse', 'grams']],
  ['quantity', 'eq', 'Observation?value-quantity=eq72', ['pulse'], ['kilos']],
  ['quantity', 'ne', 'Observation?value-quantity=ne5&subject=Patient/{ann}', ['glucose', 'pulse'], ['kilos', 'local']],
  ['quantity', 'gt', 'Observation?value-quantity=gt5', ['pulse'], ['kilos', 'grams']],
  ['quantity', 'lt', 'Observation?value-quantity=lt5', ['grams', 'glucose'], ['kilos']],
  ['quantity', 'ge', 'Observation?value-quantity=ge5', ['pulse', 'kilos', 'local'], ['grams']],
  ['quantity', 'le', 'Observation?value-quantity=le5', ['kilos', 'grams'], ['pulse']],
  ['quantity', 'ap', 'Observation?value-quantity=ap75', ['pulse'], ['kilos']],
  ['quantity', 'UCUM, converted', `Observation?value-quantity=${encodeURIComponent(`5.4|${UCUM}|mg`)}`, ['grams'], ['kilos', 'local']],
  ['quantity', 'UCUM, another dimension', `Observation?value-quantity=${encodeURIComponent(`5|${UCUM}|mL`)}`, [], ['kilos', 'grams', 'local']],
  ['quantity', 'UCUM, same mass in kg', `Observation?value-quantity=${encodeURIComponent(`5000|${UCUM}|g`)}`, ['kilos'], ['local', 'grams']],
  ['quantity', 'UCUM quotient', `Observation?value-quantity=${encodeURIComponent(`99|${UCUM}|mg/dL`)}`, ['glucose'], ['grams']],
  ['quantity', 'UCUM with a prefix', `Observation?value-quantity=${encodeURIComponent(`gt4|${UCUM}|g`)}`, ['kilos'], ['grams', 'local']],
  ['quantity', '||code: code or unit', 'Observation?value-quantity=5||mg', ['local'], ['kilos']],
  ['quantity', 'system|code', `Observation?value-quantity=${encodeURIComponent('5|https://example.org/units|MILLIGRAM')}`, ['local'], ['kilos']],
  ['quantity', ':missing', 'Observation?value-quantity:missing=true&subject=Patient/{ann}', [], ['pulse', 'kilos']],
  ['token', '_tag (meta.tag)', `Observation?_tag=${encodeURIComponent('https://pcn-hub.example/tag|audit-sample')}`, ['tagged'], ['labelled', 'pulse']],
  ['token', '_security (meta.security)', `Observation?_security=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R')}`, ['labelled'], ['tagged', 'pulse']],
  ['token', '_security:not', 'Observation?_security:not=R&subject=Patient/{ann}', ['tagged', 'pulse'], ['labelled']],
];

for (const [type, pair, query, must, mustNot] of PAIRS) {
  test(`${type} ${pair}: ${query} (${testEngine})`, async () => {
    const url = `/fhir/${query.replaceAll('{ann}', r.ann!.id)}&_count=1000`;
    const reply = await h.fhir<Bundle>('GET', url);
    assert.equal(reply.status, 200, `${url}: ${reply.text}`);
    const found = new Set(ids(reply.json));
    for (const name of must) assert.ok(found.has(r[name]!.id), `${name} must match ${query}`);
    for (const name of mustNot) assert.ok(!found.has(r[name]!.id), `${name} must not match ${query}`);
    assert.ok(must.length + mustNot.length >= 1);
  });
}

/** [query, the parameter the refusal must name]. */
const REFUSED: Array<[string, string]> = [
  ['Observation?code:in=http://example.org/vs', 'code:in'],
  ['Observation?code:not-in=http://example.org/vs', 'code:not-in'],
  ['Observation?code:below=8867-4', 'code:below'],
  ['Observation?code:above=8867-4', 'code:above'],
  ['Patient?identifier:of-type=a|b|c', 'identifier:of-type'],
  ['Patient?family:text=aker', 'family:text'],
  ['Patient?family:not=aker', 'family:not'],
  ['Patient?family:foo=aker', 'family:foo'],
  ['Patient?birthdate:gt=2000', 'birthdate:gt'],
  ['Patient?birthdate:not=2000', 'birthdate:not'],
  ['Patient?birthdate:exact=2000', 'birthdate:exact'],
  ['Observation?value-quantity=sa5', 'value-quantity'],
  ['Observation?value-quantity=eb5', 'value-quantity'],
  ['RiskAssessment?probability=sa0.5', 'probability'],
  ['RiskAssessment?probability=eb0.5', 'probability'],
  ['Observation?subject:below=Patient/1', 'subject:below'],
  ['Observation?subject:text=ann', 'subject:text'],
  ['ValueSet?url:contains=acme', 'url:contains'],
  ['Patient?name:Patient=x', 'name:Patient'],
  ['Patient?_profile=http://example.org', '_profile'],
  ['Patient?_text=ann', '_text'],
  ['Patient?_has:Observation:patient:code=8867-4', '_has:Observation:patient:code'],
  ['Observation?code-value-quantity=8867-4$72', 'code-value-quantity'],
  ['Location?near=52.6|1.3|10|km', 'near'],
  ['Patient?_include:iterate=Patient:organization', '_include:iterate'],
  ['Patient?_sort:x=family', '_sort:x'],
  ['?_type=Patient', '_type'],
];

for (const [query, parameter] of REFUSED) {
  test(`refused with 400 not-supported naming ${parameter}: ${query}`, async () => {
    const reply = await h.fhir<OperationOutcome>('GET', `/fhir/${query}`);
    assert.equal(reply.status, 400, reply.text);
    const [issue] = issues(reply.json);
    assert.equal(issue!.code, 'not-supported', reply.text);
    assert.ok(issue!.expression.includes(parameter) || issue!.text.includes(parameter), `names ${parameter}: ${reply.text}`);
  });
}

test('a refused modifier is refused in a chain, a batch entry and a POST _search too', async () => {
  const chained = await h.fhir<OperationOutcome>('GET', '/fhir/Observation?subject:Patient.family:text=aker');
  assert.equal(chained.status, 400, chained.text);
  assert.equal(issues(chained.json)[0]!.code, 'not-supported');
  const posted = await h.app.inject({
    method: 'POST',
    url: '/fhir/Observation/_search',
    headers: { authorization: h.admin, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'code:in=http://example.org/vs',
  });
  assert.equal(posted.statusCode, 400, posted.body);
  const batch = await h.fhir<Bundle>('POST', '/fhir', {
    body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Observation?code:below=8867-4' } }, { request: { method: 'GET', url: `Observation?code:text=heart` } }] },
  });
  assert.equal(batch.status, 200, batch.text);
  assert.match(batch.json.entry![0]!.response!.status, /^400/);
  assert.match(batch.json.entry![1]!.response!.status, /^200/);
  assert.deepEqual(ids(batch.json.entry![1]!.resource as Bundle), [r.pulse!.id]);
});

test('the CapabilityStatement documents the modifiers and prefixes answered, and lists nothing refused', async () => {
  const reply = await h.fhir<CapabilityStatement>('GET', '/fhir/metadata');
  const observationType = reply.json.rest![0]!.resource!.find((t) => t.type === 'Observation')!;
  const byName = new Map(observationType.searchParam!.map((p) => [p.name, p]));
  assert.match(byName.get('code')!.documentation!, /:text/);
  assert.doesNotMatch(byName.get('code')!.documentation!, /:in\b|:below/);
  assert.match(byName.get('date')!.documentation!, /\bsa\b.*\beb\b/);
  assert.doesNotMatch(byName.get('value-quantity')!.documentation!, /\bsa\b|\beb\b/);
  assert.ok(!byName.has('code-value-quantity'), 'composite parameters are not searched');
  assert.ok(byName.has('_security') && byName.has('_tag'), 'meta.security and meta.tag are searched');
  assert.ok(!byName.has('_profile'));
  assert.ok(!reply.json.rest![0]!.interaction!.some((i) => i.code === 'search-system'));
});

/** [what goes past which bound, query, the parameter the refusal must name]. */
const BOUNDS: Array<[string, () => string, string]> = [
  ['a chain of 4 links', () => 'Observation?subject:Patient.organization.partof.partof.name=x', 'subject:Patient.organization.partof.partof.name'],
  ['a parameter repeated 21 times', () => `Patient?${Array.from({ length: 21 }, () => 'family=a').join('&')}`, 'family'],
  ['101 values in one parameter', () => `Patient?family=${Array.from({ length: 101 }, (_v, i) => `a${i}`).join(',')}`, 'family'],
  ['51 parameters', () => `Patient?${Array.from({ length: 51 }, (_v, i) => `${['family', 'given', 'address', 'gender', 'telecom'][i % 5]}=x${i}`).join('&')}`, ''],
  ['11 _include and _revinclude', () => `Patient?${Array.from({ length: 11 }, () => '_revinclude=Observation:subject').join('&')}`, '_include'],
  ['6 _sort keys', () => 'Patient?_sort=family,given,birthdate,gender,_id,_lastUpdated', '_sort'],
];

for (const [label, query, parameter] of BOUNDS) {
  test(`${label} is a 400 naming the bound`, async () => {
    const reply = await h.fhir<OperationOutcome>('GET', `/fhir/${query()}`);
    assert.equal(reply.status, 400, reply.text);
    const [issue] = issues(reply.json);
    assert.equal(issue!.code, 'too-costly', reply.text);
    assert.match(issue!.text, /at most \d+/);
    if (parameter) assert.ok(issue!.expression.includes(parameter), `names ${parameter}: ${reply.text}`);
  });
}

test(`a 40-level chain is a 400 in under a second while /healthz stays responsive, over a real server (${testEngine})`, async () => {
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const chain = `/fhir/Observation?${Array.from({ length: 40 }, () => 'subject').join('.')}.name=x`;
  const started = Date.now();
  const [deep, health] = await Promise.all([
    fetch(base + chain, { headers: { authorization: h.admin } }).then(async (res) => ({ status: res.status, body: (await res.json()) as OperationOutcome, ms: Date.now() - started })),
    fetch(`${base}/healthz`).then((res) => ({ status: res.status, ms: Date.now() - started })),
  ]);
  assert.equal(deep.status, 400);
  assert.equal(issues(deep.body)[0]!.code, 'too-costly');
  assert.ok(deep.ms < 1000, `answered in ${deep.ms} ms`);
  assert.equal(health.status, 200);
  assert.ok(health.ms < 1000, `/healthz answered in ${health.ms} ms`);
});

test('a chain through a link to many types stays within its budget', async () => {
  // DocumentReference.related refers to any resource type: unnamed, a 3-link chain would fan out to thousands of subqueries.
  const reply = await h.fhir<OperationOutcome>('GET', '/fhir/DocumentReference?related.subject.subject.name=x');
  assert.equal(reply.status, 400, reply.text);
  assert.equal(issues(reply.json)[0]!.code, 'too-costly');
});

/** One value of each kind, with a NUL or another control character in it. */
const UNSTORABLE: Array<[string, string]> = [
  ['Patient?identifier=999%000', 'identifier'],
  ['Patient?family=ak%00er', 'family'],
  ['Observation?subject=Patient/a%00b', 'subject'],
  ['Patient?birthdate=1950%00', 'birthdate'],
  ['Patient?family=ak%01er', 'family'],
  ['Patient?fam%00ily=aker', 'fam\u0000ily'],
];

for (const [query, parameter] of UNSTORABLE) {
  test(`a control character in ${query} is a 400 naming the parameter (${testEngine})`, async () => {
    const reply = await h.fhir<OperationOutcome>('GET', `/fhir/${query}`);
    assert.equal(reply.status, 400, reply.text);
    assert.deepEqual(issues(reply.json)[0]!.expression, [parameter]);
  });
}

test('a control character in a conditional reference is refused naming the element, not a server error', async () => {
  const reply = await h.fhir<OperationOutcome>('POST', '/fhir/Observation', {
    body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=a\u0000b' } },
  });
  // The body's text is checked before the reference is searched: a NUL in any element is a 422 naming it.
  assert.equal(reply.status, 422, reply.text);
  assert.deepEqual(issues(reply.json)[0]!.expression, ['Observation.subject.reference']);
});

test('the same search shape gives the same SQL text, whatever was built before', () => {
  const build = (query: string) => {
    const params = new SqlParams();
    return filtersToSql(parseSearch('Observation', new URLSearchParams(query)), params, { lenient: false, ignored: [] }).join(' AND ');
  };
  const first = build('code=8867-4&subject:Patient.name=ann&date=ge2020&value-quantity=5|http://unitsofmeasure.org|mg');
  build('category:missing=true&code:text=heart&patient.organization.name=x');
  const again = build('code=1234-5&subject:Patient.name=bob&date=ge2021&value-quantity=7|http://unitsofmeasure.org|mg');
  assert.equal(again, first);
  assert.notEqual(build('code=8867-4'), first);
});
