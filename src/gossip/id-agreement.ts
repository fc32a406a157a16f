/**
 * Agreeing a peer's id between seeds that share no memory (issue 14). A peer registers with a
 * majority of the seeds, one after another; each seed that does not yet hold the address asks the
 * other seeds of the config which id they hold for it (`id query`) and adopts it, so the peer gets
 * one id from every seed. When none holds it, the seed hands out a fresh id from its own id space
 * (IdAllocator), above the highest id any of them reported, so fresh ids of different seeds never
 * collide and stay close to join order. The peer itself never names an id: it cannot pick or steal one.
 */
import { endpointKey, type Endpoint } from './protocol.js';
import { request, type DialOptions } from './dial.js';
import type { IdAllocator } from './registry.js';

/**
 * Ask every seed in `others` at once which id it holds for `peer`; each answer raises `ids.highest`
 * and tells how many fresh ids that seed handed out (so `ids.densityPerMille` counts every join).
 * Resolves with the id held (the smallest when seeds disagree, as after one was cut off: the one the
 * peer keeps), or undefined when none holds the address. A seed that does not answer within the timeout is skipped.
 */
export async function agreeId(peer: Endpoint, others: readonly Endpoint[], ids: IdAllocator, options: DialOptions): Promise<number | undefined> {
  const answers = await Promise.all(
    others.map(async (seed) => {
      const from = endpointKey(seed);
      try {
        const got = await request(seed, [{ type: 'id-query', peer }], (r) => r.some((m) => m.type === 'id-answer'), options);
        const answer = got.find((m) => m.type === 'id-answer');
        return answer?.type === 'id-answer' ? { ...answer, from } : undefined;
      } catch (err) {
        options.logger.warn({ seed: from, peer: endpointKey(peer), err: (err as Error).message }, `seed ${from} did not answer an id query`);
        return undefined;
      }
    }),
  );
  let held: number | undefined;
  for (const answer of answers) {
    if (!answer) continue;
    ids.observe(answer.highest, answer.from, answer.fresh);
    if (answer.id !== undefined && (held === undefined || answer.id < held)) held = answer.id;
  }
  return held;
}
