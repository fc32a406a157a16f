import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaselineScorer, GUARD_SCORE } from '../../../src/analysis/scorer.js';
import { mulberry32 } from '../../../src/analysis/index.js';

/** A baseline of 2,000 rows: f0 uniform 0..10, f1 always 0, f2 (a rate, in no forest) 10..50, f3 (upper-only, in the forest) 0..100. */
function scorer(): BaselineScorer {
  const rng = mulberry32(11);
  const s = new BaselineScorer({
    names: ['f0', 'f1', 'f2', 'f3'],
    groups: [[0, 1, 3]],
    baselineSize: 2000,
    rng: mulberry32(1),
    contamination: 0.001,
    topFeatures: 2,
    upperOnly: [2, 3],
    slack: [1, 1, 4, 1],
    tolerance: [-1, 2.5, 1, -1],
  });
  const rows = new Float64Array(2000 * 4);
  for (let r = 0; r < 2000; r++) rows.set([10 * rng(), 0, 10 + 40 * rng(), 100 * rng()], r * 4);
  s.learnFrom(rows, 2000);
  return s;
}

function score(s: BaselineScorer, v: number[]): { score: number; group: number; over: boolean } {
  const scores = new Float64Array(1);
  const decided = new Int32Array(1);
  s.scoreRows(Float64Array.from(v), 0, 1, scores, decided);
  return { score: scores[0]!, group: decided[0]!, over: scores[0]! > s.threshold(decided[0]!) };
}

test('a feature constant over the baseline is guarded: a change beyond its tolerance scores 1 and is explained by it', () => {
  const s = scorer();
  assert.deepEqual(s.guardedFeatures, ['f1', 'f2']);
  assert.equal(score(s, [5, 2, 20, 50]).over, false, 'within the tolerance');
  const off = score(s, [5, 3, 20, 50]);
  assert.deepEqual([off.score, off.over], [GUARD_SCORE, true]);
  const why = s.explain(Float64Array.from([5, 3, 20, 50]), off.group);
  assert.equal(why[0]!.name, 'f1');
  assert.equal(why[0]!.share, 1);
});

test('a rate in no forest is judged by its level: within slack x the baseline largest it passes, beyond it is flagged', () => {
  const s = scorer();
  assert.equal(score(s, [5, 0, 150, 50]).over, false, 'three times the largest: a burst');
  const flood = score(s, [5, 0, 5000, 50]);
  assert.equal(flood.over, true);
  assert.equal(s.explain(Float64Array.from([5, 0, 5000, 50]), flood.group)[0]!.name, 'f2');
});

test('upper-only features are floored at the baseline median: low values are never out of range, high ones are', () => {
  const s = scorer();
  const low = score(s, [5, 0, 20, -1000]);
  const median = score(s, [5, 0, 20, 0]); // below the median too
  assert.equal(low.score, median.score, 'both floored to the median');
  assert.equal(low.over, false);
  assert.equal(score(s, [5, 0, 20, 10_000]).over, true);
  assert.equal(score(s, [-1000, 0, 20, 50]).over, true, 'a two-sided feature still is out of range below');
});
