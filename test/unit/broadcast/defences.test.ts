/**
 * The node's defences as pure code (issue 13, broadcast 2, 3, 4, 5, 7): the replay window's bounded
 * jump and snapshots, unsigned windows keyed by sender, the refusal of signed messages sent before a
 * restart, the acknowledgement gate, the rate limiter, escaping wire text and cutting UTF-8 whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { classifyDatagram, type ClassifyContext } from '../../../src/broadcast/classify.js';
import { encodeEnvelope } from '../../../src/broadcast/envelope.js';
import { ReplayWindow, SessionWindows } from '../../../src/broadcast/replay.js';
import { AckGate } from '../../../src/broadcast/ack-gate.js';
import { RateLimiter } from '../../../src/broadcast/rate-limit.js';
import { fitUtf8 } from '../../../src/broadcast/text.js';
import { escapeControl as escapeControls } from '../../../src/common/format.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';

const NOW_MS = 1_800_000_000_000;
const SESSION = 'aaaaaaaaaaaaaaaa';
const keys = generateKeyPairSync('ed25519');

const envelope = (seq: number, opts: { signed?: boolean; timeMs?: number; session?: string } = {}): Buffer =>
  encodeEnvelope(
    { kind: 'M', session: opts.session ?? SESSION, seq, timeUs: (opts.timeMs ?? NOW_MS) * 1000, name: 'master', body: Buffer.from(`m${seq}`) },
    opts.signed ? keys.privateKey : undefined,
  );

const open = (windows = new SessionWindows()) => (source: string): ClassifyContext => ({
  nowMs: NOW_MS, trust: undefined, maxSkewMs: 30_000, maxDatagram: 8192, windows, source,
});

test('unsigned: a forged seq 2^53-1 from another address cannot touch the genuine sender\'s window', () => {
  const ctx = open();
  assert.equal(classifyDatagram(envelope(1), ctx('198.18.0.1')).kind, 'message');
  assert.equal(classifyDatagram(envelope(Number.MAX_SAFE_INTEGER), ctx('198.18.0.66')).kind, 'message');
  assert.equal(classifyDatagram(envelope(2), ctx('198.18.0.1')).kind, 'message');
  assert.equal(classifyDatagram(envelope(2), ctx('198.18.0.1')).kind, 'duplicate');
});

test('unsigned: from the sender\'s own address, a jump past the bound is shown but does not move the window', () => {
  const ctx = open()('198.18.0.1');
  assert.equal(classifyDatagram(envelope(1), ctx).kind, 'message');
  assert.equal(classifyDatagram(envelope(Number.MAX_SAFE_INTEGER), ctx).kind, 'message');
  for (let seq = 2; seq <= 5; seq++) assert.equal(classifyDatagram(envelope(seq), ctx).kind, 'message', `genuine ${seq}`);
  assert.equal(classifyDatagram(envelope(5), ctx).kind, 'duplicate', 'the window still works');
});

test('replay window: a jump is recorded only when a second one follows close above it (a genuine gap)', () => {
  const w = new ReplayWindow(64);
  assert.equal(w.accept(1, 100), 'new');
  assert.equal(w.accept(1000, 100), 'jump');
  assert.equal(w.accept(2, 100), 'new');
  assert.equal(w.accept(1001, 100), 'jump', 'the last pending jump was 1000, and 2 came between');
  assert.equal(w.accept(1002, 100), 'new', 'two in a row close together: the sender really moved on');
  assert.equal(w.accept(1002, 100), 'duplicate');
  assert.equal(w.accept(1001, 100), 'new', 'inside the window now');
});

test('replay windows survive a snapshot and restore, bit for bit', () => {
  const a = new SessionWindows(8, 64);
  for (const seq of [1, 2, 5, 70, 68]) a.accept('s1', seq);
  a.accept('s2', 3);
  const b = new SessionWindows(8, 64);
  assert.equal(b.restore(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<typeof a.snapshot>), 2);
  for (const seq of [1, 5, 6, 67, 68, 69, 70, 71]) assert.equal(b.check('s1', seq), a.check('s1', seq), `seq ${seq}`);
  assert.equal(b.check('s2', 3), 'duplicate');
  assert.equal(b.restore({ bad: { highest: -1, seen: '' } }), 0, 'a malformed entry is skipped');
});

test('signed: a message sent before the node started is refused unless its session is remembered', () => {
  const windows = new SessionWindows();
  const ctx: ClassifyContext = { nowMs: NOW_MS, trust: keys.publicKey, maxSkewMs: 30_000, maxDatagram: 8192, windows, source: '198.18.0.1', notBeforeUs: NOW_MS * 1000 };
  const before = classifyDatagram(envelope(1, { signed: true, timeMs: NOW_MS - 5_000 }), ctx);
  assert.equal(before.kind === 'rejected' && before.reason, 'sent before this node started (a replay across a restart?)');
  assert.equal(classifyDatagram(envelope(2, { signed: true }), ctx).kind, 'message');
  assert.equal(classifyDatagram(envelope(1, { signed: true, timeMs: NOW_MS - 5_000 }), ctx).kind, 'message', 'known session: the window decides');
});

test('the ack gate: unanswerable sources, size, strangers\' plain text, rate', () => {
  const gate = new AckGate(new Set(['198.18.0.255']), 10, 5, 16);
  const base = { address: '198.18.0.7', port: 40000, format: 'envelope' as const, inBytes: 80, ackBytes: 60, nowMs: 0 };
  for (const [address, port] of [['198.18.0.7', 0], ['0.0.0.0', 1], ['255.255.255.255', 1], ['224.0.0.1', 1], ['198.18.0.255', 1]] as const) {
    assert.equal(gate.refuse({ ...base, address, port }), 'unanswerable source', `${address}:${port}`);
  }
  assert.equal(gate.refuse({ ...base, inBytes: 1 }), 'larger than the datagram');
  assert.equal(gate.refuse({ ...base, format: 'plain' }), 'plain text from a stranger');
  gate.spokeProtocol('198.18.0.7');
  assert.equal(gate.refuse({ ...base, format: 'plain' }), undefined);
  const answered = Array.from({ length: 10 }, () => gate.refuse(base)).filter((r) => r === undefined).length;
  assert.equal(answered, 4, 'burst of 5, one already taken');
  assert.equal(gate.refuse({ ...base, nowMs: 1000 }), undefined, 'refilled at 10/s');
});

test('rate limiter: buckets refill at the rate, hold at most the burst, and are bounded in number', () => {
  const r = new RateLimiter(2, 3, 2);
  assert.deepEqual([1, 2, 3, 4].map(() => r.take('a', 0)), [true, true, true, false]);
  assert.equal(r.take('a', 500), true, 'one token after 500 ms at 2/s');
  assert.equal(r.take('a', 500), false);
  r.take('b', 0);
  r.take('c', 0);
  assert.equal(r.size, 2);
});

test('wire text is escaped for the terminal: ESC/OSC, C1, CR, LF and DEL; tab and UTF-8 kept', () => {
  assert.equal(escapeControls('\x1b]0;pwned\x07red\x1b[31m\r\nok\tdone\x7f\u009b2J é ✓'), '\\x1b]0;pwned\\x07red\\x1b[31m\\x0d\\x0aok\tdone\\x7f\\x9b2J é ✓');
  assert.equal(escapeControls('a\u2028b'), 'a\\u2028b');
});

test('fitUtf8 never cuts a character', () => {
  assert.equal(fitUtf8('abc', 1024), 'abc');
  const text = 'é'.repeat(600); // 1200 bytes
  const fitted = fitUtf8(text, 1023);
  assert.equal(Buffer.byteLength(fitted), 1022);
  assert.equal(fitted, 'é'.repeat(511));
  assert.equal(fitUtf8('a✓', 3), 'a', 'a three-byte character that does not fit is left out whole');
  assert.equal(fitUtf8('😀', 3), '');
});

test('fuzz: classifying random and mutated datagrams never throws, open or trusting (seeded)', () => {
  const rand = mulberry32(1313);
  const genuine = envelope(1, { signed: true });
  const windows = new SessionWindows(16, 64);
  const kinds = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    let datagram: Buffer;
    if (i % 3 === 0) datagram = randomBytes(rand, randomInt(rand, 0, 300));
    else {
      datagram = Buffer.from(genuine);
      for (let k = randomInt(rand, 1, 4); k > 0; k--) datagram[randomInt(rand, 0, datagram.length - 1)] = randomInt(rand, 0, 255);
      if (i % 7 === 0) datagram = datagram.subarray(0, randomInt(rand, 0, datagram.length));
    }
    const ctx: ClassifyContext = {
      nowMs: NOW_MS, trust: i % 2 === 0 ? keys.publicKey : undefined, maxSkewMs: 30_000, maxDatagram: 8192, windows,
      source: `198.18.0.${i % 5}`, notBeforeUs: NOW_MS * 1000 - 1,
    };
    kinds.add(classifyDatagram(datagram, ctx).kind);
  }
  assert.ok(kinds.has('invalid') && kinds.has('rejected'), [...kinds].join(', '));
});
