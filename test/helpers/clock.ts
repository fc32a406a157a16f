/** A clock driven by the test: timers fire only when the test advances time (for pure code's timers). */
import type { Clock } from '../../src/common/lifecycle.js';

export function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => now,
    nowUs: () => now * 1000,
    hrtime: () => BigInt(now) * 1_000_000n,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return { unref: () => undefined, id } as unknown as NodeJS.Timeout;
    },
    clearTimeout: (h) => void timers.delete((h as unknown as { id: number }).id),
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers]) if (t.at <= now) { timers.delete(id); t.fn(); }
    },
  };
}
