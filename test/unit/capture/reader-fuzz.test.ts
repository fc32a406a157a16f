/**
 * Seeded fuzzing of both file readers through both APIs: valid pcap and pcapng streams with bits
 * flipped, bytes overwritten and tails cut, fed in random chunks. Only DecodeError may escape, and the
 * callback API (pushTo, the --stats fast path, also from one reused buffer) delivers exactly the packets
 * the RawPacket API does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureReader, defaultLimits, type PacketSink, type ReaderLimits } from '../../../src/capture/reader.js';
import { encodePcapFileHeader, encodePcapRecord, pcapRecordBytes } from '../../../src/capture/pcap.js';
import { encodeEnhancedPacket, encodeInterfaceDescription, encodeSectionHeader, enhancedPacketBytes } from '../../../src/capture/pcapng.js';
import type { RawPacket } from '../../../src/capture/types.js';
import { DecodeError } from '../../../src/common/errors.js';
import { mulberry32, randomBytes } from './feed.js';

/** bytes: the largest random chunk, and the reused buffer's size */
const LARGEST_CHUNK = 1024;
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

/** Random chunks of at most `largest` bytes: small ones cut most records, large ones hold runs of them. */
function chunks(random: () => number, bytes: Buffer, largest: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * largest);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/**
 * Packets (as text) and the error, through push(), pushTo(), or pushTo() from one reused buffer
 * (detach() after each part, then the buffer overwritten, as readCaptureFileInto does); throws
 * anything but a DecodeError.
 */
function read(parts: Buffer[], via: 'push' | 'sink' | 'reused'): { seen: string[]; error: DecodeError | undefined } {
  const reader = new CaptureReader(LIMITS);
  const seen: string[] = [];
  const sink: PacketSink = {
    packet: (buf, at, cap, orig, sec, nsec, link) => seen.push(`${sec}.${nsec} ${orig} ${link} ${buf.toString('hex', at, at + cap)}`),
  };
  try {
    const reused = Buffer.alloc(LARGEST_CHUNK);
    for (const part of parts) {
      if (via === 'sink') reader.pushTo(part, sink);
      else if (via === 'reused') {
        part.copy(reused);
        reader.pushTo(reused.subarray(0, part.length), sink);
        reader.detach();
        reused.fill(0xa5);
      } else for (const p of reader.push(part)) seen.push(`${p.tsSec}.${p.tsNsec} ${p.originalLength} ${p.linkType} ${p.data.toString('hex')}`);
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
      const parts = chunks(random, round === 0 ? valid : mutate(random, valid), round % 2 === 0 ? 64 : LARGEST_CHUNK);
      const collected = read(parts, 'push');
      for (const via of ['sink', 'reused'] as const) {
        const sunk = read(parts, via);
        assert.deepEqual(sunk.seen, collected.seen, `round ${round} (${via})`);
        assert.equal(sunk.error?.code, collected.error?.code, `round ${round} (${via})`);
      }
      if (round === 0) assert.equal(collected.error, undefined, 'the unmutated file reads cleanly');
      if (collected.error) errors++;
    }
    assert.ok(errors > 300 && errors < 3000, `mutations give a mix of errors and reads (${errors})`);
  });
}
