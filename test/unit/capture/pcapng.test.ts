import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/common/errors.js';
import { defaultLimits } from '../../../src/capture/reader.js';
import {
  convertTimestamp,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  enhancedPacketBytes,
} from '../../../src/capture/pcapng.js';
import type { RawPacket } from '../../../src/capture/types.js';
import { bytewise, mulberry32, plain, randomBytes, readAll, readUntilError, splits } from './feed.js';

/** Builds pcapng blocks in one byte order (draft-ietf-opsawg-pcapng section 3.1 framing). */
class Blocks {
  constructor(private readonly le: boolean) {}

  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }

  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigInt64LE(v);
    else b.writeBigInt64BE(v);
    return b;
  }

  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }

  /** type, total length, body padded to 4, total length again */
  block(type: number, body: Buffer, trailingDelta = 0): Buffer {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const total = 12 + padded.length;
    return Buffer.concat([this.u32(type), this.u32(total), padded, this.u32(total + trailingDelta)]);
  }

  option(code: number, value: Buffer): Buffer {
    const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
    return Buffer.concat([this.u16(code), this.u16(value.length), value, pad]);
  }

  shb(): Buffer {
    // byte-order magic, version 1.0, section length -1
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]));
  }

  idb(linkType: number, snaplen: number, options: Buffer[] = []): Buffer {
    const opts = options.length ? Buffer.concat([...options, this.u32(0)]) : Buffer.alloc(0);
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), opts]));
  }

  epb(ifid: number, high: number, low: number, data: Buffer, origLen = data.length): Buffer {
    return this.block(6, Buffer.concat([this.u32(ifid), this.u32(high), this.u32(low), this.u32(data.length), this.u32(origLen), data]));
  }

  spb(origLen: number, data: Buffer): Buffer {
    return this.block(3, Buffer.concat([this.u32(origLen), data]));
  }

  /** obsolete Packet Block: 16-bit interface id, 16-bit drops count */
  pb(ifid: number, high: number, low: number, data: Buffer): Buffer {
    return this.block(2, Buffer.concat([this.u16(ifid), this.u16(0), this.u32(high), this.u32(low), this.u32(data.length), this.u32(data.length), data]));
  }
}

const d1 = Buffer.from('0102030405', 'hex');
const d2 = Buffer.from('a0a1a2a3a4a5a6a7', 'hex');

function pkt(index: number, linkType: number, tsSec: number, tsNsec: number, data: Buffer, interfaceId = 0, originalLength = data.length): RawPacket {
  return { index, linkType, tsSec, tsNsec, originalLength, data, interfaceId };
}

/** One section covering every block kind we read, in the given byte order. */
function sampleSection(le: boolean, startIndex: number): { bytes: Buffer; expected: RawPacket[] } {
  const b = new Blocks(le);
  // 1700000000.123456789 s in ns = 1_700_000_000_123_456_789 > 2^53: high/low halves
  const ns = 1_700_000_000_123_456_789n;
  const high = Number(ns >> 32n);
  const low = Number(ns & 0xffffffffn);
  const bytes = Buffer.concat([
    b.shb(),
    b.idb(1, 4, [b.option(9, Buffer.from([9])), b.option(2, Buffer.from('eth0'))]), // ns, snaplen 4
    b.block(4, Buffer.alloc(8)), // NRB: skipped
    b.epb(0, high, low, d1, 1514),
    b.spb(10, d2.subarray(0, 4)), // SPB: captured = min(original 10, IDB 0 snaplen 4)
    b.idb(113, 0, [b.option(9, Buffer.from([0x80 | 20])), b.option(14, b.i64(-10n))]),
    b.block(0x00000bad, Buffer.from('custom')), // custom block: skipped
    b.epb(1, 0, 13 << 20, d2), // 2^-20 resolution: 13 s, then if_tsoffset -10 s
    b.pb(0, 0, 2_500_000_000, d1), // 2.5 s at ns
    b.block(5, Buffer.alloc(12)), // ISB: skipped
  ]);
  const expected = [
    pkt(startIndex, 1, 1_700_000_000, 123_456_789, d1, 0, 1514),
    pkt(startIndex + 1, 1, Number.NaN, 0, d2.subarray(0, 4), 0, 10), // SPB: no timestamp
    pkt(startIndex + 2, 113, 3, 0, d2, 1),
    pkt(startIndex + 3, 1, 2, 500_000_000, d1, 0),
  ];
  return { bytes, expected };
}

test('pcapng: every block kind, both byte orders, fed whole, split at every byte, byte by byte', () => {
  for (const le of [true, false]) {
    const { bytes, expected } = sampleSection(le, 1);
    assert.deepEqual(plain(readAll([bytes])), plain(expected), le ? 'LE' : 'BE');
    for (const parts of splits(bytes)) assert.deepEqual(plain(readAll(parts)), plain(expected));
    assert.deepEqual(plain(readAll(bytewise(bytes))), plain(expected));
  }
});

test('pcapng: sections of different byte order in one stream; interfaces reset per section', () => {
  const a = sampleSection(true, 1);
  const b = sampleSection(false, 5);
  const packets = readAll([Buffer.concat([a.bytes, b.bytes])]);
  assert.deepEqual(plain(packets), plain([...a.expected, ...b.expected]));
  // a packet naming interface 1 right after a new SHB with one IDB is an error
  const x = new Blocks(true);
  const bad = Buffer.concat([x.shb(), x.idb(1, 0), x.idb(1, 0), x.shb(), x.idb(1, 0), x.epb(1, 0, 0, d1)]);
  const { error } = readUntilError([bad]);
  assert.ok(error instanceof DecodeError);
  assert.equal(error.code, 'E_DECODE');
  assert.match(error.message, /undeclared interface 1/);
});

test('pcapng: trailing length differing from the leading one is E_DECODE at that block', () => {
  const b = new Blocks(true);
  const head = Buffer.concat([b.shb(), b.idb(1, 0), b.epb(0, 0, 0, d1)]);
  const { packets, error } = readUntilError([Buffer.concat([head, b.block(6, Buffer.alloc(20), 4)])]);
  assert.equal(packets.length, 1);
  assert.ok(error instanceof DecodeError);
  assert.equal(error.code, 'E_DECODE');
  assert.equal(error.offset, head.length);
});

test('pcapng: bad lengths and limits are typed errors before any allocation', () => {
  const b = new Blocks(true);
  const start = Buffer.concat([b.shb(), b.idb(1, 0)]);
  const notMultiple = Buffer.concat([start, b.u32(6), b.u32(33), Buffer.alloc(8)]);
  assert.equal((readUntilError([notMultiple]).error as DecodeError).code, 'E_DECODE');
  const huge = Buffer.concat([start, b.u32(6), b.u32(0xfffffff0), Buffer.alloc(8)]);
  const hugeError = readUntilError([huge]).error as DecodeError;
  assert.equal(hugeError.code, 'E_TOO_LARGE');
  assert.equal(hugeError.offset, start.length);
  const capTooBig = Buffer.concat([start, b.block(6, Buffer.concat([b.u32(0), b.u32(0), b.u32(0), b.u32(100), b.u32(100), d1]))]);
  assert.equal((readUntilError([capTooBig]).error as DecodeError).code, 'E_DECODE');
  const tooMany = Buffer.concat([b.shb(), ...Array.from({ length: 5 }, () => b.idb(1, 0))]);
  const manyError = readUntilError([tooMany], { ...defaultLimits, maxInterfaces: 4 }).error as DecodeError;
  assert.equal(manyError.code, 'E_TOO_LARGE');
  const noSection = Buffer.concat([b.shb().subarray(0, 0), b.idb(1, 0)]);
  assert.ok(readUntilError([noSection]).error instanceof DecodeError);
});

test('pcapng: a stream cut inside a block delivers what came before, then E_TRUNCATED', () => {
  const { bytes, expected } = sampleSection(true, 1);
  const cut = bytes.subarray(0, bytes.length - 30); // inside the PB
  const { packets, error } = readUntilError(bytewise(cut));
  assert.deepEqual(plain(packets), plain(expected.slice(0, 3)));
  assert.ok(error instanceof DecodeError);
  assert.equal(error.code, 'E_TRUNCATED');
});

test('convertTimestamp: powers of ten and two, beyond 2^53, exact', () => {
  const split = (v: bigint): [number, number] => [Number(v >> 32n), Number(v & 0xffffffffn)];
  assert.deepEqual(convertTimestamp(...split(1_700_000_000_123_456_789n), 9), { sec: 1_700_000_000, nsec: 123_456_789 });
  assert.deepEqual(convertTimestamp(...split(1_700_000_000_123_456n), 6), { sec: 1_700_000_000, nsec: 123_456_000 });
  assert.deepEqual(convertTimestamp(...split(0xffffffffffffffffn), 9), { sec: 18_446_744_073, nsec: 709_551_615 });
  assert.deepEqual(convertTimestamp(...split(1_700_000_000_123_456_789_012n & 0xffffffffffffffffn), 12), {
    sec: Number((1_700_000_000_123_456_789_012n & 0xffffffffffffffffn) / 10n ** 12n),
    nsec: Number(((1_700_000_000_123_456_789_012n & 0xffffffffffffffffn) % 10n ** 12n) / 1000n),
  });
  assert.deepEqual(convertTimestamp(0, 5 << 10, 0x80 | 10), { sec: 5, nsec: 0 });
  assert.deepEqual(convertTimestamp(0, (5 << 10) | 512, 0x80 | 10), { sec: 5, nsec: 500_000_000 });
  assert.deepEqual(convertTimestamp(0, 7, 0), { sec: 7, nsec: 0 });
});

test('pcapng: encoded SHB/IDB/EPB read back exactly (ns precision, large seconds)', () => {
  const packets: RawPacket[] = [
    pkt(1, 1, 4_294_967_295, 999_999_999, d1, 0, 60),
    pkt(2, 1, 1_700_000_000, 1, d2),
    pkt(3, 1, 0, 0, Buffer.alloc(0)),
  ];
  const body = Buffer.alloc(packets.reduce((n, p) => n + enhancedPacketBytes(p), 0));
  let at = 0;
  for (const p of packets) at += encodeEnhancedPacket(p, 0, body, at);
  const back = readAll([encodeSectionHeader(), encodeInterfaceDescription(1, 0), body]);
  assert.deepEqual(plain(back), plain(packets));
});

test('pcapng: random bytes after a valid start raise only typed errors (seeded fuzz)', () => {
  const random = mulberry32(0xc0ffee);
  const b = new Blocks(true);
  const limits = { ...defaultLimits, maxBlockBytes: 4096, maxPacketBytes: 2048 };
  for (let round = 0; round < 400; round++) {
    const valid = sampleSection(round % 2 === 0, 1).bytes;
    const keep = Math.floor(random() * valid.length);
    const tail = randomBytes(random, Math.floor(random() * 200));
    // sometimes a plausible block header so the fuzz reaches the block parsers
    const framed = round % 3 === 0 ? Buffer.concat([b.u32(Math.floor(random() * 8)), b.u32(12 + 4 * Math.floor(random() * 40)), tail]) : tail;
    const { error } = readUntilError([valid.subarray(0, keep), framed], limits);
    if (error !== undefined) assert.ok(error instanceof DecodeError, `round ${round}: ${(error as Error).stack}`);
  }
});
