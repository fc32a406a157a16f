import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecodeCounters, decodeLayers, decodePacket } from '../../../../src/capture/decode/index.js';
import { ETH_IPV4, hex, ipv4Header, raw, TCP_SYN_WITH_OPTIONS } from './fixtures.js';

const IPV4_TCP = ipv4Header(6, 40) + TCP_SYN_WITH_OPTIONS;

test('Ethernet/IPv4/TCP SYN: addresses, ports, flags, protocol', () => {
  const s = decodePacket(raw(1, hex(ETH_IPV4 + IPV4_TCP)));
  assert.equal(s.error, undefined);
  assert.equal(s.type, 'IPv4');
  assert.equal(s.src, '10.0.0.1');
  assert.equal(s.dst, '10.0.0.2');
  assert.equal(s.sport, 1234);
  assert.equal(s.dport, 80);
  assert.equal(s.protocol, 'TCP');
  assert.equal(s.ipProto, 6);
  assert.equal(s.tcpFlags, 0x02);
  assert.equal(s.flags, 'SYN');
  assert.equal(s.length, 14 + 60);
});

test('802.1Q and 802.1ad tags are followed, outermost first', () => {
  const frame = hex(`
    02 00 00 00 00 02  02 00 00 00 00 01   # dst, src
    88 a8  a0 64       # S-tag: PCP 5, VID 100
    81 00  30 c8       # C-tag: PCP 1, DEI 1, VID 200
    08 00              # IPv4
  ` + IPV4_TCP);
  const { summary, layers } = decodeLayers(raw(1, frame));
  assert.equal(summary.error, undefined);
  assert.equal(summary.sport, 1234);
  assert.deepEqual(layers[0]!.fields.vlans, [
    { tpid: 0x88a8, pcp: 5, dei: 0, vid: 100 },
    { tpid: 0x8100, pcp: 1, dei: 1, vid: 200 },
  ]);
});

test('more VLAN tags than the limit is an error, not a loop', () => {
  const tags = '81 00 00 01 '.repeat(5);
  const s = decodePacket(raw(1, hex(`02 00 00 00 00 02 02 00 00 00 00 01 ${tags} 08 00` + IPV4_TCP)));
  assert.match(s.error ?? '', /more than 4 VLAN tags/);
  assert.equal(s.src, undefined);
});

test('802.3 length frames are LLC; unknown EtherTypes are named and counted', () => {
  const counters = createDecodeCounters();
  const llc = decodePacket(raw(1, hex('01 80 c2 00 00 00  02 00 00 00 00 01  00 26  42 42 03 00 00')), { counters });
  assert.equal(llc.type, 'LLC');
  assert.equal(llc.src, '02:00:00:00:00:01');
  assert.equal(llc.dst, '01:80:c2:00:00:00');
  assert.equal(llc.ipProto, -1);
  const lldp = decodePacket(raw(1, hex('01 80 c2 00 00 0e  02 00 00 00 00 01  88 cc  02 07 04')), { counters });
  assert.equal(lldp.type, 'LLDP');
  const odd = decodePacket(raw(1, hex('ff ff ff ff ff ff  02 00 00 00 00 01  12 34  00')), { counters });
  assert.equal(odd.type, 'EtherType 0x1234');
  assert.equal(odd.error, undefined);
  assert.equal(counters.packets, 3);
  assert.deepEqual([...counters.unknownEtherTypes], [[0, 1], [0x88cc, 1], [0x1234, 1]]);
});

test('Linux cooked v1 (113)', () => {
  const sll = hex(`
    00 00              # packet type: to us
    00 01              # ARPHRD_ETHER
    00 06              # address length 6
    02 00 00 00 00 01 00 00   # address, padded to 8
    08 00              # IPv4
  ` + IPV4_TCP);
  const { summary, layers } = decodeLayers(raw(113, sll));
  assert.equal(summary.error, undefined);
  assert.equal(summary.dport, 80);
  assert.equal(layers[0]!.layer, 'SLL');
  assert.equal(layers[0]!.fields.address, '02:00:00:00:00:01');
});

test('Linux cooked v1 ARP keeps the link address as source; netlink is named', () => {
  const arp = decodePacket(raw(113, hex(`
    00 01  00 01  00 06  02 00 00 00 00 01 00 00  08 06   # SLL, broadcast, ARP
    00 01 08 00 06 04 00 01                              # Ethernet/IPv4 request
    02 00 00 00 00 01  0a 00 00 01  00 00 00 00 00 00  0a 00 00 02
  `)));
  assert.equal(arp.type, 'ARP');
  assert.equal(arp.src, '02:00:00:00:00:01');
  assert.equal(arp.info, 'Who has 10.0.0.2? Tell 10.0.0.1');
  const netlink = decodePacket(raw(113, hex('00 04 03 38 00 00 00 00 00 00 00 00 00 00 00 00  00 00')));
  assert.equal(netlink.type, 'Netlink');
});

test('Linux cooked v2 (276)', () => {
  const sll2 = hex(`
    08 00              # protocol IPv4
    00 00              # reserved
    00 00 00 03        # interface index 3
    00 01              # ARPHRD_ETHER
    04                 # packet type: outgoing
    06                 # address length
    02 00 00 00 00 01 00 00   # address
  ` + IPV4_TCP);
  const { summary, layers } = decodeLayers(raw(276, sll2));
  assert.equal(summary.error, undefined);
  assert.equal(summary.sport, 1234);
  assert.equal(layers[0]!.fields.interfaceIndex, 3);
  assert.equal(layers[0]!.fields.packetType, 4);
});

test('NULL/LOOP: family in either byte order, IPv6 families of every OS, EtherType in the header', () => {
  const v6 = hex(`
    60 00 00 00  00 14 06 40   # IPv6, payload 20, TCP, hop limit 64
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # ::1
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # ::1
    04 d2 00 50 00 00 00 01 00 00 00 00 50 10 01 00 00 00 00 00   # TCP ACK
  `);
  for (const family of ['02 00 00 00', '00 00 00 02']) {
    const s = decodePacket(raw(0, hex(family + IPV4_TCP)));
    assert.equal(s.src, '10.0.0.1', family);
  }
  for (const family of [10, 23, 24, 28, 30]) {
    for (const linkType of [0, 108]) {
      const le = Buffer.from([family, 0, 0, 0]);
      const be = Buffer.from([0, 0, 0, family]);
      assert.equal(decodePacket(raw(linkType, Buffer.concat([le, v6]))).src, '::1');
      assert.equal(decodePacket(raw(linkType, Buffer.concat([be, v6]))).flags, 'ACK');
    }
  }
  assert.equal(decodePacket(raw(0, hex('0f 00 08 00' + IPV4_TCP))).dport, 80);
  const unknown = decodePacket(raw(0, hex('07 00 00 00 00')));
  assert.equal(unknown.type, 'NULL family 7');
});

test('raw IP link types 101, 12, 14, 228, 229', () => {
  for (const linkType of [101, 12, 14, 228]) {
    assert.equal(decodePacket(raw(linkType, hex(IPV4_TCP))).sport, 1234, `link type ${linkType}`);
  }
  const v6 = hex(`60 00 00 00 00 08 11 40 ${'00 '.repeat(15)} 01 ${'00 '.repeat(15)} 01  00 35 00 35 00 08 00 00`);
  assert.equal(decodePacket(raw(229, v6)).protocol, 'UDP');
  assert.equal(decodePacket(raw(101, v6)).type, 'IPv6');
  assert.match(decodePacket(raw(101, hex('55 00'))).error ?? '', /raw IP: version 5/);
});

test('unknown link types are named and counted, never fatal', () => {
  const counters = createDecodeCounters();
  assert.equal(decodePacket(raw(253, hex('00 01 02')), { counters }).type, 'NETLINK');
  assert.equal(decodePacket(raw(4242, hex('00')), { counters }).type, 'linktype 4242');
  assert.deepEqual([...counters.unknownLinkTypes], [[253, 1], [4242, 1]]);
  assert.equal(counters.errors, 0);
});

test('decodeLayers lists the layers outermost first; counters count errors', () => {
  const { layers } = decodeLayers(raw(1, hex(ETH_IPV4 + IPV4_TCP)));
  assert.deepEqual(layers.map((l) => [l.layer, l.offset]), [['Ethernet', 0], ['IPv4', 14], ['TCP', 34], ['TCP options', 54]]);
  assert.equal(layers[0]!.fields.src, '02:00:00:00:00:01');
  assert.equal(layers[1]!.fields.ttl, 64);
  const counters = createDecodeCounters();
  decodePacket(raw(1, hex(ETH_IPV4 + '45 00')), { counters });
  decodePacket(raw(1, hex(ETH_IPV4 + IPV4_TCP)), { counters });
  assert.deepEqual([counters.packets, counters.errors], [2, 1]);
});
