/** UDP header (RFC 768). */
import { malformed, need, u16 } from './bytes.js';

export interface UdpHeader {
  offset: number;
  srcPort: number;
  dstPort: number;
  /** the length field: header and payload, bytes */
  length: number;
  checksum: number;
  payloadOffset: number;
  /** end of the payload: the length field, clamped to what was captured */
  payloadEnd: number;
}

/** Decode the UDP header at `offset`; `end` is the end of the IP payload. */
export function decodeUdp(buf: Buffer, offset: number, end: number): UdpHeader {
  need('UDP', offset, 8, end);
  const length = u16(buf, offset + 4);
  // Length 0 is legal only for IPv6 jumbograms (RFC 2675 4); there the IP payload bounds the datagram.
  if (length !== 0 && length < 8) throw malformed('UDP', `length ${length} < 8`, offset + 4);
  return {
    offset,
    srcPort: u16(buf, offset),
    dstPort: u16(buf, offset + 2),
    length,
    checksum: u16(buf, offset + 6),
    payloadOffset: offset + 8,
    payloadEnd: length === 0 ? end : Math.min(end, offset + length),
  };
}
