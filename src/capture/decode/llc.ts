/** IEEE 802.2 LLC frames (an 802.3 length instead of an EtherType) named by their SAPs or SNAP header. */
import { u16 } from './bytes.js';

/** Cisco's SNAP OUI (00:00:0c) */
const OUI_CISCO = 0x00000c;
const SNAP_NAMES: ReadonlyMap<number, string> = new Map([[0x2000, 'CDP'], [0x2004, 'DTP'], [0x010b, 'STP'], [0x2003, 'VTP']]);

/** Spanning tree (SAP 0x42), CDP and its Cisco siblings (SNAP), for the LLC header at `offset`; undefined otherwise. */
export function llcProtocol(buf: Buffer, offset: number, end: number): string | undefined {
  if (offset + 3 > end) return undefined;
  if (buf[offset] === 0x42 && buf[offset + 1] === 0x42) return 'STP';
  if (buf[offset] === 0xaa && buf[offset + 1] === 0xaa && offset + 8 <= end && ((buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) === OUI_CISCO) {
    return SNAP_NAMES.get(u16(buf, offset + 6));
  }
  return undefined;
}
