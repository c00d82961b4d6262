import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDb } from '../../../test/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { SYSTEM_ACTOR } from '../access/index.ts';
import { demoArea } from '../../demo/demo-area.ts';
import { getPractice } from './read-registry.ts';
import { readRegistryDir, writeRegistryDir } from './registry-csv.ts';
import { saveRegistry } from './save-registry.ts';
import type { RegistrySnapshot } from './types.ts';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pcn-registry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openDb(t: TestContext): Promise<Db> {
  const db = await testDb();
  t.after(() => db.close());
  return db;
}

/** A folder holding these files, each given as its lines. */
async function fixture(t: TestContext, files: Record<string, readonly string[]>, eol = '\n'): Promise<string> {
  const dir = await tempDir(t);
  for (const [name, lines] of Object.entries(files)) await writeFile(join(dir, name), lines.join(eol) + eol);
  return dir;
}

/** What the command line does: read (and check) everything first, then save it in one transaction. */
async function importDir(db: Db, dir: string) {
  const snapshot = await readRegistryDir(db, dir);
  return saveRegistry(db, SYSTEM_ACTOR, snapshot);
}

async function registryCounts(db: Db) {
  const [row] = await db.query<{ pcns: number; practices: number; memberships: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM pcn) AS pcns, (SELECT count(*)::int FROM practice) AS practices,
            (SELECT count(*)::int FROM practice_membership) AS memberships, (SELECT count(*)::int FROM audit_event) AS audit`,
  );
  return row;
}

async function filesOf(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
}

/** Order-free view of a snapshot, with an absent closeDate read as null. */
function canonical(s: RegistrySnapshot) {
  const by =
    <T>(key: (x: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return {
    areas: [...s.areas].sort(by((a) => a.code)),
    pcns: s.pcns.map((p) => ({ ...p, closeDate: p.closeDate ?? null })).sort(by((p) => p.code)),
    practices: [...s.practices].sort(by((p) => p.ods)),
    memberships: [...s.memberships].sort(by((m) => `${m.practiceOds}|${m.startDate}`)),
    partners: [...s.partners].sort(by((p) => p.code)),
    pcnPartners: [...s.pcnPartners].sort(by((l) => `${l.pcnCode}|${l.partnerCode}`)),
    allocations: [...s.allocations].sort(by((a) => `${a.areaCode}|${a.pcnCode}|${a.purpose}`)),
  };
}

test('demoArea(1) round-trips: export, import into an empty database, export again gives the same bytes', async (t) => {
  const original = await openDb(t);
  await saveRegistry(original, SYSTEM_ACTOR, demoArea(1));
  const first = await tempDir(t);
  const written = await writeRegistryDir(original, first);
  assert.deepEqual(
    written.files.map((f) => f.slice(first.length + 1)),
    ['areas.csv', 'pcns.csv', 'practices.csv', 'memberships.csv', 'partners.csv', 'allocations.csv'],
  );
  assert.equal(written.pcns, 20);
  assert.equal(written.practices, demoArea(1).practices.length);

  const copy = await openDb(t);
  const snapshot = await readRegistryDir(copy, first);
  assert.deepEqual(canonical(snapshot), canonical(demoArea(1)), 'the files hold the whole registry');
  await saveRegistry(copy, SYSTEM_ACTOR, snapshot);
  const second = await tempDir(t);
  await writeRegistryDir(copy, second);

  const [a, b] = [await filesOf(first), await filesOf(second)];
  assert.deepEqual(Object.keys(b), Object.keys(a));
  for (const name of Object.keys(a)) assert.equal(b[name], a[name], `${name} is identical`);
  assert.match(a['practices.csv'] ?? '', /^ods_code,name,postcode,town,pcn_code,list_size,latitude,longitude,joined_date\n/);
  assert.match(a['memberships.csv'] ?? '', /,2022-03-31,\n/, 'ended memberships are exported (no payee handed over)');
});

// -----------------------------------------------------------------------------------------------
// The ePCN publication
// -----------------------------------------------------------------------------------------------

const EPCN_PCN_HEADER = [
  '"PCN\r\nCode"',
  '"PCN\r\nName"',
  '"Current\r\nSub ICB Loc\r\nCode"',
  '"Sub ICB\r\nLocation"',
  '"Open\r\nDate"',
  '"Close\r\nDate"',
  '"Address\r\nLine 1"',
  '"Address\r\nLine 2"',
  '"Address\r\nLine 3"',
  '"Address\r\nLine 4"',
  '"Address\r\nLine 5"',
  'Postcode',
].join(',');
const EPCN_PARTNER_HEADER = [
  '"Partner\r\nOrganisation\r\nCode"',
  '"Partner\r\nName"',
  '"Practice\r\nParent\r\nSub ICB Loc\r\nCode"',
  '"Practice\r\nParent\r\nSub ICB Loc\r\nName"',
  '"PCN\r\nCode"',
  '"PCN\r\nName"',
  '"PCN\r\nParent\r\nSub ICB Loc\r\nCode"',
  '"PCN\r\nParent\r\nSub ICB Loc\r\nName"',
  '"Practice to PCN\r\nRelationship\r\nStart Date"',
  '"Practice to PCN\r\nRelationship\r\nEnd Date"',
  '"Practice Sub ICB and\r\nPCN Sub ICB Match?"',
].join(',');
const SUB_ICB = '26A,NHS NORFOLK AND WAVENEY ICB - 26A';

const epcnFiles = (partnerRows: readonly string[]) => ({
  'PCN Details.csv': [
    EPCN_PCN_HEADER,
    `U20001,NORTH TEST PCN,${SUB_ICB},20190701,,1 HIGH STREET,,NORWICH,NORFOLK,,NR1 1AA`,
    `U20002,SOUTH TEST PCN,${SUB_ICB},20190701,,"2 LOW ROAD, EATON",,NORWICH,NORFOLK,,NR4 7AA`,
  ],
  'PCN Core Partner Details.csv': [EPCN_PARTNER_HEADER, ...partnerRows],
});
const EPCN_PARTNERS = [
  `B20001,ALPHA SURGERY,${SUB_ICB},U20001,NORTH TEST PCN,${SUB_ICB},20190701,,TRUE`,
  `B20002,BETA SURGERY,${SUB_ICB},U20001,NORTH TEST PCN,${SUB_ICB},20190701,20220331,TRUE`,
  `B20002,BETA SURGERY,${SUB_ICB},U20002,SOUTH TEST PCN,${SUB_ICB},20220401,,TRUE`,
  `B20003,GAMMA SURGERY,${SUB_ICB},U20002,SOUTH TEST PCN,${SUB_ICB},20190701,,TRUE`,
];

test('an ePCN folder (line breaks in quoted headers, Sub ICB Loc, yyyymmdd) imports with its membership history', async (t) => {
  const db = await openDb(t);
  const dir = await fixture(t, epcnFiles(EPCN_PARTNERS), '\r\n');
  const snapshot = await readRegistryDir(db, dir);
  assert.deepEqual(snapshot.areas, [{ code: '26A', name: 'NHS NORFOLK AND WAVENEY ICB - 26A', sizeMin: 30_000, sizeMax: null }]);
  assert.deepEqual(snapshot.pcns[1], {
    code: 'U20002',
    name: 'SOUTH TEST PCN',
    areaCode: '26A',
    clinicalDirector: null,
    nominatedPayeeOds: null,
    openDate: '2019-07-01',
    closeDate: null,
  });
  assert.deepEqual(
    snapshot.practices.map((p) => p.ods),
    ['B20001', 'B20002', 'B20003'],
  );
  assert.deepEqual(snapshot.practices[1], { ods: 'B20002', name: 'BETA SURGERY', postcode: null, town: null, latitude: null, longitude: null, listSize: null });

  const counts = await saveRegistry(db, SYSTEM_ACTOR, snapshot);
  assert.equal(counts.memberships, 4);
  const beta = await getPractice(db, 'B20002');
  assert.deepEqual(beta.pcn, { code: 'U20002', name: 'SOUTH TEST PCN' });
  assert.deepEqual(
    beta.history.map((h) => [h.pcnCode, h.startDate, h.endDate]),
    [
      ['U20002', '2022-04-01', null],
      ['U20001', '2019-07-01', '2022-03-31'],
    ],
  );
  assert.equal(beta.postcode, null);
});

test('an ePCN problem names the physical line, counting the line breaks inside the header', async (t) => {
  const db = await openDb(t);
  const rows = [...EPCN_PARTNERS];
  rows[1] = rows[1]?.replace('20220331', '20220231') ?? '';
  const dir = await fixture(t, epcnFiles(rows), '\r\n');
  const headerLines = EPCN_PARTNER_HEADER.split('\r\n').length;
  const line = headerLines + 2;
  await assert.rejects(readRegistryDir(db, dir), {
    message: `PCN Core Partner Details.csv line ${line}, column left_date: '20220231' is not a date: write yyyy-mm-dd or yyyymmdd`,
    field: `PCN Core Partner Details.csv:${line}:left_date`,
  });
});

test('pre-2022 ePCN headers (Clinical Commissioning Group) and the PCNDetails.csv name are accepted', async (t) => {
  const db = await openDb(t);
  const dir = await fixture(t, {
    'PCNDetails.csv': [
      '\uFEFFPCN Code,PCN Name,Current Clinical Commissioning Group Code,Current Clinical Commissioning Group Name,Open Date,Close Date',
      'U30001,OLD PCN,06Y,NHS OLD TOWN CCG,20190701,20210331',
    ],
    'pcn core partner details.CSV': ['Partner Organisation Code,Partner Name,PCN Code,Practice to PCN Relationship Start Date', 'C30001,OLD SURGERY,U30001,'],
  });
  const snapshot = await readRegistryDir(db, dir);
  assert.deepEqual(snapshot.areas, [{ code: '06Y', name: 'NHS OLD TOWN CCG', sizeMin: 30_000, sizeMax: null }]);
  assert.equal(snapshot.pcns[0]?.closeDate, '2021-03-31');
  assert.deepEqual(snapshot.memberships, [{ practiceOds: 'C30001', pcnCode: 'U30001', startDate: '2019-07-01', endDate: null }]);
});

// -----------------------------------------------------------------------------------------------
// Our own format: codes in the database count as known; every bad input is refused, nothing written
// -----------------------------------------------------------------------------------------------

const BASE: Record<string, readonly string[]> = {
  'areas.csv': ['code,name,size_min,size_max', 'Q98,Test Area,30000,'],
  'pcns.csv': [
    'pcn_code,pcn_name,area_code,clinical_director,nominated_payee_ods,open_date',
    'U10001,Alpha PCN,Q98,Dr Ann Alpha,A10001,2019-07-01',
    'U10002,Beta PCN,Q98,Dr Ben Beta,A10003,2019-07-01',
  ],
  'practices.csv': [
    'ods_code,name,postcode,pcn_code,list_size,latitude,longitude,joined_date,left_date',
    'A10001,Alpha Surgery,NR1 3SR,U10001,12000,52.63,1.29,2019-07-01',
    'A10002,Bridge Street Surgery,NR2 4AB,U10001,9000,52.62,1.28,2019-07-01',
    'A10003,Beta Medical Centre,nr31aa,U10002,15000,52.64,1.30,2019-07-01',
    'A10004,Church Lane Surgery,NR4 7TJ,U10002,8000,52.61,1.27,',
  ],
};

/** BASE with one line (1 = the header) replaced, or added when it is one past the end. */
function withLine(file: string, line: number, content: string): Record<string, readonly string[]> {
  const lines = [...(BASE[file] ?? [])];
  lines[line - 1] = content;
  return { ...BASE, [file]: lines };
}

test('the base fixture imports; PCNs, areas and practices already in the database count as known', async (t) => {
  const db = await openDb(t);
  await saveRegistry(db, SYSTEM_ACTOR, demoArea(1));
  const before = await registryCounts(db);
  const counts = await importDir(db, await fixture(t, BASE));
  assert.deepEqual([counts.pcns, counts.practices, counts.memberships], [2, 4, 4]);
  assert.equal((await getPractice(db, 'A10003')).postcode, 'NR3 1AA');
  assert.equal((await getPractice(db, 'A10004')).history[0]?.startDate, '2019-07-01', "an empty joined_date is the PCN's open date");

  const dir = await fixture(t, {
    'pcns.csv': ['pcn_code,pcn_name,area_code,nominated_payee_ods,open_date', 'U10003,Gamma PCN,Q99,Z90101,2023-04-01'],
    'practices.csv': ['ods_code,name,pcn_code', 'A10005,Late Joiner Surgery,U90003'],
    'memberships.csv': ['ods_code,pcn_code,start_date,end_date', 'A10001,U10001,2019-07-01,2023-03-31', 'A10001,U10003,2023-04-01,'],
  });
  await importDir(db, dir);
  const late = await getPractice(db, 'A10005');
  assert.deepEqual(
    late.history.map((h) => [h.pcnCode, h.startDate]),
    [['U90003', '2019-07-01']],
    "U90003's open date, from the database",
  );
  const moved = await getPractice(db, 'A10001');
  assert.deepEqual(
    moved.history.map((h) => [h.pcnCode, h.startDate, h.endDate]),
    [
      ['U10003', '2023-04-01', null],
      ['U10001', '2019-07-01', '2023-03-31'],
    ],
  );
  const afterCounts = await registryCounts(db);
  assert.equal(afterCounts?.pcns, (before?.pcns ?? 0) + 3);
  assert.equal(afterCounts?.practices, (before?.practices ?? 0) + 5);
});

interface BadCase {
  name: string;
  files: Record<string, readonly string[]>;
  file: string;
  line: number;
  column: string;
  message: string;
}

const BAD_CASES: BadCase[] = [
  {
    name: 'a bad practice ODS code',
    files: withLine('practices.csv', 3, 'A1002,Bridge Street Surgery,NR2 4AB,U10001,9000,52.62,1.28,2019-07-01'),
    file: 'practices.csv',
    line: 3,
    column: 'ods_code',
    message: "'A1002' is not a valid practice ODS code: expected 1 letter and 5 digits, e.g. D82001",
  },
  {
    name: 'an unknown PCN',
    files: withLine('practices.csv', 5, 'A10004,Church Lane Surgery,NR4 7TJ,U19999,8000,52.61,1.27,2019-07-01'),
    file: 'practices.csv',
    line: 5,
    column: 'pcn_code',
    message: 'unknown PCN U19999: it is neither in the PCN file nor in the database',
  },
  {
    name: 'a negative list size',
    files: withLine('practices.csv', 4, 'A10003,Beta Medical Centre,NR3 1AA,U10002,-5,52.64,1.30,2019-07-01'),
    file: 'practices.csv',
    line: 4,
    column: 'list_size',
    message: "'-5' is not a list size: expected a whole number of patients, 0 or more",
  },
  {
    name: 'a list size that is not a whole number',
    files: withLine('practices.csv', 4, 'A10003,Beta Medical Centre,NR3 1AA,U10002,12.5,52.64,1.30,2019-07-01'),
    file: 'practices.csv',
    line: 4,
    column: 'list_size',
    message: "'12.5' is not a list size: expected a whole number of patients, 0 or more",
  },
  {
    name: 'a bad postcode',
    files: withLine('practices.csv', 5, 'A10004,Church Lane Surgery,XX1,U10002,8000,52.61,1.27,'),
    file: 'practices.csv',
    line: 5,
    column: 'postcode',
    message: "'XX1' is not a valid UK postcode",
  },
  {
    name: 'a latitude out of range',
    files: withLine('practices.csv', 2, 'A10001,Alpha Surgery,NR1 3SR,U10001,12000,152.63,1.29,2019-07-01'),
    file: 'practices.csv',
    line: 2,
    column: 'latitude',
    message: "'152.63' is not a latitude: expected a number from -90 to 90",
  },
  {
    name: 'a duplicate PCN',
    files: withLine('pcns.csv', 4, 'U10001,Alpha Again PCN,Q98,,,2019-07-01'),
    file: 'pcns.csv',
    line: 4,
    column: 'pcn_code',
    message: 'duplicate PCN U10001: already on line 2',
  },
  {
    name: 'a duplicate practice (two rows with no left_date)',
    files: withLine('practices.csv', 6, 'A10002,Bridge Street Surgery,,U10002,,,,2020-01-01'),
    file: 'practices.csv',
    line: 6,
    column: 'ods_code',
    message: 'duplicate practice A10002: line 3 already has it with no end date',
  },
  {
    name: 'overlapping rows for one practice',
    files: withLine('practices.csv', 6, 'A10002,Bridge Street Surgery,,U10002,,,,2018-01-01,2019-12-31'),
    file: 'practices.csv',
    line: 6,
    column: 'ods_code',
    message: 'A10002 in U10002 from 2018-01-01 to 2019-12-31 overlaps U10001 from 2019-07-01 to now on line 3',
  },
  {
    name: 'a second open membership in memberships.csv',
    files: { ...BASE, 'memberships.csv': ['ods_code,pcn_code,start_date,end_date', 'A10001,U10002,2021-01-01,'] },
    file: 'memberships.csv',
    line: 2,
    column: 'ods_code',
    message: 'duplicate practice A10001: practices.csv line 2 already has it with no end date',
  },
  {
    name: 'a missing required column',
    files: withLine('practices.csv', 1, 'ods_code,surgery,postcode,pcn_code,list_size,latitude,longitude,joined_date,left_date'),
    file: 'practices.csv',
    line: 1,
    column: 'name',
    message: 'the required column name is missing',
  },
  {
    name: 'an impossible date',
    files: withLine('pcns.csv', 3, 'U10002,Beta PCN,Q98,Dr Ben Beta,A10003,2019-02-30'),
    file: 'pcns.csv',
    line: 3,
    column: 'open_date',
    message: "'2019-02-30' is not a date: write yyyy-mm-dd or yyyymmdd",
  },
  {
    name: 'an empty open date',
    files: withLine('pcns.csv', 2, 'U10001,Alpha PCN,Q98,Dr Ann Alpha,A10001,'),
    file: 'pcns.csv',
    line: 2,
    column: 'open_date',
    message: 'open_date is required',
  },
  {
    name: 'an unknown area with no area name',
    files: withLine('pcns.csv', 3, 'U10002,Beta PCN,Q97,Dr Ben Beta,A10003,2019-07-01'),
    file: 'pcns.csv',
    line: 3,
    column: 'area_code',
    message: 'unknown area Q97: add it to areas.csv',
  },
  {
    name: 'a nominated payee that is no practice',
    files: withLine('pcns.csv', 2, 'U10001,Alpha PCN,Q98,Dr Ann Alpha,A19999,2019-07-01'),
    file: 'pcns.csv',
    line: 2,
    column: 'nominated_payee_ods',
    message: 'nominated payee A19999 is not a practice in the practice file or the database',
  },
  {
    name: 'a left_date before joined_date',
    files: withLine('practices.csv', 3, 'A10002,Bridge Street Surgery,NR2 4AB,U10001,9000,52.62,1.28,2019-07-01,2019-01-01'),
    file: 'practices.csv',
    line: 3,
    column: 'left_date',
    message: '2019-01-01 is before the start, 2019-07-01',
  },
  {
    name: 'a value with no header above it',
    files: withLine('pcns.csv', 3, 'U10002,Beta PCN,Q98,Dr Ben Beta,A10003,2019-07-01,2024-03-31'),
    file: 'pcns.csv',
    line: 3,
    column: '7',
    message: "'2024-03-31' has no header above it",
  },
  {
    name: 'a membership of an unknown practice',
    files: { ...BASE, 'memberships.csv': ['ods_code,pcn_code,start_date,end_date', 'A10001,U10001,2019-07-01,', 'A19999,U10001,2019-07-01,'] },
    file: 'memberships.csv',
    line: 3,
    column: 'ods_code',
    message: 'unknown practice A19999: it is neither in the practice file nor in the database',
  },
];

describe('bad input is refused at its file, line and column, and the database is unchanged', () => {
  let db: Db;
  before(async () => {
    db = await testDb();
    await saveRegistry(db, SYSTEM_ACTOR, demoArea(1));
  });
  after(() => db.close());

  for (const bad of BAD_CASES) {
    test(bad.name, async (t) => {
      const dir = await fixture(t, bad.files);
      const before = await registryCounts(db);
      await assert.rejects(importDir(db, dir), (error: unknown) => {
        assert.ok(error instanceof AppError, String(error));
        assert.equal(error.code, 'invalid');
        assert.equal(error.message, `${bad.file} line ${bad.line}, column ${bad.column}: ${bad.message}`);
        assert.equal(error.field, `${bad.file}:${bad.line}:${bad.column}`);
        return true;
      });
      assert.deepEqual(await registryCounts(db), before);
    });
  }

  test('a file that is not valid CSV names its line', async (t) => {
    const dir = await fixture(t, withLine('practices.csv', 4, 'A10003,"Beta Medical Centre,NR3 1AA,U10002,15000,52.64,1.30,2019-07-01'));
    await assert.rejects(importDir(db, dir), { code: 'invalid', field: 'practices.csv:4' });
  });

  test('a folder with no PCN file is refused', async (t) => {
    const dir = await fixture(t, { 'practices.csv': BASE['practices.csv'] ?? [] });
    await assert.rejects(importDir(db, dir), { message: 'pcns.csv (or the ePCN PCN Details.csv) is missing', field: 'pcns.csv' });
  });
});

test('when saveRegistry fails mid-way (a move that starts before the current membership), nothing is written', async (t) => {
  const db = await openDb(t);
  await saveRegistry(db, SYSTEM_ACTOR, demoArea(1));
  const before = await registryCounts(db);
  const practiceBefore = await getPractice(db, 'Z90101');
  const dir = await fixture(t, {
    'areas.csv': ['code,name,size_min,size_max', 'Q98,New Area,30000,'],
    'pcns.csv': ['pcn_code,pcn_name,area_code,open_date', 'U10009,New PCN,Q98,2019-01-01'],
    // Z90101 has been in U90001 since 2019-07-01: a membership of U10009 from 2019-01-01 cannot be its current one.
    'practices.csv': ['ods_code,name,pcn_code,joined_date', 'A10009,New Surgery,U10009,2019-01-01', 'Z90101,Renamed Surgery,U10009,2019-01-01'],
  });
  const snapshot = await readRegistryDir(db, dir);
  await assert.rejects(saveRegistry(db, SYSTEM_ACTOR, snapshot), { code: 'invalid', message: /Z90101 joined U90001 on 2019-07-01/ });
  assert.deepEqual(await registryCounts(db), before);
  assert.deepEqual(await db.query("SELECT code FROM area WHERE code = 'Q98'"), []);
  assert.deepEqual(await getPractice(db, 'Z90101'), practiceBefore, 'the rename was rolled back too');
});
