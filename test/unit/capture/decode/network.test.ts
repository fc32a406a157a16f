import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLayers, decodePacket } from '../../../../src/capture/decode/index.js';
import { ETH_IPV4, hex, ipv4Header, raw } from './fixtures.js';

const UDP_8 = '30 39 00 35 00 08 00 00   # UDP 12345 -> 53, length 8, no payload';

test('IPv4 options are listed (NOP, record route, EOL) and skipped to the payload', () => {
  const packet = hex(ETH_IPV4 + `
    47 00 00 24  12 34 40 00  40 11 00 00   # IHL 7: 8 bytes of options; total 36
    0a 00 00 01  0a 00 00 02
    01                 # NOP
    07 07 04 00 00 00 00   # record route: length 7, pointer 4, one empty address slot
  ` + UDP_8);
  const { summary, layers } = decodeLayers(raw(1, packet));
  assert.equal(summary.error, undefined);
  assert.equal(summary.sport, 12345);
  const options = layers.find((l) => l.layer === 'IPv4 options')!.fields.options;
  assert.deepEqual(options, [{ type: 1, length: 1 }, { type: 7, length: 7 }]);
});

test('a bad IPv4 option length is reported in the layer tree', () => {
  const packet = hex(ETH_IPV4 + `
    46 00 00 20  12 34 40 00  40 11 00 00  0a 00 00 01  0a 00 00 02
    07 09 04 00        # record route claiming 9 bytes in a 4-byte option area
  ` + UDP_8);
  assert.match(decodeLayers(raw(1, packet)).summary.error ?? '', /IPv4: option 7 length 9/);
});

test('IPv4 fragments: the first carries ports, later ones only the protocol; flags name MF/DF', () => {
  const first = decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(17, 8, '20 00') + UDP_8)));
  assert.equal(first.sport, 12345);
  assert.equal(first.flags, 'MF');
  const later = decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(17, 8, '00 b9') + '01 02 03 04 05 06 07 08')));
  assert.equal(later.sport, undefined);
  assert.equal(later.ipProto, 17);
  assert.equal(later.protocol, 'UDP');
  assert.equal(later.info, 'Fragment id=0x1234 offset=1480');
  assert.equal(later.error, undefined);
  assert.equal(decodePacket(raw(1, hex(ETH_IPV4 + ipv4Header(17, 8, '40 00') + UDP_8))).flags, 'DF');
});

test('IPv4 malformed headers: version, IHL, total length', () => {
  assert.match(decodePacket(raw(228, hex('55 00 00 14' + ' 00'.repeat(16)))).error ?? '', /IPv4: version 5/);
  assert.match(decodePacket(raw(228, hex('44 00 00 14' + ' 00'.repeat(16)))).error ?? '', /header length 16 < 20/);
  assert.match(decodePacket(raw(228, hex('45 00 00 10' + ' 00'.repeat(16)))).error ?? '', /total length 16 < header length 20/);
});

test('IPv4 total length bounds the payload (Ethernet padding is ignored); 0 means TSO', () => {
  const padded = hex(ETH_IPV4 + ipv4Header(17, 8) + UDP_8 + '00 00 00 00 00 00 00 00 00 00');
  assert.equal(decodePacket(raw(1, padded)).info, 'Len=0');
  const tso = hex(ETH_IPV4 + ipv4Header(17, 12).replace(/00 20 # total length/, '00 00 # total length') + '30 39 27 0f 00 0c 00 00 61 62 63 64');
  const s = decodePacket(raw(1, tso));
  assert.equal(s.error, undefined);
  assert.equal(s.info, 'Len=4');
});

const V6_ADDRS = `
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # src 2001:db8::1
  fe 80 00 00 00 00 00 00 02 00 00 ff fe 00 00 02   # dst fe80::200:ff:fe00:2
`;

function ipv6(nextHeader: string, body: string): Buffer {
  const b = hex(body);
  const len = b.length.toString(16).padStart(4, '0');
  return Buffer.concat([hex(`60 00 00 00 ${len.slice(0, 2)} ${len.slice(2)} ${nextHeader} 40` + V6_ADDRS), b]);
}

test('IPv6 address text is RFC 5952 canonical', () => {
  const s = decodePacket(raw(229, ipv6('11', UDP_8)));
  assert.equal(s.src, '2001:db8::1');
  assert.equal(s.dst, 'fe80::200:ff:fe00:2');
  const mapped = hex(`60 00 00 00 00 08 11 40  00 00 00 00 00 00 00 00 00 00 ff ff 0a 00 00 01 ${'00 '.repeat(16)}` + UDP_8);
  assert.equal(decodePacket(raw(229, mapped)).src, '::ffff:10.0.0.1');
  assert.equal(decodePacket(raw(229, mapped)).dst, '::');
  const oneZero = hex(`60 00 00 00 00 08 11 40  00 01 00 00 00 02 00 03 00 04 00 05 00 06 00 07 ${'00 '.repeat(15)} 01` + UDP_8);
  assert.equal(decodePacket(raw(229, oneZero)).src, '1:0:2:3:4:5:6:7');
});

test('IPv6 extension chain: hop-by-hop, routing, destination options, AH, then UDP', () => {
  const packet = ipv6('00', `
    2b 00  01 04 00 00 00 00      # hop-by-hop -> routing; PadN
    3c 00  00 00 00 00 00 00      # routing (type 0, segments left 0) -> dest opts
    33 00  01 04 00 00 00 00      # destination options -> AH
    11 01  00 00  00 00 01 00  00 00 00 01   # AH -> UDP; length 1 = (1+2)*4 = 12 bytes
  ` + UDP_8);
  const { summary, layers } = decodeLayers(raw(229, packet));
  assert.equal(summary.error, undefined);
  assert.equal(summary.ipProto, 17);
  assert.equal(summary.sport, 12345);
  const ext = layers.find((l) => l.layer === 'IPv6')!.fields.extensions as Array<{ type: number; length: number }>;
  assert.deepEqual(ext.map((e) => [e.type, e.length]), [[0, 8], [43, 8], [60, 8], [51, 12]]);
});

test('IPv6 fragment header: first fragment decoded, later ones not', () => {
  const first = decodePacket(raw(229, ipv6('2c', '11 00 00 01 00 00 00 2a' + UDP_8)));
  assert.equal(first.sport, 12345);
  assert.equal(first.flags, 'MF');
  const later = decodePacket(raw(229, ipv6('2c', '11 00 05 c8 00 00 00 2a  01 02 03 04 05 06 07 08')));
  assert.equal(later.sport, undefined);
  assert.equal(later.ipProto, 17);
  assert.equal(later.info, 'Fragment offset=1480');
});

test('IPv6 extension chain is bounded; ESP and no-next-header stop it', () => {
  const hops = '00 00 01 04 00 00 00 00 '.repeat(9);
  assert.match(decodePacket(raw(229, ipv6('00', hops))).error ?? '', /more than 8 extension headers/);
  assert.equal(decodePacket(raw(229, ipv6('32', '00 00 00 01 00 00 00 01'))).protocol, 'ESP');
  assert.equal(decodePacket(raw(229, ipv6('3b', ''))).protocol, 'IPv6-NoNxt');
  assert.match(decodePacket(raw(229, ipv6('00', '11 05 00 00'))).error ?? '', /IPv6 extension: truncated/);
});
