/**
 * Small building blocks of the per-host feature state: exponentially decaying rates, a bounded map
 * of hosts (least recently used dropped first), and the quantizers that round features to the
 * precision at which they mean anything (so that equal vectors repeat and are scored once:
 * score-memo.ts).
 */

/** steps per decade of the logarithmic features */
const STEPS_PER_DECADE = 20;

/** The packet's time in seconds, 0 when it is not a finite number. */
export function secondsOf(p: { tsSec: number; tsNsec: number }): number {
  const t = p.tsSec + (p.tsNsec || 0) / 1e9;
  return Number.isFinite(t) ? t : 0;
}

/**
 * `value` decayed over `dt` seconds with time constant `tau`: r <- r * exp(-dt / tau) before adding
 * the next event, so r is "events in about the last tau seconds" in O(1) memory.
 */
export function decay(value: number, dt: number, tau: number): number {
  return dt > 0 ? value * Math.exp(-dt / tau) : value;
}

/** log10(v) to the nearest 1/STEPS_PER_DECADE. */
export function decades(v: number): number {
  return Math.round(STEPS_PER_DECADE * Math.log10(v)) / STEPS_PER_DECADE;
}

/** Below this a decaying count is 0: a single event more than ~2.8 tau ago. */
const RATE_FLOOR = 0.06;

/**
 * A decaying count (>= 0) to two significant digits, and 0 below RATE_FLOOR, so that a rate that
 * has died away is the same number it was before: a baseline learnt while start-up rates were still
 * decaying is not a range that later traffic falls out of (as 0.003 and 0 were). Rates stay on a
 * linear scale: the forest's out-of-range isolation (iforest.ts) cuts a value v above the training
 * range [lo, hi] off with probability (v - hi) / (v - lo), near 1 for a flood at 100 times the usual
 * rate, while on a log scale the same flood would be cut off barely more often than half the time.
 */
export function rate(r: number): number {
  if (!(r >= RATE_FLOOR)) return 0;
  if (!Number.isFinite(r)) return r;
  const unit = 10 ** (Math.floor(Math.log10(r)) - 1);
  return Math.round(r / unit) * unit;
}

/**
 * A map that forgets its least recently used entry past `max` entries. Recency is kept
 * approximately: an entry is moved to the young end only when it was last moved more than max / 4
 * lookups ago (moving is a delete and a set, the map's main cost when done for every packet), so an
 * entry used within the last max / 4 lookups may be dropped up to that much early, never later.
 */
export class BoundedHosts<V> {
  private readonly map = new Map<string, { value: V; moved: number }>();
  private lookups = 0;
  private readonly refresh: number;
  constructor(private readonly max: number) {
    this.refresh = Math.max(1, Math.floor(max / 4));
  }

  /** The entry for `key` (made with `create` when absent), marked most recently used. */
  get(key: string, create: () => V): V {
    const now = ++this.lookups;
    const entry = this.map.get(key);
    if (entry !== undefined) {
      if (now - entry.moved > this.refresh) {
        this.map.delete(key);
        entry.moved = now;
        this.map.set(key, entry);
      }
      return entry.value;
    }
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    const value = create();
    this.map.set(key, { value, moved: now });
    return value;
  }

  /** The entry for `key` if held, without touching its recency. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  get size(): number {
    return this.map.size;
  }
}
