import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalisePostcode } from '../shared/ids.ts';
import { DEMO_JITTER_DEGREES, DEMO_TOWNS, demoArea } from './demo-area.ts';
import { PARTNER_TYPES, type RegistrySnapshot } from '../modules/network/index.ts';

const SEEDS = [1, 2, 7, 42, 2024];

const isTown = (town: string | null): town is keyof typeof DEMO_TOWNS => town !== null && Object.hasOwn(DEMO_TOWNS, town);

function currentMembers(s: RegistrySnapshot, pcnCode: string): string[] {
  return s.memberships.filter((m) => m.pcnCode === pcnCode && m.endDate === null).map((m) => m.practiceOds);
}

function pcnListSize(s: RegistrySnapshot, pcnCode: string): number {
  const members = new Set(currentMembers(s, pcnCode));
  return s.practices.filter((p) => members.has(p.ods)).reduce((sum, p) => sum + (p.listSize ?? NaN), 0);
}

function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function assertUnique(values: readonly string[], what: string) {
  const dupes = values.filter((v, i) => values.indexOf(v) !== i);
  assert.deepEqual(dupes, [], `duplicate ${what}`);
}

test('the same seed gives an identical snapshot; another seed gives a different one', () => {
  assert.deepEqual(demoArea(), demoArea(1));
  assert.deepEqual(demoArea(7), demoArea(7));
  assert.notDeepEqual(demoArea(1), demoArea(2));
  const sizes = (s: RegistrySnapshot) => s.practices.map((p) => p.listSize);
  assert.notDeepEqual(sizes(demoArea(1)), sizes(demoArea(2)));
});

test('one area, Q99, with the 25,000–70,000 working range', () => {
  const s = demoArea();
  assert.deepEqual(s.areas, [{ code: 'Q99', name: 'Norfolk and Waveney (demo)', sizeMin: 25_000, sizeMax: 70_000 }]);
  assert.match(s.areas[0]?.code ?? '', /^Q[A-Z0-9]{2}$/);
});

test('20 PCNs U90001..U90020, each with a clinical director and a member practice as nominated payee', () => {
  const s = demoArea();
  assert.deepEqual(
    s.pcns.map((p) => p.code),
    Array.from({ length: 20 }, (_, i) => `U9${String(i + 1).padStart(4, '0')}`),
  );
  for (const pcn of s.pcns) {
    assert.match(pcn.code, /^U\d{5}$/);
    assert.match(pcn.name, / PCN$/);
    assert.equal(pcn.areaCode, 'Q99');
    assert.equal(pcn.openDate, '2019-07-01');
    assert.match(pcn.clinicalDirector ?? '', /^Dr [A-Z][a-z]+ [A-Z][a-z]+$/);
    assert.ok(pcn.nominatedPayeeOds !== null && currentMembers(s, pcn.code).includes(pcn.nominatedPayeeOds), `${pcn.name}: payee is a current member`);
  }
  const names = s.pcns.map((p) => p.name);
  for (const expected of ['Norwich City PCN', 'Great Yarmouth and Northern Villages PCN', 'Lowestoft PCN', "King's Lynn PCN", 'Breckland (Thetford) PCN', 'Hunstanton PCN', 'Halesworth PCN']) {
    assert.ok(names.includes(expected), expected);
  }
  assertUnique(names, 'PCN names');
});

test('about 100 well-formed practices near their towns, with valid normalised postcodes in the town district', () => {
  for (const seed of SEEDS) {
    const s = demoArea(seed);
    assert.ok(s.practices.length >= 95 && s.practices.length <= 105, `${s.practices.length} practices`);
    assertUnique(
      s.practices.map((p) => p.ods),
      'practice codes',
    );
    assertUnique(
      s.practices.map((p) => p.postcode ?? ''),
      'practice postcodes',
    );
    for (const practice of s.practices) {
      // The demo always knows where a practice is; the registry type allows unknowns (ePCN imports).
      const p = { ...practice, listSize: practice.listSize ?? NaN, postcode: practice.postcode ?? '', latitude: practice.latitude ?? NaN, longitude: practice.longitude ?? NaN };
      assert.match(p.ods, /^[A-Z]\d{5}$/);
      assert.match(p.ods, /^Z9\d{4}$/);
      assert.equal(normalisePostcode(p.postcode), p.postcode, `${p.ods} postcode ${p.postcode}`);
      assert.match(p.postcode, /^[A-Z]{1,2}\d{1,2} \d[ABD-HJLNP-UW-Z]{2}$/);
      assert.ok(isTown(p.town), `${p.ods} town ${p.town}`);
      const town = DEMO_TOWNS[p.town];
      assert.ok((town.districts as readonly string[]).includes(p.postcode.split(' ')[0] ?? ''), `${p.postcode} is in ${p.town}`);
      assert.ok(Math.abs(p.latitude - town.latitude) <= DEMO_JITTER_DEGREES + 1e-9, `${p.ods} latitude`);
      assert.ok(Math.abs(p.longitude - town.longitude) <= DEMO_JITTER_DEGREES + 1e-9, `${p.ods} longitude`);
      assert.ok(DEMO_JITTER_DEGREES <= 0.08);
      assert.ok(Number.isInteger(p.listSize) && p.listSize >= 2_500 && p.listSize <= 25_000, `${p.ods} list size ${p.listSize}`);
      assert.match(p.name, /(Surgery|Medical Centre|Medical Practice|Health Centre)$/);
    }
  }
});

test('each practice is a current member of exactly one PCN, and every PCN has 1–8 practices', () => {
  for (const seed of SEEDS) {
    const s = demoArea(seed);
    const pcnCodes = new Set(s.pcns.map((p) => p.code));
    for (const p of s.practices) {
      const current = s.memberships.filter((m) => m.practiceOds === p.ods && m.endDate === null);
      assert.equal(current.length, 1, `${p.ods} has one current membership`);
      assert.ok(pcnCodes.has(current[0]?.pcnCode ?? ''));
    }
    const practiceCodes = new Set(s.practices.map((p) => p.ods));
    for (const m of s.memberships) assert.ok(practiceCodes.has(m.practiceOds) && pcnCodes.has(m.pcnCode));
    for (const pcn of s.pcns) {
      const n = currentMembers(s, pcn.code).length;
      assert.ok(n >= 1 && n <= 8, `${pcn.name} has ${n} practices`);
    }
  }
});

test('membership history: at least 2 practices moved, the old membership ending the day before the new one', () => {
  const s = demoArea();
  const ended = s.memberships.filter((m) => m.endDate !== null);
  assert.ok(ended.length >= 2);
  for (const old of ended) {
    const now = s.memberships.find((m) => m.practiceOds === old.practiceOds && m.endDate === null);
    assert.ok(now, `${old.practiceOds} has a current membership`);
    assert.notEqual(now.pcnCode, old.pcnCode);
    assert.equal(old.endDate, dayBefore(now.startDate));
    assert.ok(old.startDate < (old.endDate ?? ''));
  }
  // Everyone else has been in their PCN since the network contract started.
  const moved = new Set(ended.map((m) => m.practiceOds));
  for (const m of s.memberships) if (!moved.has(m.practiceOds)) assert.deepEqual([m.startDate, m.endDate], ['2019-07-01', null]);
});

test('PCN sizes: exactly 2 below 25,000 (Hunstanton, Halesworth), exactly 1 above 70,000 (Norwich City), area ~1.0–1.2M', () => {
  for (const seed of SEEDS) {
    const s = demoArea(seed);
    const sizes = s.pcns.map((p) => ({ name: p.name, size: pcnListSize(s, p.code) }));
    const below = sizes.filter((p) => p.size < 25_000).map((p) => p.name);
    const above = sizes.filter((p) => p.size > 70_000).map((p) => p.name);
    assert.deepEqual(below.sort(), ['Halesworth PCN', 'Hunstanton PCN'], `seed ${seed}`);
    assert.deepEqual(above, ['Norwich City PCN'], `seed ${seed}`);
    const total = s.practices.reduce((sum, p) => sum + (p.listSize ?? NaN), 0);
    assert.equal(
      total,
      sizes.reduce((sum, p) => sum + p.size, 0),
      'every patient is counted in one PCN',
    );
    assert.ok(total >= 1_000_000 && total <= 1_200_000, `total ${total}`);
  }
});

test('partners: valid codes and types, unique, placed near the area, each link points at a real PCN and partner', () => {
  for (const seed of SEEDS) {
    const s = demoArea(seed);
    assertUnique(
      s.partners.map((p) => p.code),
      'partner codes',
    );
    const partnerCodes = new Set(s.partners.map((p) => p.code));
    const pcnCodes = new Set(s.pcns.map((p) => p.code));
    for (const p of s.partners) {
      assert.ok((PARTNER_TYPES as readonly string[]).includes(p.type), p.type);
      if (p.type === 'community-pharmacy') assert.match(p.code, /^F[A-Z0-9]{4}$/);
      else if (p.code.startsWith('R')) assert.match(p.code, /^R[A-Z0-9]{2,4}$/);
      else assert.match(p.code, /^[A-Z0-9-]{3,20}$/);
      assert.ok(p.postcode !== null && normalisePostcode(p.postcode) === p.postcode, `${p.code} postcode ${p.postcode}`);
      assert.ok(p.latitude !== null && p.latitude > 52.2 && p.latitude < 53.1, `${p.code} latitude`);
      assert.ok(p.longitude !== null && p.longitude > 0.2 && p.longitude < 1.9, `${p.code} longitude`);
    }
    for (const link of s.pcnPartners) assert.ok(pcnCodes.has(link.pcnCode) && partnerCodes.has(link.partnerCode), JSON.stringify(link));
    assertUnique(
      s.pcnPartners.map((l) => `${l.pcnCode}/${l.partnerCode}`),
      'PCN–partner links',
    );
  }
});

test('every PCN has 1–3 community pharmacies, exactly one of them the lead, and 1–2 care homes', () => {
  for (const seed of SEEDS) {
    const s = demoArea(seed);
    const typeOf = new Map(s.partners.map((p) => [p.code, p.type]));
    for (const pcn of s.pcns) {
      const links = s.pcnPartners.filter((l) => l.pcnCode === pcn.code);
      const pharmacies = links.filter((l) => typeOf.get(l.partnerCode) === 'community-pharmacy');
      assert.ok(pharmacies.length >= 1 && pharmacies.length <= 3, `${pcn.name}: ${pharmacies.length} pharmacies`);
      assert.equal(pharmacies.filter((l) => l.role === 'Community pharmacy lead').length, 1, `${pcn.name} pharmacy lead`);
      const careHomes = links.filter((l) => typeOf.get(l.partnerCode) === 'care-home').length;
      assert.ok(careHomes >= 1 && careHomes <= 2, `${pcn.name}: ${careHomes} care homes`);
    }
    // Pharmacies belong to one PCN each.
    const pharmacyLinks = s.pcnPartners.filter((l) => typeOf.get(l.partnerCode) === 'community-pharmacy').map((l) => l.partnerCode);
    assertUnique(pharmacyLinks, 'pharmacy links');
  }
});

test('shared partners: acute trust by locality, MH/community/ambulance everywhere, the right council and Healthwatch', () => {
  const s = demoArea();
  const linked = (pcnCode: string) => s.pcnPartners.filter((l) => l.pcnCode === pcnCode).map((l) => l.partnerCode);
  const codeOf = (name: string) => s.pcns.find((p) => p.name === name)?.code ?? '';
  const suffolk = new Set(['Lowestoft PCN', 'Beccles and Bungay PCN', 'Halesworth PCN'].map(codeOf));

  assert.deepEqual(
    s.partners.filter((p) => p.type === 'acute').map((p) => p.code),
    ['RZ1', 'RZ2', 'RZ3'],
  );
  for (const pcn of s.pcns) {
    const codes = linked(pcn.code);
    assert.equal(codes.filter((c) => ['RZ1', 'RZ2', 'RZ3'].includes(c)).length, 1, `${pcn.name}: one acute trust`);
    for (const everywhere of ['RZ4', 'RZ5', 'RZ6']) assert.ok(codes.includes(everywhere), `${pcn.name} → ${everywhere}`);
    const [council, healthwatch] = suffolk.has(pcn.code) ? ['LA-SUFFOLK', 'HW-SUFFOLK'] : ['LA-NORFOLK', 'HW-NORFOLK'];
    assert.ok(codes.includes(council) && codes.includes(healthwatch), `${pcn.name} → ${council}, ${healthwatch}`);
    assert.ok(!codes.includes(council === 'LA-SUFFOLK' ? 'LA-NORFOLK' : 'LA-SUFFOLK'), `${pcn.name}: one council`);
    assert.ok(
      codes.some((c) => s.partners.find((p) => p.code === c)?.type === 'voluntary'),
      `${pcn.name}: social prescribing`,
    );
    assert.ok(
      codes.some((c) => s.partners.find((p) => p.code === c)?.type === 'hospice'),
      `${pcn.name}: hospice`,
    );
  }
  assert.ok(linked(codeOf('Norwich City PCN')).includes('RZ1'));
  assert.ok(linked(codeOf('Lowestoft PCN')).includes('RZ2'));
  assert.ok(linked(codeOf('Great Yarmouth and Northern Villages PCN')).includes('RZ2'));
  assert.ok(linked(codeOf("King's Lynn PCN")).includes('RZ3'));
  assert.ok(linked(codeOf('Hunstanton PCN')).includes('RZ3'));
  // Every partner type appears at least once.
  for (const type of PARTNER_TYPES)
    assert.ok(
      s.partners.some((p) => p.type === type),
      type,
    );
});

test('codes are unique across the whole registry', () => {
  const s = demoArea();
  assertUnique([...s.areas.map((a) => a.code), ...s.pcns.map((p) => p.code), ...s.practices.map((p) => p.ods), ...s.partners.map((p) => p.code)], 'codes');
});

test('money: one £535,000 PCN development allocation to the area, in integer pence', () => {
  const s = demoArea();
  assert.deepEqual(s.allocations, [{ areaCode: 'Q99', pcnCode: null, amountPence: 53_500_000, purpose: 'PCN development', financialYear: '2019/20', source: 'NHS England' }]);
  const total = s.allocations.reduce((sum, a) => sum + a.amountPence, 0);
  assert.ok(Number.isInteger(total));
  assert.equal(total, 53_500_000);
});
