/**
 * Causal order for the demo's merged event stream. The master's and each node's events arrive on
 * separate pipes, so a node's "got message 2" can reach us before the master's "sent message 2",
 * and the master's report on message 2 before a node's receipt of it. This holds an effect until
 * its cause has been passed on: a receipt until the master's send of that message; a report until
 * every node it names has had its receipt passed on, or `holdMs` has gone by (a node may have
 * acknowledged yet died before its line reached us). Bounded: at most MAX_HELD events are held; past
 * that the oldest is passed on as it is.
 */
import { systemClock, type Clock } from '../common/lifecycle.js';

/** Events held at most before the oldest is released out of order. */
export const MAX_HELD = 1024;
/** Messages whose receipts are remembered, counted back from the newest sent. */
const REMEMBERED_MESSAGES = 256;

export interface Sent {
  seq: number;
}
export interface Received {
  node: string;
  seq: number;
}
export interface Report {
  seq: number;
  nodes: string[];
}

export interface CausalSink<S extends Sent, R extends Received, P extends Report> {
  sent(event: S): void;
  received(event: R): void;
  report(event: P): void;
}

interface HeldReport<P> {
  event: P;
  timer: NodeJS.Timeout;
}

export class CausalOrder<S extends Sent, R extends Received, P extends Report> {
  /** highest sequence number whose send has been passed on */
  private highestSent = 0;
  private heldReceipts: R[] = [];
  private readonly heldReports = new Map<number, HeldReport<P>>();
  /** per message, the nodes whose receipt has been passed on */
  private readonly receivedBy = new Map<number, Set<string>>();

  constructor(
    private readonly sink: CausalSink<S, R, P>,
    private readonly holdMs = 1000,
    private readonly clock: Clock = systemClock,
  ) {}

  sent(event: S): void {
    this.sink.sent(event);
    this.highestSent = Math.max(this.highestSent, event.seq);
    for (const old of this.receivedBy.keys()) if (old <= this.highestSent - REMEMBERED_MESSAGES) this.receivedBy.delete(old);
    const ready = this.heldReceipts.filter((r) => r.seq <= this.highestSent);
    this.heldReceipts = this.heldReceipts.filter((r) => r.seq > this.highestSent);
    for (const r of ready) this.passReceipt(r);
  }

  received(event: R): void {
    if (event.seq <= this.highestSent) {
      this.passReceipt(event);
      return;
    }
    this.heldReceipts.push(event);
    if (this.heldReceipts.length > MAX_HELD) this.passReceipt(this.heldReceipts.shift()!);
  }

  report(event: P): void {
    if (this.complete(event)) {
      this.sink.report(event);
      return;
    }
    const earlier = this.heldReports.get(event.seq);
    if (earlier) this.releaseReport(event.seq);
    if (this.heldReports.size >= MAX_HELD) this.releaseReport(this.heldReports.keys().next().value!);
    const timer = this.clock.setTimeout(() => this.releaseReport(event.seq), this.holdMs);
    this.heldReports.set(event.seq, { event, timer });
  }

  /** Pass on everything still held, in the order it would have gone (at close). */
  flush(): void {
    const receipts = this.heldReceipts;
    this.heldReceipts = [];
    for (const r of receipts) this.passReceipt(r);
    for (const seq of [...this.heldReports.keys()]) this.releaseReport(seq);
  }

  private complete(event: P): boolean {
    const seen = this.receivedBy.get(event.seq);
    return event.nodes.every((node) => seen?.has(node) === true);
  }

  private passReceipt(event: R): void {
    this.sink.received(event);
    let seen = this.receivedBy.get(event.seq);
    if (!seen) this.receivedBy.set(event.seq, (seen = new Set()));
    seen.add(event.node);
    const held = this.heldReports.get(event.seq);
    if (held && this.complete(held.event)) this.releaseReport(event.seq);
  }

  private releaseReport(seq: number): void {
    const held = this.heldReports.get(seq);
    if (!held) return;
    this.clock.clearTimeout(held.timer);
    this.heldReports.delete(seq);
    this.sink.report(held.event);
  }
}
