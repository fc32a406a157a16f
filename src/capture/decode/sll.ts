/**
 * Linux "cooked" capture header v1 (LINKTYPE_LINUX_SLL, 113): what libpcap writes for the "any"
 * device. 16 bytes: packet type, ARPHRD type, link address length, 8 address bytes, protocol
 * (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html).
 */
import { hexAddressAt, macAt, need } from './bytes.js';

/** ARPHRD_NETLINK: the protocol field is a netlink family, not an EtherType. */
export const ARPHRD_NETLINK = 824;

export interface SllHeader {
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us */
  packetType: number;
  /** ARPHRD_* type of the device */
  hardwareType: number;
  /** the link-layer source address, colon-separated hex; undefined when its length is 0 */
  address: string | undefined;
  /** an EtherType, or an 802.3/802.2 marker (1, 4) at or below 1500 */
  etherType: number;
  payloadOffset: number;
}

/** Format a link address of `length` (clamped to the 8 bytes the header has room for). */
export function linkAddressAt(buf: Buffer, o: number, length: number): string | undefined {
  const n = Math.min(length, 8);
  if (n === 0) return undefined;
  return n === 6 ? macAt(buf, o) : hexAddressAt(buf, o, n);
}

export function decodeSll(buf: Buffer, offset: number, end: number): SllHeader {
  need('SLL', offset, 16, end);
  return {
    packetType: buf.readUInt16BE(offset),
    hardwareType: buf.readUInt16BE(offset + 2),
    address: linkAddressAt(buf, offset + 6, buf.readUInt16BE(offset + 4)),
    etherType: buf.readUInt16BE(offset + 14),
    payloadOffset: offset + 16,
  };
}
