import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDays, registryToday, spokenDay } from './dates.ts';

test("the registry's today is England's calendar day, in summer time too", () => {
  // 23:30 UTC on 31 March 2027 is 00:30 BST on 1 April: a move dated 1 April is in effect then.
  assert.equal(registryToday(new Date('2027-03-31T23:30:00Z')), '2027-04-01');
  assert.equal(registryToday(new Date('2027-03-31T22:59:59Z')), '2027-03-31');
  // In winter England is on UTC: 23:30 UTC is still the same day.
  assert.equal(registryToday(new Date('2027-01-31T23:30:00Z')), '2027-01-31');
  assert.equal(registryToday(new Date('2027-02-01T00:00:00Z')), '2027-02-01');
});

test("the day kept for a minute turns at England's midnight, not a minute late", () => {
  // Midnight BST on 1 April 2027 is 23:00 UTC: the last second before it and the first second of it, in order.
  assert.equal(registryToday(new Date('2027-03-31T22:59:00Z')), '2027-03-31');
  assert.equal(registryToday(new Date('2027-03-31T22:59:59Z')), '2027-03-31');
  assert.equal(registryToday(new Date('2027-03-31T23:00:00Z')), '2027-04-01');
  assert.equal(registryToday(new Date('2027-03-31T23:00:30Z')), '2027-04-01');
  assert.equal(registryToday(new Date('2027-03-31T22:59:59Z')), '2027-03-31', 'a clock read backwards is answered afresh');
});

test('days are counted across months and leap years, and said as people say them', () => {
  assert.equal(addDays('2028-03-01', -1), '2028-02-29');
  assert.equal(addDays('2027-03-01', -1), '2027-02-28');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(spokenDay('2027-04-01'), '1 April 2027');
});
