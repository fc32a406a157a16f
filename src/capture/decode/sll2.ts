/**
 * Linux "cooked" capture header v2 (LINKTYPE_LINUX_SLL2, 276). 20 bytes: protocol, reserved,
 * interface index, ARPHRD type, packet type, link address length, 8 address bytes
 * (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
 */
import { need } from './bytes.js';
import { linkAddressAt } from './sll.js';

export interface Sll2Header {
  /** an EtherType, or an 802.3/802.2 marker at or below 1500 */
  etherType: number;
  /** the capturing interface's index */
  interfaceIndex: number;
  /** ARPHRD_* type of the device */
  hardwareType: number;
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us */
  packetType: number;
  /** the link-layer source address, colon-separated hex; undefined when its length is 0 */
  address: string | undefined;
  payloadOffset: number;
}

export function decodeSll2(buf: Buffer, offset: number, end: number): Sll2Header {
  need('SLL2', offset, 20, end);
  return {
    etherType: buf.readUInt16BE(offset),
    interfaceIndex: buf.readUInt32BE(offset + 4),
    hardwareType: buf.readUInt16BE(offset + 8),
    packetType: buf[offset + 10]!,
    address: linkAddressAt(buf, offset + 12, buf[offset + 11]!),
    payloadOffset: offset + 20,
  };
}
