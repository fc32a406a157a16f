/**
 * The anomaly detector: packets go in one at a time; each goes into the flow table and is turned
 * into a packet feature vector, and the flow table's records (flows that ended, and long flows
 * reported while open) become flow feature vectors. The first N packets and the first M flow
 * records are the baseline (assumed normal); Isolation Forests are grown on them, and from then on
 * every packet and flow scoring over the threshold is reported with its top features. What is
 * merely new (a host, a service, a MAC for an IP address) is reported once as a novelty event
 * (takeNovelties()).
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
  FLOW_MEMO_SLOTS,
  NO_ADDRESS,
  PACKET_MEMO_SLOTS,
} from './constants.js';
import {
  FLOW_FEATURE_GROUPS,
  FLOW_FEATURES,
  FLOW_MARGIN,
  FLOW_SLACK,
  FLOW_TOLERANCE,
  FLOW_UPPER_ONLY,
  FlowFeaturizer,
  PACKET_FEATURE_GROUPS,
  PACKET_FEATURES,
  PACKET_MARGIN,
  PACKET_SLACK,
  PACKET_TOLERANCE,
  PACKET_UPPER_ONLY,
  PacketFeaturizer,
  type FlowContext,
} from './features.js';
import { FlowTable, PacketRole, type FlowRecord, type FlowTableOptions } from './flows.js';
import { secondsOf } from './host-state.js';
import { NoveltyTracker, type Novelty, type NoveltyOptions } from './novelty.js';
import { mulberry32 } from './prng.js';
import { BaselineScorer, type FeatureContribution } from './scorer.js';
import { VectorBatch } from './batch.js';

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
  /** s: time constant of the per-pair packet and byte rates (default 1) */
  volumeTau?: number;
  /** rate limits of novelty events */
  novelty?: NoveltyOptions;
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
  /** novelty events reported, by kind, and left out by their rate limit */
  newHosts: number;
  newServices: number;
  newMacs: number;
  noveltySuppressed: number;
}

const TCP = 6;
const SYN_ACK = 0x12;

/** Packets handled per internal batch: bounds the batch buffers (this many rows of features). */
const MAX_BATCH = 4096;

export class AnomalyDetector {
  private readonly packetFeatures: PacketFeaturizer;
  private readonly flowFeatures: FlowFeaturizer;
  private readonly packetScorer: BaselineScorer | undefined;
  private readonly flowScorer: BaselineScorer | undefined;
  private readonly flows: FlowTable<FlowContext>;
  private readonly novelty: NoveltyTracker;
  private novelties: Novelty[] = [];
  private readonly packetBatch = new VectorBatch<PacketSummary>(PACKET_FEATURES.length, MAX_BATCH);
  private readonly flowBatch = new VectorBatch<FlowRecord<FlowContext>>(FLOW_FEATURES.length, 256);
  /** a vector of packet features not to be scored (warm-up, or no packet scorer) */
  private readonly spare = new Float64Array(PACKET_FEATURES.length);
  private counters = { packets: 0, packetsScored: 0, packetAnomalies: 0, flowsScored: 0, flowAnomalies: 0 };
  private lastIndex = 0;
  private readonly warmup: number;
  private readonly baselinePackets: number;
  private readonly baselineFlows: number;
  /** packets and flow records seen after the warm-up */
  private readonly afterWarmup = { packets: 0, flows: 0 };
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
    this.packetFeatures = new PacketFeaturizer({ rateTau: options.rateTau, volumeTau: options.volumeTau, maxHosts: options.maxHosts });
    this.novelty = new NoveltyTracker(options.novelty);
    this.flowFeatures = new FlowFeaturizer({ rateTau: flowTau, maxHosts: options.maxHosts });
    this.baselinePackets = options.baselinePackets ?? DEFAULT_BASELINE_PACKETS;
    this.baselineFlows = options.baselineFlows ?? DEFAULT_BASELINE_FLOWS;
    if (options.packets !== false) {
      const baselineSize = this.baselinePackets;
      this.packetScorer = new BaselineScorer({
        ...common,
        names: PACKET_FEATURES,
        groups: PACKET_FEATURE_GROUPS,
        baselineSize,
        memoSlots: PACKET_MEMO_SLOTS,
        upperOnly: PACKET_UPPER_ONLY,
        slack: PACKET_SLACK,
        margin: PACKET_MARGIN,
        tolerance: PACKET_TOLERANCE,
        rng: mulberry32(seed),
      });
    }
    if (options.flows !== false) {
      const baselineSize = this.baselineFlows;
      // A different stream for the flow forest, derived from the same seed.
      this.flowScorer = new BaselineScorer({
        ...common,
        names: FLOW_FEATURES,
        groups: FLOW_FEATURE_GROUPS,
        baselineSize,
        memoSlots: FLOW_MEMO_SLOTS,
        upperOnly: FLOW_UPPER_ONLY,
        slack: FLOW_SLACK,
        margin: FLOW_MARGIN,
        tolerance: FLOW_TOLERANCE,
        rng: mulberry32(seed ^ 0x5bd1e995),
      });
    }
    // The flow table runs even when flows are not scored: packet features need to know which packet
    // opened a flow and which one answered it.
    this.flows = new FlowTable<FlowContext>({ ...options.flowTable, tag: (p) => this.flowContext(p) });
  }

  /** What a flow record carries from its first packet: its originator's rates, its service's flow rate. */
  private flowContext(p: PacketSummary): FlowContext {
    // as in the flow table: a first packet that is a SYN-ACK (0x12) came from the responder
    const flipped = p.ipProto === TCP && (p.tcpFlags & SYN_ACK) === SYN_ACK;
    const originator = (flipped ? p.dst : p.src) ?? NO_ADDRESS;
    return { source: this.packetFeatures.sourceRates(originator, secondsOf(p)), dstFlowRate: this.flowFeatures.start(p) };
  }

  /** The novelty events found since the last call, in packet order (reported once scoring has begun). */
  takeNovelties(): Novelty[] {
    const found = this.novelties;
    this.novelties = [];
    return found;
  }

  /** Take one packet; returns the anomalies found with it (the packet itself, flows that ended). */
  push(p: PacketSummary): Anomaly[] {
    return this.pushBatch([p]);
  }

  /**
   * Take packets in order; returns the anomalies found with them, in the order push() one by one
   * would have (each packet, then the flows that ended with it), with the same scores. Batches are
   * scored several times faster than single packets.
   */
  pushBatch(packets: readonly PacketSummary[]): Anomaly[] {
    const found: Anomaly[] = [];
    for (let from = 0; from < packets.length; from += MAX_BATCH) {
      const to = Math.min(packets.length, from + MAX_BATCH);
      for (let i = from; i < to; i++) this.take(packets[i]!, i - from);
      this.report(packets, from, found);
    }
    return found;
  }

  /** End of input: finish every open flow and return the flow anomalies among them. */
  flush(): Anomaly[] {
    const found: Anomaly[] = [];
    for (const flow of this.flows.flush()) this.addFlow(flow, -1);
    this.report([], 0, found);
    return found;
  }

  stats(): AnomalyDetectorStats {
    const threshold = (s: BaselineScorer | undefined): number | null =>
      s?.ready === true ? Math.max(...s.thresholds) : null;
    return {
      ...this.counters,
      packetBaseline: this.packetScorer?.baselineCount ?? 0,
      flowBaseline: this.flowScorer?.baselineCount ?? 0,
      packetThreshold: threshold(this.packetScorer),
      flowThreshold: threshold(this.flowScorer),
      activeFlows: this.flows.size,
      ...this.noveltyCounters(),
    };
  }

  private noveltyCounters(): Pick<AnomalyDetectorStats, 'newHosts' | 'newServices' | 'newMacs' | 'noveltySuppressed'> {
    const n = this.novelty.stats();
    return { newHosts: n.newHosts, newServices: n.newServices, newMacs: n.newMacs, noveltySuppressed: n.suppressed };
  }

  /** Update the features' host state and the flow table with one packet; queue what is to be scored. */
  private take(p: PacketSummary, position: number): void {
    this.counters.packets++;
    this.lastIndex = p.index;
    const t = p.tsSec + (p.tsNsec || 0) / 1e9;
    if (Number.isNaN(this.warmUntil) && Number.isFinite(t)) this.warmUntil = t + this.warmup;
    const warming = !(t >= this.warmUntil);
    const ended = this.flows.push(p);
    const role = this.flows.lastRole;
    const originator = this.flows.lastOriginator;
    // Only IP packets are scored: ARP and other link-layer frames are watched for novelty (a new MAC
    // for an IP address) instead; rare in a baseline, they would otherwise be flagged every time.
    const scored = !warming && p.ipProto >= 0;
    if (scored) this.afterWarmup.packets++;
    if (this.packetScorer && scored) {
      const offset = this.packetBatch.add(p, position);
      this.packetFeatures.extract(p, this.packetBatch.data, offset, role, originator);
    } else {
      this.packetFeatures.extract(p, this.spare, 0, role, originator);
    }
    this.novelty.observe(p, role === PacketRole.Answered, this.scoring(), this.novelties);
    for (const flow of ended) this.addFlow(flow, position);
  }

  /**
   * Has the detector begun to score (its packet baseline, or without packet scoring its flow
   * baseline, full)? Counted per item rather than asked of the scorer, which learns when a batch
   * is scored: novelty events must not depend on how packets were batched.
   */
  private scoring(): boolean {
    if (this.packetScorer) return this.afterWarmup.packets > this.baselinePackets;
    return this.flowScorer !== undefined && this.afterWarmup.flows >= this.baselineFlows;
  }

  private addFlow(flow: FlowRecord<FlowContext>, position: number): void {
    // flows of IP only (as packets), and none that began while the host rates were warming up
    if (!this.flowScorer || flow.start < this.warmUntil || !(flow.ipProto >= 0)) return;
    this.afterWarmup.flows++;
    const offset = this.flowBatch.add(flow, position);
    this.flowFeatures.extract(flow, this.flowBatch.data, offset);
  }

  /**
   * Score the queued vectors and report them in packet order: each packet, then the flows that
   * ended with it (flows ended by flush() come last, position -1 sorted after).
   */
  private report(packets: readonly PacketSummary[], from: number, found: Anomaly[]): void {
    const pb = this.packetBatch;
    const fb = this.flowBatch;
    if (this.packetScorer) pb.score(this.packetScorer);
    if (this.flowScorer) fb.score(this.flowScorer);
    let i = 0;
    let j = 0;
    while (i < pb.count || j < fb.count) {
      const flowAt = j < fb.count && fb.at[j]! >= 0 ? fb.at[j]! : Number.POSITIVE_INFINITY;
      if (i < pb.count && pb.at[i]! <= flowAt) {
        if (i >= pb.learnt) this.reportPacket(i, found);
        i++;
      } else {
        const index = fb.at[j]! >= 0 ? packets[from + fb.at[j]!]!.index : this.lastIndex;
        if (j >= fb.learnt) this.reportFlow(j, index, found);
        j++;
      }
    }
    pb.clear();
    fb.clear();
  }

  private reportPacket(row: number, found: Anomaly[]): void {
    const scorer = this.packetScorer!;
    const batch = this.packetBatch;
    const p = batch.items[row]!;
    const score = batch.scores[row]!;
    const group = batch.decided[row]!;
    const threshold = scorer.threshold(group);
    this.counters.packetsScored++;
    this.onScore?.({ kind: 'packet', score, threshold, packet: p });
    if (!(score > threshold)) return;
    this.counters.packetAnomalies++;
    found.push({
      kind: 'packet',
      score,
      threshold,
      index: p.index,
      ts: p.tsSec + (p.tsNsec || 0) / 1e9,
      protocol: p.protocol,
      src: p.src,
      dst: p.dst,
      sport: p.sport,
      dport: p.dport,
      features: scorer.explain(batch.data, group, row * batch.dims),
    });
  }

  private reportFlow(row: number, index: number, found: Anomaly[]): void {
    const scorer = this.flowScorer!;
    const batch = this.flowBatch;
    const flow = batch.items[row]!;
    const score = batch.scores[row]!;
    const group = batch.decided[row]!;
    const threshold = scorer.threshold(group);
    this.counters.flowsScored++;
    this.onScore?.({ kind: 'flow', score, threshold, flow });
    if (!(score > threshold)) return;
    this.counters.flowAnomalies++;
    found.push({
      kind: 'flow',
      score,
      threshold,
      index,
      ts: flow.start,
      protocol: flow.protocol,
      src: flow.src,
      dst: flow.dst,
      sport: flow.sport,
      dport: flow.dport,
      flow,
      features: scorer.explain(batch.data, group, row * batch.dims),
    });
  }
}
