import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '@medplum/core';
import type { Location, Organization, OrganizationAffiliation, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { ODS_SYSTEM } from '../../shared/ids.ts';
import { demoArea } from '../../demo/demo-area.ts';
import { LOCAL_PARTNER_SYSTEM, fhirId, parseClinicianName, registryAsFhir, registryFhirBundle } from './registry-fhir.ts';
import type { RegistrySnapshot } from './types.ts';

const snapshot = demoArea(1);
const resources = registryAsFhir(snapshot);

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const key = (r: Resource) => `${r.resourceType}/${r.id ?? ''}`;
const byKey = new Map(resources.map((r) => [key(r), r]));

function ofType<K extends Resource['resourceType']>(type: K): Extract<Resource, { resourceType: K }>[] {
  return resources.filter((r): r is Extract<Resource, { resourceType: K }> => r.resourceType === type);
}

function get<T extends Resource>(ref: string): T {
  const r = byKey.get(ref);
  assert.ok(r, `${ref} is published`);
  return r as T;
}

/** Every `reference` string anywhere inside a value. */
function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

test('one Organization per area, PCN, practice and partner; one affiliation per membership and partner link', () => {
  const orgs = ofType('Organization');
  assert.equal(snapshot.areas.length, 1);
  assert.equal(snapshot.pcns.length, 20);
  assert.equal(snapshot.practices.length, 100);
  assert.equal(orgs.length, 1 + 20 + 100 + snapshot.partners.length);

  const affiliations = ofType('OrganizationAffiliation');
  const memberships = affiliations.filter((a) => a.id?.startsWith('membership-'));
  assert.equal(memberships.length, snapshot.memberships.length);
  assert.ok(
    snapshot.memberships.some((m) => m.endDate !== null),
    'the demo has ended memberships',
  );
  assert.equal(memberships.filter((a) => a.period?.end).length, snapshot.memberships.filter((m) => m.endDate !== null).length);
  assert.equal(affiliations.length, snapshot.memberships.length + snapshot.pcnPartners.length);

  const locations = ofType('Location');
  for (const p of snapshot.practices) assert.ok(byKey.has(`Location/site-${p.ods}`), `a Location for ${p.ods}`);
  assert.equal(locations.length, snapshot.practices.length + snapshot.partners.filter((p) => p.latitude !== null && p.longitude !== null).length);

  assert.equal(ofType('Practitioner').length, 20);
  assert.equal(ofType('PractitionerRole').length, 20);
});

test('every resource is valid FHIR R4', () => {
  loadFhirDefinitions();
  for (const r of resources) {
    let issues: ReturnType<typeof validateResource> = [];
    assert.doesNotThrow(
      () => {
        issues = validateResource(r);
      },
      `${key(r)} is valid`,
    );
    assert.deepEqual(
      issues.filter((i) => i.severity === 'error' || i.severity === 'fatal'),
      [],
      `${key(r)} has no errors`,
    );
  }
  assert.doesNotThrow(() => validateResource(registryFhirBundle(snapshot)), 'the transaction bundle is valid');
});

test('ids are FHIR ids, unique and deterministic; every reference resolves', () => {
  for (const r of resources) assert.match(r.id ?? '', FHIR_ID, key(r));
  assert.equal(byKey.size, resources.length, 'no two resources share a type and id');
  assert.deepEqual(registryAsFhir(demoArea(1)), resources);
  assert.deepEqual(registryFhirBundle(demoArea(1)), registryFhirBundle(snapshot));

  const refs = resources.flatMap((r) => referencesIn(r));
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    assert.match(ref, /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, `${ref} is relative`);
    assert.ok(byKey.has(ref), `${ref} points at a published resource`);
  }
  // References never fall back to identifiers when everything is in the snapshot.
  const logical = resources.filter((r) => JSON.stringify(r).includes('"identifier":{'));
  assert.deepEqual(logical.map(key), []);
});

test('the ids follow the published scheme', () => {
  for (const ref of [
    'Organization/ods-Q99',
    'Organization/ods-U90001',
    'Organization/ods-Z90101',
    'Organization/ods-RZ1',
    'Organization/partner-LA-NORFOLK',
    'Location/site-Z90101',
    'Location/site-partner-LA-NORFOLK',
    'Practitioner/cd-U90001',
    'PractitionerRole/cd-U90001',
    'OrganizationAffiliation/membership-Z90101-U90001-2019-07-01',
    'OrganizationAffiliation/pcn-partner-U90001-LA-NORFOLK',
  ]) {
    assert.ok(byKey.has(ref), ref);
  }
});

test('ODS-shaped codes carry ODS identifiers; local partner codes the local system', () => {
  const identifiers = (code: string, prefix: string) => get<Organization>(`Organization/${prefix}-${code}`).identifier ?? [];
  for (const a of snapshot.areas) assert.deepEqual(identifiers(a.code, 'ods'), [{ system: ODS_SYSTEM, value: a.code }]);
  for (const p of snapshot.practices) assert.deepEqual(identifiers(p.ods, 'ods'), [{ system: ODS_SYSTEM, value: p.ods }]);
  for (const p of snapshot.pcns) {
    const [id] = identifiers(p.code, 'ods');
    assert.equal(id?.system, ODS_SYSTEM);
    assert.equal(id?.value, p.code);
  }
  const odsPartners = snapshot.partners.filter((p) => /^(R[A-Z0-9]{2,4}|F[A-Z0-9]{4})$/.test(p.code));
  const localPartners = snapshot.partners.filter((p) => !odsPartners.includes(p));
  assert.ok(odsPartners.length > 0 && localPartners.length > 0);
  for (const p of odsPartners) assert.deepEqual(identifiers(p.code, 'ods'), [{ system: ODS_SYSTEM, value: p.code }]);
  for (const p of localPartners) assert.deepEqual(identifiers(p.code, 'partner'), [{ system: LOCAL_PARTNER_SYSTEM, value: p.code }]);
});

test('organisations: UK Core profile, types, PCNs part of the area, addresses', () => {
  for (const org of ofType('Organization')) {
    assert.deepEqual(org.meta?.profile, ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization']);
    assert.ok(org.type?.[0]?.text, `${key(org)} has a type text`);
  }
  const pcn = get<Organization>('Organization/ods-U90001');
  assert.equal(pcn.partOf?.reference, 'Organization/ods-Q99');
  assert.equal(pcn.active, true);
  assert.equal(pcn.type?.[0]?.coding?.[0]?.code, 'RO272');
  assert.equal(get<Organization>('Organization/ods-Q99').type?.[0]?.coding?.[0]?.code, 'RO318');

  const practice = snapshot.practices[0];
  assert.ok(practice);
  const org = get<Organization>(`Organization/ods-${practice.ods}`);
  assert.equal(org.address?.[0]?.postalCode, practice.postcode);
  assert.equal(org.address?.[0]?.city, practice.town);
  assert.equal(org.type?.[0]?.coding?.[0]?.code, 'RO177');

  const partner = get<Organization>('Organization/partner-LA-NORFOLK');
  assert.deepEqual(partner.type?.[0]?.coding?.[0], { system: 'https://pcn-hub.example/CodeSystem/partner-type', code: 'social-care', display: 'Social care' });
  assert.equal(get<Organization>('Organization/ods-RZ1').type?.[1]?.coding?.[0]?.code, 'RO197');
});

test('a closed PCN is inactive', () => {
  const closed: RegistrySnapshot = { ...snapshot, pcns: snapshot.pcns.map((p, i) => (i === 0 ? { ...p, closeDate: '2024-03-31' } : p)) };
  const out = registryAsFhir(closed);
  const org = out.find((r): r is Organization => key(r) === 'Organization/ods-U90001');
  assert.equal(org?.active, false);
  assert.equal(org?.identifier?.[0]?.period?.end, '2024-03-31');
  const other = out.find((r): r is Organization => key(r) === 'Organization/ods-U90002');
  assert.equal(other?.active, true);
});

test('memberships: RE8 affiliations, an ended one inactive with period.end', () => {
  const ended = snapshot.memberships.find((m) => m.endDate !== null);
  assert.ok(ended);
  const a = get<OrganizationAffiliation>(`OrganizationAffiliation/membership-${ended.practiceOds}-${ended.pcnCode}-${ended.startDate}`);
  assert.equal(a.active, false);
  assert.deepEqual(a.period, { start: ended.startDate, end: ended.endDate });
  assert.equal(a.organization?.reference, `Organization/ods-${ended.pcnCode}`);
  assert.equal(a.participatingOrganization?.reference, `Organization/ods-${ended.practiceOds}`);
  assert.deepEqual(a.code, [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/organisation-relationship', code: 'RE8', display: 'Is Partner To' }], text: 'PCN member practice' }]);

  const current = snapshot.memberships.find((m) => m.endDate === null);
  assert.ok(current);
  const c = get<OrganizationAffiliation>(`OrganizationAffiliation/membership-${current.practiceOds}-${current.pcnCode}-${current.startDate}`);
  assert.equal(c.active, true);
  assert.deepEqual(c.period, { start: current.startDate });

  const lead = snapshot.pcnPartners.find((l) => l.role === 'Community pharmacy lead');
  assert.ok(lead);
  const link = get<OrganizationAffiliation>(`OrganizationAffiliation/${fhirId('pcn-partner', lead.pcnCode, lead.partnerCode)}`);
  assert.equal(link.code?.[0]?.text, 'Community pharmacy lead');
  assert.equal(link.organization?.reference, `Organization/ods-${lead.pcnCode}`);
});

test('locations have positions and a managing organisation', () => {
  for (const p of snapshot.practices) {
    const loc = get<Location>(`Location/site-${p.ods}`);
    assert.deepEqual(loc.position, { latitude: p.latitude, longitude: p.longitude });
    assert.equal(loc.managingOrganization?.reference, `Organization/ods-${p.ods}`);
    assert.equal(loc.address?.postalCode, p.postcode);
  }
});

test('clinical directors: Practitioner and PractitionerRole in the PCN', () => {
  const pcn = snapshot.pcns[0];
  assert.ok(pcn?.clinicalDirector);
  const [, given, family] = pcn.clinicalDirector.split(' ');
  const practitioner = get<Practitioner>(`Practitioner/cd-${pcn.code}`);
  assert.deepEqual(practitioner.name?.[0], { use: 'official', text: pcn.clinicalDirector, prefix: ['Dr'], given: [given], family });
  const role = get<PractitionerRole>(`PractitionerRole/cd-${pcn.code}`);
  assert.equal(role.organization?.reference, `Organization/ods-${pcn.code}`);
  assert.equal(role.practitioner?.reference, `Practitioner/cd-${pcn.code}`);
  assert.equal(role.code?.[0]?.text, 'Clinical director');

  assert.deepEqual(parseClinicianName('Prof. Jane Mary Smith'), { use: 'official', text: 'Prof. Jane Mary Smith', prefix: ['Prof.'], given: ['Jane', 'Mary'], family: 'Smith' });
  assert.deepEqual(parseClinicianName('Okafor'), { use: 'official', text: 'Okafor', family: 'Okafor' });
});

test('the bundle is a transaction of PUTs to resourceType/id', () => {
  const bundle = registryFhirBundle(snapshot);
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'transaction');
  assert.equal(bundle.entry?.length, resources.length);
  for (const entry of bundle.entry ?? []) {
    assert.ok(entry.resource);
    assert.equal(entry.request?.method, 'PUT');
    assert.equal(entry.request?.url, `${entry.resource.resourceType}/${entry.resource.id ?? ''}`);
  }
  assert.equal(new Set(bundle.entry?.map((e) => e.request?.url)).size, resources.length);
});

test('odd codes still give valid, distinct ids; missing organisations become identifier references', () => {
  assert.equal(fhirId('partner', 'LA-NORFOLK'), 'partner-LA-NORFOLK');
  assert.match(fhirId('partner', 'A B'), FHIR_ID);
  assert.notEqual(fhirId('partner', 'A B'), fhirId('partner', 'A_B'));
  assert.match(fhirId('partner', 'X'.repeat(200)), FHIR_ID);

  const orphan: RegistrySnapshot = { ...snapshot, areas: [], memberships: [{ practiceOds: 'Z99999', pcnCode: 'U90001', startDate: '2020-01-01', endDate: null }] };
  const out = registryAsFhir(orphan);
  const pcn = out.find((r): r is Organization => key(r) === 'Organization/ods-U90001');
  assert.deepEqual(pcn?.partOf, { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'Q99' } });
  const m = out.find((r): r is OrganizationAffiliation => key(r) === 'OrganizationAffiliation/membership-Z99999-U90001-2020-01-01');
  assert.deepEqual(m?.participatingOrganization, { type: 'Organization', identifier: { system: ODS_SYSTEM, value: 'Z99999' } });
  loadFhirDefinitions();
  for (const r of out) assert.doesNotThrow(() => validateResource(r), key(r));
});
