/**
 * Hellos in flight against the links a peer still wants. A peer dials several candidates at once
 * (so that candidates that never answer cannot hide those that do), but a dial that connects says
 * hello only while the links made and the hellos in flight are short of the target; otherwise it
 * waits for a hello in flight to settle (it may be refused) and asks again. Parallel dials then
 * bring no more welcomes than wanted: a link past the target would take a slot the degree policy
 * keeps for later peers, and a network whose slots are all taken splits
 * (test/integration/gossip/overlay-scale.test.ts).
 *
 * A hello held by a candidate that never answers would make the waiting dials wait for its whole
 * timeout, one silent candidate after another: so a dial waits at most `leaseMs`, then says hello
 * anyway (a welcome it no longer needs is closed by the peer).
 */
import type { Clock } from '../common/lifecycle.js';

interface Waiter {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

export class HelloSlots {
  private inFlight = 0;
  private waiters: Waiter[] = [];
  private closed = false;

  /** @param leaseMs how long a dial waits for a slot before it says hello anyway */
  constructor(
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  /**
   * Wait for a slot: true, say hello now (and release() when it has settled); false, no more links
   * are wanted (or the peer closed). `wanted()` tells how many links are still wanted right now.
   */
  async acquire(wanted: () => number): Promise<boolean> {
    const deadline = this.clock.now() + this.leaseMs;
    for (;;) {
      if (this.closed) return false;
      const want = wanted();
      if (want <= 0) return false;
      const left = deadline - this.clock.now();
      if (this.inFlight < want || left <= 0) {
        this.inFlight++;
        return true;
      }
      await new Promise<void>((resolve) => {
        const waiter: Waiter = { resolve, timer: this.clock.setTimeout(() => this.settle(waiter), left) };
        this.waiters.push(waiter);
      });
    }
  }

  /** A hello has settled (welcomed and linked, refused or failed): the waiting dials ask again. */
  release(): void {
    this.inFlight--;
    this.wake();
  }

  /** No more hellos: every waiting dial gets false. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private settle(waiter: Waiter): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.resolve();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      this.clock.clearTimeout(w.timer);
      w.resolve();
    }
  }
}
