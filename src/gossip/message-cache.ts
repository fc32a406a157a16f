/**
 * The message list (ML) of the seed: which gossip messages a peer has seen, keyed by a hash of the
 * text, bounded in entries and expiring after a TTL. Pure: time comes in as an argument.
 * SHA-256 replaces the seed's salted PBKDF2 (100,000 iterations per message bought nothing: the hash
 * only has to tell messages apart, not resist guessing).
 */
import { createHash } from 'node:crypto';
import { MESSAGE_CACHE_ENTRIES, MESSAGE_CACHE_TTL_MS } from './constants.js';

/** Hex SHA-256 of a gossip message's text. */
export function messageHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface MessageCacheOptions {
  maxEntries?: number;
  /** ms */
  ttlMs?: number;
}

/** Insertion-ordered set with a size bound and a TTL (oldest evicted first). */
export class MessageCache {
  private readonly seen = new Map<string, number>();
  private readonly maxEntries: number;
  /** ms an entry is remembered */
  readonly ttl: number;

  constructor(options: MessageCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? MESSAGE_CACHE_ENTRIES;
    this.ttl = options.ttlMs ?? MESSAGE_CACHE_TTL_MS;
  }

  /**
   * Record `hash` as seen at `now` (ms). Returns true when it is new (first sight, or its earlier
   * sighting expired), false for a duplicate.
   */
  add(hash: string, now: number): boolean {
    this.expire(now);
    if (this.seen.has(hash)) return false;
    this.seen.set(hash, now);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  has(hash: string, now: number): boolean {
    this.expire(now);
    return this.seen.has(hash);
  }

  get size(): number {
    return this.seen.size;
  }

  /** Drop entries older than the TTL; entries are in time order, so stop at the first young one. */
  private expire(now: number): void {
    for (const [hash, at] of this.seen) {
      if (now - at < this.ttl) break;
      this.seen.delete(hash);
    }
  }
}
