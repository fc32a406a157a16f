/**
 * The walk from link layer to application: each layer's decoder gives a header, the walk copies
 * what the summary needs and, when a layer tree was asked for, records the header too. A
 * DecodeError anywhere stops the walk there and becomes `summary.error`; what was decoded stays.
 */
import { DecodeError } from '../../common/errors.js';
import type { PacketSummary, RawPacket } from '../types.js';
import {
  DEFAULT_DECODE_LIMITS,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_MAX_LENGTH,
  ETHERTYPE_NAMES,
  IP_PROTOCOL_NAMES,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LINK_TYPE_NAMES,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_BSD,
  LINKTYPE_RAW_OPENBSD,
  PORT_DNS,
  PORT_LLMNR,
  PORT_MDNS,
  type DecodeLimits,
} from './constants.js';
import { hex16, ipv4At, ipv6At, macAt, u16 } from './bytes.js';
import { arpInfo, decodeArp } from './arp.js';
import { decodeDns, dnsInfo } from './dns.js';
import { decodeEthernet } from './ethernet.js';
import { decodeIcmp, icmpInfo } from './icmp.js';
import { decodeIcmpv6, icmpv6Info } from './icmpv6.js';
import { decodeIpv4, IPV4_FLAG_TEXT, ipv4Options } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeNull } from './null.js';
import { rawIpEtherType } from './raw.js';
import { ARPHRD_NETLINK, decodeSll } from './sll.js';
import { decodeSll2 } from './sll2.js';
import { decodeTcp, TCP_FLAG_TEXT, tcpOptions } from './tcp.js';
import { decodeUdp } from './udp.js';
import { matchWirelab } from './wirelab.js';
import { matchTcpApp, matchUdpApp } from './app.js';
import { llcProtocol } from './llc.js';

/** Counts of what the decoder met but could not decode; keys are 16-bit numbers, so bounded. */
export interface DecodeCounters {
  packets: number;
  /** packets whose decoding stopped at an error */
  errors: number;
  /** link type -> packets */
  unknownLinkTypes: Map<number, number>;
  /** EtherType not decoded further (named, not parsed; 0 for every 802.3 length) -> frames */
  unknownEtherTypes: Map<number, number>;
}

export function createDecodeCounters(): DecodeCounters {
  return { packets: 0, errors: 0, unknownLinkTypes: new Map(), unknownEtherTypes: new Map() };
}

/** One decoded layer, as tshark's tree shows it: its name, where it starts, and its header fields. */
export interface DecodedLayer {
  layer: string;
  /** byte offset in the packet */
  offset: number;
  fields: Record<string, unknown>;
}

export interface DecodeOptions {
  limits?: DecodeLimits;
  /** updated in place for every packet decoded with these options */
  counters?: DecodeCounters;
}

/** The state of one packet's walk: one object per packet, no closures. */
interface Walk {
  buf: Buffer;
  s: PacketSummary;
  tree: DecodedLayer[] | undefined;
  limits: DecodeLimits;
  counters: DecodeCounters | undefined;
  /** offset of a 6-byte destination MAC followed by the source MAC, or -1 */
  macOffset: number;
}

/** A summary with nothing decoded yet. */
export function newSummary(raw: RawPacket): PacketSummary {
  return {
    index: raw.index,
    tsSec: raw.tsSec,
    tsNsec: raw.tsNsec,
    type: '',
    src: undefined,
    dst: undefined,
    sport: undefined,
    dport: undefined,
    protocol: '',
    ipProto: -1,
    length: raw.originalLength,
    tcpFlags: 0,
    flags: '',
    info: '',
    error: undefined,
    seq: undefined,
    ack: undefined,
    window: undefined,
    app: undefined,
  };
}

/** Add a layer to the tree; callers test `w.tree` first so the summary path builds no fields. */
function record(w: Walk, layer: string, offset: number, fields: object): void {
  w.tree?.push({ layer, offset, fields: { ...fields } });
}

/** Walk the packet; fills `s` and, when given, `tree`. Throws nothing but bugs. */
export function walkPacket(raw: RawPacket, s: PacketSummary, tree: DecodedLayer[] | undefined, options: DecodeOptions): void {
  const w: Walk = { buf: raw.data, s, tree, limits: options.limits ?? DEFAULT_DECODE_LIMITS, counters: options.counters, macOffset: -1 };
  if (w.counters) w.counters.packets++;
  try {
    decodeLink(w, raw.linkType);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    s.error = err.message;
    if (w.counters) w.counters.errors++;
  }
}

/** Decode `raw` into a fresh summary. */
export function decodeToSummary(raw: RawPacket, options: DecodeOptions): PacketSummary {
  const s = newSummary(raw);
  walkPacket(raw, s, undefined, options);
  return s;
}

function decodeLink(w: Walk, linkType: number): void {
  const buf = w.buf;
  const end = buf.length;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const h = decodeEthernet(buf, 0, end, w.limits.maxVlanTags);
      if (w.tree) record(w, 'Ethernet', 0, { ...h, dst: macAt(buf, 0), src: macAt(buf, 6) });
      w.macOffset = 0;
      decodeNetwork(w, h.etherType, h.payloadOffset, end);
      return;
    }
    case LINKTYPE_LINUX_SLL: {
      const h = decodeSll(buf, 0, end);
      if (w.tree) record(w, 'SLL', 0, h);
      decodeCooked(w, h.hardwareType, h.etherType, h.address, h.payloadOffset);
      return;
    }
    case LINKTYPE_LINUX_SLL2: {
      const h = decodeSll2(buf, 0, end);
      if (w.tree) record(w, 'SLL2', 0, h);
      decodeCooked(w, h.hardwareType, h.etherType, h.address, h.payloadOffset);
      return;
    }
    default:
      decodeHeaderlessLink(w, linkType);
  }
}

/** Link types without addresses: loopback and raw IP. */
function decodeHeaderlessLink(w: Walk, linkType: number): void {
  const end = w.buf.length;
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      const h = decodeNull(w.buf, 0, end);
      if (w.tree) record(w, 'NULL', 0, h);
      if (h.etherType < 0) unknownFamily(w, h.family);
      else decodeNetwork(w, h.etherType, h.payloadOffset, end);
      return;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD:
    case LINKTYPE_RAW_OPENBSD:
      decodeNetwork(w, rawIpEtherType(w.buf, 0, end), 0, end);
      return;
    case LINKTYPE_IPV4:
      decodeNetwork(w, ETHERTYPE_IPV4, 0, end);
      return;
    case LINKTYPE_IPV6:
      decodeNetwork(w, ETHERTYPE_IPV6, 0, end);
      return;
    default:
      unknownLink(w, linkType);
  }
}

/** After a Linux cooked header: the protocol field is an EtherType unless the device is netlink. */
function decodeCooked(w: Walk, hardwareType: number, etherType: number, address: string | undefined, offset: number): void {
  if (hardwareType === ARPHRD_NETLINK) {
    w.s.type = w.s.protocol = 'Netlink';
    w.s.src = address;
    return;
  }
  if (etherType !== ETHERTYPE_IPV4 && etherType !== ETHERTYPE_IPV6) w.s.src = address;
  decodeNetwork(w, etherType, offset, w.buf.length);
}

function unknownFamily(w: Walk, family: number): void {
  w.s.type = w.s.protocol = `NULL family ${family}`;
}

function unknownLink(w: Walk, linkType: number): void {
  const name = LINK_TYPE_NAMES.get(linkType) ?? `linktype ${linkType}`;
  w.s.type = name;
  w.s.protocol = name;
  if (w.counters) w.counters.unknownLinkTypes.set(linkType, (w.counters.unknownLinkTypes.get(linkType) ?? 0) + 1);
}

function decodeNetwork(w: Walk, etherType: number, offset: number, end: number): void {
  switch (etherType) {
    case ETHERTYPE_IPV4:
      decodeIpv4Layer(w, offset, end);
      return;
    case ETHERTYPE_IPV6:
      decodeIpv6Layer(w, offset, end);
      return;
    case ETHERTYPE_ARP:
      nonIp(w, etherType);
      decodeArpLayer(w, offset, end);
      return;
    default:
      nonIp(w, etherType);
      countEtherType(w, etherType);
      if (etherType <= ETHERTYPE_MAX_LENGTH) w.s.protocol = llcProtocol(w.buf, offset, end) ?? w.s.protocol;
  }
}

/** A frame whose network layer is not IP: named by EtherType, addressed by MAC. */
function nonIp(w: Walk, etherType: number): void {
  const name = etherType <= ETHERTYPE_MAX_LENGTH ? 'LLC' : ETHERTYPE_NAMES.get(etherType) ?? 'EtherType ' + hex16(etherType);
  w.s.type = name;
  w.s.protocol = name;
  if (w.macOffset >= 0) {
    w.s.dst = macAt(w.buf, w.macOffset);
    w.s.src = macAt(w.buf, w.macOffset + 6);
  }
}

function countEtherType(w: Walk, etherType: number): void {
  const key = etherType <= ETHERTYPE_MAX_LENGTH ? 0 : etherType;
  if (w.counters) w.counters.unknownEtherTypes.set(key, (w.counters.unknownEtherTypes.get(key) ?? 0) + 1);
}

function decodeArpLayer(w: Walk, offset: number, end: number): void {
  const a = decodeArp(w.buf, offset, end);
  if (w.tree) record(w, 'ARP', offset, a);
  w.s.info = arpInfo(a);
}

/** Names of the 256 IP protocol numbers, looked up per packet. */
const PROTOCOL_TEXT: readonly string[] = Array.from({ length: 256 }, (_, p) => IP_PROTOCOL_NAMES.get(p) ?? `IP proto ${p}`);

/** The name of IP protocol number `proto` (0..255) as summaries give it. */
export function protocolName(proto: number): string {
  return PROTOCOL_TEXT[proto]!;
}

/**
 * The addresses come first: a header whose options (IPv4) or extension headers (IPv6) are cut short
 * still yields its fixed part's addresses and protocol before the error, as tcpdump and tshark print.
 */
function readIpAddresses(w: Walk, v6: boolean, offset: number, end: number): void {
  const s = w.s;
  const fixed = v6 ? 40 : 20;
  if (offset + fixed > end || w.buf[offset]! >>> 4 !== (v6 ? 6 : 4)) return;
  s.type = v6 ? 'IPv6' : 'IPv4';
  s.protocol = s.type;
  s.src = v6 ? ipv6At(w.buf, offset + 8) : ipv4At(w.buf, offset + 12);
  s.dst = v6 ? ipv6At(w.buf, offset + 24) : ipv4At(w.buf, offset + 16);
}

function isUpperLayer(next: number): boolean {
  return next === IPPROTO_TCP || next === IPPROTO_UDP || next === IPPROTO_ICMPV6;
}

function decodeIpv4Layer(w: Walk, offset: number, end: number): void {
  // only a header with options (or a bad length) needs the early read; the common one is read once
  if (offset + 20 <= end && (w.buf[offset]! & 0x0f) !== 5) readIpAddresses(w, false, offset, end);
  const h = decodeIpv4(w.buf, offset, end);
  if (w.tree) record(w, 'IPv4', offset, h);
  if (w.tree && h.headerLength > 20) record(w, 'IPv4 options', offset + 20, { options: ipv4Options(w.buf, h, w.limits.maxOptions) });
  const s = w.s;
  s.type = 'IPv4';
  s.src = h.src;
  s.dst = h.dst;
  s.ipProto = h.protocol;
  s.flags = IPV4_FLAG_TEXT[h.flags]!;
  s.protocol = protocolName(h.protocol);
  if (h.fragmentOffset !== 0) {
    s.info = `Fragment id=${hex16(h.id)} offset=${h.fragmentOffset}`;
    return;
  }
  decodeTransport(w, h.protocol, h.payloadOffset, h.payloadEnd);
}

function decodeIpv6Layer(w: Walk, offset: number, end: number): void {
  // only extension headers can be cut short after the fixed header
  if (offset + 40 <= end && !isUpperLayer(w.buf[offset + 6]!)) readIpAddresses(w, true, offset, end);
  const h = decodeIpv6(w.buf, offset, end, w.limits.maxIpv6ExtensionHeaders);
  if (w.tree) record(w, 'IPv6', offset, h);
  const s = w.s;
  s.type = 'IPv6';
  s.src = h.src;
  s.dst = h.dst;
  s.ipProto = h.protocol;
  s.protocol = protocolName(h.protocol);
  s.flags = h.moreFragments ? 'MF' : '';
  if (h.fragmentOffset !== 0) {
    s.info = `Fragment offset=${h.fragmentOffset}`;
    return;
  }
  decodeTransport(w, h.protocol, h.payloadOffset, h.payloadEnd);
}

function decodeTransport(w: Walk, proto: number, offset: number, end: number): void {
  switch (proto) {
    case IPPROTO_TCP:
      decodeTcpLayer(w, offset, end);
      return;
    case IPPROTO_UDP:
      decodeUdpLayer(w, offset, end);
      return;
    case IPPROTO_ICMP: {
      const h = decodeIcmp(w.buf, offset, end);
      if (w.tree) record(w, 'ICMP', offset, h);
      w.s.info = icmpInfo(h);
      return;
    }
    case IPPROTO_ICMPV6: {
      const h = decodeIcmpv6(w.buf, offset, end);
      if (w.tree) record(w, 'ICMPv6', offset, h);
      w.s.info = icmpv6Info(h);
      return;
    }
    default:
      return;
  }
}

/** The ports come first, so a header cut short still yields them before the error. */
function readPorts(w: Walk, offset: number, end: number): void {
  if (offset + 4 > end) return;
  w.s.sport = u16(w.buf, offset);
  w.s.dport = u16(w.buf, offset + 2);
}

function decodeTcpLayer(w: Walk, offset: number, end: number): void {
  readPorts(w, offset, end);
  const h = decodeTcp(w.buf, offset, end);
  if (w.tree) record(w, 'TCP', offset, h);
  const s = w.s;
  s.tcpFlags = h.flags;
  s.flags = TCP_FLAG_TEXT[h.flags]!;
  s.seq = h.seq;
  s.ack = h.ack;
  s.window = h.window;
  // Only the payload length: sequence numbers are in decodeLayers; formatting two 32-bit numbers per
  // segment cost about a third of the whole summary path.
  s.info = 'Len=' + (end - h.payloadOffset);
  if (w.tree) record(w, 'TCP options', offset + 20, tcpOptions(w.buf, h, w.limits.maxOptions));
  if (h.payloadOffset < end) decodeApplication(w, 'tcp', h.srcPort, h.dstPort, h.payloadOffset, end);
}

function decodeUdpLayer(w: Walk, offset: number, end: number): void {
  readPorts(w, offset, end);
  const h = decodeUdp(w.buf, offset, end);
  if (w.tree) record(w, 'UDP', offset, h);
  w.s.info = `Len=${h.payloadEnd - h.payloadOffset}`;
  // The length field, not the captured bytes, says whether a payload exists: a snapped one is reported.
  const hasPayload = h.length === 0 ? h.payloadOffset < h.payloadEnd : h.length > 8;
  if (hasPayload) decodeApplication(w, 'udp', h.srcPort, h.dstPort, h.payloadOffset, h.payloadEnd);
}

/** DNS on its ports (RFC 1035 4.2.2: over TCP with a 2-byte length prefix), then wirelab's own protocols. */
function decodeApplication(w: Walk, transport: 'udp' | 'tcp', sport: number, dport: number, offset: number, end: number): void {
  const dnsName = dnsPortName(sport, dport);
  if (dnsName !== undefined) {
    let start = offset;
    let stop = end;
    if (transport === 'tcp') {
      // Without stream reassembly only a segment holding a whole message can be read; any other
      // segment of the stream stays plain TCP rather than a false error.
      if (offset + 2 > end || offset + 2 + u16(w.buf, offset) > end) return;
      start = offset + 2;
      stop = start + u16(w.buf, offset);
    }
    w.s.protocol = dnsName;
    const msg = decodeDns(w.buf, start, stop, w.limits);
    if (w.tree) record(w, dnsName, start, msg);
    w.s.info = dnsInfo(msg);
    if (msg.damage) throw msg.damage;
    return;
  }
  const proto = matchWirelab(transport, sport, dport, w.buf, offset, end);
  if (proto !== undefined) {
    w.s.protocol = proto.name;
    w.s.info = proto.describe(w.buf, offset, end);
    if (w.tree) record(w, proto.name, offset, { length: end - offset });
    return;
  }
  const app = transport === 'tcp' ? matchTcpApp(sport, dport, w.buf, offset, end) : matchUdpApp(sport, dport, w.buf, offset, end);
  if (app === undefined) return;
  w.s.protocol = app.name;
  w.s.info = app.info;
  if (app.fields !== undefined) w.s.app = app.fields;
  if (w.tree) record(w, app.name, offset, { length: end - offset, ...app.fields });
}

function dnsPortName(sport: number, dport: number): string | undefined {
  if (sport === PORT_DNS || dport === PORT_DNS) return 'DNS';
  if (sport === PORT_MDNS || dport === PORT_MDNS) return 'MDNS';
  if (sport === PORT_LLMNR || dport === PORT_LLMNR) return 'LLMNR';
  return undefined;
}

