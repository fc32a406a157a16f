/**
 * A broadcast master (the seeds' master.py): sends a message to UDP port 12345 on the directed
 * broadcast address of every IPv4 interface that has one, or to given addresses, or to a multicast
 * group; collects the nodes' acknowledgements (and the seeds' node.py's `I received:` replies) and
 * reports who got each message and how fast.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomBytes, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { DecodeError, WirelabError, fromSystemError } from '../common/errors.js';
import { groupDigits } from '../common/format.js';
import { silentLogger, type Logger } from '../common/log.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { bindUdp, broadcastTargets, formatEndpoint, ipv4Interfaces, isIpv4Multicast } from '../common/net.js';
import {
  DEFAULT_ACK_WAIT_MS, DEFAULT_PORT, MASTER_RECV_BUFFER_BYTES, MAX_BODY_BYTES, MAX_DATAGRAM_BYTES, MAX_PENDING_MESSAGES, ORIGINAL_READ_BYTES,
} from './constants.js';
import { PendingMessage, echoes, originalReplyBody, type Acknowledgement, type DeliveryReport } from './delivery.js';
import { decodeEnvelope, encodeEnvelope, looksLikeEnvelope } from './envelope.js';
import { Roster, type RosterEntry } from './roster.js';
import { fitUtf8 } from './text.js';
import { WarningDigest } from '../common/warnings.js';

export { describeReport, type Acknowledgement, type DeliveryReport } from './delivery.js';

export interface MasterOptions {
  /** destination UDP port, default 12345 */
  port?: number;
  /** destination addresses; default: the directed broadcast address of every IPv4 interface */
  to?: string[];
  /** a multicast group to send to instead, on every IPv4 interface */
  group?: string;
  /** sign every message with this Ed25519 private key */
  key?: KeyObject;
  /**
   * send the bare text, without the envelope, as the seeds' master.py does (for the seeds' node.py,
   * which prints the datagram); cut to its 1024-byte read at a character boundary
   */
  plain?: boolean;
  /** the sender name in envelopes, default the host name */
  name?: string;
  /** ms to wait for acknowledgements before reporting, default 1000 */
  ackWaitMs?: number;
  /** report as soon as this many nodes have acknowledged (default: wait the full ackWaitMs) */
  expect?: number;
  /** local address to bind (default all interfaces, a free port) */
  bindAddress?: string;
  /** socket receive buffer, bytes (SO_RCVBUF, capped by net.core.rmem_max); default 4 MiB */
  recvBufferBytes?: number;
}

export interface MasterDeps {
  logger?: Logger;
  clock?: Clock;
}

export interface MasterStats {
  sent: number;
  sendErrors: number;
  acks: number;
  /** `I received:` replies from plain nodes */
  plainAcks: number;
  /** envelopes that were not acknowledgements of this master's messages */
  strayDatagrams: number;
  /** replies that were neither envelopes nor `I received:` */
  unrecognisedReplies: number;
  /** acknowledgements past the per-message limit */
  excessAcks: number;
  nodes: number;
  /** nodes forgotten because the roster was full */
  rosterEvicted: number;
  /** the receive buffer the kernel granted, bytes */
  recvBufferBytes: number;
}

export interface MasterEvents {
  sent: [{ seq: number; target: string; bytes: number }];
  ack: [Acknowledgement];
  report: [DeliveryReport];
  /** something the user should know about a message (too long for the seeds' node.py, cut) */
  warning: [{ seq: number; message: string }];
}

interface Pending {
  message: PendingMessage;
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
  private readonly warnings: WarningDigest;
  /** unrecognised replies since the last report */
  private unrecognisedSinceReport = 0;
  private readonly counters = { sent: 0, sendErrors: 0, acks: 0, plainAcks: 0, strayDatagrams: 0, unrecognisedReplies: 0, excessAcks: 0, recvBufferBytes: 0 };

  constructor(
    private readonly options: MasterOptions = {},
    deps: MasterDeps = {},
  ) {
    super();
    this.name = options.name ?? hostname();
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.warnings = new WarningDigest((line, fields) => this.logger.warn(fields, line), this.clock);
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
    this.growReceiveBuffer(socket);
    socket.on('error', (err) => this.logger.error({ err }, 'socket error'));
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
  }

  /**
   * Every node answers a broadcast at once: with the default buffer (about 200 KiB, some 270 small
   * datagrams) a burst of acknowledgements from a large LAN overflows while the event loop is busy.
   */
  private growReceiveBuffer(socket: Socket): void {
    try {
      socket.setRecvBufferSize(this.options.recvBufferBytes ?? MASTER_RECV_BUFFER_BYTES);
    } catch (err) {
      this.logger.warn({ err }, 'could not enlarge the receive buffer');
    }
    this.counters.recvBufferBytes = socket.getRecvBufferSize();
  }

  stats(): MasterStats {
    return { ...this.counters, nodes: this.roster.size, rosterEvicted: this.roster.evicted };
  }

  nodes(): RosterEntry[] {
    return this.roster.list();
  }

  /** The datagram for message `seq`: an envelope, or with `plain` the bare text fitted to node.py's read. */
  private datagramFor(seq: number, text: string): Buffer {
    if (this.options.plain) {
      const fitted = fitUtf8(text, ORIGINAL_READ_BYTES);
      if (fitted.length < text.length) {
        this.warn(seq, `message ${seq} is ${groupDigits(Buffer.byteLength(text))} bytes; cut to ${groupDigits(Buffer.byteLength(fitted))} at a character boundary to fit the seeds' node.py, which reads ${ORIGINAL_READ_BYTES} bytes`);
      }
      if (Buffer.byteLength(fitted) > MAX_BODY_BYTES) throw new WirelabError('E_USAGE', 'message too long');
      return Buffer.from(fitted, 'utf8');
    }
    let datagram: Buffer;
    try {
      datagram = encodeEnvelope({ kind: 'M', session: this.session, seq, timeUs: this.clock.nowUs(), name: this.name, body: Buffer.from(text, 'utf8') }, this.options.key);
    } catch (err) {
      if (err instanceof DecodeError) throw new WirelabError('E_USAGE', `cannot send this message: ${err.message}`, { cause: err });
      throw err;
    }
    if (datagram.length > ORIGINAL_READ_BYTES) {
      this.warn(seq, `message ${seq} is a ${groupDigits(datagram.length)}-byte datagram; the seeds' node.py reads only ${ORIGINAL_READ_BYTES} bytes and will cut it (use --plain and a shorter message for original nodes)`);
    }
    return datagram;
  }

  private warn(seq: number, message: string): void {
    this.logger.warn({ seq }, message);
    this.emit('warning', { seq, message });
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
    const seq = this.seq + 1;
    const datagram = this.datagramFor(seq, text);
    this.seq = seq;
    const report = new Promise<DeliveryReport>((resolve) => {
      const message = new PendingMessage(seq, text, targets, datagram, this.clock.hrtime());
      const pending: Pending = { message, timer: undefined, resolve };
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
        this.logger.debug({ seq, target: formatEndpoint(target, port), bytes: datagram.length }, `sent message ${seq} to ${formatEndpoint(target, port)}`);
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
      this.onPlainReply(datagram, from);
      return;
    }
    let ack;
    try {
      ack = decodeEnvelope(datagram);
    } catch (err) {
      this.counters.strayDatagrams++;
      this.warnings.note('malformed envelope', from, (err as Error).message);
      return;
    }
    // Only acknowledgements of messages this master sent count, so forged ones for unknown messages
    // cannot grow the roster.
    if (ack.kind !== 'A' || ack.session !== this.session || ack.seq < 1 || ack.seq > this.seq) {
      this.counters.strayDatagrams++;
      return;
    }
    this.counters.acks++;
    this.roster.heard(ack.name, from, this.clock.now(), 'wirelab');
    this.count(this.pending.get(ack.seq), ack.name, from, false);
  }

  /** The seeds' node.py answers `I received: <datagram>`: the oldest waiting message it echoes. */
  private onPlainReply(datagram: Buffer, from: string): void {
    const body = originalReplyBody(datagram);
    const pending = body && [...this.pending.values()].find((p) => !p.message.has(from, from) && echoes(body, p.message.datagram));
    if (!pending) {
      this.counters.unrecognisedReplies++;
      this.unrecognisedSinceReport++;
      this.warnings.note('unrecognised reply', from, `${datagram.length} bytes, neither an acknowledgement nor an 'I received:' answer`);
      return;
    }
    this.counters.plainAcks++;
    this.roster.heard(from, from, this.clock.now(), 'plain');
    this.count(pending, from, from, true);
  }

  private count(pending: Pending | undefined, node: string, from: string, plain: boolean): void {
    if (!pending) return; // late: the report is out
    const excessBefore = pending.message.excess;
    const record = pending.message.record(node, from, plain, this.clock.hrtime());
    if (pending.message.excess > excessBefore) this.counters.excessAcks++;
    if (!record) return;
    this.emit('ack', record);
    if (this.options.expect !== undefined && pending.message.acks.size >= this.options.expect) this.finish(record.seq);
  }

  private finish(seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (pending.timer) this.clock.clearTimeout(pending.timer);
    const report = pending.message.report(this.unrecognisedSinceReport);
    this.unrecognisedSinceReport = 0;
    this.logger.debug({ seq, delivered: report.delivered, p50Ms: report.p50Ms }, `message ${seq} delivered to ${report.delivered}`);
    this.emit('report', report);
    pending.resolve(report);
  }

  /** Report on every message still waiting, then close the socket. Idempotent. */
  async close(): Promise<void> {
    for (const seq of [...this.pending.keys()]) this.finish(seq);
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    this.warnings.close();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
