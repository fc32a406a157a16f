/**
 * A tiny seeded pseudo-random generator, so that every random choice in analysis (the Isolation
 * Forest's subsamples, features and split points) reproduces from a seed. Randomness is passed in as
 * a function, never taken from Math.random, which keeps the analysis code pure.
 */

import { mulberry32, type Rng } from '../common/prng.js';

export { mulberry32, type Rng };

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
