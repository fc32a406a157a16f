/**
 * Feature vectors for anomaly detection: one per packet (with a little per-host memory: gaps, and
 * decaying rates of new destination ports, SYNs and SYNs received) and one per finished flow (size,
 * shape, state, and the originator's and responder's recent flow activity). Rates decay
 * exponentially with time constant tau in packet time: r <- r * exp(-dt / tau) + 1 per event, so a
 * host's rate is "events in about the last tau seconds" and needs O(1) memory. Per-host state lives
 * in bounded maps, least recently seen host dropped first.
 */
import type { PacketSummary } from '../capture/types.js';
import {
  DEFAULT_FLOW_RATE_TAU_SECONDS,
  DEFAULT_MAX_HOSTS,
  DEFAULT_RATE_TAU_SECONDS,
  NO_ADDRESS,
  PORT_FILTER_BITS,
} from './constants.js';
import type { FlowRecord } from './flows.js';

const SYN = 0x02;
const ACK = 0x10;
const RST = 0x04;
const TCP = 6;
/** Gap reported for a host's first packet, s: longer than any gap worth telling apart. */
const FIRST_GAP_SECONDS = 1000;
/** s: length of an epoch of a RecentSet; "recent" means this epoch or the one before. */
const RECENT_EPOCH_SECONDS = 60;

/*
 * Continuous features are quantized to the precision at which they mean anything: a packet's gap, a
 * flow's bytes and duration to 1/20 of a decade (12 %), decaying rates to two significant digits,
 * the SYN ratio to 0.01. (Packet and byte counts, flags and classes are discrete already.) A score is
 * a pure function of the vector, so equal vectors are scored once (score-memo.ts): unquantized, the
 * host-behaviour packet vectors rarely repeat (6-10 % memo hits on the evaluation traffic, the
 * detector's main cost) and flow vectors never; quantized, about 70 % and 30 % do, and the detector
 * runs about 1.5x faster. Recall and false positives were measured again after the change
 * (docs/anomaly.md).
 */
/** steps per decade of srcGapLog10s, bytesLog10 and durationLog10s */
const STEPS_PER_DECADE = 20;
/** steps of srcSynRatio per unit */
const RATIO_STEPS = 100;

/** log10(v) to the nearest 1/STEPS_PER_DECADE. */
function decades(v: number): number {
  return Math.round(STEPS_PER_DECADE * Math.log10(v)) / STEPS_PER_DECADE;
}

/** `v` (>= 0) rounded to two significant digits; 0 below 0.001 (what is left of a long-decayed rate). */
function twoDigits(v: number): number {
  if (!(v >= 1e-3)) return 0;
  if (!Number.isFinite(v)) return v;
  const unit = 10 ** (Math.floor(Math.log10(v)) - 1);
  return Math.round(v / unit) * unit;
}

/** Names of the packet features, in vector order. */
export const PACKET_FEATURES = [
  'size',
  'ipProto',
  'sportClass',
  'dportClass',
  'tcpFlags',
  'srcGapLog10s',
  'srcNewPortRate',
  'srcSynRatio',
] as const;

/**
 * Packet feature groups, one forest each (see scorer.ts): the packet itself, and its sender's recent
 * behaviour. Nothing about the destination: while a server is flooded or scanned, its legitimate
 * clients' packets must not look abnormal (docs/anomaly.md, "Real traffic").
 */
export const PACKET_FEATURE_GROUPS: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4],
  [5, 6, 7],
];

/** Names of the flow features, in vector order. */
export const FLOW_FEATURES = [
  'origPacketsLog10',
  'respPacketsLog10',
  'bytesLog10',
  'durationLog10s',
  'synWithoutAck',
  'reset',
  'srcNewServiceRate',
  'failedDstFlowRate',
] as const;

/**
 * Flow feature groups, one forest each: the flow's shape, and its hosts' recent behaviour. The rate
 * of flows to the flow's service counts only for a flow that was not established, so that a flood
 * shows in its own flows and not in the legitimate connections to the flooded service. Being 0 for
 * most flows, it is also in the shape group, where the trees split it among the few failed flows
 * of the baseline (S0, REJ) that a flood's flows resemble; in the host group alone a flood scored
 * at most 0.79 against a threshold of 0.82 on one synthetic seed.
 */
export const FLOW_FEATURE_GROUPS: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 7],
  [6, 7],
];

/**
 * Port classes of the IANA registry (RFC 6335 section 6): 0 no port, 1 system (0-1023),
 * 2 user (1024-49151), 3 dynamic (49152-65535).
 */
export function portClass(port: number | undefined): number {
  if (port === undefined || !(port >= 0)) return 0;
  if (port < 1024) return 1;
  return port < 49152 ? 2 : 3;
}

function decay(value: number, dt: number, tau: number): number {
  return dt > 0 ? value * Math.exp(-dt / tau) : value;
}

/** FNV-1a over a string, 32 bits: a cheap hash for the port filter. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A map that forgets its least recently used entry past `max` entries. */
class BoundedHosts<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  /** The entry for `key` (made with `create` when absent), marked most recently used. */
  get(key: string, create: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = create();
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    } else {
      this.map.delete(key);
    }
    this.map.set(key, value);
    return value;
  }

  get size(): number {
    return this.map.size;
  }
}

interface SourceState {
  /** s */
  last: number;
  packets: number;
  syns: number;
  newPorts: number;
  /** destination address and port pairs touched recently */
  ports: RecentSet;
}

export interface FeatureOptions {
  /** s: time constant of the decaying rates (default 2) */
  rateTau?: number;
  /** most hosts with state, per map (default 4096) */
  maxHosts?: number;
}

/**
 * Did the flow get going: a TCP flow whose originator sent more than its first packet and was
 * answered (a handshake completed, at least as far as flags and counts tell), any other flow that
 * was answered.
 */
function established(f: FlowRecord<FlowContext>): boolean {
  return f.respPackets > 0 && (f.ipProto !== TCP || (f.origPackets > 1 && !f.synWithoutAck && f.connState !== 'REJ'));
}

/** Does this packet open something towards a service port (where a scanner's probes count)? */
function opensService(p: PacketSummary): boolean {
  if (p.dport === undefined) return false;
  if (p.ipProto === TCP) return (p.tcpFlags & (SYN | ACK)) === SYN;
  return p.sport === undefined || p.dport <= p.sport;
}

/** Per-packet features with a little per-host memory. */
export class PacketFeaturizer {
  readonly dims = PACKET_FEATURES.length;
  private readonly tau: number;
  private readonly sources: BoundedHosts<SourceState>;

  constructor(options: FeatureOptions = {}) {
    this.tau = options.rateTau ?? DEFAULT_RATE_TAU_SECONDS;
    this.sources = new BoundedHosts(options.maxHosts ?? DEFAULT_MAX_HOSTS);
  }

  /** Write the features of `p` into `out` from `offset` (PACKET_FEATURES order) and update host state. */
  extract(p: PacketSummary, out: Float64Array, offset = 0): void {
    const t = p.tsSec + (p.tsNsec || 0) / 1e9;
    const time = Number.isFinite(t) ? t : 0;
    const flags = Number.isInteger(p.tcpFlags) ? p.tcpFlags & 0xff : 0;
    const synOnly = p.ipProto === TCP && (flags & (SYN | ACK | RST)) === SYN ? 1 : 0;
    const src = this.sources.get(p.src ?? NO_ADDRESS, () => newSource(time));
    const gap = src.packets === 0 ? FIRST_GAP_SECONDS : Math.max(time - src.last, 1e-6);
    const dt = time - src.last;
    src.packets = decay(src.packets, dt, this.tau) + 1;
    src.syns = decay(src.syns, dt, this.tau) + synOnly;
    src.newPorts =
      decay(src.newPorts, dt, this.tau) + (opensService(p) && this.firstTouch(src, p, time) ? 1 : 0);
    if (time > src.last) src.last = time;
    const len = p.length >= 0 && p.length < Number.POSITIVE_INFINITY ? p.length : 0;
    out[offset] = len;
    out[offset + 1] = Number.isFinite(p.ipProto) ? p.ipProto : -1;
    out[offset + 2] = portClass(p.sport);
    out[offset + 3] = portClass(p.dport);
    out[offset + 4] = flags;
    out[offset + 5] = decades(Math.min(gap, FIRST_GAP_SECONDS));
    out[offset + 6] = twoDigits(src.newPorts);
    out[offset + 7] = Math.round(RATIO_STEPS * (src.syns / src.packets)) / RATIO_STEPS;
  }

  /** Has `src` not touched this destination address and port recently? */
  private firstTouch(src: SourceState, p: PacketSummary, time: number): boolean {
    return src.ports.touch((fnv1a(p.dst ?? NO_ADDRESS) ^ Math.imul(p.dport ?? 0, 0x9e3779b1)) >>> 0, time);
  }
}

/**
 * What a host touched recently, in fixed memory: two one-hash Bloom filters of PORT_FILTER_BITS
 * bits, for this epoch and the one before. When an epoch ends the older filter is cleared and takes
 * the new epoch, so that memory never fills up and nothing is forgotten all at once (which would make
 * every service look new again). A hash collision makes a new item look known, never the reverse.
 */
class RecentSet {
  private current = new Uint32Array(PORT_FILTER_BITS / 32);
  private previous = new Uint32Array(PORT_FILTER_BITS / 32);
  constructor(private epochStart: number) {}

  /** Note `hash` at `time` (s); true if it was not seen in this epoch or the one before. */
  touch(hash: number, time: number): boolean {
    if (time - this.epochStart >= RECENT_EPOCH_SECONDS) this.rotate(time);
    const word = (hash >>> 5) % this.current.length;
    const mask = 1 << (hash & 31);
    const seen = ((this.current[word]! | this.previous[word]!) & mask) !== 0;
    this.current[word] = this.current[word]! | mask;
    return !seen;
  }

  private rotate(time: number): void {
    const older = this.previous.fill(0);
    if (time - this.epochStart >= 2 * RECENT_EPOCH_SECONDS) {
      this.current.fill(0); // idle for two epochs: nothing is recent any more
    } else {
      this.previous = this.current;
      this.current = older;
    }
    this.epochStart = time;
  }
}

function newSource(time: number): SourceState {
  return { last: time, packets: 0, syns: 0, newPorts: 0, ports: new RecentSet(time) };
}

interface FlowHostState {
  last: number;
  rate: number;
  /** originators only: services (responder address, port, protocol) opened recently */
  seen: RecentSet | undefined;
}

/** What was known about a flow's hosts when its first packet was seen. */
export interface FlowContext {
  /** decaying count of services (address, port, protocol) new to the originator */
  srcNewServiceRate: number;
  /** decaying count of flows to the same service */
  dstFlowRate: number;
}

/**
 * Per-flow features. The host rates are taken when the flow starts (`start`, given to the flow
 * table as its tag), in packet order, rather than when it ends, because flows end out of order.
 */
export class FlowFeaturizer {
  readonly dims = FLOW_FEATURES.length;
  private readonly tau: number;
  private readonly originators: BoundedHosts<FlowHostState>;
  private readonly responders: BoundedHosts<FlowHostState>;

  /** @param options.rateTau s (default 5: flows are slower than packets) */
  constructor(options: FeatureOptions = {}) {
    this.tau = options.rateTau ?? DEFAULT_FLOW_RATE_TAU_SECONDS;
    this.originators = new BoundedHosts(options.maxHosts ?? DEFAULT_MAX_HOSTS);
    this.responders = new BoundedHosts(options.maxHosts ?? DEFAULT_MAX_HOSTS);
  }

  /** Note the first packet of a flow and return the host rates at that moment. */
  start(p: PacketSummary): FlowContext {
    const t = p.tsSec + (p.tsNsec || 0) / 1e9;
    const time = Number.isFinite(t) ? t : 0;
    // As in the flow table: a first packet that is a SYN-ACK was sent by the responder.
    const flipped = p.ipProto === TCP && (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const origin = (flipped ? p.dst : p.src) ?? NO_ADDRESS;
    const service = `${(flipped ? p.src : p.dst) ?? NO_ADDRESS}|${(flipped ? p.sport : p.dport) ?? 0}|${p.ipProto}`;
    const orig = this.originators.get(origin, () => ({ last: time, rate: 0, seen: new RecentSet(time) }));
    const novel = orig.seen!.touch(fnv1a(service), time);
    orig.rate = decay(orig.rate, time - orig.last, this.tau) + (novel ? 1 : 0);
    if (time > orig.last) orig.last = time;
    const resp = this.responders.get(service, () => ({ last: time, rate: 0, seen: undefined }));
    resp.rate = decay(resp.rate, time - resp.last, this.tau) + 1;
    if (time > resp.last) resp.last = time;
    return { srcNewServiceRate: orig.rate, dstFlowRate: resp.rate };
  }

  /** Write the features of `f` into `out` from `offset` (FLOW_FEATURES order). */
  extract(f: FlowRecord<FlowContext>, out: Float64Array, offset = 0): void {
    out[offset] = Math.log10(1 + f.origPackets);
    out[offset + 1] = Math.log10(1 + f.respPackets);
    out[offset + 2] = decades(1 + f.origBytes + f.respBytes);
    out[offset + 3] = decades(f.duration + 1e-3);
    out[offset + 4] = f.synWithoutAck ? 1 : 0;
    out[offset + 5] = f.connState.startsWith('RST') || f.connState === 'REJ' ? 1 : 0;
    out[offset + 6] = twoDigits(f.tag.srcNewServiceRate);
    out[offset + 7] = established(f) ? 0 : twoDigits(f.tag.dstFlowRate);
  }
}
