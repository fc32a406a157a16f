/**
 * Growing an iTree (Liu, Ting, Zhou 2008, Algorithm 2): the random subsample of each tree, and the
 * random split of a node with the partition of its rows. Randomness comes from the Rng passed in.
 */
import type { Matrix } from './iforest.js';
import { randomInt, type Rng } from './prng.js';

export interface Split {
  feature: number;
  value: number;
  /** range of the feature over the node's rows */
  min: number;
  max: number;
}

/** Partial Fisher-Yates: the first psi entries of `all` become a uniform sample without replacement. */
export function subsample(all: Int32Array, sample: Int32Array, rng: Rng): void {
  for (let i = 0; i < sample.length; i++) {
    const j = i + randomInt(rng, all.length - i);
    const tmp = all[i]!;
    all[i] = all[j]!;
    all[j] = tmp;
    sample[i] = all[i]!;
  }
}

/**
 * A random feature and a split value drawn uniformly in [min, max) of that feature over the node's
 * rows. A feature that is constant there cannot split, so the next one is tried; when every feature
 * is constant the node becomes a leaf (undefined), as the paper's |X| = 1 case generalised.
 */
export function chooseSplit(m: Matrix, idx: Int32Array, lo: number, hi: number, rng: Rng): Split | undefined {
  const start = randomInt(rng, m.dims);
  for (let k = 0; k < m.dims; k++) {
    const f = (start + k) % m.dims;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = lo; i < hi; i++) {
      const v = m.data[idx[i]! * m.dims + f]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max > min) {
      const value = min + rng() * (max - min);
      // x <= value goes left: the minimum always goes left, the maximum right, so neither side is empty.
      return { feature: f, value: value < max ? value : min, min, max };
    }
  }
  return undefined;
}

/** Rows with x[f] <= value first; returns the index of the first row of the right part. */
export function partition(m: Matrix, idx: Int32Array, lo: number, hi: number, f: number, value: number): number {
  let i = lo;
  let j = hi - 1;
  while (i <= j) {
    if (m.data[idx[i]! * m.dims + f]! <= value) {
      i++;
    } else {
      const tmp = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = tmp;
      j--;
    }
  }
  return i;
}
