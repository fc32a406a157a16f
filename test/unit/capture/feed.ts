/**
 * Test helpers for the capture readers: feed bytes whole, split at every byte, or one byte at a
 * time, and a tiny seeded PRNG (mulberry32) for random-bytes tests.
 */
import { CaptureReader, type ReaderLimits } from '../../../src/capture/reader.js';
import type { RawPacket } from '../../../src/capture/types.js';
export { mulberry32 } from '../../helpers/random.js';

/** Every packet of `chunks`, in order; throws what the reader throws. */
export function readAll(chunks: Buffer[], limits?: ReaderLimits): RawPacket[] {
  const reader = new CaptureReader(limits);
  const out: RawPacket[] = [];
  for (const chunk of chunks) out.push(...reader.push(chunk));
  reader.end();
  return out;
}

/** The packets delivered before the reader failed, and the error. */
export function readUntilError(chunks: Buffer[], limits?: ReaderLimits): { packets: RawPacket[]; error: unknown } {
  const reader = new CaptureReader(limits);
  const packets: RawPacket[] = [];
  try {
    for (const chunk of chunks) packets.push(...reader.push(chunk));
    reader.end();
  } catch (error) {
    return { packets, error };
  }
  return { packets, error: undefined };
}

export function bytewise(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

/** Every way of cutting `bytes` in two. */
export function* splits(bytes: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
}

/** Plain fields of packets, for deepEqual (data as hex). */
export function plain(packets: RawPacket[]): object[] {
  return packets.map((p) => ({ ...p, data: p.data.toString('hex') }));
}

export function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}
