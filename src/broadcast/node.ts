/**
 * A broadcast node (the seeds' node.py): listens on UDP port 12345 on all interfaces, shows each
 * message with its sender, and acknowledges it to the sender. Several nodes can share a host
 * (SO_REUSEADDR: every socket bound to the port gets a copy of each broadcast datagram).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { fromSystemError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/log.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { bindUdp, formatEndpoint, ipv4Interfaces } from '../common/net.js';
import { AckGate } from './ack-gate.js';
import { classifyDatagram, type Verdict } from './classify.js';
import { DEFAULT_MAX_SKEW_MS, DEFAULT_PORT, MAX_DATAGRAM_BYTES, RECV_BUFFER_BYTES } from './constants.js';
import { ackFor, plainSession } from './envelope.js';
import { SessionWindows } from './replay.js';
import { WindowStore, checkStateDir } from './state.js';
import { escapeControl } from '../common/format.js';
import { WarningDigest } from '../common/warnings.js';

export interface NodeOptions {
  /** UDP port, default 12345; 0 picks a free one */
  port?: number;
  /** address to bind, default 0.0.0.0 (all interfaces) */
  host?: string;
  /** multicast group to join on every IPv4 interface */
  group?: string;
  /** accept only envelopes signed by this Ed25519 public key */
  trust?: KeyObject;
  /** the name sent in acknowledgements, default the host name */
  name?: string;
  /** ms, default 30 000 */
  maxSkewMs?: number;
  /** bytes, default 8192 */
  maxDatagram?: number;
  /** socket receive buffer, bytes (SO_RCVBUF, capped by net.core.rmem_max); default 4 MiB */
  recvBufferBytes?: number;
  /** directory where the replay windows are kept across restarts (must exist) */
  stateDir?: string;
}

export interface NodeDeps {
  logger?: Logger;
  clock?: Clock;
}

export interface ReceivedMessage {
  /** sender address:port */
  from: string;
  text: string;
  /** 'envelope' from a wirelab master, 'plain' from any other program */
  format: 'envelope' | 'plain';
  sender: string | undefined;
  session: string | undefined;
  seq: number | undefined;
  /** signature checked against the trusted key */
  verified: boolean;
  /** µs from the master's send time to reception (meaningful when both share a clock) */
  latencyUs: number | undefined;
  bytes: number;
}

export interface NodeStats {
  datagrams: number;
  messages: number;
  plain: number;
  duplicates: number;
  rejected: number;
  invalid: number;
  oversized: number;
  acksSent: number;
  /** acknowledgements not sent: to an unanswerable or stranger source, larger than the datagram, over the rate limit */
  acksWithheld: number;
  /** sends that failed */
  acksFailed: number;
}

export interface NodeEvents {
  message: [ReceivedMessage];
  duplicate: [{ from: string; session: string; seq: number }];
  rejected: [{ from: string; reason: string }];
  invalid: [{ from: string; reason: string; bytes: number }];
}

export class BroadcastNode extends EventEmitter<NodeEvents> {
  readonly name: string;
  private socket: Socket | undefined;
  private readonly windows = new SessionWindows();
  private store: WindowStore | undefined;
  private gate = new AckGate();
  private readonly warnings: WarningDigest;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** µs since the epoch: signed messages sent before, of sessions not remembered, are refused */
  private startedUs = 0;
  private readonly counters: NodeStats = {
    datagrams: 0, messages: 0, plain: 0, duplicates: 0, rejected: 0, invalid: 0, oversized: 0, acksSent: 0, acksWithheld: 0, acksFailed: 0,
  };

  constructor(
    private readonly options: NodeOptions = {},
    deps: NodeDeps = {},
  ) {
    super();
    this.name = options.name ?? hostname();
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.warnings = new WarningDigest((line, fields) => this.logger.warn(fields, line), this.clock);
  }

  /** Bind the port (and join the group). Rejects with a WirelabError if the port cannot be had. */
  async start(): Promise<void> {
    if (this.socket) return;
    const host = this.options.host ?? '0.0.0.0';
    const port = this.options.port ?? DEFAULT_PORT;
    this.startedUs = this.clock.nowUs();
    if (this.options.stateDir !== undefined) {
      await checkStateDir(this.options.stateDir);
      this.store = new WindowStore(this.options.stateDir, this.windows, this.logger);
      const loaded = await this.store.load();
      this.logger.info({ sessions: loaded }, `replay windows of ${loaded} session${loaded === 1 ? '' : 's'} restored`);
    }
    // The kernel hands at most one datagram per recv; anything over maxDatagram is counted as oversized.
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    try {
      await bindUdp(socket, host, port);
      if (this.options.group) this.joinGroup(socket, this.options.group);
    } catch (err) {
      this.socket = undefined;
      socket.close();
      throw fromSystemError(err, `join group ${this.options.group ?? ''} on UDP ${formatEndpoint(host, port)}`);
    }
    this.growReceiveBuffer(socket);
    this.gate = new AckGate(new Set(ipv4Interfaces().flatMap((i) => (i.broadcast ? [i.broadcast] : []))));
    socket.on('error', (err) => this.logger.error({ err }, 'socket error'));
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    this.logger.info({ address: this.address }, `node ${this.name} listening on UDP ${this.address}`);
  }

  /**
   * A burst of broadcasts that arrives while the event loop is busy (a GC pause, a slow terminal) waits
   * in the socket's receive buffer; the default (about 200 KiB, some 270 small datagrams) overflows in
   * tens of ms at a few thousand messages per second. The kernel caps the request at rmem_max.
   */
  private growReceiveBuffer(socket: Socket): void {
    try {
      socket.setRecvBufferSize(this.options.recvBufferBytes ?? RECV_BUFFER_BYTES);
    } catch (err) {
      this.logger.warn({ err }, 'could not enlarge the receive buffer');
    }
  }

  private joinGroup(socket: Socket, group: string): void {
    const interfaces = ipv4Interfaces().filter((i) => !i.internal);
    if (interfaces.length === 0) socket.addMembership(group);
    for (const iface of interfaces) socket.addMembership(group, iface.address);
  }

  /** The bound address, "0.0.0.0:12345". */
  get address(): string {
    const a = this.socket?.address();
    return a ? formatEndpoint(a.address, a.port) : '(closed)';
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  stats(): NodeStats {
    return { ...this.counters };
  }

  private onDatagram(datagram: Buffer, rinfo: RemoteInfo): void {
    try {
      this.handle(datagram, rinfo);
    } catch (err) {
      // No datagram may end a node: whatever a handler missed is logged (rate-limited) and counted.
      this.counters.invalid++;
      this.warnings.note('failed datagram', formatEndpoint(rinfo.address, rinfo.port), (err as Error).message);
    }
  }

  private handle(datagram: Buffer, rinfo: RemoteInfo): void {
    this.counters.datagrams++;
    const from = formatEndpoint(rinfo.address, rinfo.port);
    const verdict = classifyDatagram(datagram, {
      nowMs: this.clock.now(),
      trust: this.options.trust,
      maxSkewMs: this.options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
      maxDatagram: this.options.maxDatagram ?? MAX_DATAGRAM_BYTES,
      windows: this.windows,
      source: rinfo.address,
      notBeforeUs: this.startedUs,
    });
    if (verdict.kind === 'message' || verdict.kind === 'duplicate') this.gate.spokeProtocol(rinfo.address);
    this.act(verdict, datagram, rinfo, from);
  }

  private act(verdict: Verdict, datagram: Buffer, rinfo: RemoteInfo, from: string): void {
    switch (verdict.kind) {
      case 'message': {
        const e = verdict.envelope;
        this.counters.messages++;
        if (verdict.verified) this.store?.changed();
        this.deliver({
          from, text: e.body.toString('utf8'), format: 'envelope', sender: e.name, session: e.session,
          seq: e.seq, verified: verdict.verified, latencyUs: this.clock.nowUs() - e.timeUs, bytes: datagram.length,
        });
        this.ack(ackFor(e, this.name, this.clock.nowUs()), 'envelope', datagram.length, rinfo);
        return;
      }
      case 'plain':
        this.counters.plain++;
        this.deliver({
          from, text: verdict.text, format: 'plain', sender: undefined, session: undefined, seq: undefined,
          verified: false, latencyUs: undefined, bytes: datagram.length,
        });
        this.ack(ackFor({ session: plainSession(datagram), seq: 0 }, this.name, this.clock.nowUs()), 'plain', datagram.length, rinfo);
        return;
      case 'duplicate':
        // Not acknowledged: an acknowledgement says "delivered", and a copy is not delivered again
        // (with no signature, it may not even be the message that was delivered under this number).
        this.counters.duplicates++;
        this.emit('duplicate', { from, session: verdict.envelope.session, seq: verdict.envelope.seq });
        return;
      case 'ack':
        return; // another node's acknowledgement seen on a shared port: not for us
      case 'rejected':
        this.counters.rejected++;
        this.warnings.note('rejected datagram', from, verdict.reason);
        this.emit('rejected', { from, reason: verdict.reason });
        return;
      case 'invalid':
        this.counters.invalid++;
        if (verdict.oversized) this.counters.oversized++;
        this.warnings.note('invalid datagram', from, verdict.reason);
        this.emit('invalid', { from, reason: verdict.reason, bytes: datagram.length });
        return;
    }
  }

  private deliver(message: ReceivedMessage): void {
    this.emit('message', message);
    this.logger.debug({ from: message.from, format: message.format }, `message from ${message.from}: ${escapeControl(message.text)}`);
  }

  /** Acknowledge to the sender, if the gate allows (src/broadcast/ack-gate.ts); never throws. */
  private ack(datagram: Buffer, format: 'envelope' | 'plain', inBytes: number, rinfo: RemoteInfo): void {
    const socket = this.socket;
    if (!socket) return;
    const refusal = this.gate.refuse({ address: rinfo.address, port: rinfo.port, format, inBytes, ackBytes: datagram.length, nowMs: this.clock.now() });
    if (refusal) {
      this.counters.acksWithheld++;
      return;
    }
    try {
      socket.send(datagram, rinfo.port, rinfo.address, (err) => {
        if (!err) this.counters.acksSent++;
        else this.ackFailed(err, rinfo);
      });
    } catch (err) {
      this.ackFailed(err as Error, rinfo);
    }
  }

  private ackFailed(err: Error, rinfo: RemoteInfo): void {
    this.counters.acksFailed++;
    this.warnings.note('unsent acknowledgement', formatEndpoint(rinfo.address, rinfo.port), err.message);
  }

  /** Save the replay windows, log the warnings still counted, leave the group and close the socket. Idempotent. */
  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.warnings.close();
    await this.store?.close();
  }
}
