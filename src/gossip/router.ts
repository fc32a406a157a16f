/**
 * Gossip routing of one peer: the message list (dedup by hash), and how a message seen for the first
 * time travels on, never back to the neighbour it came from; a repeat is counted and dropped.
 *
 * - tree (default): one broadcast tree per origin, built by pulling, in the spirit of Plumtree
 *   (Leitão, Pereira, Rodrigues 2007, "Epidemic Broadcast Trees"). A new message's hash goes out as
 *   IHAVE to every neighbour not yet a child for that origin; a neighbour lacking the message pulls
 *   it with IWANT from the first announcer, which makes it that announcer's child (graft). The next
 *   messages of the same origin then go down the tree as bodies, one trip per hop, and IHAVE on the
 *   other links stays as the safety net: a hash announced but not delivered by the parent within the
 *   pull timeout is pulled elsewhere (re-graft). A body from a neighbour that is not our parent for
 *   that origin is answered with PRUNE. Shared trees for all origins oscillate when many origins
 *   speak at once (measured); per-origin trees do not.
 * - announce: hashes only; neighbours pull every body (IHAVE/IWANT): three trips per hop.
 * - flood: the body to every neighbour, about (average degree - 2) duplicates per peer per message.
 */
import type { Clock } from '../common/lifecycle.js';
import { MessageCache, messageHash } from './message-cache.js';
import type { Neighbour, Neighbourhood } from './neighbourhood.js';
import { PullState } from './pull.js';
import { endpointKey, type GossipMessage } from './protocol.js';
import type { GossipSeen } from './peer-types.js';
import { TREE_ORIGINS } from './constants.js';

type Gossip = Extract<GossipMessage, { type: 'gossip' }>;

export interface RouterCounters {
  gossipReceived: number;
  duplicates: number;
  forwarded: number;
  announced: number;
}

/** Add to an insertion-ordered set, forgetting the oldest entry past `max`. */
export function boundedAdd(set: Set<string>, item: string, max: number): void {
  set.delete(item);
  set.add(item);
  if (set.size > max) set.delete(set.values().next().value!);
}

export class GossipRouter {
  readonly counters: RouterCounters = { gossipReceived: 0, duplicates: 0, forwarded: 0, announced: 0 };
  private readonly cache = new MessageCache();
  private readonly pull = new PullState();
  /** tree: origin -> the neighbour that delivers its messages to us */
  private readonly parents = new Map<string, string>();

  constructor(
    private readonly hood: Neighbourhood,
    private readonly mode: 'tree' | 'announce' | 'flood',
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
        this.onIhave(n, m.hash, endpointKey(m.origin));
        return true;
      case 'iwant': {
        const body = this.pull.body(m.hash);
        if (body && this.mode === 'tree') boundedAdd(n.children, endpointKey(body.origin), TREE_ORIGINS);
        if (body && n.conn.send(body)) this.counters.forwarded++;
        return true;
      }
      case 'prune':
        n.children.delete(endpointKey(m.origin));
        return true;
      default:
        return false;
    }
  }

  private onIhave(n: Neighbour, hash: string, origin: string): void {
    if (this.cache.has(hash, this.clock.now())) return;
    // tree: with a live parent for this origin the body is probably on its way; pull only if late.
    const parent = this.parents.get(origin);
    const expectBody = this.mode === 'tree' && parent !== undefined && parent !== n.key && this.hood.isNeighbour(parent);
    if (this.pull.announced(hash, n.key, this.clock.now(), !expectBody) === 'ask') n.conn.send({ type: 'iwant', hash });
  }

  /** A message seen here (our own, or from neighbour `from`). */
  accept(m: Gossip, from: Neighbour | undefined): void {
    const hash = messageHash(m.text);
    const origin = endpointKey(m.origin);
    if (!this.cache.add(hash, this.clock.now())) {
      this.counters.duplicates++;
      if (this.mode === 'tree' && from && this.parents.get(origin) !== from.key) from.conn.send({ type: 'prune', origin: m.origin });
      return;
    }
    if (from && this.mode === 'tree') {
      this.parents.delete(origin);
      this.parents.set(origin, from.key);
      if (this.parents.size > TREE_ORIGINS) this.parents.delete(this.parents.keys().next().value!);
    }
    this.pull.remember(hash, m);
    this.firstSight({ origin, text: m.text, from: from?.key ?? null, hash, at: this.clock.now() });
    for (const n of this.hood.all()) {
      if (n === from) continue;
      const body = this.mode === 'flood' || (this.mode === 'tree' && n.children.has(origin));
      if (body) {
        if (n.conn.send(m)) this.counters.forwarded++;
      } else if (n.conn.send({ type: 'ihave', hash, origin: m.origin })) {
        this.counters.announced++;
      }
    }
  }

  /** Ask the next announcer for bodies not delivered within `timeoutMs` (parent left, slow, or none). */
  retryPulls(timeoutMs: number): void {
    for (const { hash, ask } of this.pull.overdue(this.clock.now(), timeoutMs)) {
      this.hood.get(ask)?.conn.send({ type: 'iwant', hash });
    }
  }
}
