/**
 * One learn-then-score stage of the anomaly detector: it collects the first N feature vectors as the
 * baseline, grows Isolation Forests on them, sets each forest's threshold from the baseline's own
 * scores, and afterwards scores each vector and explains the ones over a threshold.
 *
 * Features come in groups, one forest per group (feature bagging: Lazarevic and Kumar, "Feature
 * Bagging for Outlier Detection", KDD 2005). An Isolation Forest picks split features uniformly, so
 * a vector that is extreme on one feature out of d is cut off only when that feature comes up, and
 * its score shrinks as d grows; a small group of related features keeps such a vector prominent. A
 * vector is anomalous when any group scores it over that group's threshold.
 *
 * Two departures from a plain forest per group, both learnt from the baseline:
 * - upper-only features (rates: more is suspicious, less is not) are floored at their baseline
 *   median, in the baseline the forests grow on and in every vector scored, so that a quiet host is
 *   never out of range below; and, with `slack`, a value above the baseline's largest but within
 *   slack times it counts as that largest: a baseline of a minute does not show every burst of
 *   normal traffic (sessions cluster: a client's rate varies by a factor of two or three), while a
 *   flood is tens or thousands of times over; likewise, with `margin`, a value within that much of
 *   the baseline's range (a flow's duration a little longer on a busier machine) counts as its edge;
 * - a feature constant over the baseline is never split on, so a change in it alone would be
 *   invisible; one that is nearly constant (one value in MOSTLY_CONSTANT of the baseline) is split on
 *   only in the trees whose subsample holds one of its rare other values. A guard flags a vector
 *   whose value on such a feature lies outside the baseline's range widened by the feature's
 *   tolerance (and upwards by its slack), score 1, explained by that feature. Features in no group
 *   (rates judged by their level alone) are guarded the same way.
 */
import { WirelabError } from '../common/errors.js';
import { MAX_TRAINING_ROWS, MIN_THRESHOLD } from './constants.js';
import { IsolationForest } from './iforest.js';
import { ScoreMemo } from './score-memo.js';
import type { Rng } from './prng.js';

/** Why a vector stood out, one feature. */
export interface FeatureContribution {
  name: string;
  value: number;
  /** the feature's median over the baseline */
  baseline: number;
  /** share of the isolation bits credited to this feature in the forest that flagged it, 0..1 */
  share: number;
  /** robust z-score against the baseline: (value - median) / (1.4826 MAD), clamped to +-999 */
  z: number;
}

export interface ScorerOptions {
  names: readonly string[];
  /** feature indices of each forest (default: one group of every feature) */
  groups?: readonly (readonly number[])[];
  /** vectors learnt before scoring starts */
  baselineSize: number;
  rng: Rng;
  trees?: number;
  sampleSize?: number;
  /** fixed threshold; when absent, per group the (1 - contamination) quantile of the baseline scores */
  threshold?: number;
  contamination: number;
  topFeatures: number;
  /** slots of each forest's score memo (a power of two; default 4096) */
  memoSlots?: number;
  /** features floored at their baseline median (only high values are suspicious) */
  upperOnly?: readonly number[];
  /** per feature (upper-only ones): a value up to this many times the baseline's largest counts as the largest (default 1) */
  slack?: readonly number[];
  /** per feature: a value up to this much beyond the baseline's range counts as its edge (default 0) */
  margin?: readonly number[];
  /** per feature, the change from a baseline constant that the guard flags (absent: no guard) */
  tolerance?: readonly number[];
}

/** Score given to a vector the constant-feature guard flags. */
export const GUARD_SCORE = 1;
/** Share of the baseline at one value from which a feature counts as (nearly) constant. */
export const MOSTLY_CONSTANT = 0.98;

const Z_LIMIT = 999;

/** The q-quantile (0..1) of `values` by the nearest-rank method; sorts a copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** A (nearly) constant feature the guard watches: its baseline range, widened by its tolerance. */
interface Guarded {
  feature: number;
  lo: number;
  hi: number;
}

interface Group {
  features: readonly number[];
  forest: IsolationForest | undefined;
  /** scores of recently seen vectors of the group's features */
  memo: ScoreMemo | undefined;
  threshold: number;
}

function checkOptions(options: ScorerOptions): void {
  const n = options.baselineSize;
  if (!Number.isInteger(n) || n < 2 || n > MAX_TRAINING_ROWS) {
    throw new WirelabError('E_CONFIG', `baseline size must be 2..${MAX_TRAINING_ROWS}, got ${n}`);
  }
  const c = options.contamination;
  if (!(c >= 0 && c < 1)) throw new WirelabError('E_CONFIG', `contamination must be in [0, 1), got ${c}`);
  const t = options.threshold;
  if (t !== undefined && !(t > 0 && t <= 1))
    throw new WirelabError('E_CONFIG', `threshold must be in (0, 1], got ${t}`);
  for (const group of options.groups ?? []) {
    if (
      group.length === 0 ||
      group.some((f) => !(Number.isInteger(f) && f >= 0 && f < options.names.length))
    ) {
      throw new WirelabError('E_CONFIG', `bad feature group [${group.join(', ')}]`);
    }
  }
}

export class BaselineScorer {
  private readonly dims: number;
  /** the baseline vectors, released once learnt */
  private rows: Float64Array;
  private learned = 0;
  private ready_ = false;
  private readonly groups: Group[];
  private medians = new Float64Array(0);
  private scales = new Float64Array(0);
  /** per feature: the floor applied before scoring (-Infinity: none) */
  private floors = new Float64Array(0);
  /** per feature: the baseline's largest and smallest, and how far beyond them a value still counts as them; see lift() */
  private caps = new Float64Array(0);
  private slackCaps = new Float64Array(0);
  private lows = new Float64Array(0);
  private lowReach = new Float64Array(0);
  /** features constant over the baseline that the guard watches, their constant and tolerance */
  private guarded: Guarded[] = [];
  /** per group: its features of a batch of vectors, and their scores (grown to the largest batch) */
  private projected = new Float64Array(0);
  private groupScores = new Float64Array(0);
  private margins = new Float64Array(0);

  constructor(private readonly options: ScorerOptions) {
    checkOptions(options);
    this.dims = options.names.length;
    this.rows = new Float64Array(options.baselineSize * this.dims);
    const groups = options.groups ?? [Array.from({ length: this.dims }, (_, f) => f)];
    this.groups = groups.map((features) => ({ features, forest: undefined, memo: undefined, threshold: Number.NaN }));
  }

  /** Has the baseline been learnt? */
  get ready(): boolean {
    return this.ready_;
  }

  /** Vectors learnt so far. */
  get baselineCount(): number {
    return this.learned;
  }

  /** Thresholds in force, one per group (empty while learning). */
  get thresholds(): number[] {
    return this.ready_ ? this.groups.map((g) => g.threshold) : [];
  }

  /** The threshold of group `g` (g = groups: the constant-feature guard, whose threshold is 0.5). */
  threshold(g: number): number {
    if (g === this.groups.length) return MIN_THRESHOLD;
    return this.groups[g]?.threshold ?? Number.NaN;
  }

  /** Features constant over the baseline that the guard watches (names), once learnt. */
  get guardedFeatures(): string[] {
    return this.guarded.map((g) => this.options.names[g.feature]!);
  }

  /**
   * Learn from the first of `rows` vectors (dims numbers each, one after another in `data`) while
   * the baseline is not full, growing the forests once it is; returns how many rows were learnt.
   */
  learnFrom(data: Float64Array, rows: number): number {
    if (this.ready_) return 0;
    const take = Math.min(rows, this.options.baselineSize - this.learned);
    this.rows.set(data.subarray(0, take * this.dims), this.learned * this.dims);
    this.learned += take;
    if (this.learned === this.options.baselineSize) this.learn();
    return take;
  }

  /**
   * Score rows [from, from + count) of `data` (once ready). For each row, `scores` gets the score of
   * the group furthest over (or least under) its threshold and `decided` that group's index.
   */
  scoreRows(data: Float64Array, from: number, count: number, scores: Float64Array, decided: Int32Array): void {
    if (!this.ready_ || count <= 0) return;
    if (this.groupScores.length < count) {
      this.groupScores = new Float64Array(count);
      this.margins = new Float64Array(count);
      this.projected = new Float64Array(count * this.dims);
    }
    const best = this.margins;
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      const k = group.features.length;
      for (let r = 0; r < count; r++) {
        const at = (from + r) * this.dims;
        for (let j = 0; j < k; j++) {
          const f = group.features[j]!;
          this.projected[r * k + j] = this.lift(f, data[at + f]!);
        }
      }
      group.memo!.scoreRows(this.projected, count, this.groupScores);
      for (let r = 0; r < count; r++) {
        const margin = this.groupScores[r]! - group.threshold;
        if (g === 0 || margin > best[r]!) {
          best[r] = margin;
          scores[r] = this.groupScores[r]!;
          decided[r] = g;
        }
      }
    }
    if (this.guarded.length > 0) this.guard(data, from, count, scores, decided);
  }

  /** The constant-feature guard: a vector off a baseline constant by more than its tolerance scores 1. */
  private guard(data: Float64Array, from: number, count: number, scores: Float64Array, decided: Int32Array): void {
    for (let r = 0; r < count; r++) {
      const at = (from + r) * this.dims;
      for (const g of this.guarded) {
        if (this.off(data[at + g.feature]!, g)) {
          scores[r] = GUARD_SCORE;
          decided[r] = this.groups.length;
          break;
        }
      }
    }
  }

  /**
   * `v` of feature `f` as the forests see it: upper-only features floored at the baseline median, and
   * a value above the baseline's largest but within slack times it taken as that largest.
   */
  private lift(f: number, v: number): number {
    const floor = this.floors[f]!;
    if (!(v > floor)) return v < floor ? floor : v;
    if (v > this.caps[f]!) return v <= this.slackCaps[f]! ? this.caps[f]! : v;
    if (v < this.lows[f]!) return v >= this.lowReach[f]! ? this.lows[f]! : v;
    return v;
  }

  /** Is `v` (lifted as for scoring) outside the guarded range? */
  private off(v: number, g: Guarded): boolean {
    const x = this.lift(g.feature, v);
    return x < g.lo || x > g.hi;
  }

  /** Which guarded features `vec` is off, as explanations (share split among them). */
  private explainGuard(vec: Float64Array, offset: number): FeatureContribution[] {
    const off = this.guarded.filter((g) => this.off(vec[offset + g.feature]!, g));
    const result = off.map((g) => this.contribution(vec, offset, g.feature, 1 / off.length));
    const rest: FeatureContribution[] = [];
    for (let f = 0; f < this.dims; f++)
      if (!off.some((g) => g.feature === f)) rest.push(this.contribution(vec, offset, f, 0));
    rest.sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
    return [...result, ...rest].slice(0, this.options.topFeatures);
  }

  private contribution(vec: Float64Array, offset: number, f: number, share: number): FeatureContribution {
    const value = vec[offset + f]!;
    const z = (value - this.medians[f]!) / this.scales[f]!;
    return {
      name: this.options.names[f]!,
      value,
      baseline: this.medians[f]!,
      share,
      z: Math.max(-Z_LIMIT, Math.min(Z_LIMIT, z)),
    };
  }

  /** The top features of `vec`, most isolating first, in the forest of group `g` (that flagged it). */
  explain(vec: Float64Array, g: number, offset = 0): FeatureContribution[] {
    if (this.ready_ && g === this.groups.length) return this.explainGuard(vec, offset);
    const group = this.groups[g];
    if (!this.ready_ || group === undefined) return [];
    const x = Float64Array.from(group.features, (f) => this.lift(f, vec[offset + f]!));
    const shares = group.forest!.explain(x);
    const result: FeatureContribution[] = [];
    for (let f = 0; f < this.dims; f++) {
      const at = group.features.indexOf(f);
      result.push(this.contribution(vec, offset, f, at >= 0 ? shares[at]! : 0));
    }
    result.sort((a, b) => b.share - a.share || Math.abs(b.z) - Math.abs(a.z));
    return result.slice(0, this.options.topFeatures);
  }

  private learn(): void {
    this.medians = new Float64Array(this.dims);
    this.scales = new Float64Array(this.dims);
    this.robustScales();
    this.floors = new Float64Array(this.dims).fill(Number.NEGATIVE_INFINITY);
    this.reaches();
    for (const f of this.options.upperOnly ?? []) {
      this.floors[f] = this.medians[f]!;
      let largest = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < this.learned; r++) {
        const at = r * this.dims + f;
        if (this.rows[at]! < this.medians[f]!) this.rows[at] = this.medians[f]!;
        if (this.rows[at]! > largest) largest = this.rows[at]!;
      }
      this.caps[f] = largest;
      this.slackCaps[f] = Math.max(largest * (this.options.slack?.[f] ?? 1), largest + (this.options.margin?.[f] ?? 0));
    }
    this.findGuarded();
    for (const group of this.groups) {
      const m = { data: this.column(group.features), rows: this.learned, dims: group.features.length };
      const forest = IsolationForest.fit(m, {
        rng: this.options.rng,
        trees: this.options.trees,
        sampleSize: this.options.sampleSize,
        outOfRange: 'isolate',
      });
      group.forest = forest;
      group.memo = new ScoreMemo(forest, group.features.length, this.options.memoSlots);
      group.threshold =
        this.options.threshold ??
        Math.max(MIN_THRESHOLD, quantile(forest.outOfBagScores(m), 1 - this.options.contamination));
    }
    this.rows = new Float64Array(0);
    this.ready_ = true;
  }

  /** Per feature with a margin: the baseline's range, and that range widened by the margin. */
  private reaches(): void {
    this.caps = new Float64Array(this.dims).fill(Number.POSITIVE_INFINITY);
    this.slackCaps = new Float64Array(this.dims).fill(Number.POSITIVE_INFINITY);
    this.lows = new Float64Array(this.dims).fill(Number.NEGATIVE_INFINITY);
    this.lowReach = new Float64Array(this.dims).fill(Number.NEGATIVE_INFINITY);
    const margin = this.options.margin ?? [];
    for (let f = 0; f < this.dims; f++) {
      if (!(margin[f]! > 0)) continue;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < this.learned; r++) {
        const v = this.rows[r * this.dims + f]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      [this.lows[f], this.lowReach[f], this.caps[f], this.slackCaps[f]] = [lo, lo - margin[f]!, hi, hi + margin[f]!];
    }
  }

  /**
   * The guard's list, among the features that have a tolerance: those (nearly) constant over the
   * (floored) baseline, and those in no forest's group (rates judged by their level alone). Each is
   * flagged outside the baseline's range widened by its tolerance, and upwards by its slack.
   */
  private findGuarded(): void {
    const tolerance = this.options.tolerance;
    if (tolerance === undefined) return;
    const inForest = new Set(this.groups.flatMap((g) => g.features));
    for (let f = 0; f < this.dims; f++) {
      if (!(tolerance[f]! >= 0)) continue;
      const median = this.medians[f]! > this.floors[f]! ? this.medians[f]! : this.floors[f]!;
      let same = 0;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < this.learned; r++) {
        const v = this.rows[r * this.dims + f]!;
        if (v === median) same++;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (inForest.has(f) && same < MOSTLY_CONSTANT * this.learned) continue;
      const top = Math.max(hi + tolerance[f]!, hi * (this.options.slack?.[f] ?? 1));
      this.guarded.push({ feature: f, lo: lo - tolerance[f]!, hi: top });
    }
  }

  /** Per feature: the baseline median and a robust scale, for the z-scores of explanations. */
  private robustScales(): void {
    for (let f = 0; f < this.dims; f++) {
      const column = this.column([f]);
      const median = quantile(column, 0.5);
      let meanAbs = 0;
      for (let r = 0; r < this.learned; r++) {
        column[r] = Math.abs(column[r]! - median);
        meanAbs += column[r]!;
      }
      // MAD is 0 on a feature that is mostly constant; fall back to the mean absolute deviation
      // (x 1.2533, its normal-consistency factor), then to a tiny scale so that z stays finite.
      this.medians[f] = median;
      this.scales[f] = Math.max(1.4826 * quantile(column, 0.5), (1.2533 * meanAbs) / this.learned, 1e-9);
    }
  }

  /** The baseline restricted to `features`, row by row. */
  private column(features: readonly number[]): Float64Array {
    const out = new Float64Array(this.learned * features.length);
    for (let r = 0; r < this.learned; r++) {
      for (let k = 0; k < features.length; k++)
        out[r * features.length + k] = this.rows[r * this.dims + features[k]!]!;
    }
    return out;
  }
}
