import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DecodeError } from '../../../src/common/errors.js';
import { ackFor, decodeEnvelope, encodeEnvelope, verifyEnvelope, type Envelope } from '../../../src/broadcast/envelope.js';
import { MAX_BODY_BYTES } from '../../../src/broadcast/constants.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

const base = {
  kind: 'M' as const,
  session: '0123456789abcdef',
  seq: 7,
  timeUs: 1_700_000_000_123_456,
  name: 'master-1',
  body: Buffer.from('Hello, Nodes!'),
};

test('an unsigned envelope is an ASCII header line then the body, byte for byte', () => {
  const bytes = encodeEnvelope(base);
  assert.equal(bytes.toString('utf8'), 'WLB1 M 0123456789abcdef 7 1700000000123456 master-1 13 -\nHello, Nodes!');
});

test('a plain receiver (Python bytes.decode) sees readable text: the datagram is valid UTF-8', () => {
  const signed = encodeEnvelope({ ...base, body: Buffer.from('héllo ✓') }, keys.privateKey);
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(signed));
  assert.match(signed.toString('utf8'), /\nhéllo ✓$/);
});

test('round trip with random fields, signed and unsigned (property, seeded)', () => {
  const rand = mulberry32(20261121);
  const nameChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
  for (let i = 0; i < 500; i++) {
    const e: Omit<Envelope, 'signature'> = {
      kind: rand() < 0.5 ? 'M' : 'A',
      session: randomBytes(rand, 8).toString('hex'),
      seq: randomInt(rand, 0, Number.MAX_SAFE_INTEGER),
      timeUs: randomInt(rand, 0, Number.MAX_SAFE_INTEGER),
      name: Array.from({ length: randomInt(rand, 1, 64) }, () => nameChars[randomInt(rand, 0, nameChars.length - 1)]).join(''),
      body: randomBytes(rand, randomInt(rand, 0, 600)),
    };
    const signed = i % 2 === 0;
    const decoded = decodeEnvelope(encodeEnvelope(e, signed ? keys.privateKey : undefined));
    assert.deepEqual({ ...decoded, signature: undefined }, { ...e, signature: undefined });
    assert.equal(decoded.signature !== undefined, signed);
    assert.equal(verifyEnvelope(decoded, keys.publicKey), signed);
  }
});

test('a signature fails for another key, and for any altered byte', () => {
  const bytes = encodeEnvelope(base, keys.privateKey);
  assert.equal(verifyEnvelope(decodeEnvelope(bytes), keys.publicKey), true);
  assert.equal(verifyEnvelope(decodeEnvelope(bytes), other.publicKey), false);
  const rand = mulberry32(5);
  let altered = 0;
  for (let i = 0; i < 300; i++) {
    const copy = Buffer.from(bytes);
    const at = randomInt(rand, 0, copy.length - 1);
    copy[at] = copy[at]! ^ (1 << randomInt(rand, 0, 7));
    let e: Envelope;
    try {
      e = decodeEnvelope(copy);
    } catch (err) {
      assert.ok(err instanceof DecodeError);
      continue;
    }
    altered++;
    assert.equal(verifyEnvelope(e, keys.publicKey), false, `flip at byte ${at} still verified`);
  }
  assert.ok(altered > 50, 'many flips still decode and are caught by the signature');
});

test('malformed envelopes are typed errors with a reason', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['no newline', 'WLB1 M 0123456789abcdef 1 1 m 0 -', /no end/],
    ['too few fields', 'WLB1 M 0123456789abcdef 1 1 m -\n', /fields/],
    ['bad kind', 'WLB1 X 0123456789abcdef 1 1 m 0 -\n', /kind/],
    ['bad session', 'WLB1 M 0123 1 1 m 0 -\n', /session/],
    ['negative seq', 'WLB1 M 0123456789abcdef -1 1 m 0 -\n', /sequence/],
    ['leading zero', 'WLB1 M 0123456789abcdef 01 1 m 0 -\n', /sequence/],
    ['huge length', 'WLB1 M 0123456789abcdef 1 1 m 99999999 -\n', /limit/],
    ['short body', 'WLB1 M 0123456789abcdef 1 1 m 5 -\nabc', /header says 5/],
    ['long body', 'WLB1 M 0123456789abcdef 1 1 m 1 -\nabc', /header says 1/],
    ['bad name', 'WLB1 M 0123456789abcdef 1 1 m/x 0 -\n', /name/],
    ['bad signature', 'WLB1 M 0123456789abcdef 1 1 m 0 abc\n', /signature/],
    ['overlong header', Buffer.concat([Buffer.from('WLB1 '), Buffer.alloc(400, 0x41)]), /longer than/],
  ];
  for (const [what, input, reason] of cases) {
    assert.throws(
      () => decodeEnvelope(typeof input === 'string' ? Buffer.from(input) : input),
      (err: unknown) => err instanceof DecodeError && reason.test(err.message),
      what,
    );
  }
});

test('encode refuses what decode would refuse', () => {
  assert.throws(() => encodeEnvelope({ ...base, name: 'has space' }), DecodeError);
  assert.throws(() => encodeEnvelope({ ...base, body: Buffer.alloc(MAX_BODY_BYTES + 1) }), /limit/);
  assert.throws(() => encodeEnvelope({ ...base, seq: 1.5 }), DecodeError);
});

test('an acknowledgement names the message it acknowledges', () => {
  const ack = decodeEnvelope(ackFor({ session: base.session, seq: 9 }, 'node-3', 42));
  assert.deepEqual([ack.kind, ack.session, ack.seq, ack.name, ack.body.length], ['A', base.session, 9, 'node-3', 0]);
});

test('fuzz: random and mutated datagrams only ever raise DecodeError', () => {
  const rand = mulberry32(99);
  const valid = encodeEnvelope(base, keys.privateKey);
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    let input: Buffer;
    if (i % 3 === 0) input = randomBytes(rand, randomInt(rand, 0, 300));
    else if (i % 3 === 1) input = Buffer.concat([Buffer.from('WLB1 '), randomBytes(rand, randomInt(rand, 0, 300))]);
    else {
      input = Buffer.from(valid.subarray(0, randomInt(rand, 0, valid.length)));
      for (let f = randomInt(rand, 0, 3); f > 0 && input.length > 0; f--) input[randomInt(rand, 0, input.length - 1)] = randomInt(rand, 0, 255);
    }
    try {
      decodeEnvelope(input);
      decoded++;
    } catch (err) {
      assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
    }
  }
  assert.ok(decoded > 0, 'some mutated inputs are still valid envelopes');
});
