/**
 * A tiny classic-pcap reader for the decoder's tests only (LE/BE, microsecond/nanosecond magic), so
 * these tests do not depend on the real reader in src/capture. Reads the whole file at once.
 */
import { readFileSync } from 'node:fs';
import type { RawPacket } from '../../../src/capture/types.js';

export function readPcap(file: string): RawPacket[] {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${file}: not a classic pcap`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const linkType = u32(20) & 0xffff;
  const packets: RawPacket[] = [];
  for (let p = 24; p + 16 <= buf.length; ) {
    const incl = u32(p + 8);
    if (p + 16 + incl > buf.length) break;
    packets.push({
      index: packets.length + 1,
      linkType,
      tsSec: u32(p),
      tsNsec: nanos ? u32(p + 4) : u32(p + 4) * 1000,
      originalLength: u32(p + 12),
      data: buf.subarray(p + 16, p + 16 + incl),
      interfaceId: 0,
    });
    p += 16 + incl;
  }
  return packets;
}
