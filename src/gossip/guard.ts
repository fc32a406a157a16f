/**
 * Defences shared by seeds and peers against hostile senders (docs/security.md, "gossip"): a cap on
 * connections per source address and in all, a budget of bytes held in unfinished frames across all
 * connections, token-bucket rate limits keyed by neighbour or origin, and the addresses nobody may
 * claim. Pure bookkeeping: time comes in as an argument.
 */
import { ipv4ToInt } from '../common/net.js';

/** The IPv4 address of a socket's remote end, without the `::ffff:` prefix of a dual-stack socket. */
export function sourceAddress(remote: string | undefined): string {
  if (remote === undefined) return '?';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/** Whether an IPv4 address is in 127.0.0.0/8. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.');
}

/** Counts open connections per source address and in all; refuses past either cap. */
export class SourceLimiter {
  private readonly bySource = new Map<string, number>();
  private total = 0;
  /** connections refused so far */
  refused = 0;

  /**
   * @param exempt sources the per-source cap does not apply to (the total still does): loopback,
   *   which every process of this host shares (a swarm or a bench of 1,000 peers in one process)
   */
  constructor(
    private readonly maxPerSource: number,
    private readonly maxTotal: number,
    private readonly exempt: (source: string) => boolean = isLoopback,
  ) {}

  /** Admit one connection from `source`; false (and counted) when a cap is reached. */
  admit(source: string): boolean {
    const held = this.bySource.get(source) ?? 0;
    if ((held >= this.maxPerSource && !this.exempt(source)) || this.total >= this.maxTotal) {
      this.refused++;
      return false;
    }
    this.bySource.set(source, held + 1);
    this.total++;
    return true;
  }

  release(source: string): void {
    const held = this.bySource.get(source);
    if (held === undefined) return;
    if (held <= 1) this.bySource.delete(source);
    else this.bySource.set(source, held - 1);
    this.total--;
  }

  heldBy(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  get size(): number {
    return this.total;
  }
}

/**
 * Bytes held in unfinished frames by every connection of one seed or peer together: a connection
 * whose next chunk would take the total past the budget is closed instead (a slow frame from each
 * of 4,096 connections would otherwise hold 1 GiB).
 */
export class BufferBudget {
  private usedBytes = 0;
  /** charges refused so far */
  refused = 0;

  constructor(readonly maxBytes: number) {}

  /** Take `bytes` (>= 0) from the budget; false (nothing taken) when it would run over. */
  charge(bytes: number): boolean {
    if (this.usedBytes + bytes > this.maxBytes) {
      this.refused++;
      return false;
    }
    this.usedBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }

  get used(): number {
    return this.usedBytes;
  }
}

interface Bucket {
  tokens: number;
  /** ms of the last refill */
  at: number;
}

/**
 * Token buckets keyed by a string (a neighbour, an origin), `ratePerSecond` sustained with bursts of
 * `burst`; the least recently used key is forgotten past `maxKeys`, so the table stays bounded
 * whatever keys a sender invents (a forgotten key starts again with a full bucket, which a sender
 * inventing keys gains nothing from: the per-neighbour bucket bounds it).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** events refused so far */
  refused = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 4096,
  ) {}

  /** Take one token for `key` at `now` (ms); false (and counted) when its bucket is empty. */
  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert: most recently used last
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) {
      this.refused++;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * Why `host` may not be claimed as a peer's address, or undefined when it may: the unspecified
 * address, limited broadcast, multicast (224/4) and the reserved 240/4 are never a peer, and a peer
 * never links to itself.
 */
export function refusedAddress(host: string, own: readonly string[] = []): string | undefined {
  const value = ipv4ToInt(host);
  const first = value >>> 24;
  if (value === 0 || first === 0) return 'unspecified address';
  if (value === 0xffffffff) return 'broadcast address';
  if (first >= 224 && first <= 239) return 'multicast address';
  if (first >= 240) return 'reserved address';
  if (own.includes(host)) return 'own address';
  return undefined;
}
