/**
 * The start/close contract of every IO component: `start()` brings it up (binds, connects, spawns);
 * `close()` is idempotent and clears every timer, socket and child it made.
 */
export interface Lifecycle {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Time and timers, injected so that tests can drive them. */
export interface Clock {
  /** ms since the epoch */
  now(): number;
  /** µs since the epoch, from the high-resolution clock */
  nowUs(): number;
  /** high-resolution monotonic time in ns */
  hrtime(): bigint;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(handle: NodeJS.Timeout): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  nowUs: () => Math.round((performance.timeOrigin + performance.now()) * 1000),
  hrtime: () => process.hrtime.bigint(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};

/**
 * A self-rescheduling periodic task (DESIGN.md: no bare setInterval): the next run is scheduled only
 * after the current one finished, so a slow run never piles up.
 */
export class PeriodicTask {
  private handle: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => void | Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  start(immediately = false): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (immediately) void this.tick();
    else this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.handle = this.clock.setTimeout(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    this.handle = undefined;
    try {
      await this.run();
    } catch (err) {
      this.onError(err);
    }
    this.schedule();
  }
}
