/**
 * The fields statistics need (type, addresses, ports, protocol, IP protocol, TCP flags, length,
 * time), read straight from a packet's bytes without building a summary per packet: the fast path of
 * `wirelab analyze --stats`. It decodes the common case itself (Ethernet, Linux cooked v1/v2 and raw
 * IP; IPv4 and IPv6 without extension headers; TCP, UDP, and any other protocol by number) and hands
 * everything else (VLAN tags, extension headers, ARP, malformed or cut headers, wirelab's own
 * protocols) to the full decoder, so the fields are always the ones decodePacket gives. Only `flags`,
 * `info` and `error` are left empty: statistics do not use them.
 */
import type { PacketSummary, RawPacket } from '../types.js';
import { ipv4At, ipv6At } from './bytes.js';
import {
  DEFAULT_DECODE_LIMITS,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  PORT_DNS,
  PORT_LLMNR,
  PORT_MDNS,
} from './constants.js';
import { newSummary, protocolName, walkPacket } from './packet.js';
import { ARPHRD_NETLINK } from './sll.js';
import { hasWirelabPort, matchWirelab } from './wirelab.js';
import { matchTcpApp, matchUdpApp } from './app.js';

/** IPv4 address texts kept for reuse: a direct-mapped cache of this many entries (a power of two). */
const ADDRESS_CACHE_SIZE = 4096;
const ADDRESS_CACHE_SHIFT = 32 - Math.log2(ADDRESS_CACHE_SIZE);

/** IPv6 next-header values that are extension headers (RFC 8200 4; RFC 7045): left to the full decoder. */
const IPV6_EXTENSIONS = new Set([0, 43, 44, 51, 60, 135, 139, 140]);

/**
 * Reads the statistics fields of one packet at a time into one reused summary. Not for packets that
 * are printed or kept: the summary is overwritten by the next call.
 */
export class StatsFieldsDecoder {
  private readonly summary: PacketSummary;
  /** address cache: the address as an int32, and its text ('' for an empty entry) */
  private readonly cachedKeys = new Int32Array(ADDRESS_CACHE_SIZE);
  private readonly cachedTexts: string[] = new Array<string>(ADDRESS_CACHE_SIZE).fill('');
  /** packets the fast path could not take (decoded in full instead) */
  fallbacks = 0;
  /** after decode(): the source address as a number 0..2^32-1 when it is IPv4 (for TrafficStats.add), else -1 */
  srcV4 = -1;
  /** after decode(): the destination address likewise */
  dstV4 = -1;

  constructor() {
    this.summary = newSummary({ index: 0, linkType: 0, tsSec: 0, tsNsec: 0, originalLength: 0, data: Buffer.alloc(0), interfaceId: 0 });
  }

  /**
   * The fields of the packet `buf[at, at + capturedLength)`. The returned summary is reused by the
   * next call; a packet the fast path does not take is decoded in full into a fresh one.
   * @param originalLength bytes on the wire
   */
  decode(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number, index: number): PacketSummary {
    const s = this.summary;
    s.index = index;
    s.tsSec = tsSec;
    s.tsNsec = tsNsec;
    s.length = originalLength;
    s.sport = undefined;
    s.dport = undefined;
    s.tcpFlags = 0;
    this.srcV4 = -1;
    this.dstV4 = -1;
    if (this.link(buf, at, at + capturedLength, linkType)) return s;
    this.srcV4 = -1;
    this.dstV4 = -1;
    this.fallbacks++;
    const raw: RawPacket = { index, linkType, tsSec, tsNsec, originalLength, data: buf.subarray(at, at + capturedLength), interfaceId: 0 };
    const full = newSummary(raw);
    walkPacket(raw, full, undefined, { limits: DEFAULT_DECODE_LIMITS });
    return full;
  }

  /** False: not the common case, decode in full. */
  private link(buf: Buffer, at: number, end: number, linkType: number): boolean {
    let p: number;
    let etherType: number;
    if (linkType === LINKTYPE_ETHERNET) {
      p = at + 14;
      if (p > end) return false;
      etherType = (buf[at + 12]! << 8) | buf[at + 13]!;
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      p = at + 16;
      if (p > end || ((buf[at + 2]! << 8) | buf[at + 3]!) === ARPHRD_NETLINK) return false;
      etherType = (buf[at + 14]! << 8) | buf[at + 15]!;
    } else if (linkType === LINKTYPE_LINUX_SLL2) {
      p = at + 20;
      if (p > end || ((buf[at + 8]! << 8) | buf[at + 9]!) === ARPHRD_NETLINK) return false;
      etherType = (buf[at]! << 8) | buf[at + 1]!;
    } else if (linkType === LINKTYPE_RAW || linkType === LINKTYPE_IPV4 || linkType === LINKTYPE_IPV6) {
      p = at;
      if (p >= end) return false;
      const version = buf[p]! >>> 4;
      etherType = version === 4 && linkType !== LINKTYPE_IPV6 ? ETHERTYPE_IPV4 : version === 6 && linkType !== LINKTYPE_IPV4 ? ETHERTYPE_IPV6 : -1;
    } else {
      return false;
    }
    if (etherType === ETHERTYPE_IPV4) return this.ipv4(buf, p, end);
    if (etherType === ETHERTYPE_IPV6) return this.ipv6(buf, p, end);
    return false;
  }

  private ipv4(buf: Buffer, p: number, end: number): boolean {
    if (p + 20 > end) return false;
    const vihl = buf[p]!;
    const headerLength = (vihl & 0x0f) * 4;
    if (vihl >>> 4 !== 4 || headerLength < 20 || p + headerLength > end) return false;
    const totalLength = (buf[p + 2]! << 8) | buf[p + 3]!;
    if (totalLength !== 0 && totalLength < headerLength) return false;
    const s = this.summary;
    const proto = buf[p + 9]!;
    s.type = 'IPv4';
    const src = u32(buf, p + 12);
    const dst = u32(buf, p + 16);
    s.src = this.ipv4Text(src, buf, p + 12);
    s.dst = this.ipv4Text(dst, buf, p + 16);
    this.srcV4 = src;
    this.dstV4 = dst;
    s.ipProto = proto;
    s.protocol = protocolName(proto);
    // a later fragment carries no transport header: protocol by number, no ports (as decodePacket)
    if ((((buf[p + 6]! << 8) | buf[p + 7]!) & 0x1fff) !== 0) return true;
    const payloadEnd = totalLength === 0 ? end : Math.min(end, p + totalLength);
    return this.transport(buf, proto, p + headerLength, payloadEnd);
  }

  private ipv6(buf: Buffer, p: number, end: number): boolean {
    if (p + 40 > end || buf[p]! >>> 4 !== 6) return false;
    const proto = buf[p + 6]!;
    if (IPV6_EXTENSIONS.has(proto)) return false;
    const payloadLength = (buf[p + 4]! << 8) | buf[p + 5]!;
    const s = this.summary;
    s.type = 'IPv6';
    s.src = ipv6At(buf, p + 8);
    s.dst = ipv6At(buf, p + 24);
    s.ipProto = proto;
    s.protocol = protocolName(proto);
    return this.transport(buf, proto, p + 40, payloadLength === 0 ? end : Math.min(end, p + 40 + payloadLength));
  }

  /** TCP and UDP ports, TCP flags, and DNS by port; other protocols need nothing more. */
  private transport(buf: Buffer, proto: number, p: number, end: number): boolean {
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return true;
    const s = this.summary;
    if (proto === IPPROTO_TCP) {
      if (p + 20 > end) return false;
      const headerLength = (buf[p + 12]! >>> 4) * 4;
      if (headerLength < 20 || p + headerLength > end) return false;
      s.tcpFlags = buf[p + 13]!;
    } else {
      if (p + 8 > end) return false;
      const length = (buf[p + 4]! << 8) | buf[p + 5]!;
      if (length !== 0 && length < 8) return false;
      if (length !== 0) end = Math.min(end, p + length);
      // no payload, no application: as decodePacket, the length field decides, not the captured bytes
      if (length === 0 ? p + 8 >= end : length === 8) {
        s.sport = (buf[p]! << 8) | buf[p + 1]!;
        s.dport = (buf[p + 2]! << 8) | buf[p + 3]!;
        return true;
      }
    }
    const sport = (buf[p]! << 8) | buf[p + 1]!;
    const dport = (buf[p + 2]! << 8) | buf[p + 3]!;
    s.sport = sport;
    s.dport = dport;
    const dns = dnsPortName(sport, dport);
    if (dns === undefined) return this.wirelab(buf, proto === IPPROTO_TCP ? 'tcp' : 'udp', sport, dport, p, end);
    // DNS over TCP depends on the segment holding a whole message: the full decoder settles it
    if (proto === IPPROTO_TCP) return false;
    s.protocol = dns;
    return true;
  }

  /** wirelab's own protocols, then the other application protocols, as decodePacket recognises them. */
  private wirelab(buf: Buffer, transport: 'udp' | 'tcp', sport: number, dport: number, p: number, end: number): boolean {
    const payload = p + (transport === 'tcp' ? (buf[p + 12]! >>> 4) * 4 : 8);
    // no payload: no application, as in decodePacket
    if (payload >= end) return true;
    const match = hasWirelabPort(transport, sport, dport) ? matchWirelab(transport, sport, dport, buf, payload, end) : undefined;
    if (match !== undefined) {
      this.summary.protocol = match.name;
      return true;
    }
    const app = transport === 'tcp' ? matchTcpApp(sport, dport, buf, payload, end, 'name') : matchUdpApp(sport, dport, buf, payload, end);
    if (app !== undefined) this.summary.protocol = app.name;
    return true;
  }

  /** The text of the IPv4 address `address` (0..2^32-1), which is at `buf[o]`. */
  private ipv4Text(address: number, buf: Buffer, o: number): string {
    const key = address | 0;
    // Fibonacci hashing spreads neighbouring addresses over the table
    const slot = Math.imul(key, 0x9e3779b1) >>> ADDRESS_CACHE_SHIFT;
    const cached = this.cachedTexts[slot]!;
    if (cached !== '' && this.cachedKeys[slot] === key) return cached;
    const text = ipv4At(buf, o);
    this.cachedKeys[slot] = key;
    this.cachedTexts[slot] = text;
    return text;
  }
}

function u32(buf: Buffer, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

function dnsPortName(sport: number, dport: number): string | undefined {
  if (sport === PORT_DNS || dport === PORT_DNS) return 'DNS';
  if (sport === PORT_MDNS || dport === PORT_MDNS) return 'MDNS';
  if (sport === PORT_LLMNR || dport === PORT_LLMNR) return 'LLMNR';
  return undefined;
}
