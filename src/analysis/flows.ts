/**
 * Bidirectional flows keyed by 5-tuple (protocol, the two endpoints): A->B and B->A are one flow, and
 * the endpoint of the first packet is the originator (or the responder, when the first packet seen is
 * a SYN-ACK). TCP flows carry a Zeek-like `conn_state` (Zeek's conn.log documentation: S0, S1, SF,
 * REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH). Flows end on idle timeout, shortly after a
 * TCP close (both FINs or an RST), on eviction when the table is full (oldest idle first), or on
 * flush(). Time is packet time. Memory is bounded by `maxFlows`.
 */
import type { PacketSummary } from '../capture/types.js';
import { WirelabError } from '../common/errors.js';
import {
  DEFAULT_DATAGRAM_IDLE_SECONDS,
  DEFAULT_FLOW_ACTIVE_SECONDS,
  DEFAULT_FLOW_CLOSE_LINGER_SECONDS,
  DEFAULT_FLOW_IDLE_SECONDS,
  DEFAULT_MAX_FLOWS,
  NO_ADDRESS,
} from './constants.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const TCP = 6;

export type ConnState =
  'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';
/**
 * Why a flow record was reported: the flow ended (closed, idle, evicted, flush), or it is still
 * open and ran longer than the active timeout ('active': the record covers the part since the last
 * report, as NetFlow's active timeout does, and the flow goes on with fresh counters).
 */
export type FlowEndReason = 'closed' | 'idle' | 'evicted' | 'flush' | 'active';

/** What a packet meant for its flow (FlowTable.lastRole). */
export const PacketRole = {
  /** an ordinary packet of an ongoing flow */
  Other: 0,
  /** the first packet of a flow, sent by its originator */
  Opened: 1,
  /** the responder's first packet, not a refusal: the originator was answered */
  Answered: 2,
  /** the responder's first packet is a TCP RST: the originator was refused */
  Refused: 3,
} as const;
export type PacketRole = (typeof PacketRole)[keyof typeof PacketRole];

/** A flow as reported when it ends. Times in seconds since the epoch. */
export interface FlowRecord<T = undefined> {
  /** canonical key: the same for both directions */
  key: string;
  /** IP protocol number, -1 when not IP */
  ipProto: number;
  /** highest protocol of the first packet ('TCP', 'DNS', ...) */
  protocol: string;
  /** originator */
  src: string;
  sport: number;
  /** responder */
  dst: string;
  dport: number;
  /** s */
  start: number;
  /** s */
  last: number;
  /** s */
  duration: number;
  origPackets: number;
  /** bytes on the wire */
  origBytes: number;
  respPackets: number;
  respBytes: number;
  connState: ConnState;
  /** originator sent a SYN that was never answered by a SYN-ACK */
  synWithoutAck: boolean;
  endReason: FlowEndReason;
  /** what options.tag returned for the flow's first packet */
  tag: T;
}

export interface FlowTableOptions<T = undefined> {
  /** s of packet time without a packet before a TCP flow ends (default 60) */
  idleTimeout?: number;
  /** s of packet time without a packet before a UDP, ICMP or other flow ends (default 15) */
  datagramIdleTimeout?: number;
  /** s a closed TCP flow lingers for its last ACKs (default 2) */
  closeLinger?: number;
  /**
   * s after which an open flow is reported anyway, with what it did since its last report, and goes
   * on with fresh counters (default 10; Infinity: never)
   */
  activeTimeout?: number;
  /** most flows held (default 65536) */
  maxFlows?: number;
  /** called with the first packet of each flow; its result is returned with the finished flow */
  tag?: (p: PacketSummary) => T;
}

/** A live flow: the record's counters, with TCP events as bits from which connState is derived at the end. */
type Flow<T> = Omit<FlowRecord<T>, 'duration' | 'connState' | 'synWithoutAck' | 'endReason'> & {
  /** bit set of TCP events: see the EV_ constants */
  events: number;
  /** no packet accounted yet */
  firstSeen: boolean;
  /** the responder has sent a packet (ever, not only in this part) */
  answered: boolean;
  /** s: `last` when the flow took its place in its queue (see expire()) */
  placed: number;
};

const EV_ORIG_SYN = 1;
const EV_RESP_SYNACK = 2;
const EV_ORIG_FIN = 4;
const EV_RESP_FIN = 8;
const EV_ORIG_RST = 16;
const EV_RESP_RST = 32;

const NO_FLOWS: readonly never[] = Object.freeze([]);

/** Zeek's conn_state from what each side sent. */
export function connState(ipProto: number, events: number, respPackets: number): ConnState {
  if (ipProto !== TCP) return respPackets > 0 ? 'SF' : 'S0';
  const syn = (events & EV_ORIG_SYN) !== 0;
  const synAck = (events & EV_RESP_SYNACK) !== 0;
  if (syn && synAck) return establishedState(events);
  if (syn) {
    if (events & EV_RESP_RST) return 'REJ';
    if (events & EV_ORIG_RST) return 'RSTOS0';
    return events & EV_ORIG_FIN ? 'SH' : 'S0';
  }
  if (synAck) {
    if (events & EV_RESP_RST) return 'RSTRH';
    if (events & EV_RESP_FIN) return 'SHR';
  }
  return 'OTH';
}

function establishedState(events: number): ConnState {
  if (events & EV_ORIG_RST) return 'RSTO';
  if (events & EV_RESP_RST) return 'RSTR';
  const origFin = (events & EV_ORIG_FIN) !== 0;
  const respFin = (events & EV_RESP_FIN) !== 0;
  if (origFin && respFin) return 'SF';
  if (origFin) return 'S2';
  return respFin ? 'S3' : 'S1';
}

function portOf(port: number | undefined): number {
  return port !== undefined && Number.isInteger(port) ? port : 0;
}

/** The same key for both directions: the lower endpoint first. */
export function flowKey(p: PacketSummary): string {
  const a = `${p.src ?? NO_ADDRESS}|${portOf(p.sport)}`;
  const b = `${p.dst ?? NO_ADDRESS}|${portOf(p.dport)}`;
  return a <= b ? `${p.ipProto}|${a}|${b}` : `${p.ipProto}|${b}|${a}`;
}

function packetTime(p: PacketSummary): number {
  const t = p.tsSec + (p.tsNsec || 0) / 1e9;
  return Number.isFinite(t) ? t : 0;
}

function positive(name: string, value: number): number {
  if (!(value > 0 && value < Number.POSITIVE_INFINITY))
    throw new WirelabError('E_CONFIG', `${name} must be > 0, got ${value}`);
  return value;
}

/** One queue of flows that share a timeout, least recently active first. */
interface Queue<T> {
  flows: Map<string, Flow<T>>;
  /** s of packet time after the last packet at which a flow of this queue ends */
  timeout: number;
  reason: FlowEndReason;
}

/**
 * The flow table. `T` is an optional tag the caller attaches to each flow when it starts (through
 * `options.tag`), returned with the finished record: e.g. what was known about the hosts then.
 */
export class FlowTable<T = undefined> {
  /** open TCP flows, open other flows, closed TCP flows lingering for their last packets */
  private readonly tcp: Queue<T>;
  private readonly datagram: Queue<T>;
  private readonly closing: Queue<T>;
  private readonly maxFlows: number;
  private readonly activeTimeout: number;
  private readonly tag: ((p: PacketSummary) => T) | undefined;
  private now = Number.NEGATIVE_INFINITY;
  private counters = { packets: 0, flows: 0, finished: 0, evicted: 0, reports: 0 };

  constructor(options: FlowTableOptions<T> = {}) {
    const idle = positive('idleTimeout', options.idleTimeout ?? DEFAULT_FLOW_IDLE_SECONDS);
    const datagramIdle = positive(
      'datagramIdleTimeout',
      options.datagramIdleTimeout ?? DEFAULT_DATAGRAM_IDLE_SECONDS,
    );
    const linger = positive('closeLinger', options.closeLinger ?? DEFAULT_FLOW_CLOSE_LINGER_SECONDS);
    this.tcp = { flows: new Map(), timeout: idle, reason: 'idle' };
    this.datagram = { flows: new Map(), timeout: datagramIdle, reason: 'idle' };
    this.closing = { flows: new Map(), timeout: linger, reason: 'closed' };
    this.maxFlows = positive('maxFlows', options.maxFlows ?? DEFAULT_MAX_FLOWS);
    const active = options.activeTimeout ?? DEFAULT_FLOW_ACTIVE_SECONDS;
    this.activeTimeout = active === Number.POSITIVE_INFINITY ? active : positive('activeTimeout', active);
    this.tag = options.tag;
  }

  /** What the last packet pushed meant for its flow. */
  lastRole: PacketRole = PacketRole.Other;
  /** The originator of the last packet's flow. */
  lastOriginator = NO_ADDRESS;

  /** Flows held now. */
  get size(): number {
    return this.tcp.flows.size + this.datagram.flows.size + this.closing.flows.size;
  }

  /** Counters: packets seen, flows started, finished, evicted, reported while open (active timeout), held. */
  stats(): { packets: number; flows: number; finished: number; evicted: number; reports: number; active: number } {
    return { ...this.counters, active: this.size };
  }

  /** Account one packet; returns the flows that ended by the time of this packet (often none). */
  push(p: PacketSummary): readonly FlowRecord<T>[] {
    this.counters.packets++;
    const t = packetTime(p);
    if (t > this.now) this.now = t;
    let done = this.expire(this.closing, this.expire(this.tcp, this.expire(this.datagram, undefined)));
    const key = flowKey(p);
    let flow = this.closing.flows.get(key);
    if (flow === undefined) {
      const queue = p.ipProto === TCP ? this.tcp : this.datagram;
      flow = queue.flows.get(key);
      if (flow === undefined) {
        done = this.makeRoom(done);
        flow = this.startFlow(key, p, t);
        queue.flows.set(key, flow);
      }
    }
    this.account(flow, p, t);
    if (this.isClosed(flow) && this.tcp.flows.delete(key)) {
      flow.placed = flow.last;
      this.closing.flows.set(key, flow);
    }
    else if (t - flow.start >= this.activeTimeout) (done ??= []).push(this.report(flow));
    return done ?? NO_FLOWS;
  }

  /** End every flow held (end of capture). */
  flush(): FlowRecord<T>[] {
    const done: FlowRecord<T>[] = [];
    for (const queue of [this.closing, this.tcp, this.datagram]) {
      for (const flow of queue.flows.values())
        if (!Number.isNaN(flow.start)) done.push(this.finish(flow, queue === this.closing ? 'closed' : 'flush'));
      queue.flows.clear();
    }
    return done;
  }

  /**
   * End the flows of `queue` idle for its timeout. A queue is in the order flows took their place,
   * and a flow is not moved on every packet (a delete and a set per packet were the table's main
   * cost): a flow at the front that has had packets since it was placed is moved to the back when
   * the scan reaches it, so the front is always the flow idle longest, at a cost of one move per
   * flow per timeout at most.
   */
  private expire(queue: Queue<T>, done: FlowRecord<T>[] | undefined): FlowRecord<T>[] | undefined {
    for (const [key, flow] of queue.flows) {
      if (flow.last + queue.timeout > this.now) {
        if (flow.placed >= flow.last) break;
        queue.flows.delete(key);
        flow.placed = flow.last;
        queue.flows.set(key, flow);
        continue;
      }
      queue.flows.delete(key);
      if (!Number.isNaN(flow.start)) (done ??= []).push(this.finish(flow, queue.reason));
    }
    return done;
  }

  /** Move flows that had packets since they were placed from the front of `queue` to its back. */
  private settle(queue: Queue<T>): void {
    for (const [key, flow] of queue.flows) {
      if (flow.placed >= flow.last) return;
      queue.flows.delete(key);
      flow.placed = flow.last;
      queue.flows.set(key, flow);
    }
  }

  /** Evict the oldest idle flow when full: a lingering closed one first, else the least recently active. */
  private makeRoom(done: FlowRecord<T>[] | undefined): FlowRecord<T>[] | undefined {
    if (this.size < this.maxFlows) return done;
    let from = this.closing;
    if (from.flows.size === 0) {
      this.settle(this.tcp);
      this.settle(this.datagram);
      const a = this.tcp.flows.values().next();
      const b = this.datagram.flows.values().next();
      from = a.done === true || (b.done !== true && b.value.last < a.value.last) ? this.datagram : this.tcp;
    }
    const first = from.flows.entries().next();
    if (first.done === true) return done;
    from.flows.delete(first.value[0]);
    this.counters.evicted++;
    const list = done ?? [];
    if (!Number.isNaN(first.value[1].start)) list.push(this.finish(first.value[1], 'evicted'));
    return list;
  }

  private startFlow(key: string, p: PacketSummary, t: number): Flow<T> {
    this.counters.flows++;
    // A first packet that is a SYN-ACK came from the responder: the originator is its destination.
    const flipped = p.ipProto === TCP && (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const src = p.src ?? NO_ADDRESS;
    const dst = p.dst ?? NO_ADDRESS;
    return {
      key,
      ipProto: p.ipProto,
      protocol: p.protocol,
      src: flipped ? dst : src,
      sport: flipped ? portOf(p.dport) : portOf(p.sport),
      dst: flipped ? src : dst,
      dport: flipped ? portOf(p.sport) : portOf(p.dport),
      start: t,
      last: t,
      origPackets: 0,
      origBytes: 0,
      respPackets: 0,
      respBytes: 0,
      events: 0,
      firstSeen: true,
      answered: false,
      placed: t,
      tag: this.tag?.(p) as T,
    };
  }

  /** An open flow past the active timeout: its record so far; the flow goes on with fresh counters. */
  private report(flow: Flow<T>): FlowRecord<T> {
    const record = this.finish(flow, 'active');
    this.counters.finished--; // not finished: still open
    this.counters.reports++;
    flow.start = Number.NaN; // the next packet starts the next part (a flow that gets none reports nothing more)
    flow.origPackets = 0;
    flow.origBytes = 0;
    flow.respPackets = 0;
    flow.respBytes = 0;
    return record;
  }

  private account(flow: Flow<T>, p: PacketSummary, t: number): void {
    if (Number.isNaN(flow.start)) flow.start = t;
    if (t > flow.last) flow.last = t;
    const len = p.length >= 0 && p.length < Number.POSITIVE_INFINITY ? p.length : 0;
    const fromOrig = (p.src ?? NO_ADDRESS) === flow.src && portOf(p.sport) === flow.sport;
    this.lastOriginator = flow.src;
    this.lastRole = PacketRole.Other;
    if (flow.firstSeen) {
      flow.firstSeen = false;
      if (fromOrig) this.lastRole = PacketRole.Opened;
    } else if (!fromOrig && !flow.answered) {
      this.lastRole = flow.ipProto === TCP && (p.tcpFlags & RST) !== 0 ? PacketRole.Refused : PacketRole.Answered;
    }
    if (!fromOrig) flow.answered = true;
    if (fromOrig) {
      flow.origPackets++;
      flow.origBytes += len;
    } else {
      flow.respPackets++;
      flow.respBytes += len;
    }
    if (flow.ipProto === TCP) flow.events |= tcpEvents(p.tcpFlags, fromOrig);
  }

  private isClosed(flow: Flow<T>): boolean {
    if (flow.ipProto !== TCP) return false;
    const e = flow.events;
    return (
      (e & (EV_ORIG_RST | EV_RESP_RST)) !== 0 ||
      (e & (EV_ORIG_FIN | EV_RESP_FIN)) === (EV_ORIG_FIN | EV_RESP_FIN)
    );
  }

  /**
   * Up to `limit` flows held now, most recently active first, as they stand (their conn_state so
   * far; endReason 'flush'). Nothing ends and no counter moves: a live view of the table.
   */
  peek(limit: number): FlowRecord<T>[] {
    const newest: Flow<T>[] = [];
    for (const queue of [this.closing, this.tcp, this.datagram]) {
      // a flow just reported by the active timeout has no packet in its next part yet (start NaN)
      const flows = [...queue.flows.values()].filter((flow) => !Number.isNaN(flow.start));
      newest.push(...flows.slice(Math.max(0, flows.length - limit)));
    }
    newest.sort((a, b) => b.last - a.last);
    return newest.slice(0, limit).map((flow) => this.record(flow, 'flush'));
  }

  private finish(flow: Flow<T>, endReason: FlowEndReason): FlowRecord<T> {
    this.counters.finished++;
    return this.record(flow, endReason);
  }

  private record(flow: Flow<T>, endReason: FlowEndReason): FlowRecord<T> {
    return {
      key: flow.key,
      ipProto: flow.ipProto,
      protocol: flow.protocol,
      src: flow.src,
      sport: flow.sport,
      dst: flow.dst,
      dport: flow.dport,
      start: flow.start,
      last: flow.last,
      duration: flow.last - flow.start,
      origPackets: flow.origPackets,
      origBytes: flow.origBytes,
      respPackets: flow.respPackets,
      respBytes: flow.respBytes,
      connState: connState(flow.ipProto, flow.events, flow.respPackets),
      synWithoutAck: (flow.events & (EV_ORIG_SYN | EV_RESP_SYNACK)) === EV_ORIG_SYN,
      endReason,
      tag: flow.tag,
    };
  }
}

function tcpEvents(flags: number, fromOrig: boolean): number {
  let e = 0;
  const syn = (flags & SYN) !== 0;
  const ack = (flags & ACK) !== 0;
  if (fromOrig && syn && !ack) e |= EV_ORIG_SYN;
  if (!fromOrig && syn && ack) e |= EV_RESP_SYNACK;
  if (flags & FIN) e |= fromOrig ? EV_ORIG_FIN : EV_RESP_FIN;
  if (flags & RST) e |= fromOrig ? EV_ORIG_RST : EV_RESP_RST;
  return e;
}
