/**
 * IPv6 header (RFC 8200) and its extension header chain: hop-by-hop options, routing, fragment,
 * destination options (RFC 8200 4), AH (RFC 4302), and the mobility/HIP/shim6 headers that share
 * the generic layout (RFC 7045). The chain is followed up to a limit, so a crafted packet cannot
 * keep the decoder walking.
 */
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from './constants.js';
import { ipv6At, malformed, need } from './bytes.js';

/** One extension header in the chain. */
export interface Ipv6ExtensionHeader {
  /** its own protocol number (0, 43, 44, 51, 60, ...) */
  type: number;
  offset: number;
  /** bytes it spans */
  length: number;
}

export interface Ipv6Header {
  offset: number;
  trafficClass: number;
  flowLabel: number;
  /** the payload length field, bytes (0 with a jumbo payload or TSO) */
  payloadLength: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** extension headers in order; undefined when there are none */
  extensions: Ipv6ExtensionHeader[] | undefined;
  /** the upper-layer protocol after the extension headers */
  protocol: number;
  /** fragment offset in bytes when a fragment header is present, else 0 */
  fragmentOffset: number;
  /** more-fragments flag of the fragment header */
  moreFragments: boolean;
  /** whether a fragment header is present */
  fragmented: boolean;
  /** byte offset of the upper-layer payload */
  payloadOffset: number;
  /** end of the payload (payload length clamped to the captured bytes) */
  payloadEnd: number;
}

const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

function isGenericExtension(type: number): boolean {
  return type === IPPROTO_HOPOPTS || type === IPPROTO_ROUTING || type === IPPROTO_DSTOPTS ||
    type === MOBILITY || type === HIP || type === SHIM6;
}

/** Bytes spanned by the extension header of `type` at `p`, checked against `end`. */
function extensionLength(buf: Buffer, type: number, p: number, end: number): number {
  need('IPv6 extension', p, 2, end);
  // The fragment header is 8 bytes (RFC 8200 4.5); AH counts 4-byte units minus 2 (RFC 4302 2.2);
  // the others 8-byte units minus 1 (RFC 8200 4.3).
  const length = type === IPPROTO_FRAGMENT ? 8 : type === IPPROTO_AH ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
  need('IPv6 extension', p, length, end);
  return length;
}

/** Decode the IPv6 header at `offset` and follow at most `maxExtensions` extension headers. */
export function decodeIpv6(buf: Buffer, offset: number, end: number, maxExtensions: number): Ipv6Header {
  need('IPv6', offset, 40, end);
  const first = buf.readUInt32BE(offset);
  if (first >>> 28 !== 6) throw malformed('IPv6', `version ${first >>> 28}`, offset);
  const payloadLength = buf.readUInt16BE(offset + 4);
  const payloadEnd = payloadLength === 0 ? end : Math.min(end, offset + 40 + payloadLength);
  const h: Ipv6Header = {
    offset,
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    payloadLength,
    hopLimit: buf[offset + 7]!,
    src: ipv6At(buf, offset + 8),
    dst: ipv6At(buf, offset + 24),
    extensions: undefined,
    protocol: buf[offset + 6]!,
    fragmentOffset: 0,
    moreFragments: false,
    fragmented: false,
    payloadOffset: offset + 40,
    payloadEnd,
  };
  walkExtensions(buf, h, maxExtensions);
  return h;
}

function walkExtensions(buf: Buffer, h: Ipv6Header, maxExtensions: number): void {
  let type = h.protocol;
  let p = h.payloadOffset;
  while (isGenericExtension(type) || type === IPPROTO_FRAGMENT || type === IPPROTO_AH) {
    h.extensions ??= [];
    if (h.extensions.length >= maxExtensions) throw malformed('IPv6', `more than ${maxExtensions} extension headers`, p);
    const length = extensionLength(buf, type, p, h.payloadEnd);
    h.extensions.push({ type, offset: p, length });
    if (type === IPPROTO_FRAGMENT) {
      const field = buf.readUInt16BE(p + 2);
      h.fragmented = true;
      h.fragmentOffset = field & 0xfff8;
      h.moreFragments = (field & 1) === 1;
    }
    type = buf[p]!;
    p += length;
    // Only the first fragment carries the next headers; later ones are opaque payload.
    if (h.fragmentOffset !== 0) break;
  }
  h.protocol = type;
  h.payloadOffset = p;
}
