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
import { MessageCache, messageHash } from '../message-cache.js';
import { degreePolicy, shuffled, type DegreePolicy } from '../topology.js';
import * as C from '../constants.js';
import { canonicalHost, encodeRecord, formatSeconds, whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { WhisperConnection, dialWhisper, onFirstRecord, type WhisperDialOptions } from './link.js';
import { SeedClient } from './seed-client.js';
import { HANDSHAKE_IDLE_MS, MAX_PENDING, REPLAY_MAX, REPLAY_WINDOW_MS } from './constants.js';
import type { Link, WhispernetPeerDeps, WhispernetPeerEvents, WhispernetPeerOptions, WhispernetPeerStats } from './peer-types.js';

export type { WhispernetPeerDeps, WhispernetPeerEvents, WhispernetPeerOptions, WhispernetPeerStats } from './peer-types.js';

export class WhispernetPeer extends EventEmitter<WhispernetPeerEvents> {
  private readonly server: Server;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly seedClient: SeedClient;
  private readonly links = new Map<string, Link>();
  private readonly candidates = new Map<string, WhisperEndpoint>();
  /** peers the seeds listed (bounded): addresses proven enough to re-dial */
  private readonly listed = new Set<string>();
  /** links the other side closed: re-dialled each round, reported dead after `misses` failures */
  private readonly lost = new Map<string, { endpoint: WhisperEndpoint; failures: number }>();
  private readonly refusedUntil = new Map<string, number>();
  private readonly dialing = new Set<string>();
  private readonly pending = new Set<WhisperConnection>();
  private readonly cache = new MessageCache();
  /** recent gmessages, replayed to each new link so that delivery does not depend on join order */
  private recent: { at: number; bytes: Buffer }[] = [];
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
  private readonly counters = { gossipReceived: 0, duplicates: 0, forwarded: 0, forwardingReplies: 0, replayed: 0, deadReported: 0, malformed: 0 };

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
    return { ...this.counters, degree: this.links.size, capacity: this.policyValue?.capacity ?? 0, originated: this.sent, seen: this.cache.size, known: this.candidates.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gossipTask.stop();
    this.livenessTask.stop();
    this.closing.abort();
    this.seedClient.close();
    for (const link of this.links.values()) link.conn.close('closing');
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
          if (!this.links.has(key)) this.candidates.set(key, p);
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
    // keep the connection dialled by the smaller key (the same one on both sides)
    const keepNew = !existing || dialed === this.selfKey < key;
    if (!keepNew) {
      conn.close('duplicate link');
      return true;
    }
    const link: Link = { conn, key, endpoint: peer, dialed, awaiting: false, misses: 0 };
    this.links.set(key, link); // before the duplicate closes, so that its close is not a loss
    existing?.conn.close('duplicate link');
    this.candidates.delete(key);
    this.lost.delete(key);
    this.refusedUntil.delete(key);
    conn.on('message', (m) => this.onLinkMessage(link, m));
    conn.on('close', (reason) => this.onLinkClosed(link, reason));
    if (!existing) this.emit('neighbour', { peer: key, change: 'added', degree: this.links.size });
    this.replayTo(link);
    return true;
  }

  private replayTo(link: Link): void {
    const since = this.clock.now() - REPLAY_WINDOW_MS;
    for (const r of this.recent) {
      if (r.at < since) continue;
      if (!link.conn.sendBytes(r.bytes)) return;
      this.counters.replayed++;
    }
  }

  private onLinkClosed(link: Link, reason: string | undefined): void {
    if (this.links.get(link.key) !== link) return; // replaced by a duplicate's survivor
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
        this.onGossip(link, m);
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

  /**
   * A gmessage: the same message is its text (everything after the fourth `:`), as the originals
   * judge it, since they put their own time and address in front of each message they pass on. A new
   * one is answered `forwarding` and passed on to every other link with its header as received.
   */
  private onGossip(from: Link, m: Extract<WhisperMessage, { type: 'gmessage' }>): void {
    this.counters.gossipReceived++;
    const now = this.clock.now();
    const hash = messageHash(m.text);
    if (!this.cache.add(hash, now)) {
      this.counters.duplicates++;
      return;
    }
    this.emit('gossip', { origin: whisperKey(m.origin), text: m.text, from: from.key, hash, at: now });
    from.conn.send({ type: 'forwarding' });
    this.spread(encodeRecord(m), now, from);
  }

  private spread(bytes: Buffer, now: number, except?: Link): void {
    this.recent.push({ at: now, bytes });
    if (this.recent.length > REPLAY_MAX) this.recent = this.recent.slice(-REPLAY_MAX);
    for (const link of this.links.values()) {
      if (link === except) continue;
      if (link.conn.sendBytes(bytes)) this.counters.forwarded++;
    }
  }

  /**
   * One own message. Its text names its origin (`message N from IP#PORT`): the originals tell
   * messages apart by text alone, so `message N` from two peers would be one message to them.
   */
  private originate(): void {
    if (this.closed) return;
    const total = this.options.messages ?? C.GOSSIP_MESSAGES;
    if (this.sent >= total) {
      this.gossipTask.stop();
      return;
    }
    this.sent++;
    const now = this.clock.now();
    const text = `message ${this.sent} from ${this.self.host}#${this.self.port}`;
    const hash = messageHash(text);
    this.cache.add(hash, now);
    this.emit('gossip', { origin: this.selfKey, text, from: null, hash, at: now });
    this.spread(encodeRecord({ type: 'gmessage', ts: formatSeconds(now), origin: this.self, text }), now);
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
