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
}

const Z_LIMIT = 999;

/** The q-quantile (0..1) of `values` by the nearest-rank method; sorts a copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
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

  /** The threshold of group `g`. */
  threshold(g: number): number {
    return this.groups[g]?.threshold ?? Number.NaN;
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
        for (let j = 0; j < k; j++) this.projected[r * k + j] = data[at + group.features[j]!]!;
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
  }

  /** The top features of `vec`, most isolating first, in the forest of group `g` (that flagged it). */
  explain(vec: Float64Array, g: number, offset = 0): FeatureContribution[] {
    const group = this.groups[g];
    if (!this.ready_ || group === undefined) return [];
    const x = Float64Array.from(group.features, (f) => vec[offset + f]!);
    const shares = group.forest!.explain(x);
    const result: FeatureContribution[] = [];
    for (let f = 0; f < this.dims; f++) {
      const at = group.features.indexOf(f);
      const value = vec[offset + f]!;
      const z = (value - this.medians[f]!) / this.scales[f]!;
      result.push({
        name: this.options.names[f]!,
        value,
        baseline: this.medians[f]!,
        share: at >= 0 ? shares[at]! : 0,
        z: Math.max(-Z_LIMIT, Math.min(Z_LIMIT, z)),
      });
    }
    result.sort((a, b) => b.share - a.share || Math.abs(b.z) - Math.abs(a.z));
    return result.slice(0, this.options.topFeatures);
  }

  private learn(): void {
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
        Math.max(MIN_THRESHOLD, quantile(forest.scoreAll(m), 1 - this.options.contamination));
    }
    this.medians = new Float64Array(this.dims);
    this.scales = new Float64Array(this.dims);
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
    this.rows = new Float64Array(0);
    this.ready_ = true;
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
