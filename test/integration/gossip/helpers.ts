/** Shared helpers of the gossip tests: a seeded PRNG, bounded polling, a started seed with its peers' teardown. */
import { Seed, type Peer } from '../../../src/gossip/index.js';

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

/**
 * One seed on port 0, started, and the list the test puts its peers in: the peers, then the seed,
 * are closed when the test ends (teardown registered before anything starts).
 */
export async function seedWithPeers(t: { after(fn: () => Promise<void>): void }): Promise<{ seed: Seed; peers: Peer[] }> {
  const seed = new Seed({ port: 0 });
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await seed.close();
  });
  await seed.start();
  return { seed, peers };
}
