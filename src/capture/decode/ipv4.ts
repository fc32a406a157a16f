/**
 * IPv4 header (RFC 791) with its options and fragment fields. Only the first fragment (offset 0)
 * carries the transport header; later fragments are left as payload (no reassembly here).
 */
import { ipv4At, malformed, need, u16 } from './bytes.js';

/** One IPv4 option (RFC 791 3.1): type byte and the bytes it spans. */
export interface Ipv4Option {
  type: number;
  /** total option length in bytes, type and length bytes included (1 for EOL/NOP) */
  length: number;
}

export interface Ipv4Header {
  offset: number;
  /** header length in bytes (IHL * 4) */
  headerLength: number;
  /** DSCP and ECN byte */
  tos: number;
  /** the total length field, bytes */
  totalLength: number;
  id: number;
  /** the three flag bits: 0x4 reserved, 0x2 DF, 0x1 MF */
  flags: number;
  /** fragment offset in bytes (the field is in 8-byte units) */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
  /** byte offset of the payload */
  payloadOffset: number;
  /** end of the payload: the total length, clamped to the captured bytes (snap length, TSO) */
  payloadEnd: number;
}

/** Decode the IPv4 header at `offset` (the options are listed by {@link ipv4Options}). */
export function decodeIpv4(buf: Buffer, offset: number, end: number): Ipv4Header {
  need('IPv4', offset, 20, end);
  const vihl = buf[offset]!;
  if (vihl >>> 4 !== 4) throw malformed('IPv4', `version ${vihl >>> 4}`, offset);
  const headerLength = (vihl & 0x0f) * 4;
  if (headerLength < 20) throw malformed('IPv4', `header length ${headerLength} < 20`, offset);
  need('IPv4', offset, headerLength, end);
  const totalLength = u16(buf, offset + 2);
  // A total length of 0 is what TCP segmentation offload leaves in captures: take the captured bytes.
  if (totalLength !== 0 && totalLength < headerLength) {
    throw malformed('IPv4', `total length ${totalLength} < header length ${headerLength}`, offset + 2);
  }
  const frag = u16(buf, offset + 6);
  const payloadEnd = totalLength === 0 ? end : Math.min(end, offset + totalLength);
  return {
    offset,
    headerLength,
    tos: buf[offset + 1]!,
    totalLength,
    id: u16(buf, offset + 4),
    flags: frag >>> 13,
    fragmentOffset: (frag & 0x1fff) * 8,
    ttl: buf[offset + 8]!,
    protocol: buf[offset + 9]!,
    checksum: u16(buf, offset + 10),
    src: ipv4At(buf, offset + 12),
    dst: ipv4At(buf, offset + 16),
    payloadOffset: offset + headerLength,
    payloadEnd,
  };
}

/** The options of a decoded header (RFC 791 3.1: EOL 0 ends the list, NOP 1 is one byte). */
export function ipv4Options(buf: Buffer, h: Ipv4Header, maxOptions: number): Ipv4Option[] {
  const options: Ipv4Option[] = [];
  let p = h.offset + 20;
  const end = h.offset + h.headerLength;
  while (p < end) {
    if (options.length >= maxOptions) throw malformed('IPv4', `more than ${maxOptions} options`, p);
    const type = buf[p]!;
    if (type === 0) {
      options.push({ type, length: 1 });
      break;
    }
    if (type === 1) {
      options.push({ type, length: 1 });
      p += 1;
      continue;
    }
    need('IPv4 option', p, 2, end);
    const length = buf[p + 1]!;
    if (length < 2 || p + length > end) throw malformed('IPv4', `option ${type} length ${length}`, p);
    options.push({ type, length });
    p += length;
  }
  return options;
}

/** Human fragment flags as the seed printed them: "DF", "MF", "DF,MF", '' (RFC 791; RFC 3514's evil bit is "RB"). */
export const IPV4_FLAG_TEXT: readonly string[] = ['', 'MF', 'DF', 'DF,MF', 'RB', 'RB,MF', 'RB,DF', 'RB,DF,MF'];
