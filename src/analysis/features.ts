/**
 * Feature vectors for anomaly detection: one per packet and one per flow record.
 *
 * Per packet: the packet's shape; its sender's behaviour (gap since its previous packet, SYN ratio,
 * flows opened, left unanswered and refused); and the volume between the two hosts (packets and
 * bytes per second each way, and their asymmetry). Per flow: its shape (packets, bytes, duration,
 * state) and its originator's behaviour when it started.
 *
 * Rates decay exponentially in packet time (host-state.ts): "events in about the last tau
 * seconds". They are what novelty alone cannot see: a flood from a known host to a known service
 * is new in nothing but its volume. What is merely new (a host, a service) is not a feature: the
 * detector reports it once as a novelty event (novelty.ts) instead of flagging every packet of a
 * newcomer. Per-host state lives in bounded maps, least recently seen first dropped.
 */
import type { PacketSummary } from '../capture/types.js';
import {
  DEFAULT_FLOW_RATE_TAU_SECONDS,
  DEFAULT_MAX_HOSTS,
  DEFAULT_RATE_TAU_SECONDS,
  DEFAULT_VOLUME_TAU_SECONDS,
  NO_ADDRESS,
} from './constants.js';
import { PacketRole, type FlowRecord } from './flows.js';
import { BoundedHosts, decades, decay, rate, secondsOf } from './host-state.js';

const SYN = 0x02;
const ACK = 0x10;
const RST = 0x04;
const TCP = 6;
/** Gap reported for a host's first packet, s: longer than any gap worth telling apart. */
const FIRST_GAP_SECONDS = 1000;
/** steps of srcSynRatio per unit */
const RATIO_STEPS = 100;

/** Names of the packet features, in vector order. */
export const PACKET_FEATURES = [
  'size',
  'ipProto',
  'sportClass',
  'dportClass',
  'tcpFlags',
  'srcGapLog10s',
  'srcSynRatio',
  'srcOpenRate',
  'srcUnansweredRate',
  'srcRefusedRate',
  'pairPacketRate',
  'pairByteRate',
  'pairAsymmetry',
] as const;

/**
 * Packet feature groups, one forest each (see scorer.ts): the packet itself, and its sender's recent
 * behaviour. The volume between sender and receiver (the pair rates and their asymmetry) is in no
 * forest: it is judged by its level alone, against a ceiling learnt from the baseline (the scorer's
 * guard, with PACKET_SLACK): normal rates wander within a few times their baseline's largest, and
 * near that edge a forest isolates ordinary bursts as readily as floods. Nothing about the
 * destination alone: while a server is flooded or scanned, its legitimate clients' packets must not
 * look abnormal (docs/anomaly.md, "Real traffic"); a flood shows in its sender's rates or, spoofed,
 * in the first-packet gap and SYN ratio of each forged source.
 */
export const PACKET_FEATURE_GROUPS: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4],
  [5, 6, 7, 8, 9],
];

/**
 * Packet features where only "more than usual" is suspicious (rates, ratios): a quiet newcomer or a
 * client back from a pause is not an anomaly. The scorer floors them at their baseline median.
 */
export const PACKET_UPPER_ONLY: readonly number[] = [6, 7, 8, 9, 10, 11, 12];

/**
 * Per packet feature: how many times the baseline's largest value still counts as that largest
 * (scorer.ts). Rates of normal traffic vary by a factor of two or three beyond what a baseline of a
 * minute shows (sessions cluster); floods, scans and transfers are tens to thousands of times over.
 */
export const PACKET_SLACK: readonly number[] = [1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4];

/**
 * Per packet feature: how far beyond the baseline's range a value still counts as the range's edge
 * (scorer.ts). Logarithms: 0.3 is a factor of 2 (timing shifts with a machine's load).
 */
export const PACKET_MARGIN: readonly number[] = [0, 0, 0, 0, 0, 0.3, 0, 0, 0, 0, 0, 0, 0];

/** Names of the flow features, in vector order. */
export const FLOW_FEATURES = [
  'origPacketsLog10',
  'respPacketsLog10',
  'bytesLog10',
  'durationLog10s',
  'synWithoutAck',
  'reset',
  'failedDstFlowRate',
  'srcOpenRate',
  'srcUnansweredRate',
  'srcRefusedRate',
] as const;

/**
 * Flow feature groups, one forest each: the flow's shape, and its originator's behaviour. The rate
 * of flows to the flow's service counts only for a flow that was not established, so that a flood
 * shows in its own flows and not in the legitimate connections to the flooded service; it is in
 * both groups (in the shape group the trees split it among the few failed flows of the baseline).
 */
export const FLOW_FEATURE_GROUPS: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6],
  [7, 8, 9, 6],
];

/** Flow features where only "more than usual" is suspicious. */
export const FLOW_UPPER_ONLY: readonly number[] = [6, 7, 8, 9];
/**
 * Per flow feature: see PACKET_MARGIN. A flow a little longer, larger or with a few more packets
 * than any in a baseline of a few hundred flows (a busier machine stretches every exchange) is not
 * an anomaly; a transfer or a flood is orders of magnitude over.
 */
export const FLOW_MARGIN: readonly number[] = [0.18, 0.18, 0.3, 0.3, 0, 0, 0, 0, 0, 0];
/** Per flow feature: see PACKET_SLACK. */
export const FLOW_SLACK: readonly number[] = [1, 1, 1, 1, 1, 1, 4, 4, 4, 4];

/**
 * Per feature, the smallest change from a value that was constant over the whole baseline that
 * means something (scorer.ts, the constant-feature guard). A forest never splits on a constant
 * feature, so without the guard a change in it alone would be invisible. Rates are counts in about
 * the last tau: 2.5 is "a few more events than ever". Logarithms: 0.3 decades is a factor of 2.
 */
export const PACKET_TOLERANCE: readonly number[] = [0, 0, 0, 0, 0, 3, 0.2, 2.5, 2.5, 2.5, 2.5, 2500, 2.5];
export const FLOW_TOLERANCE: readonly number[] = [0.3, 0.3, 0.5, 1, 0, 0, 2.5, 2.5, 2.5, 2.5];

/**
 * Port classes of the IANA registry (RFC 6335 section 6): 0 no port, 1 system (0-1023),
 * 2 user (1024-49151), 3 dynamic (49152-65535).
 */
export function portClass(port: number | undefined): number {
  if (port === undefined || !(port >= 0)) return 0;
  if (port < 1024) return 1;
  return port < 49152 ? 2 : 3;
}

/** A sender's recent behaviour, decaying with the host tau. */
interface SourceState {
  /** s: its last packet */
  last: number;
  /** s: the moment the counters are decayed to */
  at: number;
  seen: boolean;
  packets: number;
  syns: number;
  /** flows it opened, answers it got, refusals it got */
  opens: number;
  answers: number;
  refusals: number;
}

/** Traffic between two hosts each way, decaying with the volume tau; a is the lower address. */
interface PairState {
  /** s */
  last: number;
  packetsAB: number;
  bytesAB: number;
  packetsBA: number;
  bytesBA: number;
}

/** What is known about a host's openings, as of some moment (decayed to it). */
export interface SourceRates {
  opens: number;
  unanswered: number;
  refusals: number;
}

export interface FeatureOptions {
  /** s: time constant of the per-host rates (default 2) */
  rateTau?: number;
  /** s: time constant of the per-pair volume rates (default 1) */
  volumeTau?: number;
  /** most hosts (and host pairs) with state, per map (default 4096) */
  maxHosts?: number;
}

function newSource(time: number): SourceState {
  return { last: time, at: time, seen: false, packets: 0, syns: 0, opens: 0, answers: 0, refusals: 0 };
}

function newPair(time: number): PairState {
  return { last: time, packetsAB: 0, bytesAB: 0, packetsBA: 0, bytesBA: 0 };
}

/** Per-packet features with a little per-host and per-pair memory. */
export class PacketFeaturizer {
  readonly dims = PACKET_FEATURES.length;
  private readonly tau: number;
  private readonly volumeTau: number;
  private readonly sources: BoundedHosts<SourceState>;
  private readonly pairs: BoundedHosts<PairState>;

  constructor(options: FeatureOptions = {}) {
    this.tau = options.rateTau ?? DEFAULT_RATE_TAU_SECONDS;
    this.volumeTau = options.volumeTau ?? DEFAULT_VOLUME_TAU_SECONDS;
    const max = options.maxHosts ?? DEFAULT_MAX_HOSTS;
    this.sources = new BoundedHosts(max);
    this.pairs = new BoundedHosts(2 * max);
  }

  /** The opening rates of `address` at `time` (s), without changing its state. */
  sourceRates(address: string, time: number): SourceRates {
    const s = this.sources.peek(address);
    if (s === undefined) return { opens: 0, unanswered: 0, refusals: 0 };
    const k = s.at < time ? Math.exp(-(time - s.at) / this.tau) : 1;
    return { opens: k * s.opens, unanswered: k * Math.max(0, s.opens - s.answers - s.refusals), refusals: k * s.refusals };
  }

  /**
   * Write the features of `p` into `out` from `offset` (PACKET_FEATURES order) and update host
   * state. `role` is what the packet meant for its flow and `originator` that flow's originator
   * (FlowTable.lastRole / lastOriginator, after pushing `p`).
   */
  extract(p: PacketSummary, out: Float64Array, offset = 0, role: PacketRole = PacketRole.Other, originator = NO_ADDRESS): void {
    const time = secondsOf(p);
    const flags = Number.isInteger(p.tcpFlags) ? p.tcpFlags & 0xff : 0;
    const len = p.length >= 0 && p.length < Number.POSITIVE_INFINITY ? p.length : 0;
    const srcAddress = p.src ?? NO_ADDRESS;
    if (role === PacketRole.Answered || role === PacketRole.Refused) this.noteAnswer(originator, time, role);
    const src = this.sources.get(srcAddress, () => newSource(time));
    const gap = src.seen ? Math.max(time - src.last, 1e-6) : FIRST_GAP_SECONDS;
    this.updateSource(src, time, p.ipProto === TCP && (flags & (SYN | ACK | RST)) === SYN, role === PacketRole.Opened);
    out[offset] = len;
    out[offset + 1] = Number.isFinite(p.ipProto) ? p.ipProto : -1;
    out[offset + 2] = portClass(p.sport);
    out[offset + 3] = portClass(p.dport);
    out[offset + 4] = flags;
    out[offset + 5] = decades(Math.min(gap, FIRST_GAP_SECONDS));
    out[offset + 6] = Math.round(RATIO_STEPS * (src.syns / src.packets)) / RATIO_STEPS;
    out[offset + 7] = rate(src.opens);
    out[offset + 8] = rate(Math.max(0, src.opens - src.answers - src.refusals));
    out[offset + 9] = rate(src.refusals);
    this.pairFeatures(srcAddress, p.dst ?? NO_ADDRESS, time, len, out, offset + 10);
  }

  /** Decay the counters of `s` to `time` (s). */
  private decayTo(s: SourceState, time: number): void {
    const dt = time - s.at;
    if (!(dt > 0)) return;
    const k = Math.exp(-dt / this.tau);
    s.packets *= k;
    s.syns *= k;
    s.opens *= k;
    s.answers *= k;
    s.refusals *= k;
    s.at = time;
  }

  private updateSource(src: SourceState, time: number, synOnly: boolean, opened: boolean): void {
    this.decayTo(src, time);
    if (time > src.last) src.last = time;
    src.seen = true;
    src.packets += 1;
    if (synOnly) src.syns += 1;
    if (opened) src.opens += 1;
  }

  /** The originator of a flow got its first answer (or a refusal). */
  private noteAnswer(originator: string, time: number, role: PacketRole): void {
    const o = this.sources.peek(originator);
    if (o === undefined) return;
    this.decayTo(o, time);
    if (role === PacketRole.Refused) o.refusals += 1;
    else o.answers += 1;
  }

  /** Packets and bytes per second from src to dst, and log10 of packets sent over packets received. */
  private pairFeatures(src: string, dst: string, time: number, len: number, out: Float64Array, at: number): void {
    const forward = src <= dst;
    const pair = this.pairs.get(forward ? `${src}>${dst}` : `${dst}>${src}`, () => newPair(time));
    const dt = time - pair.last;
    if (dt > 0) {
      const k = Math.exp(-dt / this.volumeTau);
      pair.packetsAB *= k;
      pair.bytesAB *= k;
      pair.packetsBA *= k;
      pair.bytesBA *= k;
      pair.last = time;
    }
    let sent: number;
    let received: number;
    let bytes: number;
    if (forward) {
      sent = pair.packetsAB += 1;
      bytes = pair.bytesAB += len;
      received = pair.packetsBA;
    } else {
      sent = pair.packetsBA += 1;
      bytes = pair.bytesBA += len;
      received = pair.packetsAB;
    }
    out[at] = rate(sent / this.volumeTau);
    out[at + 1] = rate(bytes / this.volumeTau);
    // sent over received, + 1 each: 1 for a balanced exchange, the packets sent for a one-way flood
    out[at + 2] = rate((1 + sent) / (1 + received));
  }
}

/** What was known about a flow's hosts when its first packet was seen. */
export interface FlowContext {
  /** the originator's opening rates (PacketFeaturizer.sourceRates) */
  source: SourceRates;
  /** decaying count of flows to the same service */
  dstFlowRate: number;
}

interface ServiceState {
  last: number;
  rate: number;
}

/**
 * Per-flow features. The host rates are taken when the flow starts (`start`, given to the flow
 * table as its tag), in packet order, rather than when it ends, because flows end out of order.
 */
export class FlowFeaturizer {
  readonly dims = FLOW_FEATURES.length;
  private readonly tau: number;
  private readonly responders: BoundedHosts<ServiceState>;

  /** @param options.rateTau s (default 5: flows are slower than packets) */
  constructor(options: FeatureOptions = {}) {
    this.tau = options.rateTau ?? DEFAULT_FLOW_RATE_TAU_SECONDS;
    this.responders = new BoundedHosts(options.maxHosts ?? DEFAULT_MAX_HOSTS);
  }

  /** Note the first packet of a flow; returns the rate of flows to its service at that moment. */
  start(p: PacketSummary): number {
    const time = secondsOf(p);
    // As in the flow table: a first packet that is a SYN-ACK was sent by the responder.
    const flipped = p.ipProto === TCP && (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const service = `${(flipped ? p.src : p.dst) ?? NO_ADDRESS}|${(flipped ? p.sport : p.dport) ?? 0}|${p.ipProto}`;
    const resp = this.responders.get(service, () => ({ last: time, rate: 0 }));
    resp.rate = decay(resp.rate, time - resp.last, this.tau) + 1;
    if (time > resp.last) resp.last = time;
    return resp.rate;
  }

  /** Write the features of `f` into `out` from `offset` (FLOW_FEATURES order). */
  extract(f: FlowRecord<FlowContext>, out: Float64Array, offset = 0): void {
    out[offset] = Math.log10(1 + f.origPackets);
    out[offset + 1] = Math.log10(1 + f.respPackets);
    out[offset + 2] = decades(1 + f.origBytes + f.respBytes);
    out[offset + 3] = decades(f.duration + 1e-3);
    out[offset + 4] = f.synWithoutAck ? 1 : 0;
    out[offset + 5] = f.connState.startsWith('RST') || f.connState === 'REJ' ? 1 : 0;
    out[offset + 6] = established(f) ? 0 : rate(f.tag.dstFlowRate);
    out[offset + 7] = rate(f.tag.source.opens);
    out[offset + 8] = rate(f.tag.source.unanswered);
    out[offset + 9] = rate(f.tag.source.refusals);
  }
}

/**
 * Did the flow get going: a TCP flow whose originator sent more than its first packet and was
 * answered (a handshake completed, at least as far as flags and counts tell), any other flow that
 * was answered. A part reported on the active timeout counts as going.
 */
function established(f: FlowRecord<FlowContext>): boolean {
  if (f.endReason === 'active') return true;
  return f.respPackets > 0 && (f.ipProto !== TCP || (f.origPackets > 1 && !f.synWithoutAck && f.connState !== 'REJ'));
}
