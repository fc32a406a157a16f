/**
 * Everything the dashboard knows about the traffic, bounded: the packet history (summaries and bytes,
 * for the download and for building filtered views), one TrafficView per filter in use (the
 * unfiltered one always), and the anomalies the detector reported. Pure: the clock is an argument.
 */
import type { PacketSummary, RawPacket } from '../capture/index.js';
import type { Anomaly, FeatureContribution } from '../analysis/index.js';
import { WirelabError } from '../common/errors.js';
import { ANOMALIES_KEPT, HISTORY_BYTES, HISTORY_PACKETS, MAX_VIEWS, VIEW_IDLE_MS } from './constants.js';
import { PacketFilter } from './filter.js';
import { PacketStore } from './packet-store.js';
import { Ring } from './ring.js';
import { flowRow, TrafficView, type FlowRow } from './view.js';

/** An anomaly as the page lists it. */
export interface AnomalyRow {
  /** order of arrival */
  id: number;
  kind: 'packet' | 'flow';
  /** Isolation Forest score, 0..1 */
  score: number;
  threshold: number;
  /** s since the epoch: the packet's time, or the flow's start */
  time: number;
  protocol: string;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  features: FeatureContribution[];
  flow?: FlowRow;
}

export interface AggregatesOptions {
  historyPackets?: number;
  /** bytes */
  historyBytes?: number;
  maxViews?: number;
}

export class Aggregates {
  private readonly history: PacketStore;
  private readonly views = new Map<string, TrafficView>();
  private readonly maxViews: number;
  readonly anomalies = new Ring<AnomalyRow>(ANOMALIES_KEPT);
  /** packets ingested (the next packet's seq) */
  packets = 0;
  /** bytes on the wire ingested */
  bytes = 0;
  /** the input was read to its end: new views end their flows too */
  private ended = false;

  constructor(options: AggregatesOptions = {}) {
    this.history = new PacketStore(options.historyPackets ?? HISTORY_PACKETS, options.historyBytes ?? HISTORY_BYTES);
    this.maxViews = options.maxViews ?? MAX_VIEWS;
    const all = new TrafficView(new PacketFilter());
    this.views.set('', all);
  }

  /** The unfiltered view. */
  get all(): TrafficView {
    return this.views.get('')!;
  }

  /** Take one packet. Its bytes are copied: the caller may reuse its buffer. */
  ingest(raw: RawPacket, summary: PacketSummary): void {
    const seq = this.packets++;
    this.bytes += raw.originalLength;
    this.history.add(seq, raw, summary);
    for (const view of this.views.values()) if (view.filter.empty || view.filter.matches(summary)) view.add(seq, summary);
  }

  /** packets pushed out of the history (no longer downloadable) */
  get historyDropped(): number {
    return this.history.dropped;
  }

  /** End of input: every view's flows end. */
  endOfInput(): void {
    this.ended = true;
    for (const view of this.views.values()) view.endFlows();
  }

  addAnomaly(a: Anomaly): AnomalyRow {
    const row: AnomalyRow = {
      id: this.anomalies.total,
      kind: a.kind,
      score: a.score,
      threshold: a.threshold,
      time: a.ts,
      protocol: a.protocol,
      src: a.src ?? null,
      dst: a.dst ?? null,
      sport: a.sport ?? null,
      dport: a.dport ?? null,
      features: a.features,
    };
    if (a.flow) row.flow = flowRow(a.flow, true);
    this.anomalies.push(row);
    return row;
  }

  /** Anomalies passing the filter, newest first. */
  anomalyRows(filter: PacketFilter, limit: number): AnomalyRow[] {
    if (filter.empty) return this.anomalies.newest(limit);
    return this.anomalies.newest(limit, (a) => filter.matchesFields({ src: a.src ?? undefined, dst: a.dst ?? undefined, protocol: a.protocol }));
  }

  /**
   * The view of a filter, built on first use from the packet history (so it starts with what the
   * history still holds: `missed` says how many packets it never saw). Views past the cap that no
   * one watches are dropped, least recently used first.
   */
  view(filter: PacketFilter, nowMs: number): TrafficView {
    let view = this.views.get(filter.key);
    if (view === undefined) {
      this.evictIdle(nowMs, this.maxViews - 1);
      if (this.views.size >= this.maxViews) {
        throw new WirelabError('E_TOO_LARGE', `too many different filters in use at once (at most ${this.maxViews}); close a tab or clear a filter`);
      }
      view = new TrafficView(filter);
      view.missed = this.historyDropped;
      for (let i = 0; i < this.history.size; i++) {
        const e = this.history.at(i)!;
        if (filter.matches(e.summary)) view.add(e.seq, e.summary);
      }
      if (this.ended) view.endFlows();
      this.views.set(filter.key, view);
    }
    view.lastUsed = nowMs;
    return view;
  }

  /** The view of a filter if it exists (nothing is built). */
  peekView(filter: PacketFilter): TrafficView | undefined {
    return this.views.get(filter.key);
  }

  /** Drop filtered views nobody watches that are idle, or (to make room) the least recently used, until `keep` remain. */
  evictIdle(nowMs: number, keep = this.maxViews): void {
    const idle = [...this.views.values()].filter((v) => !v.filter.empty && v.watchers === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const v of idle) {
      if (this.views.size <= keep && nowMs - v.lastUsed < VIEW_IDLE_MS) break;
      this.views.delete(v.filter.key);
    }
  }

  /** The history's packets passing the filter, oldest first (for the download; see PacketStore.packets). */
  historyPackets(filter: PacketFilter): Generator<RawPacket> {
    return this.history.packets((summary) => filter.empty || filter.matches(summary));
  }

  stats(): { packets: number; bytes: number; historyPackets: number; historyBytes: number; historyDropped: number; views: number; anomalies: number } {
    return {
      packets: this.packets,
      bytes: this.bytes,
      historyPackets: this.history.size,
      historyBytes: this.history.heldBytes,
      historyDropped: this.historyDropped,
      views: this.views.size,
      anomalies: this.anomalies.total,
    };
  }
}
