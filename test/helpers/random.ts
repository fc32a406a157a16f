/** Seeded randomness for property and fuzz tests: the same seed gives the same inputs. */
export { mulberry32 } from '../../src/common/prng.js';

export function randomInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

export function randomBytes(rand: () => number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
