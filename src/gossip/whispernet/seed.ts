/**
 * A seed speaking the original WhisperNet text (the seed project's seed.py, docs/whispernet.md): it
 * registers peers (`register:IP:PORT` -> `registered successfully`), answers `peer list` with
 * `peer list::a#p:...` sized for the original's one 1024-byte read, and keeps each connection open for
 * the `Dead Node:` reports that come on it later. Unlike the original it does not take a report on
 * trust: its own probe must find the peer silent before it is removed; nor a registration: the
 * address claimed must be the connection's own (`localhost` from another host is read as that host).
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../../common/log.js';
import { listenTcp } from '../../common/net.js';
import { systemClock, type Clock } from '../../common/lifecycle.js';
import { shuffled } from '../topology.js';
import { canonicalHost, peerListWithin, whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { WhisperConnection } from './link.js';
import { probePeer } from './probe.js';
import { HANDSHAKE_IDLE_MS, LIST_REPLY_BYTES, SEED_MAX_CONNECTIONS } from './constants.js';
import { LIVENESS_INTERVAL_MS, LIVENESS_MISSES, SEED_MAX_CONFIRMING, SEED_MAX_PEERS } from '../constants.js';

export interface WhispernetSeedOptions {
  /** IPv4 address to listen on (default 127.0.0.1) */
  host?: string;
  /** TCP port, 0 for any free one */
  port?: number;
  /** how long the probe of a reported peer waits for a sign of life (ms; default 13 s * 3) */
  confirmTimeoutMs?: number;
  maxConnections?: number;
  /** peers registered at once (default 100,000) */
  maxPeers?: number;
  /** bytes of a peer list answer (default 1024: the original peer reads it with one recv(1024)) */
  listBytes?: number;
  /** ms a connection may stay without registering (default 30 s); registered ones stay open */
  handshakeIdleMs?: number;
  /** ms of silence that ends an unpadded record */
  quietMs?: number;
  random?: () => number;
}

export interface WhispernetSeedDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface WhispernetSeedEvents {
  registered: [{ peer: string; id: number }];
  removed: [{ peer: string; reporter: string }];
  refused: [{ peer: string; reporter: string }];
  malformed: [{ remote: string; reason: string }];
}

export interface WhispernetSeedStats {
  peers: number;
  registrations: number;
  peerLists: number;
  reports: number;
  removed: number;
  refused: number;
  dropped: number;
  malformed: number;
  connections: number;
}

interface Registration {
  /** as announced (the original's `localhost` is handed out as it came) */
  endpoint: WhisperEndpoint;
  id: number;
}

export class WhispernetSeed extends EventEmitter<WhispernetSeedEvents> {
  private readonly server: Server;
  private readonly connections = new Set<WhisperConnection>();
  private readonly registry = new Map<string, Registration>();
  private readonly confirming = new Set<string>();
  private readonly closing = new AbortController();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private nextId = 0;
  private started = false;
  private closed = false;
  private readonly counters = { registrations: 0, peerLists: 0, reports: 0, removed: 0, refused: 0, dropped: 0, malformed: 0 };

  constructor(
    private readonly options: WhispernetSeedOptions = {},
    deps: WhispernetSeedDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    setMaxListeners(0, this.closing.signal);
    this.server = createServer((socket) => this.onSocket(socket));
    this.server.maxConnections = options.maxConnections ?? SEED_MAX_CONNECTIONS;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await listenTcp(this.server, this.options.host ?? '127.0.0.1', this.options.port ?? 0);
    this.logger.info({ seed: whisperKey(this.address()) }, 'whispernet seed listening');
  }

  address(): WhisperEndpoint {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') return { host: this.options.host ?? '127.0.0.1', port: 0 };
    return { host: addr.address, port: addr.port };
  }

  /** Registered peers in registration order, as announced. */
  peers(): WhisperEndpoint[] {
    return [...this.registry.values()].map((r) => r.endpoint);
  }

  /** Is `peer` (`ip:port`, `localhost` read as 127.0.0.1) registered? */
  has(peer: string): boolean {
    return this.registry.has(peer.replace(/^localhost:/, '127.0.0.1:'));
  }

  stats(): WhispernetSeedStats {
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
    const conn = new WhisperConnection(socket, { vocabulary: 'seed', logger: this.logger, clock: this.clock, quietMs: this.options.quietMs });
    // Until it registers, a connection has a deadline; a registered peer keeps it open for Dead Node reports.
    socket.setTimeout(this.options.handshakeIdleMs ?? HANDSHAKE_IDLE_MS, () => conn.close('idle before registering'));
    this.connections.add(conn);
    let registered: string | undefined;
    conn.on('message', (m) => {
      const key = this.onMessage(conn, m, registered);
      if (key !== undefined && registered === undefined) {
        registered = key;
        socket.setTimeout(0);
      }
    });
    conn.on('close', (reason) => {
      this.connections.delete(conn);
      if (reason?.startsWith('malformed') || reason?.startsWith('refused')) {
        this.counters.malformed++;
        this.emit('malformed', { remote: conn.remote, reason });
      }
    });
  }

  /** Handle one record; returns the key registered by it, if any. */
  private onMessage(conn: WhisperConnection, m: WhisperMessage, registered: string | undefined): string | undefined {
    switch (m.type) {
      case 'register':
        return this.onRegister(conn, m.peer, registered);
      case 'peer-list-request': {
        this.counters.peerLists++;
        const peers = this.peers();
        const all = peerListWithin(peers, this.options.listBytes ?? LIST_REPLY_BYTES);
        // When not all fit the original's one read, a random sample that fits (each peer a fair chance).
        const reply = all.type === 'peer-list' && all.peers.length < peers.length ? peerListWithin(shuffled(peers, this.options.random ?? Math.random), this.options.listBytes ?? LIST_REPLY_BYTES) : all;
        conn.send(reply);
        return undefined;
      }
      case 'dead-node':
        this.counters.reports++;
        this.logger.info({ peer: whisperKey(m.peer), reporter: whisperKey(m.reporter) }, `Dead Node report about ${whisperKey(m.peer)} from ${whisperKey(m.reporter)}`);
        void this.confirm(m.peer, whisperKey(m.reporter));
        return undefined;
      default:
        // the seed vocabulary holds nothing else (splitter.ts)
        return undefined;
    }
  }

  /**
   * Register the address a peer claims when it is the connection's own: `localhost` or a loopback
   * address from a loopback connection, the source address itself, or `localhost` from another host
   * (the original always announces `localhost`), which is registered under the source address.
   */
  private onRegister(conn: WhisperConnection, claim: WhisperEndpoint, registered: string | undefined): string | undefined {
    const source = (conn.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const loopback = source.startsWith('127.');
    let endpoint = claim;
    if (claim.host === 'localhost' && !loopback && isIP(source) === 4) endpoint = { host: source, port: claim.port };
    else if (!(loopback && canonicalHost(claim.host).startsWith('127.')) && canonicalHost(claim.host) !== source) {
      this.logger.warn({ remote: conn.remote, claim: whisperKey(claim) }, 'refused a registration: the address is not the connection\'s');
      conn.close(`refused registration of ${whisperKey(claim)} from ${source}`);
      return undefined;
    }
    const key = whisperKey(endpoint);
    if (registered !== undefined && registered !== key) {
      conn.close(`refused a second address (${key}) on one connection`);
      return undefined;
    }
    if (!this.registry.has(key)) {
      if (this.registry.size >= (this.options.maxPeers ?? SEED_MAX_PEERS)) {
        this.logger.warn({ remote: conn.remote }, 'closing connection: registry full');
        conn.close('registry full');
        return undefined;
      }
      const id = this.nextId++;
      this.registry.set(key, { endpoint, id });
      this.counters.registrations++;
      this.logger.info({ peer: key, id }, `registered ${key}`);
      this.emit('registered', { peer: key, id });
    }
    conn.send({ type: 'registered' });
    return key;
  }

  /** Probe a reported peer ourselves; remove it only when it shows no sign of life in time. */
  private async confirm(peer: WhisperEndpoint, reporter: string): Promise<void> {
    const key = whisperKey(peer);
    if (!this.registry.has(key) || this.confirming.has(key)) return;
    if (this.confirming.size >= SEED_MAX_CONFIRMING) {
      this.counters.dropped++;
      this.logger.warn({ peer: key, reporter }, `dropped Dead Node report about ${key}: ${SEED_MAX_CONFIRMING} confirmations in flight`);
      return;
    }
    this.confirming.add(key);
    const alive = await probePeer(peer, {
      logger: this.logger,
      clock: this.clock,
      timeoutMs: this.options.confirmTimeoutMs ?? LIVENESS_INTERVAL_MS * LIVENESS_MISSES,
      localAddress: this.options.host,
      signal: this.closing.signal,
    });
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
}
