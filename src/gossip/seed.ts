/**
 * A seed: the registry of the gossip network (the seed project's seed.py). It registers peers, answers
 * peer lists, and removes a peer reported dead only after its own probe confirms it, so that one wrong
 * or lying peer cannot evict a live one (the confirmation step of SWIM/Lifeguard's suspicion).
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../common/log.js';
import { listenTcp } from '../common/net.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { Connection } from './connection.js';
import { probeLiveness } from './dial.js';
import { defaultLimits, endpointKey, type Endpoint, type GossipMessage, type ProtocolLimits } from './protocol.js';
import { LIVENESS_INTERVAL_MS, LIVENESS_MISSES, SEED_MAX_CONFIRMING, SEED_MAX_PEERS } from './constants.js';

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
  /** Connections held at once; more are refused. */
  maxConnections?: number;
  /** Peers registered at once; a registration past it closes that connection (default 100,000). */
  maxPeers?: number;
  /** Idle connections are closed after this (ms). */
  idleTimeoutMs?: number;
  limits?: ProtocolLimits;
}

export interface SeedDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface SeedEvents {
  registered: [{ peer: string; id: number }];
  removed: [{ peer: string; reporter: string }];
  /** a Dead Node report the seed's own probe contradicted */
  refused: [{ peer: string; reporter: string }];
  malformed: [{ remote: string; reason: string }];
}

export interface SeedStats {
  /** registered now */
  peers: number;
  /** registrations in all (a re-registration is not counted) */
  registrations: number;
  peerLists: number;
  /** Dead Node reports received */
  reports: number;
  /** peers removed after a confirmed report */
  removed: number;
  /** reports the seed's own probe contradicted */
  refused: number;
  /** reports dropped because too many confirmations were in flight */
  dropped: number;
  malformed: number;
  /** connections open now */
  connections: number;
}

interface Registration {
  endpoint: Endpoint;
  id: number;
}

export class Seed extends EventEmitter<SeedEvents> {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  /** registration order is the Map's order, and the source of peer ids */
  private readonly registry = new Map<string, Registration>();
  private readonly confirming = new Set<string>();
  /** aborted by close(): ends the confirmation probes in flight */
  private readonly closing = new AbortController();
  private nextId = 0;
  private started = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly limits: ProtocolLimits;
  private readonly counters = { registrations: 0, peerLists: 0, reports: 0, removed: 0, refused: 0, malformed: 0, dropped: 0 };

  constructor(
    private readonly options: SeedOptions = {},
    deps: SeedDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.limits = options.limits ?? defaultLimits;
    setMaxListeners(0, this.closing.signal); // one listener per probe in flight
    this.server = createServer((socket) => this.onSocket(socket));
    this.server.maxConnections = options.maxConnections ?? 4096;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const host = this.options.host ?? '127.0.0.1';
    await listenTcp(this.server, host, this.options.port ?? 0);
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
    return [...this.registry.values()].map((r) => r.endpoint);
  }

  has(peer: string): boolean {
    return this.registry.has(peer);
  }

  stats(): SeedStats {
    return { ...this.counters, peers: this.registry.size, connections: this.connections.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const conn of this.connections) conn.close('seed closing');
    if (this.started) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSocket(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, { limits: this.limits, logger: this.logger });
    socket.setTimeout(this.options.idleTimeoutMs ?? 60_000, () => conn.close('idle'));
    this.connections.add(conn);
    conn.on('message', (m) => this.onMessage(conn, m));
    conn.on('close', (reason) => {
      this.connections.delete(conn);
      if (reason?.startsWith('malformed')) {
        this.counters.malformed++;
        this.emit('malformed', { remote: conn.remote, reason });
      }
    });
  }

  private onMessage(conn: Connection, m: GossipMessage): void {
    switch (m.type) {
      case 'register': {
        const id = this.register(m.peer);
        if (id === undefined) {
          this.logger.warn({ remote: conn.remote, peers: this.registry.size }, 'closing connection: registry full');
          conn.close('registry full');
        } else {
          conn.send({ type: 'registered', id });
        }
        return;
      }
      case 'peer-list-request':
        this.counters.peerLists++;
        conn.send({ type: 'peer-list', peers: this.peers().slice(0, this.limits.maxListEntries) });
        return;
      case 'dead-node':
        this.counters.reports++;
        this.logger.info({ peer: endpointKey(m.peer), reporter: m.reporter }, `Dead Node report about ${endpointKey(m.peer)} from ${m.reporter}`);
        void this.confirm(m.peer, m.reporter);
        return;
      case 'liveness-request':
        conn.send({ type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: this.address() });
        return;
      default:
        this.logger.warn({ remote: conn.remote, type: m.type }, `closing connection: unexpected '${m.type}' message to a seed`);
        this.counters.malformed++;
        this.emit('malformed', { remote: conn.remote, reason: `unexpected ${m.type}` });
        conn.close(`unexpected ${m.type}`);
    }
  }

  /** Register a peer (idempotent: a peer registering again keeps its id); undefined when full. */
  private register(peer: Endpoint): number | undefined {
    const key = endpointKey(peer);
    const known = this.registry.get(key);
    if (known) return known.id;
    if (this.registry.size >= (this.options.maxPeers ?? SEED_MAX_PEERS)) return undefined;
    const id = this.nextId++;
    this.registry.set(key, { endpoint: peer, id });
    this.counters.registrations++;
    this.logger.info({ peer: key, id }, `registered ${key} as id ${id}`);
    this.emit('registered', { peer: key, id });
    return id;
  }

  /** Probe a reported peer ourselves; remove it only when it does not answer in time. */
  private async confirm(peer: Endpoint, reporter: string): Promise<void> {
    const key = endpointKey(peer);
    if (!this.registry.has(key) || this.confirming.has(key)) return;
    // A flood of reports may not open a probe per registered peer at once: past the bound, drop.
    if (this.confirming.size >= SEED_MAX_CONFIRMING) {
      this.counters.dropped++;
      this.logger.warn({ peer: key, reporter }, `dropped Dead Node report about ${key}: ${SEED_MAX_CONFIRMING} confirmations in flight`);
      return;
    }
    this.confirming.add(key);
    const alive = await this.probe(peer);
    this.confirming.delete(key);
    if (this.closed || !this.registry.has(key)) return;
    if (alive) {
      this.counters.refused++;
      this.logger.warn({ peer: key, reporter }, `refused Dead Node report about ${key} from ${reporter}: it answered`);
      this.emit('refused', { peer: key, reporter });
      return;
    }
    this.registry.delete(key);
    this.counters.removed++;
    this.logger.info({ peer: key, reporter }, `removed dead peer ${key} (reported by ${reporter}, confirmed)`);
    this.emit('removed', { peer: key, reporter });
  }

  private probe(peer: Endpoint): Promise<boolean> {
    return probeLiveness(peer, this.address(), {
      limits: this.limits,
      logger: this.logger,
      clock: this.clock,
      timeoutMs: this.options.confirmTimeoutMs ?? LIVENESS_INTERVAL_MS * LIVENESS_MISSES,
      localAddress: this.options.host,
      signal: this.closing.signal,
    });
  }
}
