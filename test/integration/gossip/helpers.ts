/** Shared helpers of the gossip tests: a seeded PRNG and bounded polling. */
export { mulberry32 } from '../../helpers/random.js';

/**
 * Wait until `condition()` holds, checking every `everyMs`; rejects after `timeoutMs`. Used where
 * the thing awaited is a state spread over many objects rather than one event.
 */
export async function untilTrue(condition: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
