import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/common/errors.js';
import {
  encodeRecord,
  formatRecord,
  localhostAsIpv4,
  parseRecord,
  peerListWithin,
  printable,
  pythonLogTime,
  whisperKey,
  type WhisperMessage,
} from '../../../src/gossip/whispernet/codec.js';
import { parseSeedConfig } from '../../../src/gossip/config.js';

const a = { host: 'localhost', port: 5001 };
const b = { host: '127.0.0.1', port: 5002 };

/** Every record, with the exact text the original puts on the wire (docs/whispernet.md) and whether it is padded. */
const vocabulary: [WhisperMessage, string, boolean][] = [
  [{ type: 'register', peer: a }, 'register:localhost:5001', false],
  [{ type: 'registered' }, 'registered successfully', false],
  [{ type: 'peer-list-request' }, 'peer list', false],
  [{ type: 'peer-list', peers: [] }, 'peer list:', false],
  [{ type: 'peer-list', peers: [a, b] }, 'peer list::localhost#5001:127.0.0.1#5002', false],
  [{ type: 'connection', peer: a }, 'Connection with Peer:localhost:5001', true],
  [{ type: 'gmessage', ts: '1764630614.1791234', origin: a, text: 'message 1' }, 'gmessage:1764630614.1791234:localhost:5001:message 1', true],
  [{ type: 'forwarding' }, 'forwarding', true],
  [{ type: 'liveness-request', ts: '1764630627.5', peer: a }, 'Liveness Request:1764630627.5:localhost:5001', true],
  [{ type: 'liveness-reply', ts: '1764630627.5', peer: a, replier: b }, 'Liveness Reply:1764630627.5:localhost:5001:127.0.0.1:5002', true],
  [{ type: 'dead-node', peer: b, ts: '1764630700.25', reporter: a }, 'Dead Node:127.0.0.1:5002:1764630700.25:localhost:5001', true],
];

test('every record: format, parse, round trip, and padding to 1024 bytes where the original pads', () => {
  for (const [message, text, padded] of vocabulary) {
    assert.equal(formatRecord(message), text);
    assert.deepEqual(parseRecord(text), message, text);
    const bytes = encodeRecord(message);
    if (padded) {
      assert.equal(bytes.length, 1024, text);
      assert.equal(bytes.toString().trimEnd(), text);
    } else assert.equal(bytes.toString(), text);
  }
});

test('a gmessage text keeps its colons and spaces; the one-colon peer list is read too', () => {
  assert.deepEqual(parseRecord('gmessage:1:127.0.0.1:9:a: b :c'), { type: 'gmessage', ts: '1', origin: { host: '127.0.0.1', port: 9 }, text: 'a: b :c' });
  assert.deepEqual(parseRecord('peer list:localhost#1'), { type: 'peer-list', peers: [{ host: 'localhost', port: 1 }] });
});

test('malformed records are DecodeErrors with the reason', () => {
  const bad: [string, RegExp][] = [
    ['register:example.com:1', /bad host/],
    ['register:localhost:0', /port out of range/],
    ['register:localhost:99999', /port out of range/],
    ['register:localhost', /expected 2 fields/],
    ['Liveness Request:1e9:localhost:1', /bad timestamp/],
    ['Dead Node:localhost:1:2:localhost', /expected 5 fields/],
    ['gmessage:1:localhost', /too few fields/],
    ['peer list::localhost#1#2', /bad peer list entry/],
    ['hello:1.2.3.4:5:6', /unknown record 'hello'/],
  ];
  for (const [text, reason] of bad) assert.throws(() => parseRecord(text), (e: unknown) => e instanceof DecodeError && reason.test(e.message), text);
});

test('keys: localhost is 127.0.0.1; config lines naming localhost are read', () => {
  assert.equal(whisperKey(a), '127.0.0.1:5001');
  assert.deepEqual(parseSeedConfig(localhostAsIpv4('localhost:5001\n  LOCALHOST:5002 # two\n127.0.0.1:5003\r\n')), [
    { host: '127.0.0.1', port: 5001 },
    { host: '127.0.0.1', port: 5002 },
    { host: '127.0.0.1', port: 5003 },
  ]);
});

test('a peer list answer fits the original peer\'s one read of 1024 bytes, in whole entries', () => {
  const many = Array.from({ length: 100 }, (_, i) => ({ host: 'localhost', port: 5000 + i }));
  const reply = peerListWithin(many, 1024);
  const bytes = encodeRecord(reply);
  assert.ok(bytes.length <= 1024 && bytes.length > 1000, `${bytes.length} bytes`);
  assert.deepEqual(parseRecord(bytes.toString()), reply);
  assert.equal(encodeRecord(peerListWithin(many.slice(0, 3), 1024)).toString(), 'peer list::localhost#5000:localhost#5001:localhost#5002');
});

test("the original's log time format, and escaped wire text", () => {
  assert.equal(pythonLogTime(Date.UTC(2026, 11, 1, 23, 10, 14, 179), true), '2026-12-01 23:10:14,179');
  assert.equal(pythonLogTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6), true), '2026-01-02 03:04:05,006');
  assert.match(pythonLogTime(Date.now()), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$/);
  assert.equal(printable('a\x1b[31mb\n'), 'a\\x1b[31mb\\x0a');
});
