/**
 * Isolation Forest, after Liu, Ting and Zhou, "Isolation Forest", ICDM 2008 (and the TKDD 2012
 * version). Anomalies are few and different, so random axis-parallel splits isolate them in fewer
 * steps: each tree is grown on a subsample of psi vectors (Algorithm 2, iTree) up to a height limit
 * l = ceil(log2 psi); the path length h(x) counts the edges to the leaf plus c(size) for the
 * unbuilt subtree below a leaf that holds more than one vector (Algorithm 3), and the score is
 * s(x) = 2^(-E(h(x)) / c(psi)) (Equation 2): near 1 for anomalies, at or below 0.5 for the rest.
 *
 * Trees live in flat typed arrays (split value and range, feature index, first-child index, node
 * size), one block of 2^(l+1)-1 nodes per tree, so scoring is a tight loop over numbers without
 * objects, and batches are scored tree by tree (scoreBatch) to keep each tree in the cache.
 * Randomness comes from the Rng passed in: the same seed grows the same forest.
 */
import { WirelabError } from '../common/errors.js';
import { DEFAULT_SAMPLE_SIZE, DEFAULT_TREES, MAX_TRAINING_ROWS } from './constants.js';
import type { Rng } from './prng.js';
import { chooseSplit, partition, subsample } from './itree-split.js';

const EULER_GAMMA = 0.5772156649;
/** Bytes per node: three doubles (split value, training range lo and hi) and two int32. */
const NODE_BYTES = 32;
/** Vectors walked together through one tree by scoreBatch() (their rows stay in L1 with the tree). */
const BATCH_ROWS = 256;

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
   * Nodes, 32 bytes each, interleaved so that one visit touches one cache line: as doubles, [4n] the
   * split value (go left when x <= value; +Infinity in a leaf, so that x stays), [4n+1] and [4n+2]
   * the range [lo, hi] of the split feature over the node's training vectors (a leaf: -Inf, +Inf);
   * as int32, [8n+6] the split feature (0 in a leaf) and [8n+7] the left child (the right one is
   * left + 1; a leaf points at itself). Leaves that loop on themselves let every walk take exactly
   * heightLimit steps with no branch on the data: the comparisons are coin flips a CPU cannot
   * predict, and with a fixed trip count it can overlap several walks.
   */
  private readonly num: Float64Array;
  private readonly int: Int32Array;
  /** per node: in a leaf its whole path length, depth + c(size) */
  private readonly leaf: Float64Array;
  /** log2 of the number of training vectors that reached the node, at least 0 (used by explain() only) */
  private readonly log2Size: Float64Array;
  private readonly nodesPerTree: number;
  /** per tree, the rows of its subsample (psi each), for outOfBagScores() */
  private samples = new Int32Array(0);
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
    this.log2Size = new Float64Array(total);
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
    forest.samples = new Int32Array(trees * psi);
    for (let t = 0; t < trees; t++) {
      subsample(all, sample, options.rng);
      forest.samples.set(sample, t * psi);
      const root = t * forest.nodesPerTree;
      forest.next = root + 1;
      forest.grow(root, m, sample, 0, psi, 0, options.rng);
    }
    return forest;
  }

  /** E(h(x)): the mean path length of `x` (dims numbers from `offset`) over the trees. */
  pathLength(x: ArrayLike<number>, offset = 0): number {
    const data = x instanceof Float64Array ? x : Float64Array.from(x);
    const isolating = this.outOfRange === 'isolate';
    let total = 0;
    for (let t = 0; t < this.trees; t++) {
      const root = t * this.nodesPerTree;
      total += isolating ? this.walkIsolating(data, offset, root) : this.walk(data, offset, root);
    }
    return total / this.trees;
  }

  /** The anomaly score s(x) in (0, 1]: near 1 anomalous, <= 0.5 ordinary. */
  score(x: ArrayLike<number>, offset = 0): number {
    return 2 ** (-this.pathLength(x, offset) / this.norm);
  }

  /** Scores of every row of `m`, into `out` when given (the same numbers as score() row by row). */
  scoreAll(m: Matrix, out = new Float64Array(m.rows)): Float64Array {
    return this.scoreBatch(m.data, m.rows, m.dims, out);
  }

  /**
   * Scores of `rows` vectors of this forest's dims, `stride` numbers apart in `data`, into `out`.
   * Tree by tree over blocks of BATCH_ROWS vectors: a tree (at most 16 kB of nodes at psi 256) stays
   * in the L1 cache while every vector of the block walks it, rather than the whole forest (1.6 MB)
   * streaming through the cache for each vector. Per vector, trees are summed in the same order as
   * in score(), so the results are the same to the bit.
   */
  scoreBatch(data: Float64Array, rows: number, stride: number, out: Float64Array): Float64Array {
    if (stride < this.dims || data.length < (rows - 1) * stride + this.dims || out.length < rows)
      throw new WirelabError('E_CONFIG', `scoreBatch: ${rows} rows of stride ${stride} do not fit`);
    const isolating = this.outOfRange === 'isolate';
    for (let first = 0; first < rows; first += BATCH_ROWS) {
      const last = Math.min(rows, first + BATCH_ROWS);
      out.fill(0, first, last);
      for (let t = 0; t < this.trees; t++) {
        const root = t * this.nodesPerTree;
        let r = first;
        if (isolating) for (; r + 4 <= last; r += 4) this.fourIsolating(data, r, stride, root, out);
        else for (; r + 4 <= last; r += 4) this.four(data, r, stride, root, out);
        for (; r < last; r++)
          out[r]! += isolating ? this.walkIsolating(data, r * stride, root) : this.walk(data, r * stride, root);
      }
      for (let r = first; r < last; r++) out[r] = 2 ** (-(out[r]! / this.trees) / this.norm);
    }
    return out;
  }

  /**
   * Out-of-bag scores of the training rows `m` (the matrix the forest was grown on): each row's path
   * length averaged over the trees whose subsample did not hold it, as a random forest's out-of-bag
   * error is taken. A row scored by trees grown on it sits deeper in them than a new vector like it
   * would, so in-sample scores are biased low, and a threshold set on them flags the edge of normal
   * traffic; out-of-bag scores are what new normal vectors get. A row held by every subsample
   * (when rows <= psi) gets its in-sample score.
   */
  outOfBagScores(m: Matrix): Float64Array {
    checkMatrix(m);
    // Rows repeat (quantized features): a tree's path length is walked once per distinct vector.
    const { distinct, of } = distinctRows(m);
    const sum = new Float64Array(m.rows);
    const count = new Int32Array(m.rows);
    const inBag = new Uint8Array(m.rows);
    const paths = new Float64Array(distinct.length);
    const isolating = this.outOfRange === 'isolate';
    for (let t = 0; t < this.trees; t++) {
      const sample = this.samples.subarray(t * this.sampleSize, (t + 1) * this.sampleSize);
      for (const r of sample) inBag[r] = 1;
      const root = t * this.nodesPerTree;
      for (let d = 0; d < distinct.length; d++) {
        const at = distinct[d]! * m.dims;
        paths[d] = isolating ? this.walkIsolating(m.data, at, root) : this.walk(m.data, at, root);
      }
      for (let r = 0; r < m.rows; r++) {
        if (inBag[r] === 1) continue;
        sum[r]! += paths[of[r]!]!;
        count[r]!++;
      }
      for (const r of sample) inBag[r] = 0;
    }
    const out = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++)
      out[r] = count[r]! > 0 ? 2 ** (-(sum[r]! / count[r]!) / this.norm) : this.score(m.data, r * m.dims);
    return out;
  }

  /** h(x) in the tree at `root`, by the paper's rule (Algorithm 3). */
  private walk(x: Float64Array, offset: number, root: number): number {
    const { num, int, heightLimit } = this;
    let node = root;
    for (let k = 0; k < heightLimit; k++) node = int[8 * node + 7]! + +(x[offset + int[8 * node + 6]!]! > num[4 * node]!);
    return this.leaf[node]!;
  }

  /** walk() of rows r .. r+3 together (four independent walks in flight), added to out[r ..]. */
  private four(x: Float64Array, r: number, stride: number, root: number, out: Float64Array): void {
    const { num, int, leaf, heightLimit } = this;
    const oa = r * stride;
    const ob = oa + stride;
    const oc = ob + stride;
    const od = oc + stride;
    let a = root;
    let b = root;
    let c = root;
    let d = root;
    for (let k = 0; k < heightLimit; k++) {
      a = int[8 * a + 7]! + +(x[oa + int[8 * a + 6]!]! > num[4 * a]!);
      b = int[8 * b + 7]! + +(x[ob + int[8 * b + 6]!]! > num[4 * b]!);
      c = int[8 * c + 7]! + +(x[oc + int[8 * c + 6]!]! > num[4 * c]!);
      d = int[8 * d + 7]! + +(x[od + int[8 * d + 6]!]! > num[4 * d]!);
    }
    out[r]! += leaf[a]!;
    out[r + 1]! += leaf[b]!;
    out[r + 2]! += leaf[c]!;
    out[r + 3]! += leaf[d]!;
  }

  /**
   * walkIsolating() of rows r .. r+3 together, added to out[r ..]. The range test is nearly always
   * false for ordinary vectors (about 5 % of steps are out of range on real features), so its
   * branch is well predicted and the four walks overlap. (v - lo) * (hi - v) < 0 is the test
   * "v outside [lo, hi]" in one comparison: false in a leaf (Infinity * Infinity) and for NaN.
   */
  private fourIsolating(x: Float64Array, r: number, stride: number, root: number, out: Float64Array): void {
    const { num, int, leaf, heightLimit } = this;
    const oa = r * stride;
    const ob = oa + stride;
    const oc = ob + stride;
    const od = oc + stride;
    let a = root;
    let b = root;
    let c = root;
    let d = root;
    let aliveA = 1;
    let aliveB = 1;
    let aliveC = 1;
    let aliveD = 1;
    let expA = 0;
    let expB = 0;
    let expC = 0;
    let expD = 0;
    for (let k = 0; k < heightLimit; k++) {
      const va = x[oa + int[8 * a + 6]!]!;
      const vb = x[ob + int[8 * b + 6]!]!;
      const vc = x[oc + int[8 * c + 6]!]!;
      const vd = x[od + int[8 * d + 6]!]!;
      const loa = num[4 * a + 1]!;
      const hia = num[4 * a + 2]!;
      if ((va - loa) * (hia - va) < 0) {
        const p = outsideProbability(va, loa, hia);
        expA += aliveA * p * (k + 1);
        aliveA *= 1 - p;
      }
      const lob = num[4 * b + 1]!;
      const hib = num[4 * b + 2]!;
      if ((vb - lob) * (hib - vb) < 0) {
        const p = outsideProbability(vb, lob, hib);
        expB += aliveB * p * (k + 1);
        aliveB *= 1 - p;
      }
      const loc = num[4 * c + 1]!;
      const hic = num[4 * c + 2]!;
      if ((vc - loc) * (hic - vc) < 0) {
        const p = outsideProbability(vc, loc, hic);
        expC += aliveC * p * (k + 1);
        aliveC *= 1 - p;
      }
      const lod = num[4 * d + 1]!;
      const hid = num[4 * d + 2]!;
      if ((vd - lod) * (hid - vd) < 0) {
        const p = outsideProbability(vd, lod, hid);
        expD += aliveD * p * (k + 1);
        aliveD *= 1 - p;
      }
      a = int[8 * a + 7]! + +(va > num[4 * a]!);
      b = int[8 * b + 7]! + +(vb > num[4 * b]!);
      c = int[8 * c + 7]! + +(vc > num[4 * c]!);
      d = int[8 * d + 7]! + +(vd > num[4 * d]!);
    }
    out[r]! += expA + aliveA * leaf[a]!;
    out[r + 1]! += expB + aliveB * leaf[b]!;
    out[r + 2]! += expC + aliveC * leaf[c]!;
    out[r + 3]! += expD + aliveD * leaf[d]!;
  }

  /**
   * h(x) in the tree at `root` where, at a node whose training range on the split feature is
   * [lo, hi], a value v outside it ends the path there (length depth + 1) with probability
   * (v - hi) / (v - lo) above or (lo - v) / (hi - v) below: the chance that a split point drawn
   * uniformly over the widened range falls between v and the training vectors. The rest of the
   * probability mass goes on down (an expected path length).
   */
  private walkIsolating(x: Float64Array, offset: number, root: number): number {
    const { num, int, heightLimit } = this;
    let node = root;
    let alive = 1;
    let expected = 0;
    for (let k = 0; k < heightLimit; k++) {
      const v = x[offset + int[8 * node + 6]!]!;
      const lo = num[4 * node + 1]!;
      const hi = num[4 * node + 2]!;
      if (v > hi || v < lo) {
        const p = outsideProbability(v, lo, hi);
        expected += alive * p * (k + 1);
        alive *= 1 - p;
      }
      node = int[8 * node + 7]! + +(v > num[4 * node]!);
    }
    return expected + alive * this.leaf[node]!;
  }

  /**
   * Which features isolated `x`: along x's path in every tree, a split on feature f that narrows
   * the node from n to n' training vectors credits f with log2(n / n') bits of isolation. A vector
   * cut off alone near the root earns many bits from one split; an ordinary one earns about one bit
   * per split, spread over the features. Returned as shares summing to 1 (all 0 if never split).
   */
  explain(x: ArrayLike<number>, offset = 0): Float64Array {
    const bits = new Float64Array(this.dims);
    const { num, int, log2Size } = this;
    const isolating = this.outOfRange === 'isolate';
    for (let t = 0; t < this.trees; t++) {
      let node = t * this.nodesPerTree;
      let alive = 1;
      while (int[8 * node + 7] !== node && alive > 1e-6) {
        const f = int[8 * node + 6]!;
        const v = x[offset + f]!;
        const child = int[8 * node + 7]! + +(v > num[4 * node]!);
        // Isolated here (out of range): all log2(n) bits at once; otherwise the narrowing n -> n'.
        const p = isolating ? outsideProbability(v, num[4 * node + 1]!, num[4 * node + 2]!) : 0;
        bits[f]! += alive * (p * log2Size[node]! + (1 - p) * (log2Size[node]! - log2Size[child]!));
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
    this.log2Size[node] = Math.log2(Math.max(1, hi - lo));
    const split = depth < this.heightLimit && hi - lo > 1 ? chooseSplit(m, idx, lo, hi, rng) : undefined;
    if (split === undefined) {
      this.num[4 * node] = Number.POSITIVE_INFINITY;
      this.num[4 * node + 1] = Number.NEGATIVE_INFINITY;
      this.num[4 * node + 2] = Number.POSITIVE_INFINITY;
      this.int[8 * node + 6] = 0;
      this.int[8 * node + 7] = node;
      this.leaf[node] = depth + averagePathLength(hi - lo);
      return;
    }
    const mid = partition(m, idx, lo, hi, split.feature, split.value);
    this.num[4 * node] = split.value;
    this.num[4 * node + 1] = split.min;
    this.num[4 * node + 2] = split.max;
    this.int[8 * node + 6] = split.feature;
    // Children take two consecutive slots so that the right one is always left + 1; a tree of
    // height l has at most 2^(l+1) - 1 nodes, the block reserved for it.
    const first = this.next;
    this.next += 2;
    this.int[8 * node + 7] = first;
    this.grow(first, m, idx, lo, mid, depth + 1, rng);
    this.grow(first + 1, m, idx, mid, hi, depth + 1, rng);
  }
}

/** The distinct rows of `m` (the first row of each), and for each row the index of its distinct row. */
function distinctRows(m: Matrix): { distinct: number[]; of: Int32Array } {
  const seen = new Map<string, number>();
  const distinct: number[] = [];
  const of = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    const key = m.data.subarray(r * m.dims, (r + 1) * m.dims).join(',');
    let d = seen.get(key);
    if (d === undefined) {
      d = distinct.length;
      distinct.push(r);
      seen.set(key, d);
    }
    of[r] = d;
  }
  return { distinct, of };
}

/** The probability that v, outside [lo, hi], would be cut off alone by a split drawn over the widened range. */
function outsideProbability(v: number, lo: number, hi: number): number {
  let p = 0;
  if (v > hi) p = (v - hi) / (v - lo);
  else if (v < lo) p = (lo - v) / (hi - v);
  return p <= 1 ? p : 1; // an infinite v gives NaN: isolated for sure
}
