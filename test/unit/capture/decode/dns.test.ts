import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/common/errors.js';
import { DEFAULT_DECODE_LIMITS } from '../../../../src/capture/decode/constants.js';
import { decodeDns, dnsInfo } from '../../../../src/capture/decode/dns.js';
import { DNS_QUERY, hex } from './fixtures.js';

const decode = (b: Buffer) => decodeDns(b, 0, b.length, DEFAULT_DECODE_LIMITS);

/** A response to DNS_QUERY with one record of each common type; names compressed against offset 12. */
const RESPONSE = `
  1a 2b  81 80                # id, flags: response, RD, RA, no error
  00 01  00 08  00 00  00 00  # 1 question, 8 answers
  07 65 78 61 6d 70 6c 65 03 63 6f 6d 00  00 01 00 01   # example.com A IN (offset 12)
  c0 0c  00 01 00 01  00 00 0e 10  00 04  5d b8 d8 22   # A 93.184.216.34, ttl 3600
  c0 0c  00 1c 00 01  00 00 0e 10  00 10  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # AAAA
  03 77 77 77 c0 0c  00 05 00 01  00 00 00 3c  00 02  c0 0c   # www.example.com CNAME example.com
  c0 0c  00 02 00 01  00 00 00 3c  00 06  03 6e 73 31 c0 0c   # NS ns1.example.com
  c0 0c  00 0f 00 01  00 00 00 3c  00 09  00 0a 04 6d 61 69 6c c0 0c   # MX 10 mail.example.com
  c0 0c  00 10 00 01  00 00 00 3c  00 06  02 68 69 02 79 6f   # TXT "hi" "yo"
  c0 0c  00 0c 00 01  00 00 00 3c  00 02  c0 0c   # PTR example.com
  c0 0c  00 21 00 01  00 00 00 3c  00 08  00 01 00 02 00 35 c0 0c   # SRV 1 2 53 example.com
`;

test('DNS query: header and question', () => {
  const msg = decode(hex(DNS_QUERY));
  assert.equal(msg.id, 0x1a2b);
  assert.equal(msg.response, false);
  assert.deepEqual(msg.questions, [{ name: 'example.com', type: 1, class: 1 }]);
  assert.equal(dnsInfo(msg), 'Standard query 0x1a2b A example.com');
});

test('DNS response: compressed names and A, AAAA, CNAME, NS, MX, TXT, PTR, SRV data', () => {
  const msg = decode(hex(RESPONSE));
  assert.equal(msg.response, true);
  assert.deepEqual(
    msg.answers.map((a) => [a.name, a.type, a.ttl, a.data]),
    [
      ['example.com', 1, 3600, '93.184.216.34'],
      ['example.com', 28, 3600, '2001:db8::1'],
      ['www.example.com', 5, 60, 'example.com'],
      ['example.com', 2, 60, 'ns1.example.com'],
      ['example.com', 15, 60, '10 mail.example.com'],
      ['example.com', 16, 60, '"hi" "yo"'],
      ['example.com', 12, 60, 'example.com'],
      ['example.com', 33, 60, '1 2 53 example.com'],
    ],
  );
  assert.match(dnsInfo(msg), /^Standard query response 0x1a2b A example.com A 93.184.216.34 AAAA 2001:db8::1 CNAME example.com/);
});

test('DNS error responses and other opcodes are named; SOA and unknown types have data', () => {
  const msg = decode(hex(`
    00 07  81 83  00 01 00 00 00 02 00 00
    03 6e 6f 70 00  00 01 00 01          # nop A IN
    00  00 06 00 01  00 00 00 3c  00 06  01 61 00  01 62 00   # <Root> SOA a b (serials cut: 6 bytes)
    00  00 63 00 01  00 00 00 3c  00 02  ab cd                # TYPE99, 2 bytes
  `));
  assert.equal(dnsInfo(msg), 'Standard query response 0x0007 No such name A nop');
  assert.equal(msg.authorities[0]!.data, 'a b');
  assert.equal(msg.authorities[1]!.data, '2 bytes');
  assert.equal(msg.authorities[0]!.name, '<Root>');
  const update = decode(hex('00 01 28 00 00 00 00 00 00 00 00 00'));
  assert.equal(dnsInfo(update), 'Dynamic update 0x0001');
});

/** Decode and expect a DecodeError whose message matches `re`. */
/** Damage stops the entries: the error is kept in `damage` (the walk throws it), the header stays. */
function rejects(b: Buffer, re: RegExp): void {
  const msg = b.length < 12 ? undefined : decode(b);
  if (msg === undefined) assert.throws(() => decode(b), (err: unknown) => err instanceof DecodeError && re.test(err.message));
  else assert.ok(msg.damage instanceof DecodeError && re.test(msg.damage.message), `${String(msg.damage)} should match ${re}`);
}

test('DNS compression loops are caught: self pointer, forward pointer, two names pointing at each other', () => {
  const header = '00 01 01 00 00 01 00 00 00 00 00 00';
  rejects(hex(header + 'c0 0c 00 01 00 01'), /does not point backwards/);
  rejects(hex(header + 'c0 0e 00 01 00 01 00'), /does not point backwards/);
  // two pointers pointing at each other (12 -> 14 -> 12): the first one already points forwards
  rejects(hex(header + 'c0 0e c0 0c 00 01 00 01'), /does not point backwards/);
  // a label whose bytes hide a pointer back to itself: backwards each time, bounded by the name length limit
  rejects(hex(header + '01 61 c0 0c 00 01 00 01'), /does not point backwards/);
});

test('DNS limits: pointer count, name length, label type, counts, record lengths', () => {
  const header = '00 01 01 00 00 01 00 00 00 00 00 00';
  // "c.b.a" needs two pointers (see the next test); with a limit of one it is refused
  const chain = hex(`00 01 01 00 00 03 00 00 00 00 00 00  01 61 00 00 01 00 01  01 62 c0 0c 00 01 00 01  01 63 c0 13 00 01 00 01`);
  const damage = decodeDns(chain, 0, chain.length, { ...DEFAULT_DECODE_LIMITS, maxDnsPointers: 1 }).damage;
  assert.ok(damage instanceof DecodeError && damage.code === 'E_TOO_LARGE' && /more than 1 compression pointers/.test(damage.message));
  const long = ('3f ' + '61 '.repeat(63)).repeat(5) + '00';
  rejects(hex(header + long + ' 00 01 00 01'), /name longer than 255 bytes/);
  rejects(hex(header + '41 61 00 00 01 00 01'), /label type 0x40/);
  rejects(hex('00 01 81 00 00 00 00 01 00 00 00 00  00 00 01 00 01 00 00 00 3c 00 03 01 02 03'), /A record length 3/);
  rejects(hex(DNS_QUERY).subarray(0, 20), /truncated/);
});

test('DNS pointer chains within the limit decode', () => {
  // names: "a" at 12, then "b" + ptr(12), then "c" + ptr(17): c.b.a through two pointers
  const msg = decode(hex(`
    00 01 01 00 00 03 00 00 00 00 00 00
    01 61 00  00 01 00 01     # a (12)
    01 62 c0 0c  00 01 00 01  # b.a (19)
    01 63 c0 13  00 01 00 01  # c.b.a
  `));
  assert.deepEqual(msg.questions.map((q) => q.name), ['a', 'b.a', 'c.b.a']);
});

test('DNS labels with dots, backslashes and unprintable bytes are escaped', () => {
  const msg = decode(hex('00 01 01 00 00 01 00 00 00 00 00 00  04 61 2e 5c 01 00 00 01 00 01'));
  assert.equal(msg.questions[0]!.name, 'a\\046\\092\\001');
});

test('DNS counts past the limits are counted and cut, not an error', () => {
  // 20 questions "a" (limit 16): 16 listed, 4 counted; records after a cut question list are not sought
  const questions = hex('00 01 01 00 00 14 00 00 00 00 00 00' + ' 01 61 00 00 01 00 01'.repeat(20));
  const q = decode(questions);
  assert.equal(q.damage, undefined);
  assert.equal(q.questions.length, 16);
  assert.deepEqual([q.counts, q.cut], [[20, 0, 0, 0], 4]);
  assert.match(dnsInfo(q), /\(\+4 not listed\)$/);
  // a valid response with 70 answers (limit 64): 64 listed, 6 counted
  const answer = ' c0 0c 00 01 00 01 00 00 00 3c 00 04 0a 00 00 01';
  const big = decode(hex('1a 2b 81 80 00 01 00 46 00 00 00 00  07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01' + answer.repeat(70)));
  assert.equal(big.damage, undefined);
  assert.deepEqual([big.answers.length, big.cut], [64, 6]);
  // a header claiming 64,259 questions over a few bytes: the header is kept, the damage says why
  const claim = decode(hex('00 01 01 00 fb 03 00 00 00 00 00 00 01 61 00 00 01 00 01'));
  assert.equal(claim.questions.length, 1);
  assert.match(String(claim.damage?.message), /truncated/);
  assert.match(dnsInfo(claim), /^Standard query 0x0001 A a \(\+64258 not listed\)$/);
});
