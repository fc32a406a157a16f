/**
 * One view of the traffic: the analyzer's own TrafficStats and FlowTable over the packets that pass
 * one filter, plus the newest packets and finished flows for the page's tables. Pure: packets come
 * in as arguments, time is their own.
 */
import type { PacketSummary } from '../capture/index.js';
import { FlowTable, TrafficStats, type FlowRecord, type StatsSnapshot } from '../analysis/index.js';
import { MAX_FILTERED_FLOWS, MAX_FLOWS, SERIES_SECONDS, VIEW_FINISHED_FLOWS, VIEW_RECENT_PACKETS } from './constants.js';
import type { PacketFilter } from './filter.js';
import { Ring } from './ring.js';

/** A packet as the page's table shows it (the analyzer's fields). `time`: seconds since the epoch. */
export interface PacketRow {
  /** position in the dashboard's packet history (increasing) */
  seq: number;
  time: number;
  type: string;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  protocol: string;
  /** bytes on the wire */
  length: number;
  flags: string;
  info: string;
  error?: string;
}

/** A flow as the page shows it: Zeek's conn.log fields. Times in seconds since the epoch, durations in s. */
export interface FlowRow {
  protocol: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  start: number;
  duration: number;
  origPackets: number;
  origBytes: number;
  respPackets: number;
  respBytes: number;
  connState: string;
  /** false while the flow is still in the table */
  ended: boolean;
}

export function packetRow(seq: number, p: PacketSummary): PacketRow {
  const row: PacketRow = {
    seq,
    time: p.tsSec + p.tsNsec / 1e9,
    type: p.type,
    src: p.src ?? null,
    dst: p.dst ?? null,
    sport: p.sport ?? null,
    dport: p.dport ?? null,
    protocol: p.protocol,
    length: p.length,
    flags: p.flags,
    info: p.info,
  };
  if (p.error !== undefined) row.error = p.error;
  return row;
}

export function flowRow(f: FlowRecord<unknown>, ended: boolean): FlowRow {
  return {
    protocol: f.protocol,
    src: f.src,
    sport: f.sport,
    dst: f.dst,
    dport: f.dport,
    start: f.start,
    duration: f.duration,
    origPackets: f.origPackets,
    origBytes: f.origBytes,
    respPackets: f.respPackets,
    respBytes: f.respBytes,
    connState: f.connState,
    ended,
  };
}

interface Recent {
  seq: number;
  summary: PacketSummary;
}

export class TrafficView {
  readonly stats = new TrafficStats({ seriesSeconds: SERIES_SECONDS });
  private readonly flows: FlowTable;
  private readonly finished = new Ring<FlowRecord>(VIEW_FINISHED_FLOWS);
  private readonly recent = new Ring<Recent>(VIEW_RECENT_PACKETS);
  /** seq of the newest packet counted (-1: none) */
  lastSeq = -1;
  /** ms (server clock) this view was last asked for */
  lastUsed = 0;
  /** WebSocket clients watching */
  watchers = 0;
  /** packets the view never saw because they had left the history before it was built */
  missed = 0;

  constructor(readonly filter: PacketFilter) {
    this.flows = new FlowTable({ maxFlows: filter.empty ? MAX_FLOWS : MAX_FILTERED_FLOWS });
  }

  /** Count one packet (already known to pass the filter). */
  add(seq: number, p: PacketSummary): void {
    this.stats.add(p);
    for (const f of this.flows.push(p)) this.finished.push(f);
    this.recent.push({ seq, summary: p });
    this.lastSeq = seq;
  }

  /** End of input: every flow held ends (a file was read to its end). */
  endFlows(): void {
    for (const f of this.flows.flush()) this.finished.push(f);
  }

  snapshot(): StatsSnapshot {
    return this.stats.snapshot();
  }

  /** Flows: the most recently active still held, and the newest finished, `limit` of each. */
  flowRows(limit: number): { active: FlowRow[]; finished: FlowRow[]; stats: ReturnType<FlowTable['stats']> } {
    return {
      active: this.flows.peek(limit).map((f) => flowRow(f, false)),
      finished: this.finished.newest(limit).map((f) => flowRow(f, true)),
      stats: this.flows.stats(),
    };
  }

  /** Packets after `afterSeq`, oldest first, the newest `limit` of them at most. */
  packetsAfter(afterSeq: number, limit: number): PacketRow[] {
    const rows = this.recent.newestWhile(limit, (r) => r.seq > afterSeq);
    return rows.reverse().map((r) => packetRow(r.seq, r.summary));
  }
}
