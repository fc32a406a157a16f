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
