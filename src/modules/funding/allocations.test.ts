import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../storage/db.ts';
import { testDb } from '../../../test/db.ts';
import { allocationCsvRows, allocationsForArea, listAllocations, saveAllocations, type Allocation } from './index.ts';

let db: Db;
before(async () => {
  db = await testDb();
  // Allocations reference the network's areas and PCNs; a bare row of each is all the foreign keys need.
  await db.query(`INSERT INTO area (code, name, size_min, size_max) VALUES ('QAA', 'Area A', 30000, 50000), ('QBB', 'Area B', 30000, 50000)`);
  await db.query(`INSERT INTO pcn (code, name, area_code, open_date) VALUES ('U00001', 'North PCN', 'QAA', '2019-07-01')`);
});
after(() => db.close());

const development: Allocation = { areaCode: 'QAA', pcnCode: null, amountPence: 53_500_000, purpose: 'PCN development', financialYear: '2025/26', source: 'ICB' };
const northArrs: Allocation = { areaCode: 'QAA', pcnCode: 'U00001', amountPence: 12_345_67, purpose: 'ARRS', financialYear: '2025/26', source: 'NHS England' };
/** Rows of one save have no order among themselves (the insert is one statement); compare them as a set. */
const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();

const otherArea: Allocation = { areaCode: 'QBB', pcnCode: null, amountPence: 100, purpose: 'PCN development', financialYear: '2025/26', source: 'ICB' };

test('saving the same allocations again adds nothing; another year of the same money is a new allocation', async () => {
  await saveAllocations(db, [development, northArrs, otherArea]);
  await saveAllocations(db, [development, northArrs]);
  assert.equal((await listAllocations(db)).length, 3);
  await saveAllocations(db, [{ ...development, financialYear: '2026/27' }]);
  const all = await listAllocations(db);
  assert.deepEqual(sorted(all.slice(0, 3)), sorted([development, northArrs, otherArea]));
  assert.deepEqual(all[3], { ...development, financialYear: '2026/27' }, 'the later save comes later');
});

test("an area's allocations are its own, in pence, by year", async () => {
  const forA = await allocationsForArea(db, 'QAA');
  assert.deepEqual(
    sorted(forA.map((a) => [a.pcnCode, a.amountPence, a.financialYear])),
    sorted([
      [null, 53_500_000, '2025/26'],
      ['U00001', 12_345_67, '2025/26'],
      [null, 53_500_000, '2026/27'],
    ]),
  );
  assert.equal(forA.at(-1)?.financialYear, '2026/27', 'by year');
  assert.ok(!forA.some((a) => a.amountPence === 100), "area B's money is not area A's");
  assert.deepEqual(await allocationsForArea(db, 'QZZ'), []);
});

test('the allocations.csv rows come in a stable order: area, then the area-wide row before PCN rows', async () => {
  const rows = await allocationCsvRows(db);
  assert.deepEqual(
    rows.map((r) => `${r.area_code}|${r.pcn_code ?? ''}|${r.financial_year}`),
    ['QAA||2025/26', 'QAA||2026/27', 'QAA|U00001|2025/26', 'QBB||2025/26'],
  );
});
