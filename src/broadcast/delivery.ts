/**
 * A master's bookkeeping for one message: who acknowledged it, bounded, and the delivery report.
 * Also how the seeds' node.py answers (`I received: <text>`), so that original nodes count as plain
 * nodes. Pure: times come in as arguments.
 */
import { percentile } from '../common/percentile.js';
import { describeLatencies, escapeControl, groupDigits, plural, summarizeLatencies, type LatencySummary } from '../common/format.js';
import { MAX_ACKS_PER_MESSAGE, ORIGINAL_READ_BYTES, ORIGINAL_REPLY_PREFIX } from './constants.js';

export interface Acknowledgement {
  seq: number;
  /** the node's name; a plain node (the seeds' node.py) is named by its address:port */
  node: string;
  from: string;
  /** ms from send to acknowledgement: the application round trip */
  rttMs: number;
  /** a plain `I received:` reply from a node that does not speak the envelope */
  plain: boolean;
}

/** Who got message `seq` and how fast. */
export interface DeliveryReport {
  seq: number;
  text: string;
  targets: string[];
  /** bytes of the datagram sent */
  bytes: number;
  /** nodes that acknowledged, wirelab and plain */
  delivered: number;
  /** names of the wirelab nodes that acknowledged, sorted */
  nodes: string[];
  /** address:port of the plain nodes (the seeds' node.py) that answered `I received: ...`, sorted */
  plainNodes: string[];
  /** acknowledgements past the per-message limit: counted, not listed */
  excessAcks: number;
  /** replies since the previous report that were neither acknowledgements nor `I received:` replies */
  unrecognisedReplies: number;
  /** application round trip, send to acknowledgement: the summary of this message's samples, ms */
  rtt: LatencySummary | undefined;
  /** the same figures flat, ms */
  minMs: number | undefined;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
}

/**
 * One message waiting for acknowledgements: at most `maxAcks` nodes, each counted once by name and
 * address:port (nodes on one host share the port, SO_REUSEADDR, so the address alone is not a node).
 */
export class PendingMessage {
  readonly acks = new Map<string, Acknowledgement>();
  excess = 0;

  constructor(
    readonly seq: number,
    readonly text: string,
    readonly targets: string[],
    /** the datagram as sent, to recognise a plain node's echo of it */
    readonly datagram: Buffer,
    /** ns, monotonic */
    readonly sentAtNs: bigint,
    private readonly maxAcks: number = MAX_ACKS_PER_MESSAGE,
  ) {}

  has(node: string, from: string): boolean {
    return this.acks.has(`${node}@${from}`);
  }

  /** Record an acknowledgement from `node` at `from`; a repeat is not counted again. */
  record(node: string, from: string, plain: boolean, nowNs: bigint): Acknowledgement | undefined {
    const key = `${node}@${from}`;
    if (this.acks.has(key)) return undefined;
    if (this.acks.size >= this.maxAcks) {
      this.excess++;
      return undefined;
    }
    const ack: Acknowledgement = { seq: this.seq, node, from, rttMs: Number(nowNs - this.sentAtNs) / 1e6, plain };
    this.acks.set(key, ack);
    return ack;
  }

  report(unrecognisedReplies: number): DeliveryReport {
    const acks = [...this.acks.values()];
    const rtts = acks.map((a) => a.rttMs).sort((a, b) => a - b);
    return {
      seq: this.seq,
      text: this.text,
      targets: this.targets,
      bytes: this.datagram.length,
      delivered: acks.length,
      nodes: acks.filter((a) => !a.plain).map((a) => a.node).sort(),
      plainNodes: acks.filter((a) => a.plain).map((a) => a.from).sort(),
      excessAcks: this.excess,
      unrecognisedReplies,
      rtt: summarizeLatencies(rtts),
      minMs: rtts[0],
      p50Ms: percentile(rtts, 0.5),
      p99Ms: percentile(rtts, 0.99),
      maxMs: rtts.at(-1),
    };
  }
}

const PREFIX = Buffer.from(ORIGINAL_REPLY_PREFIX, 'utf8');

/** The text part of a seeds' node.py reply (`I received: <text>`), or undefined when it is not one. */
export function originalReplyBody(datagram: Buffer): Buffer | undefined {
  if (datagram.length < PREFIX.length || !datagram.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  return datagram.subarray(PREFIX.length);
}

/** Is `body` what node.py echoes for `sent`: the datagram, or the first 1024 bytes it read of it? */
export function echoes(body: Buffer, sent: Buffer): boolean {
  return body.equals(sent) || (sent.length > ORIGINAL_READ_BYTES && body.equals(sent.subarray(0, ORIGINAL_READ_BYTES)));
}

/** Node names listed in a report line; the rest are counted ("and 4,090 more"). */
const NAMES_LISTED = 12;

/**
 * "message 3 delivered to 4 nodes (n1, n2, n3, 198.18.0.9:12345 plain); round trip min 0.21 /
 * median 0.31 / max 0.52 ms": names escaped for a terminal and bounded, latency per common/format.
 */
export function describeReport(r: DeliveryReport): string {
  const names = [...r.nodes.map(escapeControl), ...r.plainNodes.map((n) => `${n} plain`)];
  const more = names.length > NAMES_LISTED ? `, and ${groupDigits(names.length - NAMES_LISTED)} more` : '';
  const listed = names.length > 0 ? ` (${names.slice(0, NAMES_LISTED).join(', ')}${more})` : '';
  let line = `message ${r.seq} delivered to ${plural(r.delivered, 'node')}${listed}`;
  const latency = describeLatencies(r.rtt);
  if (latency !== undefined) line += `; ${latency}`;
  if (r.excessAcks > 0) line += `; ${plural(r.excessAcks, 'more acknowledgement')} over the ${groupDigits(MAX_ACKS_PER_MESSAGE)}-node limit not counted`;
  if (r.unrecognisedReplies > 0) line += `; ${plural(r.unrecognisedReplies, 'reply', 'replies')} neither acknowledgements nor 'I received:' answers`;
  return line;
}
