import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecureChannel, parseKeyring, type Keyring } from '../../../src/gossip/secure.js';
import { FrameDecoder } from '../../../src/gossip/protocol.js';
import { isWirelabError } from '../../../src/common/errors.js';
import { mulberry32 } from '../../helpers/random.js';

const ring = (...keys: Buffer[]): Keyring => ({ primary: keys[0]!, keys });

/** Two channels that exchanged preambles. */
function pair(a: Keyring, b: Keyring): [SecureChannel, SecureChannel] {
  const x = new SecureChannel(a);
  const y = new SecureChannel(b);
  assert.equal(y.acceptPreamble(x.preamble)?.length, 0);
  assert.equal(x.acceptPreamble(y.preamble)?.length, 0);
  return [x, y];
}

const bodyOf = (frame: Buffer): Buffer => frame.subarray(4);

test('keyring file: base64 or hex keys, first is primary; anything else is refused by line', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const parsed = parseKeyring(`# network key\n${k1.toString('base64')}\n\n${k2.toString('hex')}  # old\n`);
  assert.ok(parsed.primary.equals(k1));
  assert.equal(parsed.keys.length, 2);
  assert.throws(() => parseKeyring('short'), /line 1: not a 32-byte key/);
  assert.throws(() => parseKeyring('# nothing\n'), /no key/);
});

test('frames round-trip both ways, nonces advance, and the ciphertext is not the text', () => {
  const key = randomBytes(32);
  const [x, y] = pair(ring(key), ring(key));
  for (let i = 0; i < 3; i++) {
    const body = Buffer.from(`gossip:1:10.0.0.1:7000:${i}`);
    const frame = x.seal(body);
    assert.equal(frame.readUInt32BE(0), body.length + 16);
    assert.ok(!frame.includes(body), 'encrypted');
    assert.deepEqual(y.open(bodyOf(frame)), body);
    assert.deepEqual(x.open(bodyOf(y.seal(body))), body);
  }
  // The same text twice gives two different frames: the nonce moved on.
  assert.notDeepEqual(x.seal(Buffer.from('a')), x.seal(Buffer.from('a')));
});

test('tampering, replay on another connection, reordering, a stranger and an unknown key all fail', () => {
  const key = randomBytes(32);
  const [x, y] = pair(ring(key), ring(key));
  const f1 = x.seal(Buffer.from('register:10.0.0.1:7000'));
  const tampered = Buffer.from(f1);
  tampered[6]! ^= 1;
  assert.throws(() => y.open(bodyOf(tampered)), /authentication/);
  // A recorded frame replayed onto a fresh connection (new salts, new session keys).
  const [, y2] = pair(ring(key), ring(key));
  assert.throws(() => y2.open(bodyOf(f1)), /authentication/);
  // Reordered: the second frame opened first.
  const [p, q] = pair(ring(key), ring(key));
  p.seal(Buffer.from('one'));
  const two = p.seal(Buffer.from('two'));
  assert.throws(() => q.open(bodyOf(two)), /authentication/);
  // A stranger speaking plain frames.
  const z = new SecureChannel(ring(key));
  assert.throws(() => z.acceptPreamble(Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from('peer list'), Buffer.alloc(20)])), /no network-key preamble/);
  // A key not in the ring.
  const w = new SecureChannel(ring(key));
  assert.throws(() => w.acceptPreamble(new SecureChannel(ring(randomBytes(32))).preamble), /not in our keyring/);
});

test('rotation: an old key still accepted as secondary lets old and new primaries talk', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const [x, y] = pair(ring(newKey, oldKey), ring(oldKey, newKey));
  assert.deepEqual(y.open(bodyOf(x.seal(Buffer.from('hi')))), Buffer.from('hi'));
  assert.deepEqual(x.open(bodyOf(y.seal(Buffer.from('ho')))), Buffer.from('ho'));
  assert.throws(() => new SecureChannel(ring(newKey)).acceptPreamble(new SecureChannel(ring(oldKey)).preamble), /not in our keyring/);
});

test('fuzz: random bytes after the preamble only ever raise DecodeError', () => {
  const key = randomBytes(32);
  const random = mulberry32(13);
  for (let round = 0; round < 200; round++) {
    const [x, y] = pair(ring(key), ring(key));
    const decoder = new FrameDecoder(1024 + 16);
    const frame = x.seal(Buffer.from('gossip:1:10.0.0.1:7000:1'));
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    const stream = round % 2 === 0 ? Buffer.concat([frame, junk]) : Buffer.concat([frame.subarray(0, 4 + Math.floor(random() * (frame.length - 4))), junk]);
    try {
      for (let at = 0; at < stream.length; at++) for (const sealed of decoder.pushRaw(stream.subarray(at, at + 1))) y.open(sealed);
    } catch (err) {
      assert.ok(isWirelabError(err), String(err));
    }
  }
});
