import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest, averagePathLength, type Matrix } from '../../../src/analysis/iforest.js';
import { mulberry32, type Rng } from '../../../src/analysis/prng.js';
import { WirelabError } from '../../../src/common/errors.js';

/** Standard normal by Box-Muller. */
function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * A 2-D Gaussian blob of `n` points followed by `outliers` points on a circle of radius 10, off the
 * axes (axis-parallel splits isolate a point that is extreme on one axis alone less well: a known
 * limit of Isolation Forest, see docs/anomaly.md).
 */
function blobWithOutliers(n: number, outliers: number, seed: number): Matrix {
  const rng = mulberry32(seed);
  const dims = 2;
  const data = new Float64Array((n + outliers) * dims);
  for (let i = 0; i < n; i++) {
    data[i * dims] = gaussian(rng);
    data[i * dims + 1] = gaussian(rng);
  }
  for (let k = 0; k < outliers; k++) {
    const angle = (2 * Math.PI * (k + 0.5)) / outliers;
    data[(n + k) * dims] = 10 * Math.cos(angle);
    data[(n + k) * dims + 1] = 10 * Math.sin(angle);
  }
  return { data, rows: n + outliers, dims };
}

test('c(n) follows Equation 1 of the paper', () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  // c(256) = 2 (ln 255 + 0.5772156649) - 2 * 255 / 256
  assert.ok(
    Math.abs(averagePathLength(256) - (2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256)) < 1e-12,
  );
  assert.ok(Math.abs(averagePathLength(256) - 10.2448) < 1e-3);
});

test('far points score highest; the blob centre scores about 0.5 or less', () => {
  const m = blobWithOutliers(2000, 8, 7);
  const forest = IsolationForest.fit(m, { rng: mulberry32(1) });
  assert.equal(forest.trees, 100);
  assert.equal(forest.sampleSize, 256);
  assert.equal(forest.heightLimit, 8);
  const scores = forest.scoreAll(m);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  const top = new Set(order.slice(0, 8));
  for (let k = 2000; k < 2008; k++) assert.ok(top.has(k), `outlier ${k} in the top 8 (score ${scores[k]})`);
  for (let k = 2000; k < 2008; k++) assert.ok(scores[k]! > 0.7, `outlier score ${scores[k]}`);
  assert.ok(forest.score([0, 0]) <= 0.5, `centre score ${forest.score([0, 0])}`);
  let mean = 0;
  for (let i = 0; i < 2000; i++) mean += scores[i]!;
  mean /= 2000;
  assert.ok(mean < 0.5, `mean inlier score ${mean}`);
});

test('the same seed grows the same forest; another seed a different one', () => {
  const m = blobWithOutliers(500, 3, 3);
  const a = IsolationForest.fit(m, { rng: mulberry32(42) }).scoreAll(m);
  const b = IsolationForest.fit(m, { rng: mulberry32(42) }).scoreAll(m);
  const c = IsolationForest.fit(m, { rng: mulberry32(43) }).scoreAll(m);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('explain() credits the feature on which a point is far out', () => {
  const m = blobWithOutliers(1000, 0, 5);
  const forest = IsolationForest.fit(m, { rng: mulberry32(9) });
  const farOnX = forest.explain([12, 0]);
  const farOnY = forest.explain([0, -12]);
  assert.ok(farOnX[0]! > 0.7, `x share ${farOnX[0]}`);
  assert.ok(farOnY[1]! > 0.7, `y share ${farOnY[1]}`);
  assert.ok(Math.abs(farOnX[0]! + farOnX[1]! - 1) < 1e-9);
});

test('constant features and tiny inputs still give a usable forest', () => {
  const data = new Float64Array([1, 5, 1, 5, 1, 5, 1, 9]);
  const forest = IsolationForest.fit({ data, rows: 4, dims: 2 }, { rng: mulberry32(1), trees: 10 });
  assert.equal(forest.sampleSize, 4);
  assert.ok(forest.score([1, 9]) > forest.score([1, 5]));
  assert.ok(Number.isFinite(forest.score([Number.NaN, Number.POSITIVE_INFINITY])));
});

test('bad shapes are typed errors', () => {
  const rng = mulberry32(1);
  assert.throws(
    () => IsolationForest.fit({ data: new Float64Array(2), rows: 1, dims: 2 }, { rng }),
    WirelabError,
  );
  assert.throws(
    () => IsolationForest.fit({ data: new Float64Array(4), rows: 4, dims: 2 }, { rng }),
    WirelabError,
  );
  assert.throws(
    () => IsolationForest.fit({ data: new Float64Array(8), rows: 4, dims: 2 }, { rng, trees: 0 }),
    WirelabError,
  );
  assert.throws(
    () => IsolationForest.fit({ data: new Float64Array(8), rows: 4, dims: 2 }, { rng, sampleSize: 1 }),
    WirelabError,
  );
});

test('out-of-bag scores of the training rows are what new rows like them get: higher than in-sample ones', () => {
  const train = blobWithOutliers(2000, 0, 21);
  const fresh = blobWithOutliers(2000, 0, 22);
  const forest = IsolationForest.fit(train, { rng: mulberry32(5), outOfRange: 'isolate' });
  const mean = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const inSample = mean(forest.scoreAll(train));
  const outOfBag = mean(forest.outOfBagScores(train));
  const onFresh = mean(forest.scoreAll(fresh));
  assert.ok(outOfBag > inSample, `out-of-bag ${outOfBag} > in-sample ${inSample}`);
  assert.ok(Math.abs(outOfBag - onFresh) < Math.abs(inSample - onFresh), `out-of-bag ${outOfBag}, fresh ${onFresh}, in-sample ${inSample}`);
  // rows no fewer than psi: every row is in every subsample, the in-sample score is all there is
  const small = blobWithOutliers(100, 0, 23);
  const all = IsolationForest.fit(small, { rng: mulberry32(6), sampleSize: 256 });
  assert.deepEqual(all.outOfBagScores(small), all.scoreAll(small));
});
