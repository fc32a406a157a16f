/**
 * A gossip peer (the seed project's peer.py): registers with a majority of seeds, links to other peers
 * under a degree policy, originates gossip messages and passes on others' (router.ts), and checks its
 * neighbours' liveness, reporting the dead to the seeds.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:net';
import { silentLogger, type Logger } from '../common/log.js';
import { listenTcp } from '../common/net.js';
import { PeriodicTask, systemClock, type Clock } from '../common/lifecycle.js';
import type { Connection } from './connection.js';
import { HelloSlots } from './hello-slots.js';
import { dial, handshake, registerWithQuorum, type DialOptions } from './dial.js';
import { InboundGate } from './inbound.js';
import { LivenessMonitor } from './liveness-monitor.js';
import { GossipRouter } from './router.js';
import { defaultLimits, endpointKey, gossipText, type Endpoint, type GossipMessage } from './protocol.js';
import { Neighbourhood, precedes, type Neighbour } from './neighbourhood.js';
import { degreePolicy, joinOrder, shuffled, type DegreePolicy } from './topology.js';
import * as C from './constants.js';
import type { GossipSeen, PeerDeps, PeerEvents, PeerOptions, PeerStats } from './peer-types.js';

export type { PeerDeps, PeerEvents, PeerOptions, PeerStats } from './peer-types.js';

export class Peer extends EventEmitter<PeerEvents> {
  private readonly server: Server;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly router: GossipRouter;
  private readonly liveness: LivenessMonitor;
  private readonly hood: Neighbourhood;
  /** inbound connections until they are links (inbound.ts) */
  private readonly gate: InboundGate;
  /** aborted by close(): ends every dial, request and probe in flight (dial.ts) */
  private readonly closing = new AbortController();
  private readonly gossipTask: PeriodicTask;
  private readonly livenessTask: PeriodicTask;
  private readonly pullTask: PeriodicTask;
  private readonly pullTimeoutMs: number;
  private self: Endpoint = { host: '127.0.0.1', port: 0 };
  private selfKey = '127.0.0.1:0';
  private seedsUsed: Endpoint[] = [];
  private policyValue: DegreePolicy | undefined;
  private idValue = -1;
  /** joins per id handed out, (0, 1], from the seeds' registration answers (topology.ts joinOrder) */
  private idDensity = 1;
  private lastJoin = 0;
  private fillBackoff = 0;
  private skipRounds = 0;
  private filling: Promise<void> | undefined;
  /** hellos in flight against the links still wanted (parallel dials never overshoot the target) */
  private readonly helloSlots: HelloSlots;
  private sent = 0;
  private started = false;
  private closed = false;
  private readonly counters = { malformed: 0, refusedBusy: 0, joinAttempts: 0 };

  constructor(
    private readonly options: PeerOptions,
    deps: PeerDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.helloSlots = new HelloSlots(this.clock, C.HELLO_LEASE_MS);
    this.logger = deps.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    setMaxListeners(0, this.closing.signal); // one listener per open link or request, all removed on close
    const livenessIntervalMs = options.livenessIntervalMs ?? C.LIVENESS_INTERVAL_MS;
    this.hood = new Neighbourhood(this.random, 3 * livenessIntervalMs);
    this.liveness = new LivenessMonitor(
      { misses: options.misses ?? C.LIVENESS_MISSES, intervalMs: livenessIntervalMs, seeds: options.seeds },
      {
        hood: this.hood,
        logger: this.logger,
        self: () => this.self,
        dialOptions: () => this.dialOptions(),
        reported: (peer) => this.emit('dead-reported', { peer: endpointKey(peer) }),
      },
    );
    const emitGossip = (seen: GossipSeen): boolean => this.emit('gossip', seen);
    this.router = new GossipRouter(this.hood, options.dissemination ?? 'tree', this.clock, emitGossip, options.lazyDelayMs ?? C.LAZY_DELAY_MS);
    this.gate = new InboundGate({
      limits: options.limits ?? defaultLimits,
      logger: this.logger,
      keyring: options.keyring,
      self: () => this.self,
      dialOptions: () => this.dialOptions(),
      answerProbe: (conn, m) => this.liveness.answer(conn, m),
      busyReason: (key) => this.busyReason(key),
      accept: (conn, peer, id) => {
        conn.send({ type: 'welcome', peer: this.self, id: this.idValue, neighbours: this.hood.endpoints().slice(0, 64) });
        this.addNeighbour(peer, id, conn);
      },
      unexpected: (conn, m) => this.dropUnexpected(conn, m),
    });
    this.server = createServer((socket) => this.gate.onSocket(socket));
    const onError = (err: unknown): void => this.logger.error({ err }, 'periodic task failed');
    this.gossipTask = new PeriodicTask(options.gossipIntervalMs ?? C.GOSSIP_INTERVAL_MS, () => this.originate(), onError, this.clock);
    this.pullTimeoutMs = options.pullTimeoutMs ?? C.PULL_TIMEOUT_MS;
    // Runs only while some announced message is awaited: 1000 idle peers would wake 16,000 times a second.
    this.pullTask = new PeriodicTask(Math.max(10, this.pullTimeoutMs / 4), () => this.retryPulls(), onError, this.clock);
    this.livenessTask = new PeriodicTask(livenessIntervalMs, () => this.livenessRound(), onError, this.clock);
  }

  /** Listen, join through the seeds, link to neighbours, and start liveness checks (and gossip). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const host = this.options.host ?? '127.0.0.1';
    await listenTcp(this.server, host, this.options.port ?? 0);
    const addr = this.server.address();
    this.self = { host: this.options.advertiseHost ?? host, port: typeof addr === 'object' && addr ? addr.port : 0 };
    this.selfKey = endpointKey(this.self);
    this.router.selfKey = this.selfKey;
    await this.joinFirst();
    await this.fill();
    if (this.closed) return; // closed while joining: start no timer
    this.livenessTask.start();
    if (this.options.autoGossip !== false) this.startGossip();
  }

  /** Start originating messages (when autoGossip was false, e.g. until a whole swarm is up). */
  startGossip(): void {
    if (!this.closed) this.gossipTask.start();
  }

  get endpoint(): Endpoint {
    return this.self;
  }

  get key(): string {
    return this.selfKey;
  }

  /** The id the seeds gave (they agree it; the smallest if they did not), or -1 before joining. */
  get id(): number {
    return this.idValue;
  }

  get policy(): DegreePolicy | undefined {
    return this.policyValue;
  }

  neighbours(): string[] {
    return this.hood.keys();
  }

  /** Seeds this peer registered with. */
  seeds(): Endpoint[] {
    return this.seedsUsed.slice();
  }

  stats(): PeerStats {
    return {
      ...this.counters,
      malformed: this.counters.malformed + this.gate.counters.malformed,
      refusedHello: this.gate.counters.refusedHello,
      ...this.router.counters,
      ...this.liveness.counters,
      id: this.idValue,
      degree: this.hood.size,
      capacity: this.policyValue?.capacity ?? 0,
      originated: this.sent,
      seen: this.router.seen,
      known: this.hood.candidateCount,
      connectionsRefused: this.gate.refusedConnections,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.helloSlots.close();
    this.gossipTask.stop();
    this.livenessTask.stop();
    this.pullTask.stop();
    this.router.close();
    this.liveness.close();
    for (const n of this.hood.all()) n.conn.close('peer closing');
    this.gate.close();
    if (this.started) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dialOptions(): DialOptions {
    return {
      limits: this.options.limits ?? defaultLimits,
      logger: this.logger,
      clock: this.clock,
      timeoutMs: this.options.requestTimeoutMs ?? C.REQUEST_TIMEOUT_MS,
      localAddress: this.options.host,
      signal: this.closing.signal,
      keyring: this.options.keyring,
      budget: this.gate.budget,
    };
  }

  // ---- joining: seeds ----

  /**
   * The first join. With `retryJoin` a peer started before its seeds tries again with exponential
   * back-off (Serf's -retry-join) until it joins or is closed; without, the first failure is final.
   */
  private async joinFirst(): Promise<void> {
    let waitMs = C.RETRY_JOIN_FIRST_MS;
    for (;;) {
      try {
        this.counters.joinAttempts++;
        await this.join();
        return;
      } catch (err) {
        if (!this.options.retryJoin || this.closed) throw err;
        this.logger.warn({ err: (err as Error).message, retryInMs: waitMs }, `join failed; retrying in ${waitMs} ms`);
        this.emit('join-retry', { attempt: this.counters.joinAttempts, error: (err as Error).message, retryInMs: waitMs });
        await this.pause(waitMs);
        if (this.closed) return;
        waitMs = Math.min(C.RETRY_JOIN_MAX_MS, waitMs * 2);
      }
    }
  }

  /** Wait `ms`, or less when the peer closes. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.closing.signal;
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Register with a majority of the seeds and learn their peer lists; the first join fixes the id. */
  private async join(): Promise<void> {
    const joined = await registerWithQuorum(shuffled(this.options.seeds, this.random), this.self, this.dialOptions(), () => this.closed);
    this.lastJoin = this.clock.now();
    for (const { seed, id, peers } of joined) {
      this.hood.learn(peers.filter((p) => endpointKey(p) !== this.key));
      this.emit('registered', { seed: endpointKey(seed), id });
    }
    this.seedsUsed = joined.map((j) => j.seed);
    if (this.idValue < 0) {
      // Seeds agree ids (id-agreement.ts), so the answers are one id; the smallest if a seed was cut off.
      this.idValue = Math.min(...joined.map((j) => j.id));
      this.idDensity = joined.reduce((sum, j) => sum + j.density, 0) / joined.length;
      const order = joinOrder(this.idValue, this.idDensity);
      this.policyValue = degreePolicy(this.options.policy ?? 'power-law', order, { floor: this.options.floor, links: this.options.links });
    }
    this.logger.info({ id: this.idValue, seeds: this.seedsUsed.map(endpointKey), capacity: this.policyValue?.capacity }, 'joined');
  }

  // ---- linking: neighbours ----

  /** Link out until the policy's target degree (or the candidates run out); one fill at a time. */
  private async fill(): Promise<void> {
    if (this.filling) return this.filling;
    this.filling = this.fillOnce().finally(() => {
      this.filling = undefined;
    });
    return this.filling;
  }

  private before(id: number, key: string): boolean {
    return precedes({ id, key }, { id: this.idValue, key: this.key });
  }

  /**
   * Dial candidates, best first, up to DIAL_PARALLEL at once (so that unreachable candidates, each
   * costing a timeout, cannot hide the reachable ones behind them), until the target is reached.
   */
  private async fillOnce(): Promise<void> {
    const policy = this.policyValue;
    if (!policy || this.closed) return;
    const queue = this.hood.candidates(this.clock.now(), policy.name, this.idDensity);
    let tried = 0;
    const worker = async (): Promise<void> => {
      for (let candidate = queue.shift(); candidate; candidate = queue.shift()) {
        // Links in flight count toward the target (no overshoot), except while alone: then every
        // worker dials, so that candidates that do not answer cannot hide those that do.
        const inFlight = this.hood.size === 0 ? 0 : this.hood.pending.size;
        if (this.closed || (this.hood.size + inFlight >= policy.target && this.hood.anchored)) return;
        // Alone, try every candidate: a peer must attach somewhere. Otherwise a few per round.
        if (this.hood.size > 0 && tried >= C.CONNECT_ATTEMPTS_PER_ROUND) return;
        const key = endpointKey(candidate.endpoint);
        // Only an anchor is missing: dial peers that registered before us (rank estimates the id).
        const anchorOnly = this.hood.size >= policy.target;
        if (this.hood.isLinked(key) || (anchorOnly && candidate.rank >= this.idValue)) continue;
        tried++;
        const welcomed = await this.link(candidate.endpoint, anchorOnly);
        if (welcomed && policy.name === 'preferential') this.hood.preferNeighboursOf(welcomed);
      }
    };
    await Promise.all(Array.from({ length: this.options.dialParallel ?? C.DIAL_PARALLEL }, worker));
  }

  /** Connect to a candidate and say hello; resolves with its neighbours when it took us. */
  private async link(to: Endpoint, anchorOnly: boolean): Promise<Endpoint[] | undefined> {
    const key = endpointKey(to);
    this.hood.pending.add(key);
    let slot = false;
    try {
      const conn = await dial(to, this.dialOptions());
      // a dial for the anchor alone (past the target) takes no slot: a second anchor welcome is closed below
      slot = !anchorOnly && (await this.helloSlots.acquire(() => (this.policyValue?.target ?? 0) - this.hood.size));
      if (!anchorOnly && !slot) {
        conn.close('not needed');
        return undefined;
      }
      const hello: GossipMessage = { type: 'hello', peer: this.self, id: this.idValue };
      const answer = await handshake(conn, hello, this.dialOptions());
      if (answer?.type !== 'welcome') {
        this.counters.refusedBusy++;
        this.hood.refused(key, this.clock.now());
        return undefined;
      }
      // A welcome is kept while short of the target (hello-slots.ts keeps parallel dials from
      // overshooting it), or as the anchor we still lack; never past the capacity.
      const anchors = !this.hood.anchored && this.before(answer.id, key);
      const wanted = this.hood.size < (this.policyValue?.target ?? 0) || anchors;
      const full = this.hood.size >= (this.policyValue?.capacity ?? 0);
      if (this.closed || this.hood.isNeighbour(key) || full || !wanted || (anchorOnly && !anchors)) {
        conn.close('not needed');
        return undefined;
      }
      this.addNeighbour(to, answer.id, conn);
      return answer.neighbours;
    } catch {
      this.hood.refused(key, this.clock.now());
      return undefined;
    } finally {
      this.hood.pending.delete(key);
      if (slot) this.helloSlots.release();
    }
  }

  /** Why a hello must be answered `busy` now (full, already linked, tie lost), or undefined. */
  private busyReason(key: string): string | undefined {
    // Both sides dialling at once: the dial of the smaller key wins, so exactly one link survives.
    if (this.hood.pending.has(key) && this.key < key) return 'tie lost';
    if (this.hood.isNeighbour(key)) return 'already linked';
    if (this.hood.size >= (this.policyValue?.capacity ?? 0)) return 'full';
    return this.closed ? 'closing' : undefined;
  }

  private addNeighbour(peer: Endpoint, id: number, conn: Connection): void {
    const key = endpointKey(peer);
    const neighbour: Neighbour = { key, endpoint: peer, id, conn, children: new Set(), anchorsMe: false };
    this.hood.add(neighbour);
    this.liveness.forget(key);
    conn.on('message', (m) => this.onNeighbourMessage(neighbour, m));
    conn.on('close', (reason) => this.removeNeighbour(neighbour, reason));
    conn.release();
    this.router.catchUp(neighbour);
    this.logger.info({ peer: key, degree: this.hood.size }, `linked to ${key}`);
    this.emit('neighbour', { peer: key, change: 'added', degree: this.hood.size });
    this.updateAnchor();
  }

  /** Without an anchor (our link of the anchor tree, router.ts), choose one and tell it. */
  private updateAnchor(): void {
    this.hood.chooseAnchor({ id: this.idValue, key: this.key })?.conn.send({ type: 'anchor' });
  }

  private removeNeighbour(n: Neighbour, reason: string | undefined): void {
    if (!this.hood.remove(n) || this.closed) return;
    this.router.forget(n);
    this.logger.info({ peer: n.key, degree: this.hood.size, reason }, `lost neighbour ${n.key}`);
    this.emit('neighbour', { peer: n.key, change: 'removed', degree: this.hood.size });
    // Watch it: a lost link is not yet a dead peer (it may have closed on purpose or been slow).
    if (reason !== 'reported dead') this.hood.watch(n.endpoint);
    this.updateAnchor();
    void this.fill();
  }

  private dropUnexpected(conn: Connection, m: GossipMessage): void {
    this.counters.malformed++;
    this.logger.warn({ remote: conn.remote, type: m.type }, `closing connection: unexpected '${m.type}'`);
    conn.close(`unexpected ${m.type}`);
  }

  // ---- gossip ----

  private originate(): void {
    if (this.sent < (this.options.messages ?? C.GOSSIP_MESSAGES)) this.publish();
    if (this.sent >= (this.options.messages ?? C.GOSSIP_MESSAGES)) this.gossipTask.stop();
  }

  private retryPulls(): void {
    this.router.retryPulls(this.pullTimeoutMs);
    if (this.router.pullsPending === 0) this.pullTask.stop();
  }

  /** Make the next own message (`<timestamp>:<ip>:<port>:<n>`) now and send it; returns its text. */
  publish(): string {
    this.sent++;
    const timestamp = this.clock.now();
    const text = gossipText(timestamp, this.self, this.sent);
    this.router.accept({ type: 'gossip', text, timestamp, origin: this.self, seq: this.sent }, undefined);
    return text;
  }

  private onNeighbourMessage(n: Neighbour, m: GossipMessage): void {
    if (this.router.onMessage(n, m)) {
      if (this.router.pullsPending > 0 && !this.closed) this.pullTask.start();
      return;
    }
    if (m.type === 'liveness-request') this.liveness.answer(n.conn, m);
    else if (m.type === 'liveness-reply') this.liveness.answered(n.key);
    else this.dropUnexpected(n.conn, m);
  }

  // ---- liveness ----

  /** One liveness interval (liveness-monitor.ts), then top up links. */
  private async livenessRound(): Promise<void> {
    this.liveness.round(this.clock.now());
    await this.maintain();
  }

  /** Keep the degree: replace lost neighbours; alone and out of candidates, join the seeds again. */
  private async maintain(): Promise<void> {
    const policy = this.policyValue;
    // Refresh the registrations before the seeds' re-probe would find them old: a peer a seed
    // expired while it could not answer (a partition, a long stall) is listed again.
    if (policy && !this.closed && this.clock.now() - this.lastJoin >= C.REGISTRATION_REFRESH_MS) {
      await this.join().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'registration refresh failed'));
    }
    if (!policy || this.closed || (this.hood.size >= policy.target && this.hood.anchored)) {
      this.fillBackoff = 0;
      return;
    }
    // Short of the target but linked: after a round that gained nothing, wait 1, 2, 4 ... rounds
    // before dialling again (everyone may be full), so a large network does not churn.
    if (this.hood.size > 0 && this.skipRounds > 0) {
      this.skipRounds--;
      return;
    }
    const before = this.hood.size;
    const now = this.clock.now();
    // Alone: ask the seeds at once (a partition healed, or we were removed). Merely short of the
    // target: refresh the candidates now and then, not every round.
    const stale = now - this.lastJoin >= C.REJOIN_ROUNDS * (this.options.livenessIntervalMs ?? C.LIVENESS_INTERVAL_MS);
    if (this.hood.size === 0 || (stale && !this.hood.hasCandidates(now))) {
      await this.join().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'rejoin failed'));
    }
    await this.fill();
    this.fillBackoff = this.hood.size > before ? 0 : Math.min(C.REJOIN_ROUNDS, Math.max(1, this.fillBackoff * 2));
    this.skipRounds = this.fillBackoff;
  }
}
