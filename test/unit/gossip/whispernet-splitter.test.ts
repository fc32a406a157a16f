import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/common/errors.js';
import { RecordSplitter, type Vocabulary } from '../../../src/gossip/whispernet/splitter.js';
import { encodeRecord, type WhisperMessage } from '../../../src/gossip/whispernet/codec.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';

const pad = (text: string, to = 1024): Buffer => Buffer.from(text.padEnd(to, ' '));

/**
 * The original's Connection with Peer: the template padded to 1024 first, then the address filled in,
 * so it goes out longer than 1024 bytes (recorded as 1031).
 */
const originalHello = Buffer.from('Connection with Peer:{}:{}'.padEnd(1024, ' ').replace('{}:{}', 'localhost:5001'));

/** A session between peers as the original writes it, and the records it holds. */
const linkStream: [Buffer, string][] = [
  [originalHello, 'Connection with Peer:localhost:5001'],
  [pad('gmessage:1764630614.1791234:localhost:5001:message 1'), 'gmessage:1764630614.1791234:localhost:5001:message 1'],
  [pad('forwarding'), 'forwarding'],
  [pad('Liveness Request:1764630627.5:localhost:5001'), 'Liveness Request:1764630627.5:localhost:5001'],
  [pad('Liveness Reply:1764630627.5:localhost:5002:localhost:5001'), 'Liveness Reply:1764630627.5:localhost:5002:localhost:5001'],
  // a text with spaces and colons, ending at the 1024-byte mark
  [pad('gmessage:1.0:127.0.0.1:9:a b  c: d'), 'gmessage:1.0:127.0.0.1:9:a b  c: d'],
];

/** What a seed reads: bare registration, bare request, padded report. */
const seedStream: [Buffer, string][] = [
  [Buffer.from('register:localhost:5001'), 'register:localhost:5001'],
  [Buffer.from('peer list'), 'peer list'],
  [pad('Dead Node:localhost:5002:1764630700.25:localhost:5001'), 'Dead Node:localhost:5002:1764630700.25:localhost:5001'],
  [Buffer.from('register:127.0.0.1:5003'), 'register:127.0.0.1:5003'],
];

const replyStream: [Buffer, string][] = [
  [Buffer.from('registered successfully'), 'registered successfully'],
  [Buffer.from('peer list::localhost#5001:127.0.0.1#5002'), 'peer list::localhost#5001:127.0.0.1#5002'],
];

/** Feed `pieces`, then end the stream; every record in order. */
function split(vocabulary: Vocabulary, pieces: Buffer[]): string[] {
  const s = new RecordSplitter(vocabulary);
  const out: string[] = [];
  for (const p of pieces) out.push(...s.push(p));
  out.push(...s.flush(true));
  return out;
}

function checkEverySplit(vocabulary: Vocabulary, stream: [Buffer, string][]): void {
  const whole = Buffer.concat(stream.map(([b]) => b));
  const expected = stream.map(([, t]) => t);
  assert.deepEqual(split(vocabulary, [whole]), expected, 'whole');
  for (let i = 0; i <= whole.length; i += 1) {
    assert.deepEqual(split(vocabulary, [whole.subarray(0, i), whole.subarray(i)]), expected, `split at ${i}`);
  }
  const bytes = [...whole].map((b) => Buffer.of(b));
  assert.deepEqual(split(vocabulary, bytes), expected, 'one byte at a time');
}

test('records merged in one read and split across reads come out the same, at every split', () => {
  checkEverySplit('link', linkStream);
  checkEverySplit('seed', seedStream);
  checkEverySplit('seed-reply', replyStream);
});

test('a record ending in a port ends at the next byte, or at a pause; a gmessage only at its padding', () => {
  const s = new RecordSplitter('seed');
  assert.deepEqual(s.push(Buffer.from('register:localhost:50')), []);
  assert.equal(s.waiting, true, 'a pause may end it');
  assert.deepEqual(s.push(Buffer.from('01peer list')), ['register:localhost:5001', 'peer list'], 'the next record ends it');
  assert.deepEqual(s.push(Buffer.from('register:localhost:5002')), []);
  assert.deepEqual(s.flush(), ['register:localhost:5002'], 'the quiet pause ends it');

  const link = new RecordSplitter('link');
  assert.deepEqual(link.push(Buffer.from('gmessage:1.5:localhost:5001:message 1   ')), []);
  assert.equal(link.waiting, false, 'a pause does not cut a text, whose end is the padding');
  assert.deepEqual(link.flush(), []);
  assert.deepEqual(link.push(Buffer.alloc(1024 - 40, ' ')), ['gmessage:1.5:localhost:5001:message 1']);
  assert.deepEqual(link.push(Buffer.from('Connection with Peer:localhost:5001 ')), ['Connection with Peer:localhost:5001'], 'padding begun: complete at once');
});

test('the empty peer list and the tolerated one-colon form', () => {
  assert.deepEqual(split('seed-reply', [Buffer.from('peer list:')]), ['peer list:']);
  assert.deepEqual(split('seed-reply', [Buffer.from('peer list: registered successfully')]), ['peer list:', 'registered successfully']);
  assert.deepEqual(split('seed-reply', [Buffer.from('peer list:localhost#1:localhost#2   ')]), ['peer list:localhost#1:localhost#2']);
});

/** Throws a DecodeError with this code (and nothing else). */
function rejects(vocabulary: Vocabulary, input: Buffer | string, code: string, message?: RegExp): void {
  const s = new RecordSplitter(vocabulary);
  assert.throws(
    () => {
      s.push(typeof input === 'string' ? Buffer.from(input) : input);
      s.flush(true);
    },
    (err: unknown) => err instanceof DecodeError && err.code === code && (message === undefined || message.test(err.message)),
  );
  assert.throws(() => s.push(Buffer.from(' ')), DecodeError, 'the splitter stays failed');
}

test('limits and malformed records: typed errors, checked before anything is stored', () => {
  rejects('link', 'HTTP/1.1 200 OK', 'E_DECODE', /unknown record starting 'H'/);
  rejects('link', 'gmessage\x00', 'E_DECODE', /unknown record starting 'gmessage\\x00'/);
  rejects('seed', 'register:localhost:5001:', 'E_DECODE');
  rejects('seed', 'register::5001', 'E_DECODE', /empty host/);
  rejects('seed', `register:${'a'.repeat(65)}:1`, 'E_TOO_LARGE');
  rejects('seed', 'register:localhost:123456', 'E_TOO_LARGE');
  rejects('link', Buffer.alloc(64 * 1024 + 1, ' '), 'E_TOO_LARGE', /padding/);
  rejects('link', 'Liveness Request:1.5:local', 'E_TRUNCATED', /ended inside/);
  rejects('link', Buffer.concat([Buffer.from('gmessage:1:localhost:1:'), Buffer.from([0xc3, 0x28]), Buffer.alloc(1000, ' ')]), 'E_DECODE', /UTF-8/);
  rejects('seed-reply', `peer list:${':localhost#1'.repeat(4097)} `, 'E_TOO_LARGE', /entries/);
  rejects('seed-reply', 'peer list::localhost# ', 'E_DECODE', /empty port/);
  rejects('seed-reply', 'peer list::localhost#', 'E_TRUNCATED');
  rejects('seed-reply', 'peer list::#5', 'E_DECODE', /empty host/);
  rejects('seed-reply', 'registered successfully:7', 'E_DECODE', /unknown record starting ':'/);
});

test('a gmessage longer than the block is cut at 1024 bytes and its rest is not taken for a record', () => {
  const long = `gmessage:1:localhost:1:${'x'.repeat(1100)}`;
  const s = new RecordSplitter('link');
  assert.throws(() => s.push(Buffer.from(long)), (e: unknown) => e instanceof DecodeError && /unknown record/.test(e.message));
});

test('fuzz: seeded random bytes and mutated sessions raise only DecodeError, in any split', () => {
  const rand = mulberry32(0x57_15_9e);
  const valid = [linkStream, seedStream, replyStream].map((s) => Buffer.concat(s.map(([b]) => b)));
  const vocabularies: Vocabulary[] = ['link', 'seed', 'seed-reply'];
  for (let round = 0; round < 1500; round++) {
    const which = round % 3;
    let input: Buffer;
    if (round % 2 === 0) input = randomBytes(rand, randomInt(rand, 0, 3000));
    else {
      input = Buffer.from(valid[which]!);
      for (let k = randomInt(rand, 1, 4); k > 0; k--) input[randomInt(rand, 0, input.length - 1)] = randomInt(rand, 0, 255);
    }
    const s = new RecordSplitter(vocabularies[which]!);
    try {
      for (let at = 0; at < input.length; ) {
        const n = randomInt(rand, 1, 700);
        for (const record of s.push(input.subarray(at, at + n))) assert.equal(typeof record, 'string');
        at += n;
      }
      s.flush(true);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
});

test('property: random sessions of valid records, randomly padded and split, give back every record', () => {
  const rand = mulberry32(1024);
  const host = (): string => (rand() < 0.5 ? 'localhost' : `127.0.0.${randomInt(rand, 1, 254)}`);
  const ep = (): { host: string; port: number } => ({ host: host(), port: randomInt(rand, 1, 65535) });
  const ts = (): string => (1_764_630_000 + rand() * 1000).toFixed(randomInt(rand, 0, 7)).replace(/\.$/, '');
  const makers: (() => WhisperMessage)[] = [
    () => ({ type: 'connection', peer: ep() }),
    () => ({ type: 'gmessage', ts: ts(), origin: ep(), text: `message ${randomInt(rand, 1, 10)}: ${'z '.repeat(randomInt(rand, 0, 20))}end` }),
    () => ({ type: 'forwarding' }),
    () => ({ type: 'liveness-request', ts: ts(), peer: ep() }),
    () => ({ type: 'liveness-reply', ts: ts(), peer: ep(), replier: ep() }),
  ];
  for (let round = 0; round < 60; round++) {
    const records = Array.from({ length: randomInt(rand, 1, 12) }, () => makers[randomInt(rand, 0, makers.length - 1)]!());
    const bytes = Buffer.concat(records.map((r) => Buffer.concat([encodeRecord(r), Buffer.alloc(randomInt(rand, 0, 9), ' ')])));
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const n = randomInt(rand, 1, 1500);
      pieces.push(bytes.subarray(at, at + n));
      at += n;
    }
    const expected = records.map((r) => encodeRecord(r).toString().trimEnd());
    assert.deepEqual(split('link', pieces), expected);
  }
});
