/**
 * Replay protection and de-duplication: a sliding window of sequence numbers per master session, as
 * IPsec's anti-replay window (RFC 4303 §3.4.3). Pure: no clock, no IO.
 */
import { MAX_SESSIONS, REPLAY_WINDOW } from './constants.js';

export type SeqVerdict = 'new' | 'duplicate' | 'too-old';

/** Which sequence numbers of one session were seen: the highest, and a window of `size` below it. */
export class ReplayWindow {
  private highest = 0;
  private readonly seen: Uint8Array;

  constructor(private readonly size: number = REPLAY_WINDOW) {
    this.seen = new Uint8Array(size);
  }

  /** What `seq` would be, without recording it. */
  check(seq: number): SeqVerdict {
    if (seq > this.highest) return 'new';
    if (this.highest - seq >= this.size) return 'too-old';
    return this.seen[seq % this.size] === 1 ? 'duplicate' : 'new';
  }

  /** Record `seq` if it is new; returns the verdict. */
  accept(seq: number): SeqVerdict {
    const verdict = this.check(seq);
    if (verdict !== 'new') return verdict;
    if (seq > this.highest) {
      const gap = seq - this.highest;
      if (gap >= this.size) this.seen.fill(0);
      else for (let s = this.highest + 1; s < seq; s++) this.seen[s % this.size] = 0;
      this.highest = seq;
    }
    this.seen[seq % this.size] = 1;
    return 'new';
  }
}

/** One ReplayWindow per session, at most `maxSessions`; the least recently used is forgotten first. */
export class SessionWindows {
  private readonly windows = new Map<string, ReplayWindow>();

  constructor(
    private readonly maxSessions: number = MAX_SESSIONS,
    private readonly windowSize: number = REPLAY_WINDOW,
  ) {}

  check(session: string, seq: number): SeqVerdict {
    return this.windows.get(session)?.check(seq) ?? 'new';
  }

  accept(session: string, seq: number): SeqVerdict {
    let window = this.windows.get(session);
    if (window) {
      this.windows.delete(session); // re-insert: Map order is our LRU order
    } else {
      window = new ReplayWindow(this.windowSize);
      if (this.windows.size >= this.maxSessions) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    this.windows.set(session, window);
    return window.accept(seq);
  }

  get size(): number {
    return this.windows.size;
  }
}
