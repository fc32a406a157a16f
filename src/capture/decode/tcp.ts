/**
 * TCP header (RFC 9293 3.1) and its options: MSS (kind 2), window scale (3, RFC 7323 2), SACK
 * permitted (4) and SACK blocks (5, RFC 2018), timestamps (8, RFC 7323 3).
 */
import { malformed, need, u16 } from './bytes.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export interface TcpHeader {
  offset: number;
  srcPort: number;
  dstPort: number;
  /** sequence number, unsigned 32-bit */
  seq: number;
  /** acknowledgment number, unsigned 32-bit */
  ack: number;
  /** header length in bytes (data offset * 4) */
  headerLength: number;
  /** the eight flag bits (FIN 0x01 ... CWR 0x80) */
  flags: number;
  /** the window field, unscaled */
  window: number;
  checksum: number;
  urgentPointer: number;
  payloadOffset: number;
  payloadEnd: number;
}

/** Decode the TCP header at `offset`; `end` is the end of the IP payload. */
export function decodeTcp(buf: Buffer, offset: number, end: number): TcpHeader {
  need('TCP', offset, 20, end);
  const headerLength = (buf[offset + 12]! >>> 4) * 4;
  if (headerLength < 20) throw malformed('TCP', `header length ${headerLength} < 20`, offset + 12);
  need('TCP', offset, headerLength, end);
  return {
    offset,
    srcPort: u16(buf, offset),
    dstPort: u16(buf, offset + 2),
    seq: buf.readUInt32BE(offset + 4),
    ack: buf.readUInt32BE(offset + 8),
    headerLength,
    flags: buf[offset + 13]!,
    window: u16(buf, offset + 14),
    checksum: u16(buf, offset + 16),
    urgentPointer: u16(buf, offset + 18),
    payloadOffset: offset + headerLength,
    payloadEnd: end,
  };
}

/** The options of one segment that we understand; other kinds are listed by number. */
export interface TcpOptions {
  /** maximum segment size, bytes */
  mss: number | undefined;
  /** window scale shift count */
  windowScale: number | undefined;
  sackPermitted: boolean;
  /** SACK blocks as [left edge, right edge) sequence numbers */
  sack: Array<[number, number]> | undefined;
  /** timestamp value and echo reply */
  timestamp: { value: number; echo: number } | undefined;
  /** kinds of other options present */
  other: number[];
}

/** Fixed lengths of the options we decode (kind -> bytes); SACK is variable. */
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [2, 4],
  [3, 3],
  [4, 2],
  [8, 10],
]);

function checkLength(kind: number, length: number, p: number): void {
  const fixed = FIXED_LENGTH.get(kind);
  const bad = fixed !== undefined ? length !== fixed : kind === 5 ? length < 10 || (length - 2) % 8 !== 0 : length < 2;
  if (bad) throw malformed('TCP', `option ${kind} length ${length}`, p);
}

function applyOption(buf: Buffer, kind: number, p: number, length: number, out: TcpOptions): void {
  switch (kind) {
    case 2:
      out.mss = u16(buf, p + 2);
      break;
    case 3:
      out.windowScale = buf[p + 2]!;
      break;
    case 4:
      out.sackPermitted = true;
      break;
    case 5:
      out.sack = [];
      for (let q = p + 2; q < p + length; q += 8) out.sack.push([buf.readUInt32BE(q), buf.readUInt32BE(q + 4)]);
      break;
    case 8:
      out.timestamp = { value: buf.readUInt32BE(p + 2), echo: buf.readUInt32BE(p + 6) };
      break;
    default:
      out.other.push(kind);
  }
}

/** Decode the options of a decoded header (RFC 9293 3.2: kind 0 ends the list, kind 1 is padding). */
export function tcpOptions(buf: Buffer, h: TcpHeader, maxOptions: number): TcpOptions {
  const out: TcpOptions = { mss: undefined, windowScale: undefined, sackPermitted: false, sack: undefined, timestamp: undefined, other: [] };
  const end = h.offset + h.headerLength;
  let p = h.offset + 20;
  let count = 0;
  while (p < end) {
    const kind = buf[p]!;
    if (kind === 0) break;
    if (++count > maxOptions) throw malformed('TCP', `more than ${maxOptions} options`, p);
    if (kind === 1) {
      p += 1;
      continue;
    }
    need('TCP option', p, 2, end);
    const length = buf[p + 1]!;
    checkLength(kind, length, p);
    need('TCP option', p, length, end);
    applyOption(buf, kind, p, length, out);
    p += length;
  }
  return out;
}

const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const;

/** Flag names by bitmask, precomputed: "SYN,ACK" for 0x12, '' for 0. */
export const TCP_FLAG_TEXT: readonly string[] = Array.from({ length: 256 }, (_, bits) =>
  FLAG_NAMES.filter((_, i) => (bits >>> i) & 1).join(','),
);
