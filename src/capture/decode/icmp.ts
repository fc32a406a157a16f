/** ICMP for IPv4 (RFC 792): type, code, and the echo identifier and sequence number. */
import { need } from './bytes.js';

export interface IcmpHeader {
  type: number;
  code: number;
  checksum: number;
  /** echo identifier (types 0 and 8, also 13/14 timestamps), else undefined */
  id: number | undefined;
  /** echo sequence number, else undefined */
  seq: number | undefined;
}

const ICMP_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'Echo (ping) reply'],
  [3, 'Destination unreachable'],
  [4, 'Source quench'],
  [5, 'Redirect'],
  [8, 'Echo (ping) request'],
  [9, 'Router advertisement'],
  [10, 'Router solicitation'],
  [11, 'Time-to-live exceeded'],
  [12, 'Parameter problem'],
  [13, 'Timestamp request'],
  [14, 'Timestamp reply'],
]);

/** Types whose second word is an identifier and a sequence number (RFC 792). */
function hasEchoFields(type: number): boolean {
  return type === 0 || type === 8 || type === 13 || type === 14;
}

export function decodeIcmp(buf: Buffer, offset: number, end: number): IcmpHeader {
  need('ICMP', offset, 4, end);
  const type = buf[offset]!;
  const echo = hasEchoFields(type);
  if (echo) need('ICMP', offset, 8, end);
  return {
    type,
    code: buf[offset + 1]!,
    checksum: buf.readUInt16BE(offset + 2),
    id: echo ? buf.readUInt16BE(offset + 4) : undefined,
    seq: echo ? buf.readUInt16BE(offset + 6) : undefined,
  };
}

/** A short line for the packet: "Echo (ping) request id=0x0001, seq=7". */
export function icmpInfo(h: IcmpHeader, typeNames: ReadonlyMap<number, string> = ICMP_TYPE_NAMES): string {
  const name = typeNames.get(h.type) ?? `Type ${h.type}`;
  const code = h.code === 0 ? '' : ` (code ${h.code})`;
  const echo = h.id === undefined ? '' : ` id=0x${h.id.toString(16).padStart(4, '0')}, seq=${h.seq}`;
  return name + code + echo;
}
