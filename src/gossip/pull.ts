/**
 * Announce-then-pull dissemination (gossipsub's IHAVE/IWANT, Plumtree's lazy push): a peer that sees a
 * message for the first time announces its hash to its neighbours, and a neighbour that lacks it asks
 * ONE announcer for the body. So a peer receives each body about once instead of once per neighbour
 * (plain flooding costs about average degree minus 2 duplicates per peer per message).
 * Pure bookkeeping: time comes in as an argument; every table is bounded.
 */
import type { GossipMessage } from './protocol.js';
import { PULL_ANNOUNCERS, PULL_STORE_ENTRIES, PULL_WANTED_ENTRIES } from './constants.js';

type Gossip = Extract<GossipMessage, { type: 'gossip' }>;

interface Want {
  /** neighbour asked last ('' when none yet) */
  asked: string;
  /** ms timestamp of that ask */
  at: number;
  /** other neighbours that announced it, asked in turn if the first does not deliver */
  others: string[];
}

export class PullState {
  private readonly store = new Map<string, Gossip>();
  private readonly wanted = new Map<string, Want>();

  /** Keep a body to answer IWANTs with (oldest dropped first past the bound). */
  remember(hash: string, message: Gossip): void {
    this.store.set(hash, message);
    this.wanted.delete(hash);
    if (this.store.size > PULL_STORE_ENTRIES) {
      const oldest = this.store.keys().next().value;
      if (oldest !== undefined) this.store.delete(oldest);
    }
  }

  body(hash: string): Gossip | undefined {
    return this.store.get(hash);
  }

  /** Whether an IWANT of ours for `hash` is pending (a body arriving for it was asked for). */
  isWanted(hash: string): boolean {
    return this.wanted.has(hash);
  }

  /** The latest `max` bodies kept (oldest first) with their hashes: a catch-up digest. */
  recent(max: number): { hash: string; message: Gossip }[] {
    const all = [...this.store.entries()];
    return all.slice(Math.max(0, all.length - max)).map(([hash, message]) => ({ hash, message }));
  }

  /**
   * `from` announced `hash` (which we lack): 'ask' it now, or 'wait' (an ask is in flight, or with
   * `askNow` false the body may still come another way; overdue() then names whom to ask).
   */
  announced(hash: string, from: string, now: number, askNow = true): 'ask' | 'wait' {
    const want = this.wanted.get(hash);
    if (want) {
      if (want.asked !== from && want.others.length < PULL_ANNOUNCERS && !want.others.includes(from)) want.others.push(from);
      return 'wait';
    }
    if (this.wanted.size >= PULL_WANTED_ENTRIES) {
      const oldest = this.wanted.keys().next().value;
      if (oldest !== undefined) this.wanted.delete(oldest);
    }
    this.wanted.set(hash, askNow ? { asked: from, at: now, others: [] } : { asked: '', at: now, others: [from] });
    return askNow ? 'ask' : 'wait';
  }

  /**
   * Asks older than `timeoutMs` at `now`: each moves to the next announcer (returned, to be asked),
   * or is given up when none is left.
   */
  overdue(now: number, timeoutMs: number): { hash: string; ask: string }[] {
    const out: { hash: string; ask: string }[] = [];
    for (const [hash, want] of this.wanted) {
      if (now - want.at < timeoutMs) continue;
      const next = want.others.shift();
      if (next === undefined) {
        this.wanted.delete(hash);
        continue;
      }
      want.asked = next;
      want.at = now;
      out.push({ hash, ask: next });
    }
    return out;
  }

  get pending(): number {
    return this.wanted.size;
  }
}
