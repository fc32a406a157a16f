/**
 * A tiny seeded pseudo-random generator, so that random choices (the Isolation Forest's samples, fuzz
 * inputs, generated traffic) reproduce from a seed. Pure code takes it as an argument.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): one 32-bit state word, period 2^32, good enough
 * statistical quality for sampling and split points, and fast.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
