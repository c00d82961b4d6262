import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileVocabulary, hitsOf, indexPatient, monthsAfter, readingMeets, vocabulary, withinMonths } from './rule-data.ts';
import { AS_OF, codeFor, condition, observation, patient, ruleJson } from './test-patients.ts';

describe('calendar months', () => {
  it('counts whole months forward to the day an entry stops counting, a day past the month end landing on its last day', () => {
    assert.equal(monthsAfter('2025-12-04', 12), '2026-12-04');
    assert.equal(monthsAfter('2026-01-31', 1), '2026-02-28');
    assert.equal(monthsAfter('2024-02-29', 12), '2025-02-28');
    assert.equal(monthsAfter('2023-03-31', 11), '2024-02-29');
  });

  it('"within 12 months" is after as-of − 12 months and on or before as-of', () => {
    assert.equal(withinMonths('2025-12-05', AS_OF, 12), true);
    assert.equal(withinMonths('2025-12-04', AS_OF, 12), false);
    assert.equal(withinMonths(AS_OF, AS_OF, 12), true);
    assert.equal(withinMonths('2026-12-05', AS_OF, 12), false);
  });
});

describe('a reading against a threshold', () => {
  const egfr = vocabulary().observations.get('egfr')!;
  const reading = (...values: { value: number; comparator?: '<' | '<=' | '>' | '>='; unit?: string }[]) => ({
    date: '2026-10-01',
    hits: values.map((value) => ({ entry: observation('1011481000000105', '2026-10-01', value), code: '1011481000000105', value })),
  });

  it('meets when any value that day does; a comparator is decided only when its whole range falls on one side', () => {
    assert.equal(readingMeets(egfr, reading({ value: 29 }), '<', 30).truth, true);
    assert.equal(readingMeets(egfr, reading({ value: 30 }), '<', 30).truth, false);
    assert.equal(readingMeets(egfr, reading({ value: 30, comparator: '<' }), '<', 30).truth, true);
    assert.equal(readingMeets(egfr, reading({ value: 90, comparator: '>' }), '<', 30).truth, false);
    assert.equal(readingMeets(egfr, reading({ value: 30, comparator: '<=' }), '<', 30).truth, 'unknown');
    assert.equal(readingMeets(egfr, reading({ value: 30, comparator: '<=' }, { value: 25 }), '<', 30).truth, true, 'another value that day decides');
  });

  it('reads a value without a unit in the observation unit and refuses a foreign one', () => {
    assert.equal(readingMeets(egfr, reading({ value: 25 }), '<', 30).truth, true);
    const foreign = readingMeets(egfr, reading({ value: 25, unit: 'mmol/L' }), '<', 30);
    assert.equal(foreign.truth, 'unknown');
    assert.match(foreign.why ?? '', /eGFR on 2026-10-01: a value in mmol\/L/);
  });
});

describe('the vocabulary', () => {
  const definitions = ruleJson('definitions.json') as Record<string, Record<string, Record<string, unknown>>>;
  const additions = ruleJson('codelist-additions.json') as { additions: Record<string, Record<string, unknown>> };

  it('compiles the shipped files: term filters drop the forms a class must not hold', () => {
    const words = vocabulary();
    assert.ok(!words.medicines.get('nsaid')!.terms.has(codeFor('pincer-nsaid', /eye drops/)));
    assert.ok(!words.medicines.get('gastroprotection')!.terms.has(codeFor('pincer-ppi', /injection/)));
    assert.ok(words.medicines.get('gastroprotection')!.terms.has(codeFor('pincer-ppi', /^Esomeprazole 20mg gastro-resistant capsules$/)));
    assert.ok(!words.registers.get('careHomeResident')!.diagnoses.terms.has(codeFor('pcd-carehome_cod', /^Seen in nursing home$/)));
    assert.ok(!words.registers.get('careHomeResident')!.diagnoses.terms.has(codeFor('primis-longres', /hospice/)));
  });

  it('refuses a definition naming an unknown list, a filter leaving no codes, or an empty addition that does not say why', () => {
    const unknownList = structuredClone(definitions);
    unknownList.medicines!.nsaid!.lists = ['pincer-nsaids'];
    assert.throws(
      () => compileVocabulary(unknownList, 'rules/definitions.json', additions, 'rules/codelist-additions.json'),
      /rule vocabulary rules\/definitions\.json, entry "medicines\.nsaid": code list "pincer-nsaids"/,
    );
    const emptied = structuredClone(definitions);
    emptied.medicines!.nsaid!.excludeTerms = '.';
    assert.throws(() => compileVocabulary(emptied, 'rules/definitions.json', additions, 'rules/codelist-additions.json'), /entry "medicines\.nsaid": no codes left/);
    const silent = structuredClone(additions);
    delete silent.additions['smi-physical-health-check']!.notFound;
    assert.throws(
      () => compileVocabulary(definitions, 'rules/definitions.json', silent, 'rules/codelist-additions.json'),
      /code list additions rules\/codelist-additions\.json \(additions\.smi-physical-health-check\): has no codes and does not say why/,
    );
  });

  it('indexes a patient once, leaving out entries after the as-of date, without a date, or entered in error', () => {
    const af = codeFor('pcd-afib_cod', /^Atrial fibrillation$/);
    const { date: _, ...undated } = condition(af, AS_OF);
    const facts = patient([condition(af, '2020-01-01'), condition(af, '2026-12-05'), condition(af, '2021-01-01', 'void'), undated]);
    const index = indexPatient(facts, AS_OF);
    const set = vocabulary().registers.get('atrialFibrillation')!.diagnoses;
    assert.deepEqual(
      hitsOf(index, set).map((hit) => hit.entry.date),
      ['2020-01-01'],
    );
    assert.equal(indexPatient(facts, AS_OF), index, 'the same facts and date give the same index');
    const later = indexPatient(facts, '2026-12-05');
    assert.deepEqual(
      hitsOf(later, set).map((hit) => hit.entry.date),
      ['2020-01-01', '2026-12-05'],
      'another as-of date is indexed again',
    );
    const other = patient([]);
    assert.equal(hitsOf(indexPatient(other, AS_OF), set).length, 0, 'another patient is indexed again');
  });
});
