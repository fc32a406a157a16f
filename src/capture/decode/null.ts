/**
 * BSD loopback ("null") header: LINKTYPE_NULL (0) carries the 4-byte address family in the byte order
 * of the capturing host, LINKTYPE_LOOP (108) in network byte order, though files of either kind are
 * found with both; the family is a small number, so the order whose upper half is zero is the one
 * (https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html).
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './constants.js';
import { need } from './bytes.js';

/** AF_INET everywhere; AF_INET6 differs by OS: Linux 10, Windows 23, Net/OpenBSD 24, FreeBSD 28, macOS 30. */
const AF_INET = 2;
const AF_INET6_VALUES: ReadonlySet<number> = new Set([10, 23, 24, 28, 30]);

export interface NullHeader {
  /** the address family, in whichever byte order gave a small value */
  family: number;
  /** the EtherType the family maps to (or found in the header), -1 when it is neither IPv4 nor IPv6 */
  etherType: number;
  payloadOffset: number;
}

export function decodeNull(buf: Buffer, offset: number, end: number): NullHeader {
  need('NULL', offset, 4, end);
  const le = buf.readUInt32LE(offset);
  const be = buf.readUInt32BE(offset);
  if (le >>> 16 !== 0 && be >>> 16 !== 0) {
    // Neither order gives a small family: some capture software put an EtherType in the low half
    // (network order), and Wireshark's null dissector reads it as one; so do we.
    return { family: be, etherType: be & 0xffff, payloadOffset: offset + 4 };
  }
  const family = le >>> 16 === 0 ? le : be;
  const etherType = family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6_VALUES.has(family) ? ETHERTYPE_IPV6 : -1;
  return { family, etherType, payloadOffset: offset + 4 };
}
