/**
 * Isolation Forest, after Liu, Ting and Zhou, "Isolation Forest", ICDM 2008 (and the TKDD 2012
 * version). Anomalies are few and different, so random axis-parallel splits isolate them in fewer
 * steps: each tree is grown on a subsample of psi vectors (Algorithm 2, iTree) up to a height limit
 * l = ceil(log2 psi); the path length h(x) counts the edges to the leaf plus c(size) for the
 * unbuilt subtree below a leaf that holds more than one vector (Algorithm 3), and the score is
 * s(x) = 2^(-E(h(x)) / c(psi)) (Equation 2): near 1 for anomalies, at or below 0.5 for the rest.
 *
 * Trees live in flat typed arrays (feature index, threshold, first-child index, node size), one
 * block of 2^(l+1)-1 nodes per tree, so scoring is a tight loop over numbers without objects.
 * Randomness comes from the Rng passed in: the same seed grows the same forest.
 */
import { WirelabError } from '../common/errors.js';
import { DEFAULT_SAMPLE_SIZE, DEFAULT_TREES, MAX_TRAINING_ROWS } from './constants.js';
import { randomInt, type Rng } from './prng.js';

const EULER_GAMMA = 0.5772156649;
/** Bytes per node in the interleaved node buffer. */
const NODE_BYTES = 16;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n keys
 * (Equation 1 of the paper), used to normalise path lengths and to extend leaves of size n.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  /** the random source (e.g. mulberry32(seed)) */
  rng: Rng;
  /** number of trees t (default 100) */
  trees?: number;
  /** subsample size psi (default 256; lowered to the number of rows when fewer) */
  sampleSize?: number;
  /**
   * How to score a value outside the training range of a split node (default 'paper'):
   * 'paper' follows it to the side of the nearest training points, as the paper does, so a value
   * far past the baseline scores no higher than the baseline's own extreme; 'isolate' counts it as
   * isolated at that node with the probability it would have been, had it been in the subsample
   * (the split point is uniform over the range widened to include it): see docs/anomaly.md.
   */
  outOfRange?: 'paper' | 'isolate';
}

/** Rows of `dims` numbers laid out one after another in `data`. */
export interface Matrix {
  data: Float64Array;
  rows: number;
  dims: number;
}

function checkMatrix(m: Matrix): void {
  if (!Number.isInteger(m.dims) || m.dims < 1 || m.dims > 1024)
    throw new WirelabError('E_CONFIG', `dims must be 1..1024, got ${m.dims}`);
  if (!Number.isInteger(m.rows) || m.rows < 2 || m.rows > MAX_TRAINING_ROWS) {
    throw new WirelabError('E_CONFIG', `training rows must be 2..${MAX_TRAINING_ROWS}, got ${m.rows}`);
  }
  if (m.data.length < m.rows * m.dims)
    throw new WirelabError('E_CONFIG', `data holds ${m.data.length} numbers, need ${m.rows * m.dims}`);
}

export class IsolationForest {
  /**
   * Nodes, 16 bytes each, interleaved: as a double [2n] the split value (go left when x <= value;
   * +Infinity in a leaf, so that x stays); as int32 [4n+2] the split feature (0 in a leaf) and
   * [4n+3] the left child (the right one is left + 1; a leaf points at itself). Leaves that loop on
   * themselves let every walk take exactly heightLimit steps with no branch on the data: the
   * comparisons are coin flips a CPU cannot predict, and with a fixed trip count it can overlap the
   * walks of several trees. Compact nodes keep a 100-tree forest within the L2 cache.
   */
  private readonly num: Float64Array;
  private readonly int: Int32Array;
  /** per node: in a leaf its whole path length, depth + c(size) */
  private readonly leaf: Float64Array;
  /** per node, [2n, 2n+1]: range [lo, hi] of the split feature over the node's training vectors (a leaf: -Inf, +Inf) */
  private readonly range: Float64Array;
  /** training vectors that reached the node (used by explain() only) */
  private readonly size: Int32Array;
  private readonly nodesPerTree: number;
  /** c(psi): the normaliser of Equation 2 */
  private readonly norm: number;
  private next = 0;

  private constructor(
    readonly dims: number,
    readonly trees: number,
    readonly sampleSize: number,
    readonly heightLimit: number,
    readonly outOfRange: 'paper' | 'isolate',
  ) {
    this.nodesPerTree = 2 ** (heightLimit + 1) - 1;
    const total = this.nodesPerTree * trees;
    const buffer = new ArrayBuffer(total * NODE_BYTES);
    this.num = new Float64Array(buffer);
    this.int = new Int32Array(buffer);
    this.leaf = new Float64Array(total);
    this.range = new Float64Array(2 * total);
    this.size = new Int32Array(total);
    this.norm = averagePathLength(sampleSize);
  }

  /** Grow a forest on `m` (Algorithm 1). */
  static fit(m: Matrix, options: IsolationForestOptions): IsolationForest {
    checkMatrix(m);
    const trees = options.trees ?? DEFAULT_TREES;
    if (!Number.isInteger(trees) || trees < 1 || trees > 10_000)
      throw new WirelabError('E_CONFIG', `trees must be 1..10000, got ${trees}`);
    const wanted = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
    if (!Number.isInteger(wanted) || wanted < 2 || wanted > 65_536) {
      throw new WirelabError('E_CONFIG', `sampleSize must be 2..65536, got ${wanted}`);
    }
    const psi = Math.min(wanted, m.rows);
    const forest = new IsolationForest(
      m.dims,
      trees,
      psi,
      Math.ceil(Math.log2(psi)),
      options.outOfRange ?? 'paper',
    );
    const all = Int32Array.from({ length: m.rows }, (_, i) => i);
    const sample = new Int32Array(psi);
    for (let t = 0; t < trees; t++) {
      subsample(all, sample, options.rng);
      const root = t * forest.nodesPerTree;
      forest.next = root + 1;
      forest.grow(root, m, sample, 0, psi, 0, options.rng);
    }
    return forest;
  }

  /** E(h(x)): the mean path length of `x` (dims numbers from `offset`) over the trees. */
  pathLength(x: ArrayLike<number>, offset = 0): number {
    if (this.outOfRange === 'isolate') return this.pathLengthIsolating(x, offset);
    const { num, int, leaf, heightLimit, nodesPerTree } = this;
    let total = 0;
    let t = 0;
    // Four trees at a time: four independent walks in flight.
    for (; t + 4 <= this.trees; t += 4) {
      let a = t * nodesPerTree;
      let b = a + nodesPerTree;
      let c = b + nodesPerTree;
      let d = c + nodesPerTree;
      for (let k = 0; k < heightLimit; k++) {
        a = int[4 * a + 3]! + +(x[offset + int[4 * a + 2]!]! > num[2 * a]!);
        b = int[4 * b + 3]! + +(x[offset + int[4 * b + 2]!]! > num[2 * b]!);
        c = int[4 * c + 3]! + +(x[offset + int[4 * c + 2]!]! > num[2 * c]!);
        d = int[4 * d + 3]! + +(x[offset + int[4 * d + 2]!]! > num[2 * d]!);
      }
      total += leaf[a]! + leaf[b]! + leaf[c]! + leaf[d]!;
    }
    for (; t < this.trees; t++) {
      let node = t * nodesPerTree;
      for (let k = 0; k < heightLimit; k++)
        node = int[4 * node + 3]! + +(x[offset + int[4 * node + 2]!]! > num[2 * node]!);
      total += leaf[node]!;
    }
    return total / this.trees;
  }

  /**
   * Path length where, at a node whose training range on the split feature is [lo, hi], a value v
   * outside it ends the path there (length depth + 1) with probability (v - hi) / (v - lo) above
   * or (lo - v) / (hi - v) below: the chance that a split point drawn uniformly over the widened
   * range falls between v and the training vectors. The rest of the probability mass goes on down.
   */
  private pathLengthIsolating(x: ArrayLike<number>, offset: number): number {
    let total = 0;
    let t = 0;
    for (; t + 4 <= this.trees; t += 4) total += this.fourIsolating(x, offset, t);
    for (; t < this.trees; t++) total += this.oneIsolating(x, offset, t);
    return total / this.trees;
  }

  /** Sum of the path lengths in trees t .. t+3, walked together (as in pathLength()). */
  private fourIsolating(x: ArrayLike<number>, offset: number, t: number): number {
    const { num, int, leaf, range, heightLimit, nodesPerTree } = this;
    let a = t * nodesPerTree;
    let aliveA = 1;
    let expA = 0;
    let b = a + nodesPerTree;
    let aliveB = 1;
    let expB = 0;
    let c = b + nodesPerTree;
    let aliveC = 1;
    let expC = 0;
    let d = c + nodesPerTree;
    let aliveD = 1;
    let expD = 0;
    for (let k = 0; k < heightLimit; k++) {
      const va = x[offset + int[4 * a + 2]!]!;
      if (va > range[2 * a + 1]! || va < range[2 * a]!) {
        const p = outsideProbability(va, range[2 * a]!, range[2 * a + 1]!);
        expA += aliveA * p * (k + 1);
        aliveA *= 1 - p;
      }
      a = int[4 * a + 3]! + +(va > num[2 * a]!);
      const vb = x[offset + int[4 * b + 2]!]!;
      if (vb > range[2 * b + 1]! || vb < range[2 * b]!) {
        const p = outsideProbability(vb, range[2 * b]!, range[2 * b + 1]!);
        expB += aliveB * p * (k + 1);
        aliveB *= 1 - p;
      }
      b = int[4 * b + 3]! + +(vb > num[2 * b]!);
      const vc = x[offset + int[4 * c + 2]!]!;
      if (vc > range[2 * c + 1]! || vc < range[2 * c]!) {
        const p = outsideProbability(vc, range[2 * c]!, range[2 * c + 1]!);
        expC += aliveC * p * (k + 1);
        aliveC *= 1 - p;
      }
      c = int[4 * c + 3]! + +(vc > num[2 * c]!);
      const vd = x[offset + int[4 * d + 2]!]!;
      if (vd > range[2 * d + 1]! || vd < range[2 * d]!) {
        const p = outsideProbability(vd, range[2 * d]!, range[2 * d + 1]!);
        expD += aliveD * p * (k + 1);
        aliveD *= 1 - p;
      }
      d = int[4 * d + 3]! + +(vd > num[2 * d]!);
    }
    return (
      expA +
      expB +
      expC +
      expD +
      aliveA * leaf[a]! +
      aliveB * leaf[b]! +
      aliveC * leaf[c]! +
      aliveD * leaf[d]!
    );
  }

  private oneIsolating(x: ArrayLike<number>, offset: number, t: number): number {
    const { num, int, leaf, range, heightLimit } = this;
    let node = t * this.nodesPerTree;
    let alive = 1;
    let expected = 0;
    for (let k = 0; k < heightLimit; k++) {
      const v = x[offset + int[4 * node + 2]!]!;
      if (v > range[2 * node + 1]! || v < range[2 * node]!) {
        const p = outsideProbability(v, range[2 * node]!, range[2 * node + 1]!);
        expected += alive * p * (k + 1);
        alive *= 1 - p;
      }
      node = int[4 * node + 3]! + +(v > num[2 * node]!);
    }
    return expected + alive * leaf[node]!;
  }

  /** The anomaly score s(x) in (0, 1]: near 1 anomalous, <= 0.5 ordinary. */
  score(x: ArrayLike<number>, offset = 0): number {
    return 2 ** (-this.pathLength(x, offset) / this.norm);
  }

  /** Scores of every row of `m`, into `out` when given. */
  scoreAll(m: Matrix, out = new Float64Array(m.rows)): Float64Array {
    for (let r = 0; r < m.rows; r++) out[r] = this.score(m.data, r * m.dims);
    return out;
  }

  /**
   * Which features isolated `x`: along x's path in every tree, a split on feature f that narrows
   * the node from n to n' training vectors credits f with log2(n / n') bits of isolation. A vector
   * cut off alone near the root earns many bits from one split; an ordinary one earns about one bit
   * per split, spread over the features. Returned as shares summing to 1 (all 0 if never split).
   */
  explain(x: ArrayLike<number>, offset = 0): Float64Array {
    const bits = new Float64Array(this.dims);
    const { num, int, range, size } = this;
    const isolating = this.outOfRange === 'isolate';
    for (let t = 0; t < this.trees; t++) {
      let node = t * this.nodesPerTree;
      let alive = 1;
      while (int[4 * node + 3] !== node && alive > 1e-6) {
        const f = int[4 * node + 2]!;
        const v = x[offset + f]!;
        const child = int[4 * node + 3]! + +(v > num[2 * node]!);
        // Isolated here (out of range): all log2(n) bits at once; otherwise the narrowing n -> n'.
        const p = isolating ? outsideProbability(v, range[2 * node]!, range[2 * node + 1]!) : 0;
        bits[f]! +=
          alive * (p * Math.log2(size[node]!) + (1 - p) * Math.log2(size[node]! / Math.max(1, size[child]!)));
        alive *= 1 - p;
        node = child;
      }
    }
    let sum = 0;
    for (const b of bits) sum += b;
    if (sum > 0) for (let f = 0; f < this.dims; f++) bits[f]! /= sum;
    return bits;
  }

  /** Algorithm 2 over rows idx[lo, hi), as node `node`; children take the next free pair of slots. */
  private grow(
    node: number,
    m: Matrix,
    idx: Int32Array,
    lo: number,
    hi: number,
    depth: number,
    rng: Rng,
  ): void {
    this.size[node] = hi - lo;
    const split = depth < this.heightLimit && hi - lo > 1 ? chooseSplit(m, idx, lo, hi, rng) : undefined;
    if (split === undefined) {
      this.num[2 * node] = Number.POSITIVE_INFINITY;
      this.int[4 * node + 2] = 0;
      this.int[4 * node + 3] = node;
      this.leaf[node] = depth + averagePathLength(hi - lo);
      this.range[2 * node] = Number.NEGATIVE_INFINITY;
      this.range[2 * node + 1] = Number.POSITIVE_INFINITY;
      return;
    }
    const mid = partition(m, idx, lo, hi, split.feature, split.value);
    this.num[2 * node] = split.value;
    this.int[4 * node + 2] = split.feature;
    this.range[2 * node] = split.min;
    this.range[2 * node + 1] = split.max;
    // Children take two consecutive slots so that the right one is always left + 1; a tree of
    // height l has at most 2^(l+1) - 1 nodes, the block reserved for it.
    const first = this.next;
    this.next += 2;
    this.int[4 * node + 3] = first;
    this.grow(first, m, idx, lo, mid, depth + 1, rng);
    this.grow(first + 1, m, idx, mid, hi, depth + 1, rng);
  }
}

interface Split {
  feature: number;
  value: number;
  /** range of the feature over the node's rows */
  min: number;
  max: number;
}

/** The probability that v, outside [lo, hi], would be cut off alone by a split drawn over the widened range. */
function outsideProbability(v: number, lo: number, hi: number): number {
  let p = 0;
  if (v > hi) p = (v - hi) / (v - lo);
  else if (v < lo) p = (lo - v) / (hi - v);
  return p <= 1 ? p : 1; // an infinite v gives NaN: isolated for sure
}

/** Partial Fisher-Yates: the first psi entries of `all` become a uniform sample without replacement. */
function subsample(all: Int32Array, sample: Int32Array, rng: Rng): void {
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
function chooseSplit(m: Matrix, idx: Int32Array, lo: number, hi: number, rng: Rng): Split | undefined {
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
function partition(m: Matrix, idx: Int32Array, lo: number, hi: number, f: number, value: number): number {
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
