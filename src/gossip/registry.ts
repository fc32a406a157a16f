/**
 * A seed's registry, pure bookkeeping: the peers whose address was proved by a connect-back, with
 * their ids, the source address that registered them (bounded per source), when each was last
 * proved (so that the seed re-probes and expires the unreachable), and a random sample for peer
 * lists. Ids come from an IdAllocator: seeds in one process may share one (`gossip seeds`); seeds
 * in separate processes each own an id space and agree an address's id by asking each other (seed.ts).
 */
import { endpointKey, type Endpoint } from './protocol.js';

/**
 * Hands out peer ids in join order. Seeds run as separate processes each own one *id space*: the ids
 * `index`, `index + spaces`, `index + 2 * spaces` ..., where `index` is the seed's line in the shared
 * config and `spaces` the number of lines, so two seeds never hand out the same fresh id without
 * talking. A fresh id is the first of the space above every id known in use (`highest`, raised by
 * what the other seeds report), so ids from all spaces stay close to join order. An address keeps its
 * id while some holder (a seed's registration) holds it; an id is never handed out fresh twice.
 * Seeds of one process may share one allocator (one space: ids 0, 1, 2 ...).
 */
export class IdAllocator {
  private highestId = -1;
  /** fresh ids this allocator handed out */
  private freshIds = 0;
  /** the other seeds' fresh ids, as each last reported (id-agreement.ts) */
  private readonly reported = new Map<string, number>();
  private readonly held = new Map<string, { id: number; holders: number }>();
  /** id -> the address holding it */
  private readonly holders = new Map<number, string>();

  /**
   * @param index this seed's id space, 0 <= index < spaces (its line in the seeds' config)
   * @param spaces how many id spaces there are (the seeds in the config)
   */
  constructor(
    readonly index = 0,
    readonly spaces = 1,
  ) {
    if (!Number.isInteger(spaces) || spaces < 1 || !Number.isInteger(index) || index < 0 || index >= spaces) {
      throw new RangeError(`id space ${index} of ${spaces}: need 0 <= index < spaces`);
    }
  }

  /** The largest id handed out, adopted or reported in use so far; -1 before any. */
  get highest(): number {
    return this.highestId;
  }

  /** The id `key` holds, if any. */
  idOf(key: string): number | undefined {
    return this.held.get(key)?.id;
  }

  /** Fresh ids handed out here (each is one peer's first registration). */
  get fresh(): number {
    return this.freshIds;
  }

  /** Peers that joined so far: fresh ids handed out here and, as last reported, by the other seeds. */
  get joins(): number {
    let joins = this.freshIds;
    for (const n of this.reported.values()) joins += n;
    return joins;
  }

  /**
   * Joins per id handed out, per mille (1000: ids are dense, as with one space). Ids of several
   * spaces leave gaps (a fresh id is the first of its space above the highest), so the id of a
   * peer times this estimates its join order (topology.ts joinOrder).
   */
  get densityPerMille(): number {
    if (this.highestId < 0) return 1000;
    return Math.min(1000, Math.max(1, Math.round((1000 * this.joins) / (this.highestId + 1))));
  }

  /**
   * Ids up to `highest` are in use (fresh ids go above it); with `from`, that seed has handed out
   * `fresh` fresh ids in all (its answer to an id query).
   */
  observe(highest: number, from?: string, fresh?: number): void {
    if (highest > this.highestId) this.highestId = highest;
    if (from !== undefined && fresh !== undefined) this.reported.set(from, fresh);
  }

  /**
   * The id of `key`, counting one more holder. A key not held gets `adopt` (the id other seeds hold
   * for it) unless another key holds that id here, else a fresh id.
   */
  acquire(key: string, adopt?: number): number {
    const known = this.held.get(key);
    if (known) {
      known.holders++;
      return known.id;
    }
    const adopted = adopt !== undefined && !this.holders.has(adopt);
    const id = adopted ? adopt : this.nextFresh();
    if (!adopted) this.freshIds++;
    this.observe(id);
    this.held.set(key, { id, holders: 1 });
    this.holders.set(id, key);
    return id;
  }

  release(key: string): void {
    const known = this.held.get(key);
    if (!known) return;
    if (--known.holders > 0) return;
    this.held.delete(key);
    this.holders.delete(known.id);
  }

  /** The first id of this space above `highest` (never handed out before, in no other space). */
  private nextFresh(): number {
    const next = this.highestId + 1;
    return next + ((((this.index - next) % this.spaces) + this.spaces) % this.spaces);
  }
}

export interface Registration {
  endpoint: Endpoint;
  key: string;
  id: number;
  /** source address of the connection that registered it */
  source: string;
  /** ms timestamp of the last successful connect-back */
  provedAt: number;
}

export class Registry {
  private readonly entries = new Map<string, Registration>();
  private readonly perSource = new Map<string, number>();

  /** @param exempt sources the per-source bound does not apply to (the total still does) */
  constructor(
    private readonly ids: IdAllocator,
    private readonly maxEntries: number,
    private readonly maxPerSource: number,
    private readonly exempt: (source: string) => boolean = () => false,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Registration | undefined {
    return this.entries.get(key);
  }

  /** Why a new registration from `source` is refused now, or undefined when it may go ahead. */
  refusal(source: string): string | undefined {
    if (this.entries.size >= this.maxEntries) return 'registry full';
    if ((this.perSource.get(source) ?? 0) >= this.maxPerSource && !this.exempt(source)) return `${this.maxPerSource} registrations from ${source}`;
    return undefined;
  }

  /** Add a proved peer (or refresh one already held: it keeps its id); `adopt` as in IdAllocator.acquire. */
  add(endpoint: Endpoint, source: string, now: number, adopt?: number): Registration {
    const key = endpointKey(endpoint);
    const known = this.entries.get(key);
    if (known) {
      known.provedAt = now;
      return known;
    }
    const entry: Registration = { endpoint, key, id: this.ids.acquire(key, adopt), source, provedAt: now };
    this.entries.set(key, entry);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    return entry;
  }

  remove(key: string): Registration | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.ids.release(key);
    const count = (this.perSource.get(entry.source) ?? 1) - 1;
    if (count <= 0) this.perSource.delete(entry.source);
    else this.perSource.set(entry.source, count);
    return entry;
  }

  /** Every entry, in registration order. */
  all(): Registration[] {
    return [...this.entries.values()];
  }

  /** Entries last proved before `before` (ms), oldest first, at most `max`. */
  stale(before: number, max: number): Registration[] {
    const out: Registration[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= max) break;
      if (entry.provedAt < before) out.push(entry);
    }
    return out;
  }

  /**
   * A uniform random sample of at most `max` entries (Floyd's algorithm on the insertion order),
   * returned in id order so that a list still tells who joined first.
   */
  sample(max: number, random: () => number): Registration[] {
    const all = this.all();
    if (all.length <= max) return all.sort((a, b) => a.id - b.id);
    const chosen = new Set<number>();
    for (let j = all.length - max; j < all.length; j++) {
      const t = Math.floor(random() * (j + 1));
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].map((i) => all[i]!).sort((a, b) => a.id - b.id);
  }
}
