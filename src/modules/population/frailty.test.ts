import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { codeList } from './codelists.ts';
import { condition, issue, observation, patient } from '../../../test/population-facts.ts';
import type { PatientFacts, RecordEntry } from './facts.ts';
import { efiModel, scoreEfi } from './frailty.ts';
import { compileFrailtyModel, type FrailtyModelFile, loadFrailtyModel, scoreFrailty } from './frailty-model.ts';
import type { FrailtyResult, Refusal } from './results.ts';
import { monthsBefore } from './windows.ts';

/** The test patients are 65 on this date. */
const AS_OF = '2026-12-04';

/** One code of each of several eFI deficits (reference/efi-deficits.json), none shared with another deficit. */
const EFI = {
  arthritis: '3723001',
  falls: '1912002',
  housebound: '160689007',
  hypertension: '38341003',
  mobility: '8510008',
  dyspnoea: '60845006',
  dizziness: '7956006',
  footProblems: '47850008',
  heartFailure: '84114007',
  diabetes: '44054006',
  /** Blind rehabilitation: in both activity-limitation and vision-problems. */
  inTwoDeficits: '183361009',
};
const EGFR = '1011481000000105';
const HAEMOGLOBIN = '1022431000000105';
const TSH = '1022791000000101';
const MEDICINES = [...codeList('pincer-ppi').codes].slice(0, 6);

function scored(result: FrailtyResult | Refusal | null): FrailtyResult {
  assert.ok(result && !('refused' in result), `expected a score, got ${JSON.stringify(result)}`);
  return result;
}
function deficitIds(result: FrailtyResult | Refusal | null): string[] {
  return scored(result)
    .deficits.map((d) => d.id)
    .sort();
}
const conditions = (codes: string[]) => codes.map((code) => condition(code));

describe('eFI (rules/efi.json)', () => {
  it('declares the 36 deficits of reference/efi-deficits.json once each, equally weighted over 36', () => {
    const model = efiModel();
    const reference = (JSON.parse(readFileSync(new URL('../../../reference/efi-deficits.json', import.meta.url), 'utf8')) as { deficits: { id: string }[] }).deficits;
    assert.deepEqual(
      model.deficits.map((d) => d.id),
      reference.map((d) => d.id),
    );
    assert.ok(model.deficits.every((d) => d.weight === 1));
    assert.equal(model.scaledDenominator / model.scale, 36);
    assert.deepEqual(
      model.bandLimits.map((b) => b.category),
      ['fit', 'mild', 'moderate', 'severe'],
    );
  });

  it('scores deficits / 36: 4 deficits are 0.111 fit, 5 are 0.139 mild', () => {
    const four = scored(scoreEfi(patient(conditions([EFI.arthritis, EFI.falls, EFI.housebound, EFI.hypertension])), AS_OF));
    assert.equal(four.score, 0.111);
    assert.equal(four.category, 'fit');
    const five = scored(scoreEfi(patient(conditions([EFI.arthritis, EFI.falls, EFI.housebound, EFI.hypertension, EFI.mobility])), AS_OF));
    assert.equal(five.score, 0.139);
    assert.equal(five.category, 'mild');
  });

  it('bands fall between counts: 8/36 mild and 9/36 moderate, 12/36 moderate and 13/36 severe', () => {
    const codes = [...Object.values(EFI).slice(0, 10), '21134002', '3006004', '1755008'];
    const band = (n: number) => scored(scoreEfi(patient(conditions(codes.slice(0, n))), AS_OF)).category;
    assert.deepEqual([band(8), band(9), band(12), band(13)], ['mild', 'moderate', 'moderate', 'severe']);
  });

  it('scores from the 65th birthday, not the day before; refuses without a birth date', () => {
    const facts = patient(conditions([EFI.falls]), { birthDate: '1961-12-04' });
    assert.equal(scoreEfi(facts, '2026-12-03'), null, '64 on the day before the birthday');
    assert.equal(scored(scoreEfi(facts, '2026-12-04')).category, 'fit');
    const { birthDate: _, ...withoutBirthDate } = facts;
    assert.deepEqual(scoreEfi(withoutBirthDate, AS_OF), { refused: true, reason: 'no birth date on the record' });
    assert.deepEqual(scoreEfi({ ...facts, birthDate: '1961-12' }, AS_OF), { refused: true, reason: 'the birth date 1961-12 is not a whole date' });
    const leapling = patient(conditions([EFI.falls]), { birthDate: '1960-02-29' });
    assert.equal(scoreEfi(leapling, '2025-02-28'), null, 'born on 29 February: still 64 on 28 February');
    assert.equal(scored(scoreEfi(leapling, '2025-03-01')).category, 'fit');
  });

  it('counts a deficit once however many of its entries, a code in two deficits for both', () => {
    const result = scored(scoreEfi(patient([condition(EFI.falls, '2019-01-01'), condition(EFI.falls, '2021-03-02'), condition(EFI.inTwoDeficits)]), AS_OF));
    assert.deepEqual(deficitIds(result), ['activity-limitation', 'falls', 'vision-problems']);
    const falls = result.deficits.find((d) => d.id === 'falls')!;
    assert.equal(falls.entries.length, 2, 'both entries explain the one deficit');
    assert.deepEqual(falls.entries[0], { type: 'Condition', id: falls.entries[0]!.id, date: '2019-01-01', organisation: 'D82001', code: EFI.falls, term: 'Fall (event)' });
    assert.equal(falls.rule, "a code of the eFI's falls list");
    assert.equal(falls.weight, 1);
  });

  it('counts a resolved entry, never one entered in error, and ignores entries after the as-of date', () => {
    assert.deepEqual(deficitIds(scoreEfi(patient([condition(EFI.falls, '2010-01-01', { standing: 'resolved' })]), AS_OF)), ['falls']);
    assert.deepEqual(deficitIds(scoreEfi(patient([condition(EFI.falls, '2010-01-01', { standing: 'void' })]), AS_OF)), []);
    assert.deepEqual(deficitIds(scoreEfi(patient([condition(EFI.falls, AS_OF)]), AS_OF)), ['falls'], 'on the as-of date counts');
    assert.deepEqual(deficitIds(scoreEfi(patient([condition(EFI.falls, '2026-12-05')]), AS_OF)), [], 'the day after does not');
    const { date: _, ...undated } = condition(EFI.falls);
    assert.deepEqual(deficitIds(scoreEfi(patient([undated]), AS_OF)), [], 'an undated entry cannot be placed before the as-of date');
  });
});

describe('eFI polypharmacy: 5 or more distinct medicines issued in the 12 months before the as-of date', () => {
  const fires = (issues: RecordEntry[]) => deficitIds(scoreEfi(patient(issues), AS_OF)).includes('polypharmacy');

  it('fires at 5 distinct medicines, not at 4', () => {
    assert.equal(fires(MEDICINES.slice(0, 4).map((code) => issue([code]))), false);
    assert.equal(fires(MEDICINES.slice(0, 5).map((code) => issue([code]))), true);
  });

  it('counts a medicine issued again once, and two codes of one issue as one medicine', () => {
    const four = MEDICINES.slice(0, 4).map((code) => issue([code]));
    assert.equal(fires([...four, issue([MEDICINES[0]!], '2026-07-01')]), false, 'a repeat issue is the same medicine');
    assert.equal(fires([...four, issue([MEDICINES[0]!, MEDICINES[4]!])]), false, 'a VMP coded with its AMP joins them');
  });

  it('window: after the date 12 months earlier and on or before the as-of date', () => {
    const four = MEDICINES.slice(0, 4).map((code) => issue([code]));
    assert.equal(fires([...four, issue([MEDICINES[4]!], '2025-12-05')]), true, 'the first day inside');
    assert.equal(fires([...four, issue([MEDICINES[4]!], '2025-12-04')]), false, 'one day outside 12 months');
    assert.equal(fires([...four, issue([MEDICINES[4]!], AS_OF)]), true, 'the as-of date itself');
    assert.equal(fires([...four, issue([MEDICINES[4]!], '2026-12-05')]), false, 'after the as-of date');
    assert.equal(fires([...four, issue([MEDICINES[4]!], '2026-06-01', { standing: 'void' })]), false, 'entered in error');
    assert.equal(fires([...four, issue([MEDICINES[4]!], '2026-06-01', { standing: 'ended' })]), true, 'stopped since, but issued');
  });

  it('a window from 29 February starts on 28 February a year earlier (a month has no day it lacks)', () => {
    assert.equal(monthsBefore('2024-02-29', 12), '2023-02-28');
    assert.equal(monthsBefore('2026-03-31', 1), '2026-02-28');
    assert.equal(monthsBefore('2026-01-15', 13), '2024-12-15');
    const four = MEDICINES.slice(0, 4).map((code) => issue([code], '2023-06-01'));
    const onLeapDay = (date: string) => deficitIds(scoreEfi(patient([...four, issue([MEDICINES[4]!], date)], { birthDate: '1950-01-01' }), '2024-02-29')).includes('polypharmacy');
    assert.deepEqual([onLeapDay('2023-02-28'), onLeapDay('2023-03-01')], [false, true]);
  });

  it('does not guess whether an uncoded issue is another medicine: undetermined, or refused when it decides the band', () => {
    const four = MEDICINES.slice(0, 4).map((code) => issue([code]));
    const result = scored(scoreEfi(patient([...four, issue([])]), AS_OF));
    assert.equal(result.deficits.length, 0);
    assert.match(result.undetermined?.[0]?.rule ?? '', /4 distinct coded medicines and 1 issues without a SNOMED CT or dm\+d code/);
    const onTheEdge = conditions([EFI.arthritis, EFI.falls, EFI.housebound, EFI.hypertension]);
    const refusal = scoreEfi(patient([...onTheEdge, ...four, issue([])]), AS_OF);
    assert.ok(refusal && 'refused' in refusal);
    assert.match(refusal.reason, /the band is fit or mild depending on values the rules cannot decide: Polypharmacy/);
  });
});

describe('eFI value rules', () => {
  const fired = (entries: RecordEntry[], gender: PatientFacts['gender'] = 'female') => scored(scoreEfi(patient(entries, { gender }), AS_OF));

  it('eGFR < 60 is the CKD deficit: 59 fires, 60 does not, and the explanation names the rule and value', () => {
    const ckd = fired([observation(EGFR, { value: 59, unit: 'mL/min/{1.73_m2}' })]).deficits[0]!;
    assert.equal(ckd.id, 'ckd');
    assert.equal(ckd.rule, 'eGFR < 60 mL/min/1.73m²');
    assert.deepEqual(ckd.entries[0]?.value, { value: 59, unit: 'mL/min/{1.73_m2}' });
    assert.match(ckd.entries[0]?.term ?? '', /eGFR/);
    assert.deepEqual(fired([observation(EGFR, { value: 60, unit: 'mL/min/{1.73_m2}' })]).deficits, []);
  });

  it('a comparator is decided only when every value it allows falls one side: ">90" and "<55" are, "<65" is not', () => {
    assert.deepEqual(fired([observation(EGFR, { value: 90, comparator: '>', unit: 'mL/min/{1.73_m2}' })]).deficits, []);
    assert.equal(fired([observation(EGFR, { value: 55, comparator: '<', unit: 'mL/min/{1.73_m2}' })]).deficits[0]?.id, 'ckd');
    assert.equal(fired([observation(EGFR, { value: 60, comparator: '<', unit: 'mL/min/{1.73_m2}' })]).deficits[0]?.id, 'ckd', '"<60" is below 60');
    const straddling = fired([observation(EGFR, { value: 65, comparator: '<', unit: 'mL/min/{1.73_m2}' })]);
    assert.deepEqual(straddling.deficits, [], 'not counted');
    assert.equal(straddling.undetermined?.[0]?.id, 'ckd');
    assert.match(straddling.undetermined?.[0]?.rule ?? '', /the value <65 lies on both sides of < 60/);
    const atTheEdge = fired([observation(EGFR, { value: 60, comparator: '<=', unit: 'mL/min/{1.73_m2}' })]);
    assert.equal(atTheEdge.undetermined?.[0]?.id, 'ckd', '"<=60" may be 60');
  });

  it('refuses when an undecidable value would change the band', () => {
    const four = conditions([EFI.arthritis, EFI.falls, EFI.housebound, EFI.hypertension]);
    const result = scoreEfi(patient([...four, observation(EGFR, { value: 65, comparator: '<', unit: 'mL/min/{1.73_m2}' })]), AS_OF);
    assert.ok(result && 'refused' in result);
    assert.match(result.reason, /fit or mild .* Chronic kidney disease \(eGFR < 60 mL\/min\/1\.73m²: the value <65 lies on both sides of < 60\)/);
  });

  it('reads a value only in the units the rule declares', () => {
    const result = fired([observation(EGFR, { value: 40, unit: 'umol/L' })]);
    assert.deepEqual(result.deficits, []);
    assert.match(result.undetermined?.[0]?.rule ?? '', /a value in umol\/L/);
  });

  it('haemoglobin below the sex-specific range: 125 g/L is anaemia for a man, not for a woman; unknown sex is undetermined', () => {
    const hb = () => [observation(HAEMOGLOBIN, { value: 125, unit: 'g/L' })];
    assert.deepEqual(deficitIds(fired(hb(), 'male')), ['anaemia']);
    assert.deepEqual(deficitIds(fired(hb(), 'female')), []);
    assert.deepEqual(deficitIds(fired([observation(HAEMOGLOBIN, { value: 119, unit: 'g/L' })], 'female')), ['anaemia']);
    assert.equal(fired(hb(), 'unknown').undetermined?.[0]?.id, 'anaemia');
  });

  it('TSH outside 0.36–5.5 on either side is thyroid disease; inside, and the limits themselves, are not', () => {
    const tsh = (value: number) => deficitIds(fired([observation(TSH, { value, unit: 'mU/L' })]));
    assert.deepEqual([tsh(0.3), tsh(0.36), tsh(3), tsh(5.5), tsh(5.6)], [['thyroid-disorders'], [], [], [], ['thyroid-disorders']]);
  });

  it('a value rule and a code for one deficit count it once, both rules named', () => {
    const ckd = fired([observation(EGFR, { value: 40, unit: 'mL/min/{1.73_m2}' }), condition('431857002')]).deficits;
    assert.equal(ckd.length, 1);
    assert.equal(ckd[0]!.rule, "eGFR < 60 mL/min/1.73m²; a code of the eFI's ckd list");
  });
});

describe('a weighted model is a file (test-models/weighted.json)', () => {
  const model = loadFrailtyModel(new URL('./test-models/weighted.json', import.meta.url));
  const AF = '49436004';
  const score = (entries: RecordEntry[]) => scored(scoreFrailty(model, patient(entries), AS_OF));

  it('adds weights and decides bands exactly: 0.1 + 0.2 is 0.3, raised (≤ 0.3), not high', () => {
    const falls = score([condition(EFI.falls, '2024-01-01')]);
    assert.deepEqual([falls.score, falls.category], [0.1, 'low'], '0.1 is the top of low');
    const two = score([condition(EFI.falls, '2024-01-01'), condition(EFI.housebound)]);
    assert.deepEqual([two.score, two.category], [0.3, 'raised']);
    const three = score([condition(EFI.falls, '2024-01-01'), condition(EFI.housebound), condition(AF)]);
    assert.deepEqual([three.score, three.category], [0.45, 'high'], '0.45 is the top of high');
    const four = score([condition(EFI.falls, '2024-01-01'), condition(EFI.housebound), condition(AF), observation(EGFR, { value: 50, unit: 'mL/min/{1.73_m2}' })]);
    assert.deepEqual([four.score, four.category], [0.5, 'very-high']);
    assert.deepEqual(
      four.deficits.map((d) => [d.id, d.weight]),
      [
        ['falls', 0.1],
        ['housebound', 0.2],
        ['atrial-fibrillation', 0.15],
        ['low-egfr', 0.05],
      ],
    );
    assert.equal(four.model, 'test-weighted');
    assert.equal(four.deficits[2]!.rule, 'a code in pcd-afib_cod');
  });

  it('keeps to each deficit time limit: a fall exactly 5 years before the as-of date is out, the day after is in', () => {
    assert.deepEqual(deficitIds(scoreFrailty(model, patient([condition(EFI.falls, '2021-12-05')]), AS_OF)), ['falls']);
    assert.deepEqual(deficitIds(scoreFrailty(model, patient([condition(EFI.falls, '2021-12-04')]), AS_OF)), []);
    assert.deepEqual(deficitIds(scoreFrailty(model, patient([observation(EGFR, { value: 50, unit: 'mL/min/{1.73_m2}' }, '2025-12-04')]), AS_OF)), []);
    assert.deepEqual(deficitIds(scoreFrailty(model, patient([observation(EGFR, { value: 50, unit: 'mL/min/{1.73_m2}' }, '2025-12-05')]), AS_OF)), ['low-egfr']);
  });

  it('places k/N exactly at a band limit: 3/25 = 0.12 fit, 6/25 = 0.24 mild, 9/25 = 0.36 moderate, one more each the next band', () => {
    const codes = [...Object.values(EFI).slice(0, 10)];
    const equal: FrailtyModelFile = {
      id: 'test-equal-25',
      name: 'Twenty-five equal deficits',
      version: 'test.1',
      minimumAge: 65,
      denominator: 'sum-of-weights',
      bands: [{ category: 'fit', atMost: 0.12 }, { category: 'mild', atMost: 0.24 }, { category: 'moderate', atMost: 0.36 }, { category: 'severe' }],
      deficits: [
        ...['arthritis', 'falls', 'housebound', 'hypertension', 'mobility-problems', 'dyspnoea', 'dizziness', 'foot-problems', 'heart-failure', 'diabetes'].map((id) => ({
          id,
          name: id,
          weight: 1,
          efiDeficit: id,
        })),
        ...Array.from({ length: 15 }, (_, i) => ({ id: `unused-${i}`, name: `unused ${i}`, weight: 1, codeLists: ['pcd-ld_cod'] })),
      ],
    };
    const compiled = compileFrailtyModel(equal, 'test-equal-25');
    const band = (n: number) => scored(scoreFrailty(compiled, patient(conditions(codes.slice(0, n))), AS_OF));
    assert.deepEqual(
      [3, 4, 6, 7, 9, 10].map((n) => [band(n).score, band(n).category]),
      [
        [0.12, 'fit'],
        [0.16, 'mild'],
        [0.24, 'mild'],
        [0.28, 'moderate'],
        [0.36, 'moderate'],
        [0.4, 'severe'],
      ],
    );
  });
});

describe('a malformed model is refused, naming the file, the deficit and the problem', () => {
  const valid = (): FrailtyModelFile => ({
    id: 'm',
    name: 'M',
    version: '1',
    minimumAge: 65,
    denominator: 2,
    bands: [{ category: 'low', atMost: 0.5 }, { category: 'high' }],
    deficits: [
      { id: 'falls', name: 'Falls', weight: 1, efiDeficit: 'falls' },
      { id: 'af', name: 'AF', weight: 1, codeLists: ['pcd-afib_cod'] },
    ],
  });
  const refuses = (change: (model: FrailtyModelFile) => void, message: RegExp) => {
    const model = valid();
    change(model);
    assert.throws(() => compileFrailtyModel(model, 'bad.json'), message);
  };

  it('accepts the valid one', () => {
    assert.equal(compileFrailtyModel(valid(), 'good.json').deficits.length, 2);
  });

  it('names the deficit of a bad field, an unknown list, an unknown eFI deficit, a deficit with no source, a repeated id', () => {
    refuses((m) => (m.deficits[1]!.weight = -1), /frailty model bad\.json, deficit "af" \(deficits\[1\]\.weight\): Too small/);
    refuses((m) => (m.deficits[1]!.codeLists = ['no-such-list']), /frailty model bad\.json, deficit "af": code list "no-such-list": no no-such-list\.csv/);
    refuses((m) => (m.deficits[0]!.efiDeficit = 'fals'), /deficit "falls": efiDeficit "fals" is not a deficit of reference\/efi-deficits\.json/);
    refuses((m) => (m.deficits[0]!.efiDeficit = 'polypharmacy'), /efiDeficit "polypharmacy" has no codes/);
    refuses((m) => delete m.deficits[1]!.codeLists, /deficit "af" \(deficits\[1\]\): a deficit fires from at least one of efiDeficit, codeLists, values or polypharmacy/);
    refuses((m) => (m.deficits[1]!.id = 'falls'), /deficit "falls": a second deficit with this id/);
    refuses((m) => ((m.deficits[1] as Record<string, unknown>).weigth = 1), /deficit "af" \(deficits\[1\]\): Unrecognized key: "weigth"/);
  });

  it('refuses a value rule with two thresholds or none, bands out of order, an unbounded middle band, inexact decimals', () => {
    const rule = { label: 'x', codes: [{ code: EGFR, term: 'eGFR' }], comparator: '<' as const, units: ['mL/min'] };
    refuses((m) => (m.deficits[1]!.values = [{ ...rule, threshold: 60, thresholdBySex: { male: 1, female: 2 } }]), /deficits\[1\]\.values\[0\]\): a value rule has either threshold or thresholdBySex/);
    refuses((m) => (m.deficits[1]!.values = [rule]), /either threshold or thresholdBySex/);
    refuses((m) => (m.bands = [{ category: 'a', atMost: 0.5 }, { category: 'b', atMost: 0.4 }, { category: 'c' }]), /band "b": atMost 0.4 is not above 0.5/);
    refuses((m) => (m.bands = [{ category: 'a' }, { category: 'b' }]), /band "a": every band but the last has atMost/);
    refuses((m) => (m.deficits[0]!.weight = 0.1234567), /deficit "falls": 0.1234567 has more than 6 decimal places/);
  });

  it('names the file on disk', () => {
    assert.throws(() => loadFrailtyModel(new URL('./test-models/malformed.json', import.meta.url)), /frailty model test-models\/malformed\.json, deficit "falls" \(deficits\[0\]\.within\)/);
  });
});
