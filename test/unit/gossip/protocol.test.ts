import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/common/errors.js';
import { FrameDecoder, encodeFrame, formatMessage, parseEndpoint, parseMessage, type GossipMessage } from '../../../src/gossip/protocol.js';
import { mulberry32 } from '../../integration/gossip/helpers.js';

const hash = 'ab'.repeat(32);
const a = { host: '10.0.0.1', port: 8080 };
const b = { host: '127.0.0.1', port: 9 };

/** One message of every kind, with the exact text the wire carries (docs/gossip.md). */
const vocabulary: [GossipMessage, string][] = [
  [{ type: 'register', peer: a }, 'register:10.0.0.1:8080'],
  [{ type: 'registered', id: 7 }, 'registered successfully:7'],
  [{ type: 'registered', id: 7, density: 640 }, 'registered successfully:7:640'],
  [{ type: 'id-query', peer: a }, 'id query:10.0.0.1:8080'],
  [{ type: 'id-answer', id: 4, highest: 11, fresh: 5 }, 'id:4:11:5'],
  [{ type: 'id-answer', highest: 11, fresh: 0 }, 'id:-:11:0'],
  [{ type: 'id-answer', highest: -1, fresh: 0 }, 'id:-:-:0'],
  [{ type: 'peer-list-request' }, 'peer list'],
  [{ type: 'peer-list', peers: [] }, 'peer list:'],
  [{ type: 'peer-list', peers: [a, b] }, 'peer list:10.0.0.1#8080:127.0.0.1#9'],
  [{ type: 'hello', peer: a, id: 3 }, 'hello:10.0.0.1:8080:3'],
  [{ type: 'welcome', peer: a, id: 0, neighbours: [] }, 'welcome:10.0.0.1:8080:0'],
  [{ type: 'welcome', peer: a, id: 12, neighbours: [b] }, 'welcome:10.0.0.1:8080:12:127.0.0.1#9'],
  [{ type: 'busy', peer: b }, 'busy:127.0.0.1:9'],
  [{ type: 'liveness-request', timestamp: 1700000000123, peer: a }, 'Liveness Request:1700000000123:10.0.0.1:8080'],
  [
    { type: 'liveness-reply', timestamp: 1700000000123, peer: a, replier: b },
    'Liveness Reply:1700000000123:10.0.0.1:8080:127.0.0.1:9',
  ],
  [
    { type: 'gossip', text: '1700000000123:10.0.0.1:8080:4', timestamp: 1700000000123, origin: a, seq: 4 },
    'gossip:1700000000123:10.0.0.1:8080:4',
  ],
  [{ type: 'ihave', hash, origin: a }, `ihave:${hash}:10.0.0.1:8080`],
  [{ type: 'iwant', hash }, `iwant:${hash}`],
  [{ type: 'prune', origin: b }, 'prune:127.0.0.1:9'],
  [{ type: 'anchor' }, 'anchor'],
  [{ type: 'dead-node', peer: a, timestamp: 1700000000999, reporter: '127.0.0.1' }, 'Dead Node:10.0.0.1:8080:1700000000999:127.0.0.1'],
];

test('every message kind formats to the documented text and parses back', () => {
  for (const [message, text] of vocabulary) {
    assert.equal(formatMessage(message), text);
    assert.deepEqual(parseMessage(text), message);
  }
});

test('a frame is a 4-byte big-endian length and UTF-8 text', () => {
  assert.deepEqual([...encodeFrame('peer list')], [0, 0, 0, 9, ...Buffer.from('peer list')]);
  assert.deepEqual([...encodeFrame('')], [0, 0, 0, 0]);
  assert.throws(() => encodeFrame('x'.repeat(11), 10), (e) => e instanceof DecodeError && e.code === 'E_TOO_LARGE');
});

const stream = Buffer.concat(vocabulary.map(([, text]) => encodeFrame(text)));
const texts = vocabulary.map(([, text]) => text);

test('the decoder takes the stream whole, split at every byte, and one byte at a time', () => {
  assert.deepEqual(new FrameDecoder().push(stream), texts);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(got, texts, `split at ${cut}`);
    assert.equal(d.pending, 0);
  }
  const d = new FrameDecoder();
  const got: string[] = [];
  for (const byte of stream) got.push(...d.push(Uint8Array.of(byte)));
  assert.deepEqual(got, texts);
});

test('a multi-byte UTF-8 character split across chunks survives', () => {
  const frame = encodeFrame('gossip:é€');
  const d = new FrameDecoder();
  const got: string[] = [];
  for (const byte of frame) got.push(...d.push(Uint8Array.of(byte)));
  assert.deepEqual(got, ['gossip:é€']);
});

test('an oversized length is refused before its body is buffered, and the decoder stays failed', () => {
  const d = new FrameDecoder(16);
  assert.throws(() => d.push(Uint8Array.of(0, 0, 0, 17)), (e) => e instanceof DecodeError && e.code === 'E_TOO_LARGE');
  assert.throws(() => d.push(encodeFrame('ok')), DecodeError);
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), /exceeds/);
});

test('invalid UTF-8 in a frame is a DecodeError', () => {
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0, 0, 0, 2, 0xc3, 0x28)), (e) => e instanceof DecodeError && e.code === 'E_DECODE');
});

test('malformed messages are DecodeErrors naming the problem', () => {
  const bad = [
    '',
    'hello',
    'register:10.0.0.1',
    'register:10.0.0.256:80',
    'register:10.0.0.1:0',
    'register:10.0.0.1:65536',
    'register:10.0.0.1:80:extra',
    'registered successfully:-1',
    'registered successfully:1:0',
    'registered successfully:1:1001',
    'registered successfully:1:3:4',
    'id query:10.0.0.1',
    'id:5:4:1',
    'id:5:-:0',
    'id:x:4:1',
    'id:-1:4:1',
    'id:-:4:6',
    'id:1:2',
    'id:1',
    'peer list:10.0.0.1:80',
    'peer list:10.0.0.1#80#1#2',
    'peer list:10.0.0.1#80#x',
    'Liveness Request:abc:10.0.0.1:80',
    'gossip:1:10.0.0.1:80',
    `ihave:${hash}0:10.0.0.1:80`,
    `ihave:${hash}`,
    'prune',
    'anchor:1',
    'iwant:XYZ',
    'Dead Node:10.0.0.1:80:1',
    'constructor:1',
    '__proto__:1',
  ];
  for (const text of bad) assert.throws(() => parseMessage(text), DecodeError, JSON.stringify(text));
  const long = `peer list${':1.1.1.1#1'.repeat(11)}`;
  assert.throws(() => parseMessage(long, { maxFrameBytes: 1000, maxListEntries: 10 }), (e) => e instanceof DecodeError && e.code === 'E_TOO_LARGE');
});

test('config endpoints parse as IP:PORT', () => {
  assert.deepEqual(parseEndpoint(' 127.0.0.1:8080 '), { host: '127.0.0.1', port: 8080 });
  assert.throws(() => parseEndpoint('localhost:80'), DecodeError);
  assert.throws(() => parseEndpoint('127.0.0.1'), DecodeError);
});

test('fuzz: random bytes and mutated frames only ever raise DecodeError', () => {
  const random = mulberry32(0x90551b);
  const accept = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  };
  for (let round = 0; round < 3000; round++) {
    const mutated = Buffer.from(stream.subarray(0, 1 + Math.floor(random() * stream.length)));
    for (let i = 0; i < 4; i++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    const noise = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    for (const input of [mutated, noise]) {
      accept(() => {
        const d = new FrameDecoder(4096);
        for (let at = 0; at < input.length; at += 1 + Math.floor(random() * 7)) {
          for (const text of d.push(input.subarray(at, at + 7))) accept(() => parseMessage(text));
        }
      });
    }
    const text = texts[round % texts.length]!;
    const chars = [...text];
    chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 128));
    accept(() => parseMessage(chars.join('')));
  }
});
