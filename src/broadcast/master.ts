/**
 * A broadcast master (the seeds' master.py): sends a message to UDP port 12345 on the directed
 * broadcast address of every IPv4 interface that has one, or to given addresses, or to a multicast
 * group; collects the nodes' acknowledgements and reports who got each message and how fast.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomBytes, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { DecodeError, WirelabError, fromSystemError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/log.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { bindUdp, broadcastTargets, formatEndpoint, ipv4Interfaces, isIpv4Multicast } from '../common/net.js';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_PORT, MAX_DATAGRAM_BYTES, MAX_PENDING_MESSAGES } from './constants.js';
import { decodeEnvelope, encodeEnvelope, looksLikeEnvelope } from './envelope.js';
import { Roster, type RosterEntry } from './roster.js';
import { percentile } from '../common/percentile.js';

export interface MasterOptions {
  /** destination UDP port, default 12345 */
  port?: number;
  /** destination addresses; default: the directed broadcast address of every IPv4 interface */
  to?: string[];
  /** a multicast group to send to instead, on every IPv4 interface */
  group?: string;
  /** sign every message with this Ed25519 private key */
  key?: KeyObject;
  /** the sender name in envelopes, default the host name */
  name?: string;
  /** ms to wait for acknowledgements before reporting, default 1000 */
  ackWaitMs?: number;
  /** report as soon as this many nodes have acknowledged (default: wait the full ackWaitMs) */
  expect?: number;
  /** local address to bind (default all interfaces, a free port) */
  bindAddress?: string;
}

export interface MasterDeps {
  logger?: Logger;
  clock?: Clock;
}

export interface Acknowledgement {
  seq: number;
  node: string;
  from: string;
  /** ms from send to acknowledgement */
  rttMs: number;
}

/** Who got message `seq` and how fast. */
export interface DeliveryReport {
  seq: number;
  text: string;
  targets: string[];
  delivered: number;
  nodes: string[];
  /** round-trip ms, send to acknowledgement */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
}

export interface MasterEvents {
  sent: [{ seq: number; target: string; bytes: number }];
  ack: [Acknowledgement];
  report: [DeliveryReport];
}

interface Pending {
  seq: number;
  text: string;
  targets: string[];
  sentAt: bigint;
  acks: Map<string, Acknowledgement>;
  timer: NodeJS.Timeout | undefined;
  resolve: (report: DeliveryReport) => void;
}

export class BroadcastMaster extends EventEmitter<MasterEvents> {
  readonly name: string;
  /** 16 hex digits, new for each master run: scopes the sequence numbers */
  readonly session = randomBytes(8).toString('hex');
  readonly roster = new Roster();
  private socket: Socket | undefined;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly counters = { sent: 0, sendErrors: 0, acks: 0, strayDatagrams: 0 };

  constructor(
    private readonly options: MasterOptions = {},
    deps: MasterDeps = {},
  ) {
    super();
    this.name = options.name ?? hostname();
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    if (options.group !== undefined && !isIpv4Multicast(options.group)) {
      throw new WirelabError('E_BAD_ADDRESS', `--group must be an IPv4 multicast address (224.0.0.0/4), got '${options.group}'`);
    }
  }

  /** Where messages go: the --to addresses, the group, or every interface's broadcast address. */
  targets(): string[] {
    if (this.options.group) return [this.options.group];
    if (this.options.to && this.options.to.length > 0) return this.options.to;
    const targets = broadcastTargets();
    if (targets.length === 0) {
      throw new WirelabError('E_BAD_ADDRESS', 'no IPv4 interface with a broadcast address here; give one with --to');
    }
    return targets;
  }

  async start(): Promise<void> {
    if (this.socket) return;
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    const bind = this.options.bindAddress ?? '0.0.0.0';
    try {
      await bindUdp(socket, bind, 0);
      socket.setBroadcast(true); // SO_BROADCAST, as the seed's master.py
      if (this.options.group) {
        socket.setMulticastTTL(1); // stay on the LAN
        socket.setMulticastLoopback(true); // nodes on this host hear it too
      }
    } catch (err) {
      this.socket = undefined;
      socket.close();
      throw fromSystemError(err, `set up UDP socket on ${bind}`);
    }
    socket.on('error', (err) => this.logger.error({ err }, 'socket error'));
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
  }

  stats(): { sent: number; sendErrors: number; acks: number; strayDatagrams: number; nodes: number } {
    return { ...this.counters, nodes: this.roster.size };
  }

  nodes(): RosterEntry[] {
    return this.roster.list();
  }

  /**
   * Send `text` to every target; resolves with the delivery report once the acknowledgements are in
   * (after ackWaitMs, or as soon as `expect` nodes answered).
   */
  async send(text: string): Promise<DeliveryReport> {
    const socket = this.socket;
    if (!socket) throw new WirelabError('E_CLOSED', 'master is not started');
    if (this.pending.size >= MAX_PENDING_MESSAGES) throw new WirelabError('E_TOO_LARGE', 'too many messages awaiting acknowledgement');
    const targets = this.targets();
    const seq = ++this.seq;
    const body = Buffer.from(text, 'utf8');
    let datagram: Buffer;
    try {
      datagram = encodeEnvelope({ kind: 'M', session: this.session, seq, timeUs: this.clock.nowUs(), name: this.name, body }, this.options.key);
    } catch (err) {
      if (err instanceof DecodeError) throw new WirelabError('E_USAGE', `cannot send this message: ${err.message}`, { cause: err });
      throw err;
    }
    const report = new Promise<DeliveryReport>((resolve) => {
      const pending: Pending = { seq, text, targets, sentAt: this.clock.hrtime(), acks: new Map(), timer: undefined, resolve };
      pending.timer = this.clock.setTimeout(() => this.finish(seq), this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS);
      this.pending.set(seq, pending);
    });
    await Promise.all(targets.map((target) => this.sendTo(socket, datagram, seq, target)));
    return report;
  }

  private async sendTo(socket: Socket, datagram: Buffer, seq: number, target: string): Promise<void> {
    const port = this.options.port ?? DEFAULT_PORT;
    const interfaces = this.options.group ? ipv4Interfaces().filter((i) => !i.internal) : [];
    // A multicast datagram leaves by one interface (IP_MULTICAST_IF): send one copy out of each.
    const outs = interfaces.length > 0 ? interfaces.map((i) => i.address) : [undefined];
    for (const out of outs) {
      if (out) socket.setMulticastInterface(out);
      try {
        await new Promise<void>((resolve, reject) => socket.send(datagram, port, target, (err) => (err ? reject(err) : resolve())));
        this.counters.sent++;
        this.logger.info({ seq, target: formatEndpoint(target, port), bytes: datagram.length }, `sent message ${seq} to ${formatEndpoint(target, port)}`);
        this.emit('sent', { seq, target: formatEndpoint(target, port), bytes: datagram.length });
      } catch (err) {
        this.counters.sendErrors++;
        const error = fromSystemError(err, `send to ${formatEndpoint(target, port)}`);
        this.logger.error({ seq, target }, error.message);
        throw error;
      }
    }
  }

  private onDatagram(datagram: Buffer, rinfo: RemoteInfo): void {
    const from = formatEndpoint(rinfo.address, rinfo.port);
    if (datagram.length > MAX_DATAGRAM_BYTES || !looksLikeEnvelope(datagram)) {
      this.counters.strayDatagrams++;
      return;
    }
    let ack;
    try {
      ack = decodeEnvelope(datagram);
    } catch (err) {
      this.counters.strayDatagrams++;
      this.logger.warn({ from, err: (err as Error).message }, 'malformed datagram');
      return;
    }
    if (ack.kind !== 'A' || ack.session !== this.session) {
      this.counters.strayDatagrams++;
      return;
    }
    this.counters.acks++;
    this.roster.heard(ack.name, from, this.clock.now());
    const pending = this.pending.get(ack.seq);
    const key = Roster.key(ack.name, from);
    if (!pending || pending.acks.has(key)) return; // late, or a repeat
    const rttMs = Number(this.clock.hrtime() - pending.sentAt) / 1e6;
    const record: Acknowledgement = { seq: ack.seq, node: ack.name, from, rttMs };
    pending.acks.set(key, record);
    this.emit('ack', record);
    if (this.options.expect !== undefined && pending.acks.size >= this.options.expect) this.finish(ack.seq);
  }

  private finish(seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (pending.timer) this.clock.clearTimeout(pending.timer);
    const acks = [...pending.acks.values()];
    const rtts = acks.map((a) => a.rttMs).sort((a, b) => a - b);
    const report: DeliveryReport = {
      seq,
      text: pending.text,
      targets: pending.targets,
      delivered: acks.length,
      nodes: acks.map((a) => a.node).sort(),
      p50Ms: percentile(rtts, 0.5),
      p99Ms: percentile(rtts, 0.99),
      maxMs: rtts.at(-1),
    };
    this.logger.info({ seq, delivered: report.delivered, p50Ms: report.p50Ms }, describeReport(report));
    this.emit('report', report);
    pending.resolve(report);
  }

  /** Report on every message still waiting, then close the socket. Idempotent. */
  async close(): Promise<void> {
    for (const seq of [...this.pending.keys()]) this.finish(seq);
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/** "message 3 delivered to 4 nodes, p50 0.31 ms, p99 0.52 ms" */
export function describeReport(r: DeliveryReport): string {
  const nodes = `${r.delivered} node${r.delivered === 1 ? '' : 's'}`;
  if (r.p50Ms === undefined) return `message ${r.seq} delivered to ${nodes}`;
  return `message ${r.seq} delivered to ${nodes}, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms!.toFixed(2)} ms`;
}
