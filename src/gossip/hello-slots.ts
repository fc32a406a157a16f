/**
 * Hellos in flight against the links a peer still wants. A peer dials several candidates at once
 * (dial.ts; so that candidates that never answer cannot hide those that do), but a dial that
 * connects says hello only while the links made and the hellos in flight are short of the target;
 * otherwise it waits for a hello in flight to settle (it may be refused) and asks again. Parallel
 * dials then bring no more welcomes than wanted: a link past the target would take a slot the degree
 * policy keeps for later peers, and a network whose slots are all taken splits (test/integration/
 * gossip/overlay-scale.test.ts).
 */
export class HelloSlots {
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  /**
   * Wait for a slot: true, say hello now (and release() when it has settled); false, no more links
   * are wanted (or the peer closed). `wanted()` tells how many links are still wanted right now.
   */
  async acquire(wanted: () => number): Promise<boolean> {
    for (;;) {
      if (this.closed) return false;
      const want = wanted();
      if (want <= 0) return false;
      if (this.inFlight < want) {
        this.inFlight++;
        return true;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
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

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
