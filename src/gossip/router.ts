/**
 * Gossip routing of one peer: the message list (dedup by hash), and how a message seen for the first
 * time travels on: its hash announced (IHAVE) and its body pulled (IWANT) by neighbours that lack it
 * (announce mode, the default), or its body sent to every neighbour (flood mode). Never back to the
 * neighbour it came from; a repeat is counted and dropped.
 */
import type { Clock } from '../common/lifecycle.js';
import { MessageCache, messageHash } from './message-cache.js';
import type { Neighbour, Neighbourhood } from './neighbourhood.js';
import { PullState } from './pull.js';
import { endpointKey, type GossipMessage } from './protocol.js';
import type { GossipSeen } from './peer-types.js';

type Gossip = Extract<GossipMessage, { type: 'gossip' }>;

export interface RouterCounters {
  gossipReceived: number;
  duplicates: number;
  forwarded: number;
  announced: number;
}

export class GossipRouter {
  readonly counters: RouterCounters = { gossipReceived: 0, duplicates: 0, forwarded: 0, announced: 0 };
  private readonly cache = new MessageCache();
  private readonly pull = new PullState();

  constructor(
    private readonly hood: Neighbourhood,
    private readonly mode: 'announce' | 'flood',
    private readonly clock: Clock,
    private readonly firstSight: (seen: GossipSeen) => void,
  ) {}

  /** Distinct messages in the message list. */
  get seen(): number {
    return this.cache.size;
  }

  /** Handle a gossip-family message from a neighbour; false when `m` is not one. */
  onMessage(n: Neighbour, m: GossipMessage): boolean {
    switch (m.type) {
      case 'gossip':
        this.counters.gossipReceived++;
        this.accept(m, n);
        return true;
      case 'ihave':
        if (!this.cache.has(m.hash, this.clock.now()) && this.pull.announced(m.hash, n.key, this.clock.now()) === 'ask') {
          n.conn.send({ type: 'iwant', hash: m.hash });
        }
        return true;
      case 'iwant': {
        const body = this.pull.body(m.hash);
        if (body && n.conn.send(body)) this.counters.forwarded++;
        return true;
      }
      default:
        return false;
    }
  }

  /** A message seen here first (our own, or from neighbour `from`). */
  accept(m: Gossip, from: Neighbour | undefined): void {
    const hash = messageHash(m.text);
    if (!this.cache.add(hash, this.clock.now())) {
      this.counters.duplicates++;
      return;
    }
    this.pull.remember(hash, m);
    this.firstSight({ origin: endpointKey(m.origin), text: m.text, from: from?.key ?? null, hash, at: this.clock.now() });
    for (const n of this.hood.all()) {
      if (n === from) continue;
      if (this.mode === 'flood') {
        if (n.conn.send(m)) this.counters.forwarded++;
      } else if (n.conn.send({ type: 'ihave', hash })) {
        this.counters.announced++;
      }
    }
  }

  /** Ask the next announcer for bodies whose ask went unanswered for `timeoutMs` (sender left or slow). */
  retryPulls(timeoutMs: number): void {
    for (const { hash, ask } of this.pull.overdue(this.clock.now(), timeoutMs)) {
      this.hood.get(ask)?.conn.send({ type: 'iwant', hash });
    }
  }
}
