/**
 * A seed's registry, pure bookkeeping: the peers whose address was proved by a connect-back, with
 * their ids, the source address that registered them (bounded per source), when each was last
 * proved (so that the seed re-probes and expires the unreachable), and a random sample for peer
 * lists. Ids come from an IdAllocator, which seeds in one process share (`gossip seeds`) so that
 * ids are unique across them and one address keeps one id while any of them holds it.
 */
import { endpointKey, type Endpoint } from './protocol.js';

/**
 * Hands out peer ids in join order: `offset`, `offset + stride`, ... One address keeps its id while
 * some holder (a seed's registration) holds it; released by every holder, it is forgotten.
 */
export class IdAllocator {
  private next = 0;
  private readonly held = new Map<string, { id: number; holders: number }>();

  constructor(
    private readonly offset = 0,
    private readonly stride = 1,
  ) {}

  /** The id of `key`, allocating one if no holder has it; counts one more holder. */
  acquire(key: string): number {
    const known = this.held.get(key);
    if (known) {
      known.holders++;
      return known.id;
    }
    const id = this.offset + this.stride * this.next++;
    this.held.set(key, { id, holders: 1 });
    return id;
  }

  release(key: string): void {
    const known = this.held.get(key);
    if (!known) return;
    if (--known.holders <= 0) this.held.delete(key);
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

  /** Add a proved peer (or refresh one already held: it keeps its id). */
  add(endpoint: Endpoint, source: string, now: number): Registration {
    const key = endpointKey(endpoint);
    const known = this.entries.get(key);
    if (known) {
      known.provedAt = now;
      return known;
    }
    const entry: Registration = { endpoint, key, id: this.ids.acquire(key), source, provedAt: now };
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
