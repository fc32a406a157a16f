/**
 * A swarm: N peers in this process (the seed project's PeerRunner.py, without one interpreter per
 * peer), started one after another so that ids follow join order, then watched until the overlay
 * settles (no link change for a quiet period).
 */
import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from '../common/log.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { Peer } from './peer.js';
import type { PeerOptions } from './peer-types.js';

export interface SwarmOptions {
  /** how many peers */
  peers: number;
  /** options of every peer (port is always 0: any free port) */
  peer: PeerOptions;
  /** the overlay is settled after this long without a link change (ms, default 1000) */
  quietMs?: number;
}

export interface SwarmState {
  peers: number;
  /** undirected links */
  links: number;
  components: number;
  minDegree: number;
  maxDegree: number;
  avgDegree: number;
  /** distinct gossip messages seen, summed over peers */
  messagesSeen: number;
  duplicates: number;
}

export interface SwarmEvents {
  progress: [{ started: number; total: number }];
  peer: [Peer];
}

export class Swarm extends EventEmitter<SwarmEvents> {
  readonly members: Peer[] = [];
  private lastChange = 0;
  private closed = false;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    private readonly options: SwarmOptions,
    deps: { clock?: Clock; logger?: Logger } = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
  }

  /** Start every peer, one after another. */
  async start(): Promise<void> {
    for (let i = 0; i < this.options.peers && !this.closed; i++) {
      const peer = new Peer({ ...this.options.peer, port: 0 }, { clock: this.clock, logger: this.logger.child({ peer: i }) });
      peer.on('neighbour', () => {
        this.lastChange = this.clock.now();
      });
      this.members.push(peer);
      this.emit('peer', peer);
      await peer.start();
      this.emit('progress', { started: i + 1, total: this.options.peers });
    }
  }

  /** Resolve once no link changed for the quiet period, or after `timeoutMs` (ms) in any case. */
  async settled(timeoutMs: number): Promise<SwarmState> {
    const quiet = this.options.quietMs ?? 1000;
    const deadline = this.clock.now() + timeoutMs;
    while (!this.closed && this.clock.now() < deadline && this.clock.now() - this.lastChange < quiet) {
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.min(100, quiet)));
    }
    return this.state();
  }

  startGossip(): void {
    for (const peer of this.members) peer.startGossip();
  }

  state(): SwarmState {
    const graph = new Map(this.members.map((p) => [p.key, p.neighbours()]));
    const degrees = this.members.map((p) => p.neighbours().length);
    const stats = this.members.map((p) => p.stats());
    return {
      peers: this.members.length,
      links: degrees.reduce((a, b) => a + b, 0) / 2,
      components: countComponents(graph),
      minDegree: degrees.length ? Math.min(...degrees) : 0,
      maxDegree: degrees.length ? Math.max(...degrees) : 0,
      avgDegree: degrees.length ? degrees.reduce((a, b) => a + b, 0) / degrees.length : 0,
      messagesSeen: stats.reduce((a, s) => a + s.seen, 0),
      duplicates: stats.reduce((a, s) => a + s.duplicates, 0),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.members.map((p) => p.close()));
  }
}

/** Connected components of an undirected graph (adjacency lists; links to unknown keys ignored). */
export function countComponents(graph: Map<string, string[]>): number {
  const seen = new Set<string>();
  let components = 0;
  for (const start of graph.keys()) {
    if (seen.has(start)) continue;
    components++;
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      for (const next of graph.get(stack.pop()!) ?? []) {
        if (seen.has(next) || !graph.has(next)) continue;
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return components;
}
