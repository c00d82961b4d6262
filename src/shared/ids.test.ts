import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nhsNumberProblem, normalisePostcode, odsCodeProblem } from './ids.ts';

test('NHS numbers pass or fail Modulus 11 with a reason a user can act on', () => {
  assert.equal(nhsNumberProblem('943 476 5919'), null);
  assert.equal(nhsNumberProblem('9990000018'), null);
  assert.match(nhsNumberProblem('9434765918') ?? '', /check digit/);
  assert.match(nhsNumberProblem('12345') ?? '', /10 digits/);
  assert.match(nhsNumberProblem('1000000010') ?? '', /never be valid|check digit/);
});

test('ODS codes are checked against the shape of their kind', () => {
  assert.equal(odsCodeProblem('D82001', 'practice'), null);
  assert.equal(odsCodeProblem('U12345', 'pcn'), null);
  assert.equal(odsCodeProblem('QMM', 'icb'), null);
  assert.equal(odsCodeProblem('RM1', 'trust'), null);
  assert.equal(odsCodeProblem('FA123', 'pharmacy'), null);
  assert.match(odsCodeProblem('D8200', 'practice') ?? '', /1 letter and 5 digits/);
  assert.match(odsCodeProblem('X12345', 'pcn') ?? '', /U and 5 digits/);
});

test('postcodes are normalised, and nonsense is refused', () => {
  assert.equal(normalisePostcode('nr13sr'), 'NR1 3SR');
  assert.equal(normalisePostcode(' NR32 1PL '), 'NR32 1PL');
  assert.equal(normalisePostcode('NOT A CODE'), null);
});
