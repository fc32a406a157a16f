/**
 * The lean statistics decoder against the full one: on valid packets of every shape it takes, and on
 * seeded random, bit-flipped and cut ones, its fields equal decodePacket's, and it never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, StatsFieldsDecoder } from '../../../../src/capture/decode/index.js';
import type { PacketSummary, RawPacket } from '../../../../src/capture/types.js';
import { mulberry32, randomBytes } from '../../../helpers/random.js';
import { DNS_QUERY, ETH_IPV4, hex, ipv4Header, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

/** The fields the lean decoder promises (not flags, info, error). */
function fields(s: PacketSummary): unknown[] {
  return [s.index, s.tsSec, s.tsNsec, s.type, s.src, s.dst, s.sport, s.dport, s.protocol, s.ipProto, s.length, s.tcpFlags];
}

function check(decoder: StatsFieldsDecoder, p: RawPacket, what: string): void {
  // embed the packet in a larger buffer, so that an offset mistake would read the wrong bytes
  const padded = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), p.data, Buffer.from([0x45, 0x00, 0x11])]);
  const lean = decoder.decode(padded, 3, p.data.length, p.originalLength, p.tsSec, p.tsNsec, p.linkType, p.index);
  assert.deepEqual(fields(lean), fields(decodePacket(p)), what);
  // the numeric IPv4 addresses, when given, are the texts' own (-1 when the fast path took no IPv4)
  for (const [number, text] of [[decoder.srcV4, lean.src], [decoder.dstV4, lean.dst]] as const) {
    if (number === -1) continue;
    assert.equal(lean.type, 'IPv4', what);
    assert.equal([24, 16, 8, 0].map((shift) => (number >>> shift) & 0xff).join('.'), text, what);
  }
}

function packet(linkType: number, data: Buffer, index: number): RawPacket {
  return { index, linkType, tsSec: 1_700_000_000 + index, tsNsec: index * 7, originalLength: data.length + (index % 3), data, interfaceId: 0 };
}

const ip6Udp = hex(`60 00 00 00 00 0c 11 40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02  9c 40 00 35 00 0c 00 00 41 42 43 44`);

/** Valid packets of every shape the fast path takes or hands on. */
function corpus(): Array<[number, Buffer]> {
  const ipTcp = hex(ipv4Header(6, 40) + TCP_SYN_WITH_OPTIONS);
  const ips = [
    ipTcp,
    udpPacket(40000, 53, hex(DNS_QUERY)).subarray(14),
    udpPacket(5353, 5353, Buffer.from('x')).subarray(14),
    udpPacket(40000, 12345, Buffer.from('WLB1 {}')).subarray(14),
    udpPacket(40000, 12345, Buffer.from('hello')).subarray(14),
    udpPacket(40000, 9, Buffer.alloc(0)).subarray(14),
    hex(ipv4Header(17, 8, '20 b9') + '00 00 00 00 00 00 00 00'),
    hex(ipv4Header(1, 8) + '08 00 00 00 00 01 00 01'),
    hex(ipv4Header(6, 24) + '00 35 9c 40 00 00 00 01 00 00 00 00 50 18 ff ff 00 00 00 00 00 02 41 42'),
    ip6Udp,
  ];
  const out: Array<[number, Buffer]> = [];
  for (const ip of ips) {
    const v6 = ip[0]! >>> 4 === 6;
    const type = v6 ? '86 dd' : '08 00';
    out.push([1, Buffer.concat([hex(ETH_IPV4.replace('08 00', type)), ip])]);
    out.push([1, Buffer.concat([hex(`02 00 00 00 00 02 02 00 00 00 00 01 81 00 00 14 ${type}`), ip])]);
    out.push([113, Buffer.concat([hex(`00 00 00 01 00 06 02 00 00 00 00 01 00 00 ${type}`), ip])]);
    out.push([276, Buffer.concat([hex(`${type} 00 00 00 00 00 01 00 01 00 06 02 00 00 00 00 01 00 00`), ip])]);
    out.push([101, ip], [v6 ? 229 : 228, ip], [12, ip], [0, Buffer.concat([Buffer.from([2, 0, 0, 0]), ip])]);
  }
  out.push([1, hex('ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02')]);
  return out;
}

test('lean fields equal decodePacket on every valid shape (Ethernet, VLAN, SLL, SLL2, raw, NULL; TCP, UDP, DNS, wirelab, ICMP, fragments, IPv6, ARP)', () => {
  const decoder = new StatsFieldsDecoder();
  for (const [i, [linkType, data]] of corpus().entries()) check(decoder, packet(linkType, data, i + 1), `corpus ${i} on link type ${linkType}`);
  assert.ok(decoder.fallbacks > 0 && decoder.fallbacks < corpus().length, `some shapes take the full decoder (${decoder.fallbacks})`);
});

test('lean fields equal decodePacket on seeded random bytes, bit flips, overwritten bytes and cut tails', () => {
  const rand = mulberry32(0x57a75);
  const decoder = new StatsFieldsDecoder();
  const shapes = corpus();
  const linkTypes = [1, 113, 276, 101, 228, 229, 0, 12];
  for (let i = 0; i < 30_000; i++) {
    const random = randomBytes(rand, Math.floor(rand() * 80));
    check(decoder, packet(linkTypes[i % linkTypes.length]!, random, i), `random ${i}`);
  }
  for (let i = 0; i < 100_000; i++) {
    const [linkType, base] = shapes[i % shapes.length]!;
    const b = Buffer.from(base);
    for (let f = Math.floor(rand() * 4); f >= 0; f--) {
      const at = Math.floor(rand() * b.length);
      b[at] = rand() < 0.5 ? b[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
    }
    check(decoder, packet(linkType, rand() < 0.3 ? b.subarray(0, Math.floor(rand() * b.length)) : b, i), `mutation ${i}`);
  }
});

test('the summary is reused between fast-path packets; a fallback gives a fresh one', () => {
  const decoder = new StatsFieldsDecoder();
  const udp = udpPacket(40000, 9, Buffer.from('hi'));
  const first = decoder.decode(udp, 0, udp.length, udp.length, 1, 0, 1, 1);
  const second = decoder.decode(udp, 0, udp.length, udp.length, 2, 0, 1, 2);
  assert.equal(first, second);
  assert.equal(second.tsSec, 2);
  const arp = corpus().at(-1)![1];
  assert.notEqual(decoder.decode(arp, 0, arp.length, arp.length, 3, 0, 1, 3), second);
});
