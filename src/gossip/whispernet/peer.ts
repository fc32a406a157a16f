/**
 * A peer speaking the original WhisperNet text (the seed project's peer.py, docs/whispernet.md): it
 * registers through the seeds, links to peers with the `Connection with Peer` exchange, sends its
 * `gmessage`s on every link, answers `forwarding` and passes new messages on, and checks its links
 * with `Liveness Request`, reporting `Dead Node` to the seeds. It interoperates with the original
 * peers and seeds and with ours in this mode; what it does better is listed in docs/whispernet.md.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../../common/log.js';
import { listenTcp } from '../../common/net.js';
import { PeriodicTask, systemClock, type Clock } from '../../common/lifecycle.js';
import { degreePolicy, shuffled, type DegreePolicy } from '../topology.js';
import * as C from '../constants.js';
import { canonicalHost, formatSeconds, whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { WhisperConnection, dialWhisper, onFirstRecord, type WhisperDialOptions } from './link.js';
import { SeedClient } from './seed-client.js';
import { HANDSHAKE_IDLE_MS, MAX_PENDING } from './constants.js';
import { Relay } from './relay.js';
import type { Link, WhispernetPeerDeps, WhispernetPeerEvents, WhispernetPeerOptions, WhispernetPeerStats } from './peer-types.js';

export type { WhispernetPeerDeps, WhispernetPeerEvents, WhispernetPeerOptions, WhispernetPeerStats } from './peer-types.js';

export class WhispernetPeer extends EventEmitter<WhispernetPeerEvents> {
  private readonly server: Server;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly seedClient: SeedClient;
  private readonly links = new Map<string, Link>();
  /** second connections to linked peers (both sides dialled): see keepSpare() */
  private readonly spares = new Map<string, Link>();
  private readonly candidates = new Map<string, WhisperEndpoint>();
  /** peers the seeds listed (bounded): addresses proven enough to re-dial */
  private readonly listed = new Set<string>();
  /** links the other side closed: re-dialled each round, reported dead after `misses` failures */
  private readonly lost = new Map<string, { endpoint: WhisperEndpoint; failures: number }>();
  private readonly refusedUntil = new Map<string, number>();
  private readonly dialing = new Set<string>();
  private readonly pending = new Set<WhisperConnection>();
  private readonly relay: Relay;
  private readonly closing = new AbortController();
  private readonly gossipTask: PeriodicTask;
  private readonly livenessTask: PeriodicTask;
  private readonly intervalMs: number;
  private readonly misses: number;
  private self: WhisperEndpoint = { host: '127.0.0.1', port: 0 };
  private selfKey = '127.0.0.1:0';
  private policyValue: DegreePolicy | undefined;
  private sent = 0;
  private joining: Promise<void> | undefined;
  private filling: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private readonly counters = { forwardingReplies: 0, deadReported: 0, malformed: 0 };

  constructor(
    private readonly options: WhispernetPeerOptions,
    deps: WhispernetPeerDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.intervalMs = options.livenessIntervalMs ?? C.LIVENESS_INTERVAL_MS;
    this.misses = options.misses ?? C.LIVENESS_MISSES;
    setMaxListeners(0, this.closing.signal);
    this.seedClient = new SeedClient(options.seeds, { logger: this.logger, random: this.random, dialOptions: () => this.dialOptions() });
    this.relay = new Relay(this.links, this.clock, (g) => this.emit('gossip', g));
    this.server = createServer((socket) => this.onSocket(socket));
    const onError = (err: unknown): void => this.logger.error({ err }, 'periodic task failed');
    this.gossipTask = new PeriodicTask(options.gossipIntervalMs ?? C.GOSSIP_INTERVAL_MS, () => this.originate(), onError, this.clock);
    this.livenessTask = new PeriodicTask(this.intervalMs, () => this.livenessRound(), onError, this.clock);
  }

  /** Listen, register with the seeds, link to peers, start liveness checks and gossip. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const host = this.options.host ?? '127.0.0.1';
    await listenTcp(this.server, host, this.options.port ?? 0);
    const addr = this.server.address();
    this.self = { host: this.options.advertiseHost ?? host, port: typeof addr === 'object' && addr ? addr.port : 0 };
    this.selfKey = whisperKey(this.self);
    // The original's node id is port % 100, and its capacity 40 * 1.5^(-id/10) (with our floor).
    this.policyValue = degreePolicy('power-law', this.self.port % 100, { floor: this.options.floor });
    await this.join();
    await this.fill();
    if (this.closed) return;
    this.livenessTask.start();
    if (this.options.autoGossip !== false) this.startGossip();
  }

  startGossip(): void {
    if (!this.closed) this.gossipTask.start();
  }

  get endpoint(): WhisperEndpoint {
    return this.self;
  }

  get key(): string {
    return this.selfKey;
  }

  get policy(): DegreePolicy | undefined {
    return this.policyValue;
  }

  /** Keys of the linked peers. */
  neighbours(): string[] {
    return [...this.links.keys()];
  }

  /** The seeds registered with. */
  seeds(): WhisperEndpoint[] {
    return this.seedClient.registeredWith;
  }

  stats(): WhispernetPeerStats {
    return {
      ...this.counters,
      ...this.relay.counters,
      degree: this.links.size,
      spares: this.spares.size,
      capacity: this.policyValue?.capacity ?? 0,
      originated: this.sent,
      seen: this.relay.size,
      known: this.candidates.size,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gossipTask.stop();
    this.livenessTask.stop();
    this.closing.abort();
    this.seedClient.close();
    for (const link of [...this.links.values(), ...this.spares.values()]) link.conn.close('closing');
    for (const conn of this.pending) conn.close('closing');
    if (this.started) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dialOptions(): Omit<WhisperDialOptions, 'vocabulary'> {
    return {
      logger: this.logger,
      clock: this.clock,
      timeoutMs: this.options.requestTimeoutMs ?? C.REQUEST_TIMEOUT_MS,
      localAddress: this.options.host,
      signal: this.closing.signal,
      quietMs: this.options.quietMs,
    };
  }

  /** Register (again) with the seeds and learn candidates; one join at a time. */
  private join(): Promise<void> {
    this.joining ??= (async () => {
      try {
        const peers = await this.seedClient.join(this.self, () => this.closed);
        for (const p of peers) {
          const key = whisperKey(p);
          if (key === this.selfKey) continue;
          remember(this.listed, key);
          if (this.links.has(key)) continue;
          this.candidates.delete(key);
          this.candidates.set(key, p);
          if (this.candidates.size > C.MAX_CANDIDATES) this.candidates.delete(this.candidates.keys().next().value!);
        }
        for (const seed of this.seedClient.registeredWith) this.emit('registered', { seed: whisperKey(seed) });
      } finally {
        this.joining = undefined;
      }
    })();
    return this.joining;
  }

  /** Dial candidates until the target degree is reached or none is left. */
  private fill(): Promise<void> {
    this.filling ??= (async () => {
      try {
        const now = this.clock.now();
        for (const [key, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(key);
        const free = [...this.candidates.values()].filter((c) => {
          const key = whisperKey(c);
          return !this.links.has(key) && !this.dialing.has(key) && (this.refusedUntil.get(key) ?? 0) <= now;
        });
        for (const c of shuffled(free, this.random)) {
          if (this.closed || this.links.size >= (this.policyValue?.target ?? 1)) break;
          await this.dial(c);
        }
      } finally {
        this.filling = undefined;
      }
    })();
    return this.filling;
  }

  /** Dial a peer and exchange `Connection with Peer`; true when it became a link. */
  private async dial(to: WhisperEndpoint): Promise<boolean> {
    const key = whisperKey(to);
    this.dialing.add(key);
    let linked = false;
    try {
      const options = this.dialOptions();
      const conn = await dialWhisper(to, { ...options, vocabulary: 'link' });
      this.pending.add(conn);
      linked = await new Promise<boolean>((resolve) => {
        onFirstRecord(conn, options.clock, options.timeoutMs, (first) => {
          this.pending.delete(conn);
          if (first?.type === 'connection') resolve(this.establish(conn, to, true));
          else {
            conn.close(first ? `unexpected ${first.type} before Connection with Peer` : undefined);
            resolve(false);
          }
        });
        conn.send({ type: 'connection', peer: this.self });
      });
    } catch {
      linked = false;
    } finally {
      this.dialing.delete(key);
    }
    if (!linked) this.refusedUntil.set(key, this.clock.now() + 3 * this.intervalMs);
    return linked;
  }

  private onSocket(socket: Socket): void {
    const capacity = this.policyValue?.capacity ?? 0;
    // full, as the original's capacity check (an orderly refusal), or too many handshakes under way
    if (this.closed || this.links.size >= capacity || this.pending.size >= MAX_PENDING) {
      socket.destroy();
      return;
    }
    const conn = new WhisperConnection(socket, { vocabulary: 'link', logger: this.logger, clock: this.clock, quietMs: this.options.quietMs });
    this.pending.add(conn);
    conn.on('close', () => this.pending.delete(conn));
    conn.send({ type: 'connection', peer: this.self });
    // Until it is a link it stays in `pending` (closed with us), and a silent one is closed.
    socket.setTimeout(HANDSHAKE_IDLE_MS, () => conn.close('idle'));
    onFirstRecord(conn, this.clock, this.options.requestTimeoutMs ?? C.REQUEST_TIMEOUT_MS, (first) => {
      if (first?.type === 'connection') {
        this.pending.delete(conn);
        socket.setTimeout(0);
        // The address claimed names the link; from another host it must be that host's.
        const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
        const claimed = canonicalHost(first.peer.host);
        const mine = claimed === remote || (claimed.startsWith('127.') && remote.startsWith('127.'));
        this.establish(conn, mine ? first.peer : { host: remote, port: first.peer.port }, false);
      } else if (first?.type === 'liveness-request') {
        conn.send({ type: 'liveness-reply', ts: first.ts, peer: first.peer, replier: this.self });
      } else {
        conn.close(first ? `unexpected ${first.type} before Connection with Peer` : undefined);
      }
    });
  }

  /**
   * Make `conn` the link to `peer`. Both sides dialling each other at once: the connection dialled
   * by the smaller `ip:port` is kept, on both sides alike.
   */
  private establish(conn: WhisperConnection, peer: WhisperEndpoint, dialed: boolean): boolean {
    const key = whisperKey(peer);
    const existing = this.links.get(key);
    const full = this.links.size >= (this.policyValue?.capacity ?? 0);
    if (this.closed || key === this.selfKey || (!existing && full)) {
      conn.close(this.closed ? 'closing' : 'full');
      return false;
    }
    const link: Link = { conn, key, endpoint: peer, dialed, awaiting: false, misses: 0 };
    conn.on('message', (m) => this.onLinkMessage(link, m));
    conn.on('close', (reason) => this.onLinkClosed(link, reason));
    // Both sides dialled: the connection dialled by the smaller key is the link (the same one on both
    // sides of ours); the other is kept as a spare, not closed, because an original peer takes a
    // closed connection for a dead peer and reports it to its seeds, which believe it.
    if (existing && dialed !== this.selfKey < key) {
      this.keepSpare(link);
      return true;
    }
    this.links.set(key, link);
    if (existing) this.keepSpare(existing);
    this.candidates.delete(key);
    this.lost.delete(key);
    this.refusedUntil.delete(key);
    if (!existing) this.emit('neighbour', { peer: key, change: 'added', degree: this.links.size });
    this.relay.replayTo(link);
    return true;
  }

  /**
   * A second connection to a linked peer: it answers liveness requests and its gmessages are read,
   * but nothing is sent on it; it becomes the link if the link closes. One per peer.
   */
  private keepSpare(link: Link): void {
    const old = this.spares.get(link.key);
    this.spares.set(link.key, link);
    old?.conn.close('duplicate link');
  }

  private onLinkClosed(link: Link, reason: string | undefined): void {
    if (this.spares.get(link.key) === link) {
      this.spares.delete(link.key);
      return;
    }
    if (this.links.get(link.key) !== link) return;
    const spare = this.spares.get(link.key);
    if (spare?.conn.isOpen && reason !== 'dead' && !this.closed) {
      this.spares.delete(link.key);
      spare.awaiting = false;
      spare.misses = 0;
      this.links.set(link.key, spare); // the spare takes over: still linked, degree unchanged
      return;
    }
    spare?.conn.close('link lost');
    this.links.delete(link.key);
    if (reason?.startsWith('malformed')) this.counters.malformed++;
    this.emit('neighbour', { peer: link.key, change: 'removed', degree: this.links.size });
    if (this.closed) return;
    // Not yet dead: the other side closed, or we did on bad input. Re-dialled at each round, when its
    // address is proven (we dialled it, or a seed listed it): a claim alone is never dialled.
    if (reason !== 'dead' && (link.dialed || this.listed.has(link.key))) this.lost.set(link.key, { endpoint: link.endpoint, failures: 0 });
    void this.fill();
  }

  private onLinkMessage(link: Link, m: WhisperMessage): void {
    switch (m.type) {
      case 'gmessage':
        this.relay.received(link, m);
        return;
      case 'liveness-request':
        link.conn.send({ type: 'liveness-reply', ts: m.ts, peer: m.peer, replier: this.self });
        return;
      case 'liveness-reply':
        link.awaiting = false;
        link.misses = 0;
        return;
      case 'forwarding':
        this.counters.forwardingReplies++;
        return;
      default:
        return; // a second Connection with Peer: nothing to do
    }
  }

  /** One own message, `--messages` in all. */
  private originate(): void {
    if (this.closed) return;
    const total = this.options.messages ?? C.GOSSIP_MESSAGES;
    if (this.sent < total) this.relay.originate(this.self, ++this.sent);
    if (this.sent >= total) this.gossipTask.stop();
  }

  /** Check every link, re-dial lost ones, report the dead, and refill. */
  private async livenessRound(): Promise<void> {
    const ts = formatSeconds(this.clock.now());
    for (const link of [...this.links.values()]) {
      if (link.awaiting && ++link.misses >= this.misses) {
        link.conn.close('dead');
        this.reportDead(link.endpoint);
        continue;
      }
      link.awaiting = true;
      link.conn.send({ type: 'liveness-request', ts, peer: this.self });
    }
    await Promise.all(
      [...this.lost.entries()].map(async ([key, entry]) => {
        if (this.links.has(key) || this.dialing.has(key)) return;
        if (await this.dial(entry.endpoint)) return;
        const still = this.lost.get(key);
        if (still && ++still.failures >= this.misses) {
          this.lost.delete(key);
          this.reportDead(entry.endpoint);
        }
      }),
    );
    if (this.closed) return;
    if (this.links.size === 0 && this.candidates.size === 0) await this.join().catch((err: Error) => this.logger.warn({ err: err.message }, 'rejoin failed'));
    await this.fill();
  }

  private reportDead(peer: WhisperEndpoint): void {
    if (this.closed) return;
    this.counters.deadReported++;
    this.candidates.delete(whisperKey(peer));
    this.logger.info({ peer: whisperKey(peer) }, `reporting Dead Node ${whisperKey(peer)}`);
    this.seedClient.reportDead({ type: 'dead-node', peer, ts: formatSeconds(this.clock.now()), reporter: this.self });
    this.emit('dead-reported', { peer: whisperKey(peer) });
  }
}

/** Add to a set bounded at MAX_CANDIDATES, forgetting the oldest. */
function remember(set: Set<string>, key: string): void {
  set.delete(key);
  set.add(key);
  if (set.size > C.MAX_CANDIDATES) set.delete(set.values().next().value!);
}
