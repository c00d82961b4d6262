import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { condition, patient } from '../../../test/population-facts.ts';
import type { RecordEntry } from './facts.ts';
import { compileLongTermConditions, countLongTermConditions } from './multimorbidity.ts';

const AS_OF = '2026-12-04';
/** One diagnosis code of each condition's refset (reference/codelists/pcd-*_cod.csv). */
const CODES = {
  af: '49436004',
  diabetes: '44054006',
  hypertension: '38341003',
  copd: '13645005',
  dementia: '52448006',
  ckd4: '431857002',
  stroke: '230690007',
};
const DIABETES_RESOLVED = '315051004';
const CKD_STAGE_1_HYPERTENSIVE = '117681000119102';

const count = (entries: RecordEntry[]) => countLongTermConditions(patient(entries), AS_OF);
const conditionIds = (entries: RecordEntry[]) => count(entries).conditions.map((c) => c.id);

describe('multimorbidity (rules/long-term-conditions.json)', () => {
  it('1 condition is not multimorbid, 2 are; 3 are not complex, 4 are', () => {
    const codes = Object.values(CODES);
    const at = (n: number) => {
      const result = count(codes.slice(0, n).map((code) => condition(code)));
      return [result.count, result.multimorbid, result.complex];
    };
    assert.deepEqual(
      [at(0), at(1), at(2), at(3), at(4)],
      [
        [0, false, false],
        [1, false, false],
        [2, true, false],
        [3, true, false],
        [4, true, true],
      ],
    );
  });

  it('counts a condition once, explained by each of its diagnosis entries', () => {
    const result = count([condition(CODES.af, '2018-05-01'), condition(CODES.af, '2022-02-02')]);
    assert.equal(result.count, 1);
    assert.deepEqual(result.conditions[0], {
      id: 'atrial-fibrillation',
      name: 'Atrial fibrillation',
      entries: [
        { type: 'Condition', id: result.conditions[0]!.entries[0]!.id, date: '2018-05-01', code: CODES.af, term: 'Atrial fibrillation', organisation: 'D82001' },
        { type: 'Condition', id: result.conditions[0]!.entries[1]!.id, date: '2022-02-02', code: CODES.af, term: 'Atrial fibrillation', organisation: 'D82001' },
      ],
    });
  });

  it('QOF resolution: a resolved code after the latest diagnosis (or on its day) takes the condition off; a diagnosis after it puts it back', () => {
    assert.deepEqual(conditionIds([condition(CODES.diabetes, '2015-01-01'), condition(DIABETES_RESOLVED, '2019-01-01')]), []);
    assert.deepEqual(conditionIds([condition(CODES.diabetes, '2019-01-01'), condition(DIABETES_RESOLVED, '2019-01-01')]), [], 'same day: resolved');
    assert.deepEqual(conditionIds([condition(CODES.diabetes, '2015-01-01'), condition(DIABETES_RESOLVED, '2019-01-01'), condition(CODES.diabetes, '2021-01-01')]), ['diabetes']);
    assert.deepEqual(conditionIds([condition(DIABETES_RESOLVED, '2019-01-01')]), [], 'a resolved code alone is no diagnosis');
    assert.deepEqual(conditionIds([condition(CODES.ckd4, '2019-01-01'), condition(CKD_STAGE_1_HYPERTENSIVE, '2020-01-01')]), [], 'a later CKD stage 1-2 code takes stage 3-5 off');
    assert.deepEqual(conditionIds([condition(CODES.diabetes, '2015-01-01'), condition(DIABETES_RESOLVED, '2027-01-01')]), ['diabetes'], 'a resolution after the as-of date is not read');
  });

  it('a Condition resolved in FHIR still counts (QOF reads codes, not problem status); one entered in error never; nor after the as-of date', () => {
    assert.deepEqual(conditionIds([condition(CODES.copd, '2015-01-01', { standing: 'resolved' })]), ['copd']);
    assert.deepEqual(conditionIds([condition(CODES.copd, '2015-01-01', { standing: 'void' })]), []);
    assert.deepEqual(conditionIds([condition(CODES.copd, AS_OF)]), ['copd']);
    assert.deepEqual(conditionIds([condition(CODES.copd, '2026-12-05')]), []);
  });

  it('refuses a malformed declaration naming the file and condition', () => {
    const valid = { id: 'ltc', version: '1', multimorbidAtLeast: 2, complexAtLeast: 4, conditions: [{ id: 'af', name: 'AF', codeLists: ['pcd-afib_cod'] }] };
    assert.equal(compileLongTermConditions(valid, 'ok.json').conditions.length, 1);
    assert.throws(
      () => compileLongTermConditions({ ...valid, conditions: [{ id: 'af', name: 'AF', codeLists: [] }] }, 'bad.json'),
      /long-term conditions bad\.json, condition "af" \(conditions\[0\]\.codeLists\): Too small/,
    );
    assert.throws(
      () => compileLongTermConditions({ ...valid, conditions: [{ id: 'af', name: 'AF', codeLists: ['pcd-afib_cod'], resolvedBy: ['nope'] }] }, 'bad.json'),
      /long-term conditions bad\.json, condition "af": code list "nope"/,
    );
    assert.throws(
      () => compileLongTermConditions({ ...valid, conditions: [{ id: 'af', name: 'AF', codeLists: ['pcd-afib_cod'], resolvedBy: ['pcd-afib_cod'] }] }, 'bad.json'),
      /condition "af": \d+ is both a diagnosis and a resolved code \(pcd-afib_cod\)/,
    );
  });
});
