/**
 * The anomaly detector: packets go in one at a time; each is turned into a packet feature vector,
 * and into the flow table, whose finished flows become flow feature vectors. The first N packets and
 * the first M flows are the baseline (assumed normal); an Isolation Forest is grown on each, and from
 * then on every packet and flow scoring over the threshold is reported with its top features.
 */
import type { PacketSummary } from '../capture/types.js';
import {
  DEFAULT_BASELINE_FLOWS,
  DEFAULT_BASELINE_PACKETS,
  DEFAULT_CONTAMINATION,
  DEFAULT_FLOW_RATE_TAU_SECONDS,
  DEFAULT_SAMPLE_SIZE,
  DEFAULT_TOP_FEATURES,
  DEFAULT_TREES,
} from './constants.js';
import {
  FLOW_FEATURE_GROUPS,
  FLOW_FEATURES,
  FlowFeaturizer,
  PACKET_FEATURE_GROUPS,
  PACKET_FEATURES,
  PacketFeaturizer,
  type FlowContext,
} from './features.js';
import { FlowTable, type FlowRecord, type FlowTableOptions } from './flows.js';
import { mulberry32 } from './prng.js';
import { BaselineScorer, type FeatureContribution } from './scorer.js';

export interface AnomalyDetectorOptions {
  /** packets learnt as the baseline (default 5000) */
  baselinePackets?: number;
  /** finished flows learnt as the baseline (default 500) */
  baselineFlows?: number;
  /** score packets (default true) */
  packets?: boolean;
  /** score flows (default true) */
  flows?: boolean;
  /** seed of the forests' random choices (default 1) */
  seed?: number;
  /** trees per forest (default 100) */
  trees?: number;
  /** subsample size per tree (default 256) */
  sampleSize?: number;
  /** a fixed score threshold in (0, 1]; default per forest: the (1 - contamination) quantile of its baseline scores, at least 0.5 */
  threshold?: number;
  /** share of the baseline allowed over the threshold, per forest (default 0.001) */
  contamination?: number;
  /** features named per anomaly (default 3) */
  topFeatures?: number;
  /** s: time constant of the per-host packet rates (default 2) */
  rateTau?: number;
  /** s: time constant of the per-host flow rates (default 5) */
  flowRateTau?: number;
  /**
   * s of packet time, from the first packet, during which nothing is learnt or scored, while the
   * per-host rates climb from zero to their usual level (default 3 x flowRateTau: 95% of it)
   */
  warmup?: number;
  /** most hosts with feature state (default 4096) */
  maxHosts?: number;
  /** flow table limits and timeouts */
  flowTable?: Omit<FlowTableOptions, 'tag'>;
  /** called with every score after the baseline (for score histograms and evaluation) */
  onScore?: (event: ScoreEvent) => void;
}

/** Every scored item, anomalous or not. */
export type ScoreEvent =
  | { kind: 'packet'; score: number; threshold: number; packet: PacketSummary }
  | { kind: 'flow'; score: number; threshold: number; flow: FlowRecord<FlowContext> };

/** One abnormal packet or flow. */
export interface Anomaly {
  kind: 'packet' | 'flow';
  /** Isolation Forest score s(x), 0..1 */
  score: number;
  threshold: number;
  /** packet: its index in the capture; flow: the index of the packet at which it was reported */
  index: number;
  /** s since the epoch: packet time, or the flow's start */
  ts: number;
  protocol: string;
  src: string | undefined;
  dst: string | undefined;
  sport: number | undefined;
  dport: number | undefined;
  /** the flow, for kind 'flow' */
  flow?: FlowRecord<FlowContext>;
  /** the features that made it stand out, most first */
  features: FeatureContribution[];
}

export interface AnomalyDetectorStats {
  packets: number;
  packetsScored: number;
  packetAnomalies: number;
  flowsScored: number;
  flowAnomalies: number;
  /** baseline progress: vectors learnt so far */
  packetBaseline: number;
  flowBaseline: number;
  /** thresholds in force (null while learning) */
  packetThreshold: number | null;
  flowThreshold: number | null;
  activeFlows: number;
}

export class AnomalyDetector {
  private readonly packetFeatures: PacketFeaturizer;
  private readonly flowFeatures: FlowFeaturizer;
  private readonly packetScorer: BaselineScorer | undefined;
  private readonly flowScorer: BaselineScorer | undefined;
  private readonly flows: FlowTable<FlowContext> | undefined;
  private readonly packetVec = new Float64Array(PACKET_FEATURES.length);
  private readonly flowVec = new Float64Array(FLOW_FEATURES.length);
  private counters = { packets: 0, packetsScored: 0, packetAnomalies: 0, flowsScored: 0, flowAnomalies: 0 };
  private lastIndex = 0;
  private readonly warmup: number;
  /** is the packet being handled within the warm-up? */
  private warming = true;
  /** s: end of the warm-up, fixed by the first packet */
  private warmUntil = Number.NaN;
  private readonly onScore: ((event: ScoreEvent) => void) | undefined;

  constructor(options: AnomalyDetectorOptions = {}) {
    const common = {
      trees: options.trees ?? DEFAULT_TREES,
      sampleSize: options.sampleSize ?? DEFAULT_SAMPLE_SIZE,
      threshold: options.threshold,
      contamination: options.contamination ?? DEFAULT_CONTAMINATION,
      topFeatures: options.topFeatures ?? DEFAULT_TOP_FEATURES,
    };
    const seed = options.seed ?? 1;
    this.onScore = options.onScore;
    const flowTau = options.flowRateTau ?? DEFAULT_FLOW_RATE_TAU_SECONDS;
    this.warmup = options.warmup ?? 3 * flowTau;
    this.packetFeatures = new PacketFeaturizer({ rateTau: options.rateTau, maxHosts: options.maxHosts });
    this.flowFeatures = new FlowFeaturizer({ rateTau: flowTau, maxHosts: options.maxHosts });
    if (options.packets !== false) {
      const baselineSize = options.baselinePackets ?? DEFAULT_BASELINE_PACKETS;
      this.packetScorer = new BaselineScorer({
        ...common,
        names: PACKET_FEATURES,
        groups: PACKET_FEATURE_GROUPS,
        baselineSize,
        rng: mulberry32(seed),
      });
    }
    if (options.flows !== false) {
      const baselineSize = options.baselineFlows ?? DEFAULT_BASELINE_FLOWS;
      // A different stream for the flow forest, derived from the same seed.
      this.flowScorer = new BaselineScorer({
        ...common,
        names: FLOW_FEATURES,
        groups: FLOW_FEATURE_GROUPS,
        baselineSize,
        rng: mulberry32(seed ^ 0x5bd1e995),
      });
      const featurizer = this.flowFeatures;
      this.flows = new FlowTable<FlowContext>({ ...options.flowTable, tag: (p) => featurizer.start(p) });
    }
  }

  /** Take one packet; returns the anomalies found with it (the packet itself, flows that ended). */
  push(p: PacketSummary): Anomaly[] {
    this.counters.packets++;
    this.lastIndex = p.index;
    const t = p.tsSec + (p.tsNsec || 0) / 1e9;
    if (Number.isNaN(this.warmUntil) && Number.isFinite(t)) this.warmUntil = t + this.warmup;
    this.warming = !(t >= this.warmUntil);
    let found: Anomaly[] | undefined;
    if (this.packetScorer) {
      const anomaly = this.scorePacket(this.packetScorer, p);
      if (anomaly) (found ??= []).push(anomaly);
    }
    if (this.flows) {
      for (const flow of this.flows.push(p)) {
        const anomaly = this.scoreFlow(flow);
        if (anomaly) (found ??= []).push(anomaly);
      }
    }
    return found ?? [];
  }

  /** End of input: finish every open flow and return the flow anomalies among them. */
  flush(): Anomaly[] {
    const found: Anomaly[] = [];
    for (const flow of this.flows?.flush() ?? []) {
      const anomaly = this.scoreFlow(flow);
      if (anomaly) found.push(anomaly);
    }
    return found;
  }

  stats(): AnomalyDetectorStats {
    const threshold = (s: BaselineScorer | undefined): number | null =>
      s?.ready === true ? s.threshold : null;
    return {
      ...this.counters,
      packetBaseline: this.packetScorer?.baselineCount ?? 0,
      flowBaseline: this.flowScorer?.baselineCount ?? 0,
      packetThreshold: threshold(this.packetScorer),
      flowThreshold: threshold(this.flowScorer),
      activeFlows: this.flows?.size ?? 0,
    };
  }

  private scorePacket(scorer: BaselineScorer, p: PacketSummary): Anomaly | undefined {
    this.packetFeatures.extract(p, this.packetVec);
    if (this.warming) return undefined;
    const score = scorer.offer(this.packetVec);
    if (score === undefined) return undefined;
    this.counters.packetsScored++;
    this.onScore?.({ kind: 'packet', score, threshold: scorer.threshold, packet: p });
    if (!(score > scorer.threshold)) return undefined;
    this.counters.packetAnomalies++;
    return {
      kind: 'packet',
      score,
      threshold: scorer.threshold,
      index: p.index,
      ts: p.tsSec + (p.tsNsec || 0) / 1e9,
      protocol: p.protocol,
      src: p.src,
      dst: p.dst,
      sport: p.sport,
      dport: p.dport,
      features: scorer.explain(this.packetVec),
    };
  }

  private scoreFlow(flow: FlowRecord<FlowContext>): Anomaly | undefined {
    const scorer = this.flowScorer;
    if (!scorer) return undefined;
    if (flow.start < this.warmUntil) return undefined; // its host rates were still warming up
    this.flowFeatures.extract(flow, this.flowVec);
    const score = scorer.offer(this.flowVec);
    if (score === undefined) return undefined;
    this.counters.flowsScored++;
    this.onScore?.({ kind: 'flow', score, threshold: scorer.threshold, flow });
    if (!(score > scorer.threshold)) return undefined;
    this.counters.flowAnomalies++;
    return {
      kind: 'flow',
      score,
      threshold: scorer.threshold,
      index: this.lastIndex,
      ts: flow.start,
      protocol: flow.protocol,
      src: flow.src,
      dst: flow.dst,
      sport: flow.sport,
      dport: flow.dport,
      flow,
      features: scorer.explain(this.flowVec),
    };
  }
}
