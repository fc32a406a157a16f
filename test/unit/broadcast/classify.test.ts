import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { classifyDatagram, type ClassifyContext } from '../../../src/broadcast/classify.js';
import { encodeEnvelope, ackFor } from '../../../src/broadcast/envelope.js';
import { ReplayWindow, SessionWindows } from '../../../src/broadcast/replay.js';

const master = generateKeyPairSync('ed25519');
const intruder = generateKeyPairSync('ed25519');
const NOW_MS = 1_800_000_000_000;

function message(seq: number, opts: { key?: typeof master.privateKey; timeMs?: number; session?: string; text?: string } = {}): Buffer {
  return encodeEnvelope(
    {
      kind: 'M',
      session: opts.session ?? 'aaaaaaaaaaaaaaaa',
      seq,
      timeUs: (opts.timeMs ?? NOW_MS) * 1000,
      name: 'master',
      body: Buffer.from(opts.text ?? `message ${seq}`),
    },
    opts.key,
  );
}

function ctx(trusting: boolean): ClassifyContext {
  return { nowMs: NOW_MS, trust: trusting ? master.publicKey : undefined, maxSkewMs: 30_000, maxDatagram: 8192, windows: new SessionWindows(), source: '198.18.0.1' };
}

test('a trusting node accepts the master and rejects forged, unsigned, replayed and stale messages', () => {
  const c = ctx(true);
  const good = message(1, { key: master.privateKey });
  assert.equal(classifyDatagram(good, c).kind, 'message');
  const verdicts = {
    replayed: classifyDatagram(good, c),
    forged: classifyDatagram(message(2, { key: intruder.privateKey }), c),
    unsigned: classifyDatagram(message(3), c),
    plain: classifyDatagram(Buffer.from('Hello, Nodes!'), c),
    stale: classifyDatagram(message(4, { key: master.privateKey, timeMs: NOW_MS - 60_000 }), c),
    future: classifyDatagram(message(5, { key: master.privateKey, timeMs: NOW_MS + 60_000 }), c),
  };
  const reasons = Object.fromEntries(Object.entries(verdicts).map(([k, v]) => [k, v.kind === 'rejected' ? v.reason : v.kind]));
  assert.match(reasons.replayed!, /replayed/);
  assert.match(reasons.forged!, /bad signature/);
  assert.match(reasons.unsigned!, /unsigned envelope/);
  assert.match(reasons.plain!, /unsigned plain-text/);
  assert.match(reasons.stale!, /time skew of 60\.0 s/);
  assert.match(reasons.future!, /time skew/);
  // A message altered in flight: body changed, signature kept.
  const altered = Buffer.from(message(6, { key: master.privateKey, text: 'pay alice' }).toString('latin1').replace('pay alice', 'pay mally'), 'latin1');
  const v = classifyDatagram(altered, c);
  assert.equal(v.kind === 'rejected' && v.reason, 'bad signature (forged or altered)');
  // Rejected messages do not burn sequence numbers: the genuine seq 2 still gets through.
  assert.equal(classifyDatagram(message(2, { key: master.privateKey }), c).kind, 'message');
});

test('an open node shows plain text, drops duplicates, and names what it cannot read', () => {
  const c = ctx(false);
  const m = message(1);
  assert.equal(classifyDatagram(m, c).kind, 'message');
  assert.equal(classifyDatagram(m, c).kind, 'duplicate');
  const plain = classifyDatagram(Buffer.from('Hello from python'), c);
  assert.deepEqual(plain, { kind: 'plain', text: 'Hello from python' });
  const binary = classifyDatagram(Buffer.from([0xff, 0xfe, 0x00, 0x01]), c);
  assert.equal(binary.kind, 'invalid');
  const big = classifyDatagram(Buffer.alloc(9000, 0x41), c);
  assert.deepEqual(big.kind === 'invalid' && [big.oversized, /oversized datagram: 9000 bytes/.test(big.reason)], [true, true]);
  const broken = classifyDatagram(Buffer.from('WLB1 M nonsense'), c);
  assert.equal(broken.kind === 'invalid' && broken.reason.startsWith('malformed envelope'), true);
  assert.equal(classifyDatagram(ackFor({ session: 'aaaaaaaaaaaaaaaa', seq: 1 }, 'n', 1), c).kind, 'ack');
});

test('replay window: new, duplicate and too old, across the window edge (RFC 4303 style)', () => {
  const w = new ReplayWindow(8);
  assert.equal(w.accept(5), 'new');
  assert.equal(w.accept(5), 'duplicate');
  assert.equal(w.accept(3), 'new', 'late but inside the window');
  assert.equal(w.accept(3), 'duplicate');
  assert.equal(w.accept(12), 'new');
  assert.equal(w.check(5), 'duplicate', '5 is still inside the window (12-5 < 8) and remembered');
  assert.equal(w.check(11), 'new', 'the slot seq 3 used was cleared when the window moved');
  assert.equal(w.accept(4), 'too-old');
  assert.equal(w.accept(100), 'new', 'a jump wider than the window clears it');
  assert.equal(w.accept(99), 'new');
  assert.equal(w.accept(100), 'duplicate');
  assert.equal(w.accept(92), 'too-old');
});

test('replay window agrees with a naive set model on random sequences', () => {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const w = new ReplayWindow(32);
  const seen = new Set<number>();
  let highest = 0;
  for (let i = 0; i < 5000; i++) {
    const seq = Math.max(1, highest + Math.floor(rand() * 40) - 30);
    const expected = seq > highest ? 'new' : highest - seq >= 32 ? 'too-old' : seen.has(seq) ? 'duplicate' : 'new';
    assert.equal(w.accept(seq), expected, `seq ${seq} after highest ${highest}`);
    if (expected === 'new') {
      seen.add(seq);
      highest = Math.max(highest, seq);
    }
  }
});

test('session windows are bounded: the least recently used session is forgotten', () => {
  const s = new SessionWindows(2, 16);
  s.accept('a', 1);
  s.accept('b', 1);
  s.accept('a', 2);
  s.accept('c', 1); // evicts b
  assert.equal(s.size, 2);
  assert.equal(s.check('a', 1), 'duplicate');
  assert.equal(s.check('b', 1), 'new', 'b was forgotten');
});
