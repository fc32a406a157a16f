import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket } from '../../../../src/capture/decode/index.js';
import { DNS_QUERY, ETH_IPV4, hex, ipv4Header, raw, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

/** Packets in which every byte belongs to a header the decoder reads, so any cut must be reported. */
const PACKETS: Array<[string, number, Buffer]> = [
  ['Ethernet/802.1Q/IPv4/TCP with options', 1, hex(`02 00 00 00 00 02 02 00 00 00 00 01 81 00 00 64 08 00` + ipv4Header(6, 40) + TCP_SYN_WITH_OPTIONS)],
  ['Ethernet/IPv4/UDP/DNS query', 1, udpPacket(40000, 53, hex(DNS_QUERY))],
  ['SLL2/IPv6/hop-by-hop/fragment/UDP', 276, hex(`
    86 dd 00 00 00 00 00 01 00 01 00 06 02 00 00 00 00 01 00 00
    60 00 00 00 00 18 00 40 ${'00 '.repeat(15)} 01 ${'00 '.repeat(15)} 02
    2c 00 01 04 00 00 00 00   # hop-by-hop -> fragment
    11 00 00 00 00 00 00 01   # fragment -> UDP, offset 0
    30 39 27 0f 00 08 00 00   # UDP
  `)],
  ['SLL/ARP', 113, hex('00 01 00 01 00 06 02 00 00 00 00 01 00 00 08 06  00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02')],
  ['NULL/IPv4/ICMP echo', 0, hex('02 00 00 00' + ipv4Header(1, 8) + '08 00 f7 fe 00 01 00 07')],
];

test('a packet cut at every byte offset: only `error` is set, never a throw, and nothing decoded differs', () => {
  for (const [name, linkType, full] of PACKETS) {
    const whole = decodePacket(raw(linkType, full));
    assert.equal(whole.error, undefined, `${name}: whole packet decodes`);
    for (let cut = 0; cut < full.length; cut++) {
      const s = decodePacket({ ...raw(linkType, full.subarray(0, cut)), originalLength: full.length });
      assert.ok(s.error !== undefined, `${name} cut at ${cut}: error expected`);
      assert.equal(s.length, full.length);
      // What was decoded before the cut is what the whole packet gives.
      for (const key of ['src', 'dst', 'sport', 'dport', 'ipProto'] as const) {
        if (s[key] !== undefined && s[key] !== -1) assert.equal(s[key], whole[key], `${name} cut at ${cut}: ${key}`);
      }
    }
  }
});

test('the first header byte decides how far decoding gets: ports survive a cut TCP header', () => {
  const full = hex(ETH_IPV4 + ipv4Header(6, 40) + TCP_SYN_WITH_OPTIONS);
  const s = decodePacket(raw(1, full.subarray(0, 14 + 20 + 10)));
  assert.equal(s.sport, 1234);
  assert.equal(s.tcpFlags, 0);
  assert.match(s.error ?? '', /^TCP: truncated/);
});

test('IPv4 options and IPv6 extension headers cut short keep the addresses already decoded', () => {
  // IHL 6 (4 bytes of options) but only the 20-byte fixed header captured
  const v4 = hex('45 00 00 28 00 01 40 00 40 06 00 00 0a 00 00 01 0a 00 00 02'.replace(/^45/, '46'));
  const s4 = decodePacket(raw(228, v4));
  assert.deepEqual([s4.type, s4.src, s4.dst, s4.protocol], ['IPv4', '10.0.0.1', '10.0.0.2', 'IPv4']);
  assert.match(String(s4.error), /IPv4: truncated/);
  // IPv6 whose routing header (43) is cut after 4 of its 8 bytes
  const v6 = hex(`60 00 00 00 00 08 2b 40 ${'20 01 0d b8 '}${'00 '.repeat(11)} 01 ${'20 01 0d b8 '}${'00 '.repeat(11)} 02  11 00 04 02`);
  const s6 = decodePacket(raw(229, v6));
  assert.deepEqual([s6.type, s6.src, s6.dst, s6.protocol], ['IPv6', '2001:db8::1', '2001:db8::2', 'IPv6']);
  assert.match(String(s6.error), /IPv6 extension: truncated/);
});
