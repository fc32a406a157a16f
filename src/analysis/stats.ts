/**
 * Traffic statistics over a stream of PacketSummary records: volume (totals and a per-second series
 * over a sliding window), protocol distribution, packet-size distribution per protocol, and top
 * talkers by bytes and packets. Memory is fixed at construction: the series is a ring of W seconds,
 * protocols past the cap fall into one bucket, and talkers are space-saving sketches of k counters.
 * Time is the packets' own timestamps, so a capture file and a live capture give the same figures.
 */
import type { PacketSummary } from '../capture/types.js';
import { WirelabError } from '../common/errors.js';
import {
  DEFAULT_MAX_PROTOCOLS,
  DEFAULT_SERIES_SECONDS,
  DEFAULT_TALKER_COUNTERS,
  MAX_SERIES_SECONDS,
  NO_ADDRESS,
  OTHER_PROTOCOL,
  SIZE_BUCKET_EDGES,
  SIZE_BUCKET_LABELS,
} from './constants.js';
import { SpaceSaving, TalkerBatch, type HeavyHitter } from './heavy-hitters.js';

/** Which packets to count (constructor) or to show (snapshot). Each field given must match exactly. */
export interface TrafficFilter {
  src?: string;
  dst?: string;
  protocol?: string;
}

export interface TrafficStatsOptions {
  /** seconds in the per-second series (1..3600, default 60) */
  seriesSeconds?: number;
  /** protocol names tracked one by one (default 32) */
  maxProtocols?: number;
  /** counters per top-talker sketch (default 64) */
  talkerCounters?: number;
  /** count only packets matching this filter */
  filter?: TrafficFilter;
}

/** Per-protocol figures in a snapshot. */
export interface ProtocolStats {
  protocol: string;
  packets: number;
  bytes: number;
  /** share of all counted packets, 0..1 */
  packetShare: number;
  /** share of all counted bytes, 0..1 */
  byteShare: number;
  /** bytes */
  minSize: number;
  /** bytes */
  maxSize: number;
  /** bytes */
  meanSize: number;
  /** packet counts per size bucket, in the order of `sizeBuckets` in the snapshot */
  sizeHistogram: number[];
}

export interface Talker {
  address: string;
  /** estimated total (bytes or packets); overestimates by at most `error` */
  value: number;
  error: number;
}

/** A plain JSON-able picture of the statistics. */
export interface StatsSnapshot {
  filter: TrafficFilter | null;
  view: TrafficFilter | null;
  packets: number;
  /** bytes on the wire */
  bytes: number;
  /** bytes per packet */
  avgPacketSize: number;
  /** first / last packet time, seconds since the epoch (null before any packet) */
  firstTs: number | null;
  lastTs: number | null;
  series: { seconds: number; endSec: number | null; packets: number[]; bytes: number[] };
  sizeBuckets: readonly string[];
  protocols: ProtocolStats[];
  topSources: { byBytes: Talker[]; byPackets: Talker[] };
  topDestinations: { byBytes: Talker[]; byPackets: Talker[] };
  /** packets left out by the constructor filter */
  filteredOut: number;
  /** packets whose length was not a finite number >= 0 (counted with length 0) */
  badLength: number;
}

/** Does `p` match every field given in `filter`? */
export function matchesFilter(p: PacketSummary, filter: TrafficFilter): boolean {
  return (
    (filter.src === undefined || p.src === filter.src) &&
    (filter.dst === undefined || p.dst === filter.dst) &&
    (filter.protocol === undefined || p.protocol === filter.protocol)
  );
}

function sizeBucket(length: number): number {
  const edges = SIZE_BUCKET_EDGES;
  for (let i = 0; i < edges.length; i++) if (length <= edges[i]!) return i;
  return edges.length;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new WirelabError('E_CONFIG', `${name} must be an integer ${min}..${max}, got ${value}`);
  }
  return value;
}

export class TrafficStats {
  private readonly window: number;
  private readonly maxProtocols: number;
  private readonly filter: TrafficFilter | undefined;
  private readonly protocolIds = new Map<string, number>();
  private readonly protocolNames: string[] = [];
  private readonly protoPackets: Float64Array;
  private readonly protoBytes: Float64Array;
  private readonly protoMin: Float64Array;
  private readonly protoMax: Float64Array;
  private readonly protoBuckets: Float64Array;
  /** ring buffers: [protocol * window + slot], plus one global ring */
  private readonly protoSeriesPackets: Float64Array;
  private readonly protoSeriesBytes: Float64Array;
  private readonly seriesPackets: Float64Array;
  private readonly seriesBytes: Float64Array;
  private headSec = Number.NEGATIVE_INFINITY;
  private readonly srcBytes: SpaceSaving;
  private readonly srcPackets: SpaceSaving;
  private readonly dstBytes: SpaceSaving;
  private readonly dstPackets: SpaceSaving;
  private readonly srcBatch: TalkerBatch;
  private readonly dstBatch: TalkerBatch;
  private packets = 0;
  private bytes = 0;
  private firstTs = Number.POSITIVE_INFINITY;
  private lastTs = Number.NEGATIVE_INFINITY;
  private filteredOut = 0;
  private badLength = 0;

  constructor(options: TrafficStatsOptions = {}) {
    this.window = checkRange(
      'seriesSeconds',
      options.seriesSeconds ?? DEFAULT_SERIES_SECONDS,
      1,
      MAX_SERIES_SECONDS,
    );
    this.maxProtocols = checkRange('maxProtocols', options.maxProtocols ?? DEFAULT_MAX_PROTOCOLS, 1, 1024);
    this.filter = options.filter;
    const slots = this.maxProtocols + 1; // + the OTHER_PROTOCOL bucket
    this.protoPackets = new Float64Array(slots);
    this.protoBytes = new Float64Array(slots);
    this.protoMin = new Float64Array(slots).fill(Number.POSITIVE_INFINITY);
    this.protoMax = new Float64Array(slots);
    this.protoBuckets = new Float64Array(slots * SIZE_BUCKET_LABELS.length);
    this.protoSeriesPackets = new Float64Array(slots * this.window);
    this.protoSeriesBytes = new Float64Array(slots * this.window);
    this.seriesPackets = new Float64Array(this.window);
    this.seriesBytes = new Float64Array(this.window);
    const k = options.talkerCounters ?? DEFAULT_TALKER_COUNTERS;
    this.srcBytes = new SpaceSaving(k);
    this.srcPackets = new SpaceSaving(k);
    this.dstBytes = new SpaceSaving(k);
    this.dstPackets = new SpaceSaving(k);
    this.srcBatch = new TalkerBatch(this.srcBytes, this.srcPackets);
    this.dstBatch = new TalkerBatch(this.dstBytes, this.dstPackets);
  }

  /**
   * Count one packet. Never throws: odd fields are counted as well as they can be.
   * @param srcV4 when `p.src` is an IPv4 address, the same address as a number 0..2^32-1 (it saves
   *   the talker lists a lookup by text: the fast path of `--stats`); else -1
   * @param dstV4 the same for `p.dst`
   */
  add(p: PacketSummary, srcV4 = -1, dstV4 = -1): void {
    if (this.filter !== undefined && !matchesFilter(p, this.filter)) {
      this.filteredOut++;
      return;
    }
    let len = p.length;
    if (!(len >= 0 && len < Number.POSITIVE_INFINITY)) {
      this.badLength++;
      len = 0;
    }
    const proto = this.protocolId(p.protocol);
    this.packets++;
    this.bytes += len;
    this.protoPackets[proto]!++;
    this.protoBytes[proto]! += len;
    if (len < this.protoMin[proto]!) this.protoMin[proto] = len;
    if (len > this.protoMax[proto]!) this.protoMax[proto] = len;
    this.protoBuckets[proto * SIZE_BUCKET_LABELS.length + sizeBucket(len)]!++;
    this.addTime(p, proto, len);
    const src = p.src ?? NO_ADDRESS;
    const dst = p.dst ?? NO_ADDRESS;
    if (srcV4 >= 0) this.srcBatch.addV4(srcV4, src, len);
    else this.srcBatch.add(src, len);
    if (dstV4 >= 0) this.dstBatch.addV4(dstV4, dst, len);
    else this.dstBatch.add(dst, len);
  }

  /**
   * A JSON-able picture. `view` narrows what is shown: `protocol` exactly (volume, series and sizes
   * of that protocol alone); `src` / `dst` narrow the talker lists to that address. To count only
   * one host's traffic exactly, build a TrafficStats with `filter` instead.
   */
  snapshot(view?: TrafficFilter): StatsSnapshot {
    const only = view?.protocol === undefined ? undefined : this.protocolIds.get(view.protocol);
    const restricted = view?.protocol !== undefined;
    const packets = restricted ? (only === undefined ? 0 : this.protoPackets[only]!) : this.packets;
    const bytes = restricted ? (only === undefined ? 0 : this.protoBytes[only]!) : this.bytes;
    this.srcBatch.flush();
    this.dstBatch.flush();
    return {
      filter: this.filter ?? null,
      view: view ?? null,
      packets,
      bytes,
      avgPacketSize: packets > 0 ? bytes / packets : 0,
      firstTs: this.packets > 0 ? this.firstTs : null,
      lastTs: this.packets > 0 ? this.lastTs : null,
      series: this.seriesView(restricted, only),
      sizeBuckets: SIZE_BUCKET_LABELS,
      protocols: this.protocolView(restricted, only),
      topSources: {
        byBytes: talkers(this.srcBytes, view?.src),
        byPackets: talkers(this.srcPackets, view?.src),
      },
      topDestinations: {
        byBytes: talkers(this.dstBytes, view?.dst),
        byPackets: talkers(this.dstPackets, view?.dst),
      },
      filteredOut: this.filteredOut,
      badLength: this.badLength,
    };
  }

  private protocolId(name: string): number {
    const id = this.protocolIds.get(name);
    if (id !== undefined) return id;
    if (this.protocolNames.length >= this.maxProtocols) return this.otherId();
    const fresh = this.protocolNames.length;
    this.protocolNames.push(name);
    this.protocolIds.set(name, fresh);
    return fresh;
  }

  /** The overflow bucket sits in the last slot and is named only once it is used. */
  private otherId(): number {
    if (!this.protocolIds.has(OTHER_PROTOCOL)) this.protocolIds.set(OTHER_PROTOCOL, this.maxProtocols);
    return this.maxProtocols;
  }

  private addTime(p: PacketSummary, proto: number, len: number): void {
    const t = p.tsSec + (p.tsNsec || 0) / 1e9;
    // Whole seconds must stay exact integers for the ring arithmetic: 0 .. 2^53 - 1.
    if (!(t >= 0 && t <= Number.MAX_SAFE_INTEGER)) return;
    if (t < this.firstTs) this.firstTs = t;
    if (t > this.lastTs) this.lastTs = t;
    const sec = Math.floor(t);
    if (sec > this.headSec) this.advance(sec);
    if (sec <= this.headSec - this.window) return; // older than the window: in totals, not in the series
    const slot = sec % this.window;
    this.seriesPackets[slot]!++;
    this.seriesBytes[slot]! += len;
    this.protoSeriesPackets[proto * this.window + slot]!++;
    this.protoSeriesBytes[proto * this.window + slot]! += len;
  }

  /** Move the window's head to `sec`, zeroing the seconds that fall out (at most W per protocol). */
  private advance(sec: number): void {
    const steps = Math.min(this.window, sec - this.headSec);
    const slots = this.maxProtocols + 1;
    for (let k = 0; k < steps; k++) {
      const slot = (sec - k) % this.window;
      this.seriesPackets[slot] = 0;
      this.seriesBytes[slot] = 0;
      for (let proto = 0; proto < slots; proto++) {
        this.protoSeriesPackets[proto * this.window + slot] = 0;
        this.protoSeriesBytes[proto * this.window + slot] = 0;
      }
    }
    this.headSec = sec;
  }

  private seriesView(restricted: boolean, only: number | undefined): StatsSnapshot['series'] {
    const packets: number[] = [];
    const bytes: number[] = [];
    const hasHead = Number.isFinite(this.headSec);
    if (hasHead) {
      for (let s = this.headSec - this.window + 1; s <= this.headSec; s++) {
        const slot = ((s % this.window) + this.window) % this.window;
        if (!restricted) {
          packets.push(this.seriesPackets[slot]!);
          bytes.push(this.seriesBytes[slot]!);
        } else {
          packets.push(only === undefined ? 0 : this.protoSeriesPackets[only * this.window + slot]!);
          bytes.push(only === undefined ? 0 : this.protoSeriesBytes[only * this.window + slot]!);
        }
      }
    }
    return { seconds: this.window, endSec: hasHead ? this.headSec : null, packets, bytes };
  }

  private protocolView(restricted: boolean, only: number | undefined): ProtocolStats[] {
    const result: ProtocolStats[] = [];
    const buckets = SIZE_BUCKET_LABELS.length;
    for (const [name, id] of this.protocolIds) {
      if (restricted && id !== only) continue;
      const packets = this.protoPackets[id]!;
      const bytes = this.protoBytes[id]!;
      result.push({
        protocol: name,
        packets,
        bytes,
        packetShare: this.packets > 0 ? packets / this.packets : 0,
        byteShare: this.bytes > 0 ? bytes / this.bytes : 0,
        minSize: packets > 0 ? this.protoMin[id]! : 0,
        maxSize: this.protoMax[id]!,
        meanSize: packets > 0 ? bytes / packets : 0,
        sizeHistogram: Array.from(this.protoBuckets.subarray(id * buckets, (id + 1) * buckets)),
      });
    }
    return result.sort((a, b) => b.bytes - a.bytes || b.packets - a.packets);
  }
}

function talkers(sketch: SpaceSaving, address: string | undefined): Talker[] {
  const top: HeavyHitter[] = sketch.top();
  const chosen = address === undefined ? top : top.filter((h) => h.key === address);
  return chosen.map((h) => ({ address: h.key, value: h.count, error: h.error }));
}
