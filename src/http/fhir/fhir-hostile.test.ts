/**
 * Hostile and broken input at /fhir: every answer is a 4xx OperationOutcome (or a normal result),
 * never a 500 or a crash; prototypes stay clean; SQL in search values is only ever data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { testEngine } from '../../../test/db.ts';
import { create, fhirHarness, ids, issues, matches, nhsNumber, patient, type FhirHarness } from '../../../test/fhir.ts';
import { importFhir } from '../../fhir-store/index.ts';
import { systemContext } from '../../modules/record/index.ts';
import { FHIR_BODY_LIMIT } from './fhir-routes.ts';

let h: FhirHarness;
let obrien: Patient & { id: string };

before(async () => {
  h = await fhirHarness();
  obrien = await create(
    h.fhir,
    patient(nhsNumber(1), 'Z90101', { name: [{ family: "O'Brien", given: ['Siobhán'] }], birthDate: '1970-01-01', gender: 'female', address: [{ postalCode: 'NR1 3SR' }] }),
  );
  await create(h.fhir, { resourceType: 'Condition', subject: { reference: `Patient/${obrien.id}` }, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] } });
});
after(async () => {
  await h.close();
});

/** A 4xx answered as an OperationOutcome. */
function assertRefused(reply: { status: number; text: string; json: unknown }, what: string, status?: number) {
  assert.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status} ${reply.text.slice(0, 300)}`);
  if (status) assert.equal(reply.status, status, `${what}: ${reply.text.slice(0, 300)}`);
  assert.equal((reply.json as OperationOutcome).resourceType, 'OperationOutcome', what);
}

async function stillServing() {
  const read = await h.fhir<Patient>('GET', `/fhir/Patient/${obrien.id}`);
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.name?.[0]?.family, "O'Brien");
}

test(`malformed JSON is a 400 OperationOutcome (${testEngine})`, async () => {
  for (const [method, url] of [
    ['POST', '/fhir/Patient'],
    ['PUT', `/fhir/Patient/${obrien.id}`],
    ['POST', '/fhir'],
    ['PATCH', `/fhir/Patient/${obrien.id}`],
  ] as const) {
    for (const raw of ['{"resourceType":"Patient",', '{resourceType: Patient}', '\u0000\u0001', '{"a":1}}', 'undefined']) {
      const reply = await h.fhir(method, url, { raw, contentType: method === 'PATCH' ? 'application/json-patch+json' : 'application/fhir+json' });
      assertRefused(reply, `${method} ${url} ${JSON.stringify(raw)}`, 400);
    }
  }
  await stillServing();
});

test('a body that is not a resource (null, an array, a string, nothing) is a 400', async () => {
  for (const raw of ['null', '[]', '[{"resourceType":"Patient"}]', '"Patient"', '42', '']) {
    assertRefused(await h.fhir('POST', '/fhir/Patient', { raw, contentType: 'application/fhir+json' }), `POST ${JSON.stringify(raw)}`, 400);
    assertRefused(await h.fhir('PUT', `/fhir/Patient/${obrien.id}`, { raw, contentType: 'application/fhir+json' }), `PUT ${JSON.stringify(raw)}`);
  }
  for (const raw of ['null', '{}', '"x"', '']) {
    assertRefused(await h.fhir('PATCH', `/fhir/Patient/${obrien.id}`, { raw, contentType: 'application/json-patch+json' }), `PATCH ${JSON.stringify(raw)}`, 400);
  }
  await stillServing();
});

test('a body of another media type is a 415; application/json is accepted', async () => {
  const xml = await h.fhir('POST', '/fhir/Patient', { raw: '<Patient xmlns="http://hl7.org/fhir"/>', contentType: 'application/fhir+xml' });
  assertRefused(xml, 'xml', 415);
  const json = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(2), 'Z90101'), contentType: 'application/json' });
  assert.equal(json.status, 201, json.text);
});

test(`a 5 MB transaction (under the ${FHIR_BODY_LIMIT / 1024 / 1024} MB limit) is written; a larger body is a 413`, async () => {
  // Six scanned letters of ~0.9 MB each (FHIR caps one string at 1 MB): ~5.4 MB of JSON.
  const scan = Buffer.alloc(690_000, 'scanned letter ').toString('base64');
  const letter = (n: number) => ({
    resource: {
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: 'urn:uuid:5b5b5b5b-0000-4000-8000-000000000001' },
      content: [{ attachment: { contentType: 'application/pdf', title: `Letter ${n}`, data: scan } }],
    },
    request: { method: 'POST', url: 'DocumentReference' },
  });
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:5b5b5b5b-0000-4000-8000-000000000001', resource: patient(nhsNumber(3), 'Z90101', { name: [{ family: 'Bigletter' }] }), request: { method: 'POST', url: 'Patient' } },
      ...[1, 2, 3, 4, 5, 6].map(letter),
    ],
  };
  const body = JSON.stringify(bundle);
  assert.ok(body.length > 5 * 1024 * 1024, String(body.length));
  const reply = await h.fhir<Bundle>('POST', '/fhir', { raw: body });
  assert.equal(reply.status, 200, `the limit is 16 MB, so 5 MB must be accepted: ${reply.text.slice(0, 300)}`);
  assert.deepEqual(
    reply.json.entry?.map((e) => e.response?.status),
    ['201', '201', '201', '201', '201', '201', '201'],
  );
  const letters = await h.fhir<Bundle>('GET', '/fhir/DocumentReference?_summary=count');
  assert.equal(letters.json.total, 6);

  const oneHugeString = JSON.stringify({
    ...bundle,
    entry: [
      { ...bundle.entry[0], resource: patient(nhsNumber(4), 'Z90101') },
      { ...letter(7), resource: { ...letter(7).resource, content: [{ attachment: { data: scan.repeat(2) } }] } },
    ],
  });
  const refused = await h.fhir<OperationOutcome>('POST', '/fhir', { raw: oneHugeString });
  assertRefused(refused, 'a string over 1 MB', 422);
  assert.ok(
    issues(refused.json).some((i) => i.expression.some((e) => e.startsWith('Bundle.entry[1].resource.content[0].attachment.data'))),
    refused.text,
  );

  const tooBig = await h.fhir('POST', '/fhir', { raw: Buffer.alloc(FHIR_BODY_LIMIT + 1024, ' '), contentType: 'application/fhir+json' });
  assertRefused(tooBig, 'over the limit', 413);
  await stillServing();
});

test('JSON nested 10,000 levels deep is refused with a 400, and the server keeps serving', async () => {
  const depth = 10_000;
  const nestedExtension = `{"resourceType":"Patient","extension":${'[{"url":"http://x.example/e","extension":'.repeat(depth)}[]${'}]'.repeat(depth)}}`;
  const nestedObject = `{"resourceType":"Patient","a":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
  const nestedArray = `{"resourceType":"Patient","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const shallower = (levels: number) => `{"resourceType":"Basic","code":{"text":"x"},"extension":${'[{"url":"http://x.example/e","extension":'.repeat(levels)}[]${'}]'.repeat(levels)}}`;
  for (const [label, raw] of [
    ['extension', nestedExtension],
    ['object', nestedObject],
    ['array', nestedArray],
    ['1,000 deep', shallower(500)],
  ] as const) {
    const reply = await h.fhir<OperationOutcome>('POST', '/fhir/Patient', { raw });
    assertRefused(reply, label, 400);
    assert.match(issues(reply.json)[0]!.text, /deep/, label);
    const inBundle = await h.fhir('POST', '/fhir', { raw: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${raw},"request":{"method":"POST","url":"Patient"}}]}` });
    assertRefused(inBundle, `${label} in a bundle`, 400);
  }
  const brackets = await h.fhir('POST', '/fhir/Patient', { body: patient(nhsNumber(8), 'Z90101', { name: [{ family: `Brackets${'[{'.repeat(200)}` }] }) });
  assert.equal(brackets.status, 201, `brackets inside strings are not nesting: ${brackets.text.slice(0, 200)}`);
  const query = await h.fhir('GET', `/fhir/Patient?name=${'('.repeat(depth)}`);
  assert.equal(query.status, 200);
  await stillServing();
});

test('__proto__ and constructor keys pollute no prototype and are not stored', async () => {
  const bodies = [
    '{"resourceType":"Patient","__proto__":{"polluted":true}}',
    // The key spelt with an escape: JSON reads it as __proto__ all the same.
    '{"resourceType":"Patient","\\u005f_proto__":{"polluted":true}}',
    '{"resourceType":"Patient","constructor":{"prototype":{"polluted":true}}}',
    '{"resourceType":"Patient","name":[{"family":"Proto","__proto__":{"polluted":true}}]}',
    '{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient","__proto__":{"polluted":true}},"request":{"method":"POST","url":"Patient"}}]}',
  ];
  for (const raw of bodies) {
    const reply = await h.fhir<Patient>('POST', raw.includes('Bundle') ? '/fhir' : '/fhir/Patient', { raw });
    assert.ok(reply.status < 500, reply.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, raw);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  }
  const patches = [
    [{ op: 'add', path: '/__proto__/polluted', value: true }],
    [{ op: 'add', path: '/constructor/prototype/polluted', value: true }],
    [{ op: 'replace', path: '/name/0/__proto__', value: { polluted: true } }],
  ];
  for (const patch of patches) {
    const reply = await h.fhir('PATCH', `/fhir/Patient/${obrien.id}`, { body: patch, contentType: 'application/json-patch+json' });
    assert.ok(reply.status < 500, reply.text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, JSON.stringify(patch));
  }
  const form = await h.app.inject({
    method: 'POST',
    url: '/fhir/Patient/_search',
    headers: { authorization: h.admin, 'content-type': 'application/x-www-form-urlencoded' },
    payload: '__proto__=x&constructor=y&family=Proto',
  });
  assert.ok(form.statusCode < 500, form.body);
  const query = await h.fhir('GET', '/fhir/Patient?__proto__[polluted]=true&constructor[prototype][polluted]=true');
  assert.ok(query.status < 500, query.text);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const [stored] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource WHERE content::text LIKE '%polluted%'`);
  assert.equal(stored?.n, 0);
});

const SQL = ["' OR 1=1 --", "'); DROP TABLE fhir_resource; --", "\\'; DELETE FROM fhir_token; --", '" OR ""="', "1' UNION SELECT content FROM fhir_resource --", '%', '_'];

test('SQL in a value of every parameter type is only data: empty results for strings, tokens, uris and references', async () => {
  const searches = [
    'Patient?name=',
    'Patient?family=',
    'Patient?family:exact=',
    'Patient?family:contains=',
    'Patient?address-postalcode=',
    'Patient?given:contains=',
    'Patient?identifier=',
    'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|',
    'Patient?gender=',
    'Patient?gender:not=male&family=',
    'Patient?_id=',
    'Condition?code=',
    'Condition?code=http://snomed.info/sct|',
    'Condition?clinical-status=',
    'CodeSystem?url=',
    'Questionnaire?url=',
    'Condition?subject=',
    'Condition?patient=',
    'Condition?subject=Patient/',
    'Patient?general-practitioner:identifier=',
    'Condition?subject:Patient.name=',
    'Condition?patient.identifier=',
    'Condition?patient.family:exact=',
  ];
  for (const search of searches) {
    for (const value of SQL) {
      const url = `/fhir/${search}${encodeURIComponent(value)}`;
      const reply = await h.fhir<Bundle>('GET', url);
      assert.equal(reply.status, 200, `${url}: ${reply.text.slice(0, 300)}`);
      assert.deepEqual(ids(reply.json), search.includes('gender:not') ? [] : [], url);
    }
  }
  // …while an honest apostrophe still finds its patient.
  assert.deepEqual(ids((await h.fhir<Bundle>('GET', `/fhir/Patient?family=${encodeURIComponent("o'bri")}`)).json), [obrien.id]);
  assert.deepEqual(ids((await h.fhir<Bundle>('GET', `/fhir/Patient?family:exact=${encodeURIComponent("O'Brien")}`)).json), [obrien.id]);
});

test('values holding quotes, backslashes, commas, braces, tabs, newlines and the word NULL are stored and indexed as written, one by one and in bulk', async () => {
  const awkward = ['Quote"d', 'Back\\slash', 'Trailing\\', '{brace,comma}', 'NULL', '"', 'tab\there', 'new\nline', 'ünïcödé'];
  const made = new Map<string, string>();
  for (const [i, family] of awkward.entries()) made.set(family, (await create(h.fhir, patient(nhsNumber(300 + i), 'Z90101', { name: [{ family: `${family}-one` }] }))).id);
  const imported = await importFhir(h.db, await systemContext(h.db, 'test'), [
    {
      label: 'awkward.ndjson',
      bundle: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: awkward.map((family, i) => ({ resource: patient(nhsNumber(400 + i), 'Z90101', { name: [{ family: `${family}-bulk` }] }), request: { method: 'POST', url: 'Patient' } })),
      },
    },
  ]);
  assert.equal(imported.resources, awkward.length);
  const exactly = (family: string) => `/fhir/Patient?family:exact=${encodeURIComponent(family.replaceAll(',', '\\,'))}`; // a bare comma means OR
  for (const family of awkward) {
    const one = await h.fhir<Bundle>('GET', exactly(`${family}-one`));
    assert.deepEqual(ids(one.json), [made.get(family)], `${family} one by one`);
    const bulk = await h.fhir<Bundle>('GET', exactly(`${family}-bulk`));
    assert.equal(matches<Patient>(bulk.json)[0]?.name?.[0]?.family, `${family}-bulk`, `${family} in bulk`);
  }
  assert.equal(ids((await h.fhir<Bundle>('GET', '/fhir/Patient?family:exact=NULL')).json).length, 0, 'the word NULL is not a missing value');
});

test('SQL in a date, number or quantity value is a 400 (not a valid value of that type), never a 500', async () => {
  const searches = [
    'Patient?birthdate=',
    'Patient?birthdate=ge',
    'Patient?_lastUpdated=',
    'Condition?onset-date=',
    'RiskAssessment?probability=',
    'Observation?value-quantity=',
    'Condition?patient.birthdate=',
  ];
  for (const search of searches) {
    for (const value of SQL) {
      const url = `/fhir/${search}${encodeURIComponent(value)}`;
      assertRefused(await h.fhir('GET', url), url, 400);
    }
  }
});

test('SQL in parameter names, modifiers, _sort, _include, _elements, _count, _cursor and _since is refused or ignored, never run', async () => {
  const urls = [
    `/fhir/Patient?${encodeURIComponent("name');DROP TABLE fhir_resource;--")}=x`,
    `/fhir/Patient?${encodeURIComponent("name:exact' OR 1=1--")}=x`,
    `/fhir/Patient?${encodeURIComponent('family:missing')}=${encodeURIComponent("true' OR 1=1")}`,
    `/fhir/Patient?_sort=${encodeURIComponent('name;DROP TABLE fhir_resource')}`,
    `/fhir/Patient?_sort=${encodeURIComponent("-birthdate' --")}`,
    `/fhir/Condition?_include=${encodeURIComponent("Condition:subject' OR 1=1 --")}`,
    `/fhir/Patient?_revinclude=${encodeURIComponent("Condition:subject:Patient'; DROP TABLE fhir_token; --")}`,
    `/fhir/Patient?_count=${encodeURIComponent('1; DROP TABLE fhir_resource')}`,
    '/fhir/Patient?_count=abc',
    '/fhir/Patient?_count=-5',
    '/fhir/Patient?_offset=abc',
    '/fhir/Patient?_offset=-1',
    `/fhir/Patient?_cursor=${encodeURIComponent("' OR 1=1 --")}`,
    `/fhir/Patient?_elements=${encodeURIComponent("name') FROM fhir_resource --")}`,
    `/fhir/Patient?_total=${encodeURIComponent("accurate'; --")}`,
    `/fhir/Patient/_history?_since=${encodeURIComponent("2020' OR 1=1 --")}`,
    `/fhir/Patient/_history?_count=${encodeURIComponent('5.5')}`,
    `/fhir/Patient/${obrien.id}/$everything?_since=${encodeURIComponent("x'; DROP TABLE fhir_resource; --")}`,
    `/fhir/Patient/${encodeURIComponent("x' OR '1'='1")}`,
    `/fhir/Patient/${encodeURIComponent("x' OR '1'='1")}/_history/1`,
    `/fhir/${encodeURIComponent("Patient' OR 1=1 --")}`,
    '/fhir/NotAResourceType?name=x',
    `/fhir/Patient/${'x'.repeat(5000)}`,
  ];
  for (const url of urls) {
    const reply = await h.fhir<Bundle | OperationOutcome>('GET', url);
    assert.ok(reply.status < 500, `${url}: ${reply.status} ${reply.text.slice(0, 300)}`);
    if (reply.status >= 400) assert.equal(reply.json.resourceType, 'OperationOutcome', url);
    else if (reply.json.resourceType === 'Bundle')
      assert.ok(
        (reply.json.entry ?? []).every((e) => e.resource?.resourceType !== 'Condition' || url.includes('Condition')),
        url,
      );
  }
  const count = await h.fhir<Bundle>(`GET`, '/fhir/Patient?_count=abc');
  assert.ok(count.status === 400 || (count.status === 200 && (count.json.entry?.length ?? 0) <= 20), count.text);
});

test('after all that, every table is still there and the record intact', async () => {
  for (const table of ['fhir_resource', 'fhir_history', 'fhir_token', 'fhir_string', 'fhir_date', 'fhir_reference', 'fhir_number', 'audit_event', 'app_user']) {
    const [row] = await h.db.query<{ exists: string | null }>('SELECT to_regclass($1)::text AS exists', [table]);
    assert.equal(row?.exists, table);
  }
  await stillServing();
  const conditions = await h.fhir<Bundle>('GET', `/fhir/Condition?patient=${obrien.id}`);
  assert.equal(ids(conditions.json).length, 1);
  const [{ n }] = (await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_token WHERE resource_type = 'Patient'")) as [{ n: number }];
  assert.ok(n > 0);
});

test('no token, a bad token, or a token for someone deleted is a 401 OperationOutcome', async () => {
  for (const auth of ['', 'Bearer', 'Bearer not-a-token', `Bearer ${"' OR 1=1 --"}`, 'Basic YWRtaW46YWRtaW4=']) {
    const reply = await h.fhir('GET', `/fhir/Patient/${obrien.id}`, { auth });
    assertRefused(reply, `auth ${auth}`, 401);
  }
  const write = await h.fhir('POST', '/fhir/Patient', { auth: '', body: patient(nhsNumber(9), 'Z90101') });
  assertRefused(write, 'write without a token', 401);
  const [{ n }] = (await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_token WHERE code = 'identifier' AND value = $1", [nhsNumber(9)])) as [{ n: number }];
  assert.equal(n, 0);
  assert.ok(issues((await h.fhir<OperationOutcome>('GET', '/fhir/Patient', { auth: '' })).json).length > 0);
});
