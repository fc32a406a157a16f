/**
 * Liveness bookkeeping, pure: per watched peer, whether the last check is still unanswered and how
 * many checks in a row went unanswered. The caller runs check() once per liveness interval for each
 * peer and answered() when a reply (or a successful probe) comes in.
 *
 * A check only counts as missed when the next interval starts with it still unanswered, and any late
 * reply clears the count (Lifeguard, Dadgar et al. 2018: a slow peer is not a dead one). So a peer
 * is declared dead only after `misses` whole intervals of silence.
 */
export type LivenessVerdict = 'probe' | 'dead';

interface Watch {
  outstanding: boolean;
  misses: number;
}

export class LivenessTracker {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly misses: number) {}

  /**
   * Start of an interval for `key`: 'probe' (send a check now) or 'dead' (the limit of consecutive
   * misses was reached; the key is forgotten).
   */
  check(key: string): LivenessVerdict {
    let watch = this.watches.get(key);
    if (!watch) {
      watch = { outstanding: false, misses: 0 };
      this.watches.set(key, watch);
    }
    if (watch.outstanding) watch.misses++;
    if (watch.misses >= this.misses) {
      this.watches.delete(key);
      return 'dead';
    }
    watch.outstanding = true;
    return 'probe';
  }

  /** A reply came: the peer is alive, its count starts again. */
  answered(key: string): void {
    const watch = this.watches.get(key);
    if (watch) {
      watch.outstanding = false;
      watch.misses = 0;
    }
  }

  /** Consecutive misses so far (0 for an unknown key). */
  missesOf(key: string): number {
    return this.watches.get(key)?.misses ?? 0;
  }

  forget(key: string): void {
    this.watches.delete(key);
  }
}
