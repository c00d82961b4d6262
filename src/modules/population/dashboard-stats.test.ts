import assert from 'node:assert/strict';
import { test } from 'node:test';
import { funnelLimits, funnelPosition, suppressOne, suppressTable, wilsonInterval } from './dashboard-stats.ts';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

test('the Wilson score interval reproduces Newcombe 1998 (Stat Med 17:857, table II, method 3) to four places', () => {
  const published: Array<[number, number, number, number]> = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [events, trials, lower, upper] of published) {
    const interval = wilsonInterval(events, trials);
    assert.deepEqual([round4(interval.lower), round4(interval.upper)], [lower, upper], `${events}/${trials}`);
  }
  // Not the Wald interval p ± 1.96·se, which for 1/29 would go below zero.
  assert.notEqual(round4(wilsonInterval(1, 29).lower), round4(1 / 29 - 1.96 * Math.sqrt(((1 / 29) * (28 / 29)) / 29)));
});

test('the Wilson interval is exactly [x, 1] at n of n, and refuses impossible counts', () => {
  const all = wilsonInterval(29, 29);
  assert.equal(all.upper, 1);
  assert.equal(round4(1 - wilsonInterval(0, 29).upper), round4(all.lower), 'symmetric with 0 of 29');
  assert.throws(() => wilsonInterval(5, 4), /0 ≤ events ≤ trials/);
  assert.throws(() => wilsonInterval(0, 0), /trials > 0/);
});

test('funnel limits: 20 % target, 100 cases → 95 % 12.16–27.84 %, 99.8 % 7.64–32.36 %; narrower with more cases', () => {
  const { inner, outer } = funnelLimits(0.2, 100);
  assert.deepEqual([round4(inner.lower), round4(inner.upper)], [0.1216, 0.2784]);
  assert.deepEqual([round4(outer.lower), round4(outer.upper)], [0.0764, 0.3236]);
  const wide = funnelLimits(0.2, 400);
  assert.deepEqual([round4(wide.inner.lower), round4(wide.inner.upper)], [0.1608, 0.2392]);
  assert.equal(funnelLimits(0.02, 10).outer.lower, 0, 'clipped at 0');
  assert.equal(funnelPosition(0.2, funnelLimits(0.2, 100)), 'within');
  assert.equal(funnelPosition(0.3, funnelLimits(0.2, 100)), 'warning');
  assert.equal(funnelPosition(0.33, funnelLimits(0.2, 100)), 'alarm');
});

test('counts of 1 to 4 are suppressed, 0 and 5 are shown', () => {
  assert.deepEqual([0, 1, 4, 5, 120].map(suppressOne), [0, null, null, 5, 120]);
});

test('secondary suppression: a lone suppressed count takes the next smallest of its row and column with it', () => {
  // Two practices × four frailty bands; practice A has 4 severe.
  const table = suppressTable([
    [40, 20, 9, 4],
    [50, 30, 12, 7],
  ]);
  assert.deepEqual(table, [
    [40, 20, null, null],
    [50, 30, null, null],
  ]);
  // Whatever is shown, the hidden cells of each row and column are at least two, so none is the total minus the rest.
  for (const line of [...table, ...[0, 1, 2, 3].map((c) => table.map((row) => row[c]))]) {
    assert.notEqual(line.filter((n) => n === null).length, 1);
  }
});

test('secondary suppression leaves a table with no small count alone, and hides a zero before a larger count', () => {
  assert.deepEqual(suppressTable([[40, 5, 9]]), [[40, 5, 9]]);
  assert.deepEqual(suppressTable([[40, 0, 3, 9]]), [[40, null, null, 9]]);
});
