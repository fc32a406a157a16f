/**
 * What a peer knows about other peers: its neighbours (live links), the candidates it learnt from the
 * seeds' peer lists, the ones that refused it lately, and the lost links it still watches. Pure
 * bookkeeping; the order in which candidates are tried is the degree policy's (topology.ts).
 */
import type { Connection } from './connection.js';
import { endpointKey, type Endpoint, type ListedPeer } from './protocol.js';
import { CAPACITY_BASE, MAX_CANDIDATES, MAX_WATCHED } from './constants.js';
import { joinOrder, powerLawCapacity, shuffled, type DegreePolicyName } from './topology.js';

export interface Neighbour {
  key: string;
  endpoint: Endpoint;
  conn: Connection;
  /** its id (from hello or welcome): with the key, orders peers for anchoring (peer.ts) */
  id: number;
  /** tree mode: origins whose messages we push to this neighbour as bodies (it is our child) */
  children: Set<string>;
  /** it chose us as its anchor (sent `anchor`): a link of the anchor tree */
  anchorsMe: boolean;
}

export interface Candidate {
  endpoint: Endpoint;
  /** its id from a seed's peer list, else its position there (registration order, an estimate of the id) */
  rank: number;
  /** ms timestamp before which it is not tried again */
  refusedUntil: number;
  /** a neighbour of a peer that welcomed us (preferential attachment's random-walk step) */
  preferred: boolean;
}

/** The total order of peers used for anchoring: by id (registration order), then by `ip:port`. */
export function precedes(a: { id: number; key: string }, b: { id: number; key: string }): boolean {
  return a.id < b.id || (a.id === b.id && a.key < b.key);
}

export class Neighbourhood {
  /** outbound dials in flight, by key */
  readonly pending = new Set<string>();
  private readonly links = new Map<string, Neighbour>();
  private readonly known = new Map<string, Candidate>();
  private readonly lost = new Map<string, Endpoint>();
  /** key of the neighbour we chose as our anchor (our link toward the first peer) */
  private anchorKey: string | undefined;

  /**
   * @param random uniform [0, 1)
   * @param backoffMs how long a peer that refused us (busy, or no answer) is left alone
   */
  constructor(
    private readonly random: () => number,
    private readonly backoffMs = 10_000,
  ) {}

  get size(): number {
    return this.links.size;
  }

  get candidateCount(): number {
    return this.known.size;
  }

  keys(): string[] {
    return [...this.links.keys()];
  }

  all(): Neighbour[] {
    return [...this.links.values()];
  }

  endpoints(): Endpoint[] {
    return this.all().map((n) => n.endpoint);
  }

  get(key: string): Neighbour | undefined {
    return this.links.get(key);
  }

  isNeighbour(key: string): boolean {
    return this.links.has(key);
  }

  /** A neighbour, or a dial to it in flight. */
  isLinked(key: string): boolean {
    return this.links.has(key) || this.pending.has(key);
  }

  add(n: Neighbour): void {
    this.links.set(n.key, n);
    this.lost.delete(n.key);
  }

  /** Returns false when `n` was not (or no longer) the neighbour under its key. */
  remove(n: Neighbour): boolean {
    if (this.links.get(n.key) !== n) return false;
    this.links.delete(n.key);
    if (this.anchorKey === n.key) this.anchorKey = undefined;
    return true;
  }

  /**
   * Keep our anchor while it stays linked; without one, choose the smallest neighbour that precedes
   * `self`. Every peer but the first pointing at one smaller peer makes the anchor links a spanning
   * tree of the overlay (peer.ts keeps every peer anchored). Returns the neighbour newly chosen (to
   * be told so), or undefined when nothing changed.
   */
  chooseAnchor(self: { id: number; key: string }): Neighbour | undefined {
    if (this.anchorKey !== undefined) return undefined;
    let best: Neighbour | undefined;
    for (const n of this.links.values()) {
      if (precedes(n, self) && (best === undefined || precedes(n, best))) best = n;
    }
    this.anchorKey = best?.key;
    return best;
  }

  /**
   * Anchored: linked to a peer that comes before us (chooseAnchor()). When every peer but the first
   * is anchored, each has a path of ever smaller peers to the first, so the overlay is connected
   * whatever order peers joined in (two newcomers linked only to each other are not anchored).
   */
  get anchored(): boolean {
    return this.anchorKey !== undefined;
  }

  /** A link of the anchor tree: our anchor, or a neighbour whose anchor we are. */
  isTreeLink(n: Neighbour): boolean {
    return n.anchorsMe || n.key === this.anchorKey;
  }

  /** Whether some anchor-tree link other than `key` exists (a body may come that way). */
  hasTreeLinkBesides(key: string): boolean {
    for (const n of this.links.values()) if (n.key !== key && this.isTreeLink(n)) return true;
    return false;
  }

  /** Learn peers from a seed's list, in its (registration) order; an entry's id, when given, is its rank. */
  learn(peers: ListedPeer[]): void {
    peers.forEach((listed, position) => {
      const endpoint: Endpoint = { host: listed.host, port: listed.port };
      const rank = listed.id ?? position;
      const key = endpointKey(endpoint);
      const known = this.known.get(key);
      if (known) known.rank = Math.min(known.rank, rank);
      else this.remember(key, { endpoint, rank, refusedUntil: 0, preferred: false });
    });
  }

  /** Preferential attachment: the neighbours a peer that welcomed us listed are tried first. */
  preferNeighboursOf(neighbours: Endpoint[]): void {
    for (const endpoint of neighbours) {
      const key = endpointKey(endpoint);
      const known = this.known.get(key);
      if (known) known.preferred = true;
      else this.remember(key, { endpoint, rank: this.known.size, refusedUntil: 0, preferred: true });
    }
  }

  /** Add a candidate, forgetting the oldest learnt past MAX_CANDIDATES (peers come and go for ever). */
  private remember(key: string, candidate: Candidate): void {
    this.known.set(key, candidate);
    if (this.known.size > MAX_CANDIDATES) this.known.delete(this.known.keys().next().value!);
  }

  refused(key: string, now: number): void {
    const known = this.known.get(key);
    if (known) known.refusedUntil = now + this.backoffMs;
  }

  forgetCandidate(key: string): void {
    this.known.delete(key);
    this.lost.delete(key);
  }

  /** Watch a lost link (bounded: past MAX_WATCHED the oldest watch is dropped). */
  watch(endpoint: Endpoint): void {
    this.lost.set(endpointKey(endpoint), endpoint);
    if (this.lost.size > MAX_WATCHED) this.lost.delete(this.lost.keys().next().value!);
  }

  unwatch(key: string): void {
    this.lost.delete(key);
  }

  watched(): Endpoint[] {
    return [...this.lost.values()];
  }

  /** Whether any candidate may be dialled at `now` (ms), without ordering them all. */
  hasCandidates(now: number): boolean {
    for (const [key, c] of this.known) if (this.isOpen(key, c, now)) return true;
    return false;
  }

  private isOpen(key: string, c: Candidate, now: number): boolean {
    return !this.isLinked(key) && !this.lost.has(key) && c.refusedUntil <= now;
  }

  /**
   * Candidates to dial now, best first. power-law: weighted by the capacity their rank suggests
   * (`idDensity`: the seeds' joins per id, topology.ts joinOrder),
   * floor included (Efraimidis–Spirakis weighted sampling: order by u^(1/w), i.e. by ln(u)/w), so hubs
   * are asked first often but not always, and the many floor peers, where room is left in a large
   * network, still come up early; preferential: the welcomed peer's neighbours first, then the rest
   * uniformly.
   */
  candidates(now: number, policy: DegreePolicyName, idDensity = 1): Candidate[] {
    const open = [...this.known.entries()].filter(([key, c]) => this.isOpen(key, c, now));
    if (policy === 'preferential') {
      const list = shuffled(open.map(([, c]) => c), this.random);
      return [...list.filter((c) => c.preferred), ...list.filter((c) => !c.preferred)];
    }
    return open
      .map(([, c]) => ({ c, k: Math.log(this.random()) / (powerLawCapacity(joinOrder(c.rank, idDensity)) / CAPACITY_BASE) }))
      .sort((a, b) => b.k - a.k)
      .map(({ c }) => c);
  }
}
