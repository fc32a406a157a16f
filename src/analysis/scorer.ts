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
  /** the group's features of the vector being scored */
  scratch: Float64Array;
  forest: IsolationForest | undefined;
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
  /** threshold of the group that decided the last offer() (NaN while learning) */
  threshold = Number.NaN;
  /** index of the group that decided the last offer() */
  private lastGroup = 0;

  constructor(private readonly options: ScorerOptions) {
    checkOptions(options);
    this.dims = options.names.length;
    this.rows = new Float64Array(options.baselineSize * this.dims);
    const groups = options.groups ?? [Array.from({ length: this.dims }, (_, f) => f)];
    this.groups = groups.map((features) => ({
      features,
      scratch: new Float64Array(features.length),
      forest: undefined,
      threshold: Number.NaN,
    }));
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

  /**
   * While learning: keep `vec` and return undefined. Afterwards: the score of the group whose score
   * is furthest over (or least under) its threshold; `threshold` then holds that group's threshold.
   */
  offer(vec: Float64Array): number | undefined {
    if (!this.ready_) {
      this.rows.set(vec.subarray(0, this.dims), this.learned * this.dims);
      this.learned++;
      if (this.learned === this.options.baselineSize) this.learn();
      return undefined;
    }
    let best = Number.NEGATIVE_INFINITY;
    let bestScore = 0;
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      const score = group.forest!.score(project(vec, group));
      if (score - group.threshold > best) {
        best = score - group.threshold;
        bestScore = score;
        this.lastGroup = g;
      }
    }
    this.threshold = this.groups[this.lastGroup]!.threshold;
    return bestScore;
  }

  /** The top features of `vec` (as last offered), most isolating first. */
  explain(vec: Float64Array): FeatureContribution[] {
    if (!this.ready_) return [];
    const group = this.groups[this.lastGroup]!;
    const shares = group.forest!.explain(project(vec, group));
    const result: FeatureContribution[] = [];
    for (let f = 0; f < this.dims; f++) {
      const at = group.features.indexOf(f);
      const z = (vec[f]! - this.medians[f]!) / this.scales[f]!;
      result.push({
        name: this.options.names[f]!,
        value: vec[f]!,
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

function project(vec: Float64Array, group: Group): Float64Array {
  const { features, scratch } = group;
  for (let k = 0; k < features.length; k++) scratch[k] = vec[features[k]!]!;
  return scratch;
}
