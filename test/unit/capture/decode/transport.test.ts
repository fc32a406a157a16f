import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLayers, decodePacket } from '../../../../src/capture/decode/index.js';
import { DNS_QUERY, ETH_IPV4, hex, ipv4Header, raw, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

function tcpPacket(tcp: string): Buffer {
  const body = hex(tcp);
  return Buffer.concat([hex(ETH_IPV4 + ipv4Header(6, body.length)), body]);
}

test('TCP options: MSS, SACK permitted, timestamps, window scale', () => {
  const { summary, layers } = decodeLayers(raw(1, tcpPacket(TCP_SYN_WITH_OPTIONS)));
  assert.equal(summary.info, 'Len=0');
  const options = layers.find((l) => l.layer === 'TCP options')!.fields;
  assert.deepEqual(options, { mss: 1460, windowScale: 7, sackPermitted: true, sack: undefined, timestamp: { value: 100, echo: 0 }, other: [] });
});

test('TCP SACK blocks and unknown options', () => {
  const { layers, summary } = decodeLayers(raw(1, tcpPacket(`
    04 d2 00 50  00 00 00 10  00 00 00 20
    b0 10 01 00 00 00 00 00     # data offset 11 (44 bytes), ACK
    01 01                       # NOP NOP
    05 12 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00   # SACK, two blocks
    1e 02                       # kind 30 (MPTCP), length 2
    01 00                       # NOP, EOL
  `)));
  assert.equal(summary.flags, 'ACK');
  const options = layers.find((l) => l.layer === 'TCP options')!.fields;
  assert.deepEqual(options.sack, [[0x100, 0x200], [0x300, 0x400]]);
  assert.deepEqual(options.other, [30]);
});

test('TCP malformed: bad option length, data offset < 5; a short header still yields ports', () => {
  const badOption = decodeLayers(raw(1, tcpPacket('04 d2 00 50 00 00 00 01 00 00 00 00 60 02 fa f0 00 00 00 00  02 05 05 b4')));
  assert.match(badOption.summary.error ?? '', /TCP: option 2 length 5/);
  const badOffset = decodePacket(raw(1, tcpPacket('04 d2 00 50 00 00 00 01 00 00 00 00 40 02 fa f0 00 00 00 00')));
  assert.match(badOffset.error ?? '', /TCP: header length 16 < 20/);
  const short = decodePacket(raw(1, tcpPacket('04 d2 00 50 00 00 00 01')));
  assert.equal(short.sport, 1234);
  assert.equal(short.dport, 80);
  assert.match(short.error ?? '', /TCP: truncated/);
});

test('all eight TCP flag names', () => {
  const s = decodePacket(raw(1, tcpPacket('04 d2 00 50 00 00 00 01 00 00 00 00 50 ff fa f0 00 00 00 00')));
  assert.equal(s.flags, 'FIN,SYN,RST,PSH,ACK,URG,ECE,CWR');
  assert.equal(s.tcpFlags, 0xff);
});

test('UDP length below 8 is malformed', () => {
  const s = decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(17, 8) + '30 39 27 0f 00 04 00 00')));
  assert.match(s.error ?? '', /UDP: length 4 < 8/);
  assert.equal(s.sport, 12345);
});

test('ICMP echo and destination unreachable', () => {
  const echo = decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(1, 8) + '08 00 f7 fe 00 01 00 07')));
  assert.equal(echo.protocol, 'ICMP');
  assert.equal(echo.info, 'Echo (ping) request id=0x0001, seq=7');
  const unreach = decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(1, 8) + '03 03 00 00 00 00 00 00')));
  assert.equal(unreach.info, 'Destination unreachable (code 3)');
  assert.match(decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(1, 4) + '08 00 f7 fe'))).error ?? '', /ICMP: truncated/);
});

test('ICMPv6 neighbor solicitation names its target; echo has id and seq', () => {
  const ns = hex(`
    60 00 00 00 00 18 3a ff   # payload 24, ICMPv6, hop limit 255
    fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01
    ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 02
    87 00 00 00 00 00 00 00   # type 135
    fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02   # target
  `);
  const s = decodePacket(raw(229, ns));
  assert.equal(s.protocol, 'ICMPv6');
  assert.equal(s.ipProto, 58);
  assert.equal(s.info, 'Neighbor Solicitation for fe80::2');
  assert.equal(s.dst, 'ff02::1:ff00:2');
});

test('ARP reply over Ethernet', () => {
  const s = decodePacket(raw(1, hex(`
    02 00 00 00 00 01  02 00 00 00 00 02  08 06
    00 01  08 00  06  04  00 02        # Ethernet, IPv4, reply
    02 00 00 00 00 02  0a 00 00 02     # sender
    02 00 00 00 00 01  0a 00 00 01     # target
  `)));
  assert.equal(s.type, 'ARP');
  assert.equal(s.protocol, 'ARP');
  assert.equal(s.ipProto, -1);
  assert.equal(s.info, '10.0.0.2 is at 02:00:00:00:00:02');
  assert.equal(s.src, '02:00:00:00:00:02');
});

test('wirelab broadcast is recognised on UDP 12345 by its "WLB1 " magic only', () => {
  const ours = decodePacket(raw(1, udpPacket(40000, 12345, Buffer.from('WLB1 {"seq":1}'))));
  assert.equal(ours.protocol, 'wirelab-broadcast');
  assert.equal(ours.info, 'wirelab broadcast envelope, 14 bytes');
  const reply = decodePacket(raw(1, udpPacket(12345, 40000, Buffer.from('WLB1 {"seq":2}'))));
  assert.equal(reply.protocol, 'wirelab-broadcast', 'recognised on the source port too');
  const other = decodePacket(raw(1, udpPacket(40000, 12345, Buffer.from('hello'))));
  assert.equal(other.protocol, 'UDP');
});

test('DNS over UDP and over TCP (2-byte length prefix)', () => {
  const udp = decodePacket(raw(1, udpPacket(40000, 53, hex(DNS_QUERY))));
  assert.equal(udp.protocol, 'DNS');
  assert.equal(udp.info, 'Standard query 0x1a2b A example.com');
  const tcp = decodePacket(raw(1, tcpPacket('9c 40 00 35 00 00 00 01 00 00 00 01 50 18 01 00 00 00 00 00  00 1d' + DNS_QUERY)));
  assert.equal(tcp.protocol, 'DNS');
  assert.equal(tcp.flags, 'PSH,ACK');
  assert.equal(tcp.info, 'Standard query 0x1a2b A example.com');
  const partial = decodePacket(raw(1, tcpPacket('9c 40 00 35 00 00 00 01 00 00 00 01 50 18 01 00 00 00 00 00  00 40' + DNS_QUERY)));
  assert.equal(partial.protocol, 'TCP', 'a segment without the whole message is left to TCP');
  assert.equal(partial.error, undefined);
  const mdns = decodePacket(raw(1, udpPacket(5353, 5353, hex(DNS_QUERY))));
  assert.equal(mdns.protocol, 'MDNS');
});
