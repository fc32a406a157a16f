/**
 * Annotated byte fixtures: hex with `#` comments, one field per line, turned into Buffers. The
 * packets here are built by hand from the RFCs so each byte's meaning is written beside it.
 */
import type { RawPacket } from '../../../../src/capture/types.js';

/** Bytes from annotated hex: everything after `#` on a line is a comment, whitespace is ignored. */
export function hex(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex fixture: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** A RawPacket around `data`, captured whole. */
export function raw(linkType: number, data: Buffer, index = 1): RawPacket {
  return { index, linkType, tsSec: 1_700_000_000, tsNsec: 123_456_789, originalLength: data.length, data, interfaceId: 0 };
}

export const ETH_IPV4 = `
  02 00 00 00 00 02   # dst MAC
  02 00 00 00 00 01   # src MAC
  08 00               # EtherType IPv4
`;

/** An IPv4 header (20 bytes, no options) for a payload of `payloadLength` bytes of `proto`. */
export function ipv4Header(proto: number, payloadLength: number, flagsAndOffset = '40 00'): string {
  const total = (20 + payloadLength).toString(16).padStart(4, '0');
  return `
  45                  # version 4, IHL 5
  00                  # DSCP/ECN
  ${total.slice(0, 2)} ${total.slice(2)} # total length
  12 34               # id
  ${flagsAndOffset}   # flags, fragment offset
  40                  # TTL 64
  ${proto.toString(16).padStart(2, '0')} # protocol
  00 00               # checksum (not verified)
  0a 00 00 01         # src 10.0.0.1
  0a 00 00 02         # dst 10.0.0.2
`;
}

/** TCP SYN from 1234 to 80 with MSS, SACK permitted, timestamps, NOP, window scale (40 bytes). */
export const TCP_SYN_WITH_OPTIONS = `
  04 d2               # src port 1234
  00 50               # dst port 80
  00 00 00 01         # seq 1
  00 00 00 00         # ack 0
  a0                  # data offset 10 (40 bytes)
  02                  # flags SYN
  fa f0               # window 64240
  00 00               # checksum
  00 00               # urgent pointer
  02 04 05 b4         # MSS 1460
  04 02               # SACK permitted
  08 0a 00 00 00 64 00 00 00 00   # timestamps TSval 100 TSecr 0
  01                  # NOP
  03 03 07            # window scale 7
`;

/** A DNS query for example.com A, id 0x1a2b (29 bytes). */
export const DNS_QUERY = `
  1a 2b               # id
  01 00               # flags: standard query, RD
  00 01 00 00 00 00 00 00   # 1 question, no records
  07 65 78 61 6d 70 6c 65   # "example"
  03 63 6f 6d 00      # "com", root
  00 01 00 01         # type A, class IN
`;

/** An Ethernet/IPv4/UDP packet from 10.0.0.1:`sport` to 10.0.0.2:`dport` carrying `payload`. */
export function udpPacket(sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([hex(ETH_IPV4), hex(ipv4Header(17, 8 + payload.length)), udp, payload]);
}
