/**
 * Seeded fuzzing of both file readers through both APIs: valid pcap and pcapng streams with bits
 * flipped, bytes overwritten and tails cut, fed in random chunks. Only DecodeError may escape, and the
 * callback API (pushTo, the --stats fast path) delivers exactly the packets the RawPacket API does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureReader, defaultLimits, type PacketSink, type ReaderLimits } from '../../../src/capture/reader.js';
import { encodePcapFileHeader, encodePcapRecord, pcapRecordBytes } from '../../../src/capture/pcap.js';
import { encodeEnhancedPacket, encodeInterfaceDescription, encodeSectionHeader, enhancedPacketBytes } from '../../../src/capture/pcapng.js';
import type { RawPacket } from '../../../src/capture/types.js';
import { DecodeError } from '../../../src/common/errors.js';
import { mulberry32, randomBytes } from './feed.js';

const LIMITS: ReaderLimits = { ...defaultLimits, maxPacketBytes: 2048, maxBlockBytes: 4096, maxInterfaces: 8 };

function packets(random: () => number, count: number): RawPacket[] {
  return Array.from({ length: count }, (_, i) => {
    const data = randomBytes(random, 1 + Math.floor(random() * 120));
    return { index: i + 1, linkType: 1, tsSec: 1_700_000_000 + i, tsNsec: Math.floor(random() * 1e9), originalLength: data.length + 4, data, interfaceId: 0 };
  });
}

function pcapFile(list: RawPacket[]): Buffer {
  const body = Buffer.alloc(list.reduce((n, p) => n + pcapRecordBytes(p), 0));
  let at = 0;
  for (const p of list) at += encodePcapRecord(p, body, at);
  return Buffer.concat([encodePcapFileHeader(1, 262_144), body]);
}

function pcapngFile(list: RawPacket[]): Buffer {
  const body = Buffer.alloc(list.reduce((n, p) => n + enhancedPacketBytes(p), 0));
  let at = 0;
  for (const p of list) at += encodeEnhancedPacket(p, 0, body, at);
  return Buffer.concat([encodeSectionHeader(), encodeInterfaceDescription(1, 262_144), body]);
}

function mutate(random: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  for (let f = Math.floor(random() * 4); f >= 0; f--) {
    const at = Math.floor(random() * b.length);
    b[at] = random() < 0.5 ? b[at]! ^ (1 << Math.floor(random() * 8)) : Math.floor(random() * 256);
  }
  return random() < 0.3 ? b.subarray(0, Math.floor(random() * b.length)) : b;
}

function chunks(random: () => number, bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * 64);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Packets (as text) and the error, through push() or pushTo(); throws anything but a DecodeError. */
function read(parts: Buffer[], viaSink: boolean): { seen: string[]; error: DecodeError | undefined } {
  const reader = new CaptureReader(LIMITS);
  const seen: string[] = [];
  const sink: PacketSink = {
    packet: (buf, at, cap, orig, sec, nsec, link) => seen.push(`${sec}.${nsec} ${orig} ${link} ${buf.toString('hex', at, at + cap)}`),
  };
  try {
    for (const part of parts) {
      if (viaSink) reader.pushTo(part, sink);
      else for (const p of reader.push(part)) seen.push(`${p.tsSec}.${p.tsNsec} ${p.originalLength} ${p.linkType} ${p.data.toString('hex')}`);
    }
    reader.end();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { seen, error: err };
  }
  return { seen, error: undefined };
}

for (const [name, encode] of [['pcap', pcapFile], ['pcapng', pcapngFile]] as const) {
  test(`${name}: bit flips, overwritten bytes and cut tails give only DecodeError, and both APIs agree`, () => {
    const random = mulberry32(name === 'pcap' ? 0xf11e : 0xb10c);
    let errors = 0;
    for (let round = 0; round < 3000; round++) {
      const valid = encode(packets(random, 1 + Math.floor(random() * 6)));
      const parts = chunks(random, round === 0 ? valid : mutate(random, valid));
      const collected = read(parts, false);
      const sunk = read(parts, true);
      assert.deepEqual(sunk.seen, collected.seen, `round ${round}`);
      assert.equal(sunk.error?.code, collected.error?.code, `round ${round}`);
      if (round === 0) assert.equal(collected.error, undefined, 'the unmutated file reads cleanly');
      if (collected.error) errors++;
    }
    assert.ok(errors > 300 && errors < 3000, `mutations give a mix of errors and reads (${errors})`);
  });
}
