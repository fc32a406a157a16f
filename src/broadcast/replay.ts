/**
 * Replay protection and de-duplication: a sliding window of sequence numbers per master session, as
 * IPsec's anti-replay window (RFC 4303 §3.4.3). Pure: no clock, no IO.
 */
import { MAX_SESSIONS, REPLAY_WINDOW } from './constants.js';

/**
 * new: never seen, recorded; duplicate: seen before; too-old: below the window, cannot tell;
 * jump: further above the highest than `maxJump` allows, not recorded (an unauthenticated envelope
 * must not be able to move the window out of reach of the genuine sequence).
 */
export type SeqVerdict = 'new' | 'duplicate' | 'too-old' | 'jump';

/** A window's state, to persist across restarts: the highest seq and which of the `size` below were seen. */
export interface WindowSnapshot {
  highest: number;
  /** base64 of one bit per slot (slot = seq % size) */
  seen: string;
}

/** Which sequence numbers of one session were seen: the highest, and a window of `size` below it. */
export class ReplayWindow {
  private highest = 0;
  private readonly seen: Uint8Array;
  /** a jump seen once: a second one close above it moves the window (a genuine master after a gap) */
  private pendingJump: number | undefined;

  constructor(private readonly size: number = REPLAY_WINDOW) {
    this.seen = new Uint8Array(size);
  }

  /** What `seq` would be, without recording it. */
  check(seq: number, maxJump = Infinity): SeqVerdict {
    if (seq > this.highest) {
      if (this.highest === 0 || seq - this.highest <= maxJump) return 'new';
      const resync = this.pendingJump !== undefined && seq > this.pendingJump && seq - this.pendingJump <= maxJump;
      return resync ? 'new' : 'jump';
    }
    if (this.highest - seq >= this.size) return 'too-old';
    return this.seen[seq % this.size] === 1 ? 'duplicate' : 'new';
  }

  /** Record `seq` if it is new; returns the verdict. A jump is remembered, not recorded. */
  accept(seq: number, maxJump = Infinity): SeqVerdict {
    const verdict = this.check(seq, maxJump);
    if (verdict === 'jump') this.pendingJump = seq;
    if (verdict !== 'new') return verdict;
    if (seq > this.highest) {
      const gap = seq - this.highest;
      if (gap >= this.size) this.seen.fill(0);
      else for (let s = this.highest + 1; s < seq; s++) this.seen[s % this.size] = 0;
      this.highest = seq;
      this.pendingJump = undefined;
    }
    this.seen[seq % this.size] = 1;
    return 'new';
  }

  snapshot(): WindowSnapshot {
    const bits = Buffer.alloc(Math.ceil(this.size / 8));
    for (let i = 0; i < this.size; i++) if (this.seen[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
    return { highest: this.highest, seen: bits.toString('base64') };
  }

  /** A window from a snapshot; undefined when the snapshot does not fit this window size. */
  static restore(s: WindowSnapshot, size: number = REPLAY_WINDOW): ReplayWindow | undefined {
    if (!Number.isSafeInteger(s.highest) || s.highest < 0 || typeof s.seen !== 'string') return undefined;
    const bits = Buffer.from(s.seen, 'base64');
    if (bits.length !== Math.ceil(size / 8)) return undefined;
    const w = new ReplayWindow(size);
    w.highest = s.highest;
    for (let i = 0; i < size; i++) w.seen[i] = (bits[i >> 3]! >> (i & 7)) & 1;
    return w;
  }
}

/**
 * One ReplayWindow per key, at most `maxSessions`; the least recently used is forgotten first. The key
 * is the session for signed messages, and the sender's address with the session for unsigned ones, so
 * that a forged envelope from elsewhere cannot touch the window of the genuine sender.
 */
export class SessionWindows {
  private readonly windows = new Map<string, ReplayWindow>();
  /** bumped on every change, so that a store can tell when to save */
  version = 0;

  constructor(
    private readonly maxSessions: number = MAX_SESSIONS,
    private readonly windowSize: number = REPLAY_WINDOW,
  ) {}

  check(key: string, seq: number, maxJump = Infinity): SeqVerdict {
    return this.windows.get(key)?.check(seq, maxJump) ?? 'new';
  }

  has(key: string): boolean {
    return this.windows.has(key);
  }

  accept(key: string, seq: number, maxJump = Infinity): SeqVerdict {
    let window = this.windows.get(key);
    if (window) {
      this.windows.delete(key); // re-insert: Map order is our LRU order
    } else {
      window = new ReplayWindow(this.windowSize);
      if (this.windows.size >= this.maxSessions) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    this.windows.set(key, window);
    const verdict = window.accept(seq, maxJump);
    if (verdict === 'new') this.version++;
    return verdict;
  }

  get size(): number {
    return this.windows.size;
  }

  /** Every window, least recently used first. */
  snapshot(): Record<string, WindowSnapshot> {
    const out: Record<string, WindowSnapshot> = {};
    for (const [key, w] of this.windows) out[key] = w.snapshot();
    return out;
  }

  /** Load windows saved by snapshot(); entries that do not fit are skipped. Returns how many were loaded. */
  restore(saved: Record<string, WindowSnapshot>): number {
    let loaded = 0;
    for (const [key, s] of Object.entries(saved).slice(-this.maxSessions)) {
      const w = ReplayWindow.restore(s, this.windowSize);
      if (!w) continue;
      this.windows.set(key, w);
      loaded++;
    }
    return loaded;
  }
}
