import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageOn } from './facts.ts';
import { codeList, codesOf } from './index.ts';

describe('published code lists', () => {
  it('reads each file shape through one loader: `code`, `id` and `dmd_id` columns, and headerless tab-separated GM-SDE files', () => {
    assert.ok(codeList('pcd-afib_cod').codes.has('49436004'), 'atrial fibrillation (code,term)');
    assert.ok(codeList('pincer-nsaid').codes.size > 1000, 'NSAIDs (id,term)');
    assert.equal(codeList('antipsychotics-first-gen').codes.size, 553, 'first-generation antipsychotics (dmd_type,dmd_id,…)');
    const bisphosphonates = codeList('gmsde-bisphosphonates');
    assert.equal(bisphosphonates.codes.size, 669);
    assert.match(bisphosphonates.terms.values().next().value ?? '', /\w/, 'the term beside each code');
    assert.equal(codeList('gmsde-dementia-care-plan').codes.size, 22, 'a code listed twice counts once');
  });

  it('keeps lists apart: a code of one list is not in another, and a union holds both', () => {
    const doac = codeList('doac');
    const warfarin = codeList('warfarin');
    const aDoac = [...doac.codes][0]!;
    assert.ok(!warfarin.codes.has(aDoac));
    const both = codesOf(['doac', 'warfarin']);
    assert.equal(both.size, new Set([...doac.codes, ...warfarin.codes]).size);
  });

  it('refuses an unknown list by name', () => {
    assert.throws(() => codeList('no-such-list'), /code list "no-such-list": no no-such-list\.csv or no-such-list\.txt/);
    assert.throws(() => codeList('../package'), /not a code list name/);
  });
});

describe('ageOn', () => {
  it('counts the birthday itself as the new year, the day before as the old', () => {
    assert.equal(ageOn('1961-12-04', '2026-12-04'), 65);
    assert.equal(ageOn('1961-12-04', '2026-12-03'), 64);
    assert.equal(ageOn('1960-02-29', '2025-02-28'), 64);
    assert.equal(ageOn('1960-02-29', '2025-03-01'), 65);
  });
});
