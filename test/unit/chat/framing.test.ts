/**
 * The record codec: annotated bytes from the reference, round trips, every split of a stream, hostile
 * lengths, raw transfers ended by `EOF`, and seeded random bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FrameDecoder, encodeRecord, type Frame } from '../../../src/chat/framing.js';
import { CLIENT_HEADERS, isRawTransfer } from '../../../src/chat/protocol.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';

/** Every record of the reference session (test/fixtures/chat/seed-session.json). */
const session = (JSON.parse(readFileSync(new URL('../../fixtures/chat/seed-session.json', import.meta.url), 'utf8')) as {
  records: Array<{ kind: string; header: string | null; payload_hex: string; bytes: number; text: string }>;
}).records;

const seedDecoder = (): FrameDecoder => new FrameDecoder({ rawAfter: isRawTransfer, knownHeaders: CLIENT_HEADERS });

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

/** Raw pieces joined, so that results compare whatever the chunking. */
function normalise(frames: Frame[]): unknown[] {
  const out: unknown[] = [];
  for (const f of frames) {
    const last = out[out.length - 1] as { kind: string; data?: string } | undefined;
    if (f.kind === 'raw' && last?.kind === 'raw') last.data += f.data.toString('hex');
    else if (f.kind === 'raw') out.push({ kind: 'raw', data: f.data.toString('hex') });
    else if (f.kind === 'record') out.push({ kind: 'record', header: f.header, payload: f.payload.toString('hex') });
    else out.push(f);
  }
  return out;
}

test('the reference prompt record, byte for byte (hex from chat-seed-wire.md)', () => {
  // 00 04 | "info" | 00 00 00 25 | "Are you already registered? (yes/no):"
  const hex = '0004696e666f00000025' + Buffer.from('Are you already registered? (yes/no):').toString('hex');
  assert.equal(encodeRecord('info', 'Are you already registered? (yes/no):').toString('hex'), hex);
  assert.deepEqual(normalise(seedDecoder().push(Buffer.from(hex, 'hex'))), [
    { kind: 'record', header: 'info', payload: Buffer.from('Are you already registered? (yes/no):').toString('hex') },
  ]);
});

test('every ASCII record of the reference encodes to the size it had on the wire', () => {
  let checked = 0;
  for (const r of session) {
    if (r.kind !== 'record' || r.header === null || !/^[\x20-\x7e\n]*$/.test(r.text)) continue;
    assert.equal(encodeRecord(r.header, Buffer.from(r.payload_hex, 'hex')).length, r.bytes, r.text);
    checked++;
  }
  assert.ok(checked > 60);
});

test('lengths are bytes: café is 5 bytes of payload', () => {
  const b = encodeRecord('msg', 'café');
  assert.equal(b.readUInt32BE(5), 5);
  const [frame] = seedDecoder().push(b);
  assert.equal(frame?.kind === 'record' && frame.payload.toString(), 'café');
});

/** A client stream with records, a raw transfer and records after it. */
function clientStream(content: Buffer): Buffer {
  return Buffer.concat([
    encodeRecord('info', 'yes'),
    encodeRecord('msg', 'hello everyone'),
    encodeRecord('file_transfer', 'file_to_server:sample.txt'),
    content,
    Buffer.from('EOF'),
    encodeRecord('to', 'bob:hi bob'),
    encodeRecord('msg', ''),
  ]);
}

test('a stream decodes the same whole, split at every byte (two chunks and three), and one byte at a time', () => {
  const content = Buffer.from("this is sample text file\nfor demonstating file transfer\nthat's it.");
  const stream = clientStream(content);
  const whole = normalise(seedDecoder().push(stream));
  assert.deepEqual(whole.map((f) => (f as { kind: string }).kind), ['record', 'record', 'record', 'raw', 'raw-end', 'record', 'record']);
  assert.deepEqual((whole[3] as { data: string }).data, content.toString('hex'));
  for (let i = 0; i <= stream.length; i++) {
    assert.deepEqual(normalise(decodeAll(seedDecoder(), [stream.subarray(0, i), stream.subarray(i)])), whole, `split at ${i}`);
    const j = Math.min(stream.length, i + 7);
    assert.deepEqual(normalise(decodeAll(seedDecoder(), [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])), whole, `split at ${i}, ${j}`);
  }
  const bytes = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(normalise(decodeAll(seedDecoder(), bytes)), whole);
});

test('raw transfer: EOF inside the file is data unless it ends the chunk or a record follows', () => {
  const content = Buffer.from('a file that says EOF in the middle and EOFEOF too');
  const stream = clientStream(content);
  assert.deepEqual((normalise(seedDecoder().push(stream))[3] as { data: string }).data, content.toString('hex'));
  // the seed's rule: a chunk ending in EOF ends the transfer
  const d = seedDecoder();
  d.push(encodeRecord('file_transfer', 'file_to_server:x'));
  assert.deepEqual(normalise(d.push(Buffer.from('abcEOF'))), [{ kind: 'raw', data: Buffer.from('abc').toString('hex') }, { kind: 'raw-end' }]);
  assert.equal(d.inRaw, false);
});

test('several records in one chunk', () => {
  const chunk = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeRecord('msg', `m${i}`)));
  const frames = seedDecoder().push(chunk);
  assert.equal(frames.length, 50);
  assert.deepEqual(frames.map((f) => (f.kind === 'record' ? f.payload.toString() : '')), Array.from({ length: 50 }, (_, i) => `m${i}`));
});

test('hostile lengths: a header length of 0 or over the limit is fatal; a huge payload length allocates nothing', () => {
  assert.deepEqual(seedDecoder().push(Buffer.from([0, 0])).map((f) => [f.kind, f.kind === 'error' && f.fatal]), [['error', true]]);
  assert.deepEqual(seedDecoder().push(Buffer.from([0xff, 0xff])).map((f) => [f.kind, f.kind === 'error' && f.fatal]), [['error', true]]);
  // 4 GiB - 1 announced: refused at once, before any payload byte is gathered
  const huge = Buffer.concat([Buffer.from([0, 3]), Buffer.from('msg'), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  const frames = seedDecoder().push(huge);
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.kind === 'error' && frames[0]!.code === 'E_TOO_LARGE' && frames[0]!.fatal);
});

test('a payload over the limit but under the skip limit is skipped and the stream goes on', () => {
  const d = new FrameDecoder({ maxPayloadBytes: 10, maxSkipBytes: 100 });
  const frames = d.push(Buffer.concat([encodeRecord('msg', 'x'.repeat(50)), encodeRecord('msg', 'ok')]));
  assert.deepEqual(frames.map((f) => (f.kind === 'record' ? f.payload.toString() : f.kind === 'error' ? `${f.code}:${f.fatal}` : f.kind)), ['E_TOO_LARGE:false', 'ok']);
});

test('a header with control bytes is an error; the record after it is decoded', () => {
  const bad = Buffer.concat([Buffer.from([0, 3]), Buffer.from([0x6d, 0x00, 0x1b]), Buffer.from([0, 0, 0, 1]), Buffer.from('x')]);
  const frames = seedDecoder().push(Buffer.concat([bad, encodeRecord('msg', 'after')]));
  assert.deepEqual(frames.map((f) => f.kind), ['error', 'record']);
});

test('seeded random bytes: never a throw, only typed frames, output bounded by the input', () => {
  const rand = mulberry32(0xc4a7);
  for (let round = 0; round < 500; round++) {
    const d = seedDecoder();
    let produced = 0;
    const input = randomBytes(rand, randomInt(rand, 0, 4096));
    // half the rounds start with a valid prefix so that the decoder reaches deeper states
    const stream = round % 2 ? Buffer.concat([encodeRecord('file_transfer', 'file_to_server:f'), input]) : input;
    let at = 0;
    while (at < stream.length) {
      const n = randomInt(rand, 1, 300);
      for (const f of d.push(stream.subarray(at, at + n))) {
        assert.ok(['record', 'raw', 'raw-end', 'error'].includes(f.kind));
        if (f.kind === 'error') assert.ok(['E_HEADER_LENGTH', 'E_HEADER', 'E_TOO_LARGE'].includes(f.code));
        if (f.kind === 'raw') produced += f.data.length;
        if (f.kind === 'record') produced += f.payload.length;
      }
      at += n;
    }
    assert.ok(produced <= stream.length);
  }
});

test('encodeRecord refuses an empty header', () => {
  assert.throws(() => encodeRecord('', 'x'), RangeError);
});
