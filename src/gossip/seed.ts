/**
 * A seed: the registry of the gossip network (the seed project's seed.py). It lists a peer only once
 * a connect-back proved its address (as a push-pull join does), re-probes and expires the peers it
 * can no longer reach, bounds registrations and connections per source address, hands out a random
 * sample of live peers, and removes a peer reported dead only after its own probe confirms it, so that
 * one wrong or lying peer cannot evict a live one (SWIM/Lifeguard's suspicion). docs/security.md
 * lists what it promises against hostile senders.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { randomInt } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../common/log.js';
import { listenTcp } from '../common/net.js';
import { PeriodicTask, systemClock, type Clock } from '../common/lifecycle.js';
import { Connection } from './connection.js';
import { probeLiveness, type DialOptions } from './dial.js';
import { agreeId } from './id-agreement.js';
import { BufferBudget, SourceLimiter, isLoopback, refusedAddress, sourceAddress } from './guard.js';
import { IdAllocator, Registry } from './registry.js';
import { defaultLimits, encodeFrame, endpointKey, formatMessage, type Endpoint, type GossipMessage, type ProtocolLimits } from './protocol.js';
import * as C from './constants.js';
import type { Keyring } from './secure.js';

export interface SeedOptions {
  /** IPv4 address to listen on (default 127.0.0.1) */
  host?: string;
  /** TCP port, 0 for any free one */
  port?: number;
  /**
   * How long the confirmation probe of a reported peer waits for its Liveness Reply (ms). A peer
   * that answers within it is alive; default: the peers' whole detection bound, interval * misses.
   */
  confirmTimeoutMs?: number;
  /** ms the connect-back of a registration waits for the peer's Liveness Reply (default 3000) */
  proveTimeoutMs?: number;
  /** a registered peer not proved for this long is probed again, and removed if silent (ms, default 60 s) */
  revalidateMs?: number;
  /** Connections held at once (default 4096) and from one source address (default 64; not for 127.0.0.0/8, which every local process shares). */
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  /** Peers registered at once (default 100,000) and from one source address (default 1024, loopback exempt unless this is given). */
  maxPeers?: number;
  maxPeersPerSource?: number;
  /** Most entries in one peer list (a random sample of the live peers; default 1024). */
  listSample?: number;
  /** Idle connections are closed after this (ms). */
  idleTimeoutMs?: number;
  limits?: ProtocolLimits;
  /**
   * Where ids come from (default: the seed's own, one id space). Seeds of one process may share one;
   * seeds in separate processes each get `new IdAllocator(index, count)` from their line in the
   * shared config, and `otherSeeds`.
   */
  ids?: IdAllocator;
  /** The other seeds of the config: a new address's id is agreed with them (id-agreement.ts). */
  otherSeeds?: Endpoint[];
  /** uniform [0, 1) (default Math.random), for the peer-list sample */
  random?: () => number;
  /** the network key: only holders may register, report or even be answered (secure.ts) */
  keyring?: Keyring;
}

export interface SeedDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface SeedEvents {
  registered: [{ peer: string; id: number }];
  removed: [{ peer: string; reporter: string }];
  /** a registered peer that no longer answered the seed's re-probe */
  expired: [{ peer: string }];
  /** a Dead Node report the seed's own probe contradicted */
  refused: [{ peer: string; reporter: string }];
  /** a registration whose connect-back failed (or was not allowed) */
  unproved: [{ peer: string; source: string; reason: string }];
  malformed: [{ remote: string; reason: string }];
}

export interface SeedStats {
  /** registered now */
  peers: number;
  /** registrations in all (a re-registration is not counted) */
  registrations: number;
  /** registrations refused: connect-back failed, bad or foreign address, or a cap reached */
  unproved: number;
  peerLists: number;
  /** Dead Node reports received */
  reports: number;
  /** peers removed after a confirmed report */
  removed: number;
  /** peers removed because the re-probe failed */
  expired: number;
  /** reports the seed's own probe contradicted */
  refused: number;
  /** reports dropped: too many confirmations in flight, in all or from that reporter */
  dropped: number;
  malformed: number;
  /** connections open now, and refused at a cap so far */
  connections: number;
  connectionsRefused: number;
}

/** One client connection and what the seed knows of it. */
interface Client {
  conn: Connection;
  source: string;
  /** a registration on it was proved: it may get a whole peer list */
  proved: boolean;
  /** messages are handled one at a time (a registration waits for its connect-back) */
  queue: Promise<void>;
}

export class Seed extends EventEmitter<SeedEvents> {
  private readonly server: Server;
  private readonly clients = new Set<Client>();
  private readonly registry: Registry;
  private readonly ids: IdAllocator;
  /** subject -> reporter source of the confirmations in flight (deduped per subject) */
  private readonly confirming = new Map<string, string>();
  private readonly confirmingBy = new Map<string, number>();
  /** connect-backs in flight, by claimed address */
  private readonly proving = new Map<string, Promise<boolean>>();
  private readonly limiter: SourceLimiter;
  private readonly budget = new BufferBudget(C.BUFFER_BUDGET_BYTES);
  private readonly sweepTask: PeriodicTask;
  /** aborted by close(): ends the probes in flight */
  private readonly closing = new AbortController();
  private sweeping = 0;
  /** id queries in flight to the other seeds (id-agreement.ts) */
  private querying = 0;
  private otherSeeds: readonly Endpoint[];
  private started = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly limits: ProtocolLimits;
  private readonly counters = { registrations: 0, unproved: 0, peerLists: 0, reports: 0, removed: 0, expired: 0, refused: 0, malformed: 0, dropped: 0 };

  constructor(
    private readonly options: SeedOptions = {},
    deps: SeedDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.limits = options.limits ?? defaultLimits;
    // Loopback is every local process's source: its registrations are bounded only when asked for.
    const exemptLoopback = options.maxPeersPerSource === undefined ? isLoopback : (): boolean => false;
    this.ids = options.ids ?? new IdAllocator();
    this.otherSeeds = options.otherSeeds ?? [];
    this.registry = new Registry(this.ids, options.maxPeers ?? C.SEED_MAX_PEERS, options.maxPeersPerSource ?? C.SEED_MAX_PEERS_PER_SOURCE, exemptLoopback);
    this.limiter = new SourceLimiter(options.maxConnectionsPerSource ?? C.SEED_MAX_CONNECTIONS_PER_SOURCE, options.maxConnections ?? C.SEED_MAX_CONNECTIONS);
    setMaxListeners(0, this.closing.signal); // one listener per probe in flight
    this.server = createServer((socket) => this.onSocket(socket));
    const revalidateMs = options.revalidateMs ?? C.SEED_REVALIDATE_MS;
    this.sweepTask = new PeriodicTask(Math.max(50, revalidateMs / 4), () => this.sweep(), (err) => this.logger.error({ err }, 'sweep failed'), this.clock);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const host = this.options.host ?? '127.0.0.1';
    await listenTcp(this.server, host, this.options.port ?? 0);
    this.sweepTask.start();
    this.logger.info({ seed: endpointKey(this.address()) }, 'seed listening');
  }

  /** The address the seed listens on (after start). */
  address(): Endpoint {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') return { host: this.options.host ?? '127.0.0.1', port: 0 };
    return { host: addr.address, port: addr.port };
  }

  /** Registered peers, in registration order. */
  peers(): Endpoint[] {
    return this.registry.all().map((r) => r.endpoint);
  }

  has(peer: string): boolean {
    return this.registry.get(peer) !== undefined;
  }

  /** The other seeds to agree ids with (`otherSeeds`), for seeds whose ports are known only once started. */
  agreeIdsWith(others: readonly Endpoint[]): void {
    this.otherSeeds = others.slice();
  }

  /** The id this seed gave `peer`, if it holds it. */
  idOf(peer: string): number | undefined {
    return this.registry.get(peer)?.id;
  }

  stats(): SeedStats {
    return { ...this.counters, peers: this.registry.size, connections: this.clients.size, connectionsRefused: this.limiter.refused };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.sweepTask.stop();
    for (const client of this.clients) client.conn.close('seed closing');
    if (this.started) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSocket(socket: Socket): void {
    const source = sourceAddress(socket.remoteAddress);
    if (this.closed || !this.limiter.admit(source)) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, { limits: this.limits, logger: this.logger, budget: this.budget, keyring: this.options.keyring });
    socket.setTimeout(this.options.idleTimeoutMs ?? 60_000, () => conn.close('idle'));
    // A seed's conversations are one-shots: however slowly its bytes come, none lasts longer.
    conn.setDeadline(C.SEED_CONVERSATION_MS, 'conversation too long');
    const client: Client = { conn, source, proved: false, queue: Promise.resolve() };
    this.clients.add(client);
    conn.on('message', (m) => {
      client.queue = client.queue.then(() => this.onMessage(client, m)).catch((err: unknown) => this.logger.error({ err }, 'seed handler failed'));
    });
    conn.on('close', (reason) => {
      this.clients.delete(client);
      this.limiter.release(source);
      if (reason?.startsWith('malformed')) {
        this.counters.malformed++;
        this.emit('malformed', { remote: conn.remote, reason });
      }
    });
  }

  private async onMessage(client: Client, m: GossipMessage): Promise<void> {
    const { conn } = client;
    if (!conn.isOpen) return;
    switch (m.type) {
      case 'register':
        return this.onRegister(client, m.peer);
      case 'peer-list-request':
        this.counters.peerLists++;
        this.sendPeerList(client);
        return;
      case 'dead-node':
        this.onReport(client, m.peer, m.reporter);
        return;
      case 'liveness-request':
        this.reply(client, { type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: this.address() });
        return;
      case 'id-query':
        // What the peer lists publish anyway; no more bytes than the query to an unproved source.
        if (!this.reply(client, { type: 'id-answer', id: this.registry.get(endpointKey(m.peer))?.id, highest: this.ids.highest, fresh: this.ids.fresh })) conn.close('id answer longer than the query');
        return;
      default:
        this.logger.warn({ remote: conn.remote, type: m.type }, `closing connection: unexpected '${m.type}' message to a seed`);
        this.counters.malformed++;
        this.emit('malformed', { remote: conn.remote, reason: `unexpected ${m.type}` });
        conn.close(`unexpected ${m.type}`);
    }
  }

  /**
   * Send `m` unless the client is unproved and it would take the bytes sent past the bytes received
   * (no amplification to a stranger); returns whether it was sent.
   */
  private reply(client: Client, m: GossipMessage): boolean {
    if (!client.proved && client.conn.bytesOut + encodeFrame(formatMessage(m), this.limits.maxFrameBytes).length > client.conn.bytesIn) return false;
    return client.conn.send(m);
  }

  /** A random sample of live peers to a proved client; to a stranger, no more bytes than it sent. */
  private sendPeerList(client: Client): void {
    const max = Math.min(this.options.listSample ?? C.SEED_LIST_SAMPLE, this.limits.maxListEntries);
    const peers = this.registry.sample(max, this.options.random ?? Math.random).map((r) => ({ ...r.endpoint, id: r.id }));
    if (!client.proved) {
      while (peers.length > 0 && !this.fits(client, peers)) peers.length = Math.floor(peers.length / 2);
    }
    if (!this.reply(client, { type: 'peer-list', peers })) client.conn.close('unproved source asked for more than it sent');
  }

  private fits(client: Client, peers: Endpoint[]): boolean {
    return client.conn.bytesOut + encodeFrame(formatMessage({ type: 'peer-list', peers })).length <= client.conn.bytesIn;
  }

  private async onRegister(client: Client, peer: Endpoint): Promise<void> {
    const key = endpointKey(peer);
    const known = this.registry.get(key);
    // A claimed address must be the connection's own (nobody registers someone else) and dialable.
    const why = refusedAddress(peer.host)
      ?? (key === endpointKey(this.address()) ? 'own address' : undefined)
      ?? (peer.host !== client.source ? `claimed ${peer.host} from ${client.source}` : undefined)
      ?? (known ? undefined : this.registry.refusal(client.source));
    if (why || !(await this.prove(peer)) || this.closed) {
      this.unproved(client, key, why ?? 'connect-back failed');
      return;
    }
    client.proved = true;
    // A new address: the id the other seeds hold for it, if any (one id from every seed).
    const others = known ? [] : this.otherSeeds;
    if (this.querying + others.length > C.SEED_MAX_ID_QUERIES) {
      this.unproved(client, key, 'too many registrations in flight');
      return;
    }
    this.querying += others.length;
    const adopt = others.length === 0 ? undefined : await agreeId(peer, others, this.ids, this.dialOptions(C.SEED_ID_QUERY_TIMEOUT_MS)).finally(() => (this.querying -= others.length));
    if (this.closed) return;
    const isNew = this.registry.get(key) === undefined; // a registration of it may have come meanwhile
    const entry = this.registry.add(peer, client.source, this.clock.now(), adopt);
    if (isNew) {
      this.counters.registrations++;
      this.logger.info({ peer: key, id: entry.id }, `registered ${key} as id ${entry.id}`);
      this.emit('registered', { peer: key, id: entry.id });
    }
    client.conn.send({ type: 'registered', id: entry.id, density: this.ids.densityPerMille });
  }

  /** Options of the seed's own dials (probes, id queries): bound to its address, ended by close(). */
  private dialOptions(timeoutMs: number): DialOptions {
    return {
      limits: this.limits,
      logger: this.logger,
      clock: this.clock,
      timeoutMs,
      localAddress: this.options.host,
      signal: this.closing.signal,
      keyring: this.options.keyring,
    };
  }
  private unproved(client: Client, key: string, reason: string): void {
    this.counters.unproved++;
    this.logger.warn({ peer: key, source: client.source, reason }, `refused registration of ${key}: ${reason}`);
    this.emit('unproved', { peer: key, source: client.source, reason });
    client.conn.close(`registration refused: ${reason}`);
  }

  /** Connect back to a claimed address: proved when a Liveness Reply comes. One attempt per address at a time. */
  private prove(peer: Endpoint): Promise<boolean> {
    const key = endpointKey(peer);
    const inFlight = this.proving.get(key);
    if (inFlight) return inFlight;
    if (this.proving.size >= C.SEED_MAX_CONFIRMING) return Promise.resolve(false);
    const attempt = this.probe(peer, this.options.proveTimeoutMs ?? C.REQUEST_TIMEOUT_MS).finally(() => this.proving.delete(key));
    this.proving.set(key, attempt);
    return attempt;
  }

  /** A Dead Node report: confirmed by our own probe, one per subject, a few per reporter at a time. */
  private onReport(client: Client, peer: Endpoint, reporter: string): void {
    this.counters.reports++;
    const key = endpointKey(peer);
    if (reporter !== client.source) {
      this.counters.malformed++;
      client.conn.close(`report from ${client.source} signed ${reporter}`);
      return;
    }
    this.logger.info({ peer: key, reporter }, `Dead Node report about ${key} from ${reporter}`);
    if (!this.registry.get(key) || this.confirming.has(key)) {
      this.reply(client, { type: 'report-noted', peer });
      return;
    }
    const mine = this.confirmingBy.get(client.source) ?? 0;
    if (this.confirming.size >= C.SEED_MAX_CONFIRMING || mine >= C.SEED_MAX_CONFIRMING_PER_REPORTER) {
      this.counters.dropped++;
      this.logger.warn({ peer: key, reporter }, `dropped Dead Node report about ${key}: too many confirmations in flight`);
      return; // no answer: an honest reporter repeats the report later
    }
    this.reply(client, { type: 'report-noted', peer });
    void this.confirm(peer, client.source);
  }

  private async confirm(peer: Endpoint, reporter: string): Promise<void> {
    const key = endpointKey(peer);
    this.confirming.set(key, reporter);
    this.confirmingBy.set(reporter, (this.confirmingBy.get(reporter) ?? 0) + 1);
    const alive = await this.probe(peer, this.options.confirmTimeoutMs ?? C.LIVENESS_INTERVAL_MS * C.LIVENESS_MISSES);
    this.confirming.delete(key);
    const left = (this.confirmingBy.get(reporter) ?? 1) - 1;
    if (left <= 0) this.confirmingBy.delete(reporter);
    else this.confirmingBy.set(reporter, left);
    if (this.closed || !this.registry.get(key)) return;
    if (alive) {
      this.counters.refused++;
      this.registry.add(peer, reporter, this.clock.now()); // proved again: refreshes the entry
      this.logger.warn({ peer: key, reporter }, `refused Dead Node report about ${key} from ${reporter}: it answered`);
      this.emit('refused', { peer: key, reporter });
      return;
    }
    this.registry.remove(key);
    this.counters.removed++;
    this.logger.info({ peer: key, reporter }, `removed dead peer ${key} (reported by ${reporter}, confirmed)`);
    this.emit('removed', { peer: key, reporter });
  }

  /** Re-probe the peers not proved for `revalidateMs`, a bounded batch at a time; remove the silent. */
  private sweep(): void {
    const revalidateMs = this.options.revalidateMs ?? C.SEED_REVALIDATE_MS;
    const room = C.SEED_SWEEP_BATCH - this.sweeping;
    if (room <= 0) return;
    const now = this.clock.now();
    for (const entry of this.registry.stale(now - revalidateMs, room)) {
      if (this.confirming.has(entry.key)) continue;
      entry.provedAt = now; // not picked again while its probe runs
      this.sweeping++;
      void this.probe(entry.endpoint, this.options.confirmTimeoutMs ?? C.LIVENESS_INTERVAL_MS * C.LIVENESS_MISSES).then((alive) => {
        this.sweeping--;
        if (alive || this.closed || this.registry.get(entry.key) !== entry) return;
        this.registry.remove(entry.key);
        this.counters.expired++;
        this.logger.info({ peer: entry.key }, `expired ${entry.key}: it no longer answers`);
        this.emit('expired', { peer: entry.key });
      });
    }
  }

  private probe(peer: Endpoint, timeoutMs: number): Promise<boolean> {
    // A random timestamp: only the prober's own request can be answered.
    const nonce = randomInt(1, 2 ** 47);
    return probeLiveness(peer, this.address(), this.dialOptions(timeoutMs), nonce);
  }
}
