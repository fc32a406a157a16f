import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/common/errors.js';
import { defaultLimits } from '../../../src/capture/reader.js';
import { encodePcapFileHeader, encodePcapRecord, pcapRecordBytes } from '../../../src/capture/pcap.js';
import type { RawPacket } from '../../../src/capture/types.js';
import { bytewise, mulberry32, plain, randomBytes, readAll, readUntilError, splits } from './feed.js';

interface Variant {
  name: string;
  magic: number;
  le: boolean;
  /** ns per fraction unit */
  scale: number;
  recordHeader: number;
}

const variants: Variant[] = [
  { name: 'LE microseconds', magic: 0xa1b2c3d4, le: true, scale: 1000, recordHeader: 16 },
  { name: 'BE microseconds', magic: 0xa1b2c3d4, le: false, scale: 1000, recordHeader: 16 },
  { name: 'LE nanoseconds', magic: 0xa1b23c4d, le: true, scale: 1, recordHeader: 16 },
  { name: 'BE nanoseconds', magic: 0xa1b23c4d, le: false, scale: 1, recordHeader: 16 },
  { name: 'LE modified (Kuznetzov)', magic: 0xa1b2cd34, le: true, scale: 1000, recordHeader: 24 },
  { name: 'BE modified (Kuznetzov)', magic: 0xa1b2cd34, le: false, scale: 1000, recordHeader: 24 },
];

function u32(value: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(value >>> 0);
  else b.writeUInt32BE(value >>> 0);
  return b;
}

function u16(value: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(value);
  else b.writeUInt16BE(value);
  return b;
}

/** A file header: magic, version 2.4, thiszone, sigfigs, snaplen, link type (with flag bits above 16). */
function fileHeader(v: Variant, linkField: number): Buffer {
  return Buffer.concat([u32(v.magic, v.le), u16(2, v.le), u16(4, v.le), u32(0, v.le), u32(0, v.le), u32(65535, v.le), u32(linkField, v.le)]);
}

/** A record: ts_sec, ts_frac, incl_len, orig_len, [modified: ifindex, protocol, pkt_type, pad], data. */
function record(v: Variant, sec: number, frac: number, data: Buffer, origLen = data.length): Buffer {
  const extra = v.recordHeader === 24 ? Buffer.from([0, 0, 0, 1, 0x08, 0x00, 0x00, 0x00]) : Buffer.alloc(0);
  return Buffer.concat([u32(sec, v.le), u32(frac, v.le), u32(data.length, v.le), u32(origLen, v.le), extra, data]);
}

function sample(v: Variant): { bytes: Buffer; expected: RawPacket[] } {
  const a = Buffer.from('00112233445566778899aabb0800', 'hex');
  const b = Buffer.from('ffffffffffff', 'hex');
  const fracA = v.scale === 1 ? 999_999_999 : 999_999;
  // link field 0x0400_0001: FCS-length flags in the upper bits, LINKTYPE_ETHERNET below
  const bytes = Buffer.concat([fileHeader(v, 0x04000001), record(v, 4_000_000_000, fracA, a, 1514), record(v, 1, 5, b)]);
  const expected: RawPacket[] = [
    { index: 1, linkType: 1, tsSec: 4_000_000_000, tsNsec: fracA * v.scale, originalLength: 1514, data: a, interfaceId: 0 },
    { index: 2, linkType: 1, tsSec: 1, tsNsec: 5 * v.scale, originalLength: 6, data: b, interfaceId: 0 },
  ];
  return { bytes, expected };
}

for (const v of variants) {
  test(`pcap ${v.name}: fed whole, split at every byte, and byte by byte`, () => {
    const { bytes, expected } = sample(v);
    assert.deepEqual(plain(readAll([bytes])), plain(expected));
    for (const parts of splits(bytes)) assert.deepEqual(plain(readAll(parts)), plain(expected));
    assert.deepEqual(plain(readAll(bytewise(bytes))), plain(expected));
  });
}

test('pcap: packet data is a view into the pushed chunk, not a copy', () => {
  const { bytes } = sample(variants[0]!);
  const [first] = readAll([bytes]);
  assert.equal(first!.data.buffer, bytes.buffer);
});

test('pcap: a record over the packet limit is E_TOO_LARGE at its offset, after the good packets', () => {
  const v = variants[0]!;
  const huge = Buffer.concat([u32(0, true), u32(0, true), u32(0x7fffffff, true), u32(0x7fffffff, true)]);
  const good = record(v, 1, 1, Buffer.alloc(10));
  const { packets, error } = readUntilError([Buffer.concat([fileHeader(v, 1), good, huge])]);
  assert.equal(packets.length, 1);
  assert.ok(error instanceof DecodeError);
  assert.equal(error.code, 'E_TOO_LARGE');
  assert.equal(error.offset, 24 + good.length);
});

test('pcap: a file cut inside a record delivers the packets before it, then E_TRUNCATED with the offset', () => {
  const v = variants[0]!;
  const { bytes } = sample(v);
  const cut = bytes.subarray(0, bytes.length - 3);
  for (const chunks of [[cut], bytewise(cut)]) {
    const { packets, error } = readUntilError(chunks);
    assert.equal(packets.length, 1);
    assert.ok(error instanceof DecodeError);
    assert.equal(error.code, 'E_TRUNCATED');
    assert.equal(error.offset, 24 + 16 + 14);
  }
});

test('pcap: too short or wrong magic is a typed error, not a crash', () => {
  const short = readUntilError([Buffer.from([0xd4, 0xc3])]);
  assert.ok(short.error instanceof DecodeError);
  assert.equal(short.error.code, 'E_TRUNCATED');
  const text = readUntilError([Buffer.from('hello world, not a capture')]);
  assert.ok(text.error instanceof DecodeError);
  assert.equal(text.error.code, 'E_UNSUPPORTED');
  const v3 = Buffer.concat([u32(0xa1b2c3d4, true), u16(3, true), u16(0, true), Buffer.alloc(16)]);
  assert.equal((readUntilError([v3]).error as DecodeError).code, 'E_UNSUPPORTED');
});

test('pcap: encoded records read back exactly (ns precision, big seconds)', () => {
  const packets: RawPacket[] = [
    { index: 1, linkType: 101, tsSec: 4_294_967_295, tsNsec: 999_999_999, originalLength: 9000, data: Buffer.from('4500', 'hex'), interfaceId: 0 },
    { index: 2, linkType: 101, tsSec: 0, tsNsec: 1, originalLength: 3, data: Buffer.from('abcdef', 'hex'), interfaceId: 0 },
  ];
  const body = Buffer.alloc(packets.reduce((n, p) => n + pcapRecordBytes(p), 0));
  let at = 0;
  for (const p of packets) at += encodePcapRecord(p, body, at);
  assert.equal(at, body.length);
  const back = readAll([encodePcapFileHeader(101, 65535), body]);
  assert.deepEqual(plain(back), plain(packets));
});

test('pcap: random bytes after a valid header raise only typed errors (seeded fuzz)', () => {
  const random = mulberry32(0x5eed);
  const limits = { ...defaultLimits, maxPacketBytes: 4096 };
  for (let round = 0; round < 300; round++) {
    const v = variants[round % variants.length]!;
    const bytes = Buffer.concat([fileHeader(v, 1), randomBytes(random, Math.floor(random() * 400))]);
    const { error } = readUntilError([bytes], limits);
    if (error !== undefined) assert.ok(error instanceof DecodeError, `round ${round}: ${(error as Error).stack}`);
  }
  for (let round = 0; round < 300; round++) {
    const { error } = readUntilError([randomBytes(random, Math.floor(random() * 64))], limits);
    assert.ok(error instanceof DecodeError, `round ${round}: random bytes must not read as a capture`);
  }
});
