/**
 * ICMPv6 (RFC 4443) with the Neighbor Discovery messages (RFC 4861) and MLD (RFC 2710, RFC 3810)
 * named; echo identifier/sequence and the ND target address are decoded.
 */
import { ipv6At, need } from './bytes.js';
import { icmpInfo, type IcmpHeader } from './icmp.js';

export interface Icmpv6Header extends IcmpHeader {
  /** target address of a neighbor solicitation/advertisement or redirect */
  target: string | undefined;
}

const ICMPV6_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'Destination Unreachable'],
  [2, 'Packet Too Big'],
  [3, 'Time Exceeded'],
  [4, 'Parameter Problem'],
  [128, 'Echo (ping) request'],
  [129, 'Echo (ping) reply'],
  [130, 'Multicast Listener Query'],
  [131, 'Multicast Listener Report'],
  [132, 'Multicast Listener Done'],
  [133, 'Router Solicitation'],
  [134, 'Router Advertisement'],
  [135, 'Neighbor Solicitation'],
  [136, 'Neighbor Advertisement'],
  [137, 'Redirect'],
  [143, 'Multicast Listener Report Message v2'],
]);

const ECHO_REQUEST = 128;
const ECHO_REPLY = 129;

/** Types carrying a target address at byte 8 (RFC 4861 4.3, 4.4, 4.5). */
function hasTarget(type: number): boolean {
  return type === 135 || type === 136 || type === 137;
}

export function decodeIcmpv6(buf: Buffer, offset: number, end: number): Icmpv6Header {
  need('ICMPv6', offset, 4, end);
  const type = buf[offset]!;
  const echo = type === ECHO_REQUEST || type === ECHO_REPLY;
  if (echo) need('ICMPv6', offset, 8, end);
  if (hasTarget(type)) need('ICMPv6', offset, 24, end);
  return {
    type,
    code: buf[offset + 1]!,
    checksum: buf.readUInt16BE(offset + 2),
    id: echo ? buf.readUInt16BE(offset + 4) : undefined,
    seq: echo ? buf.readUInt16BE(offset + 6) : undefined,
    target: hasTarget(type) ? ipv6At(buf, offset + 8) : undefined,
  };
}

/** A short line: "Neighbor Solicitation for fe80::1", "Echo (ping) request id=0x0001, seq=1". */
export function icmpv6Info(h: Icmpv6Header): string {
  const line = icmpInfo(h, ICMPV6_TYPE_NAMES);
  return h.target === undefined ? line : `${line} for ${h.target}`;
}
