/** ARP (RFC 826), for any hardware and protocol address lengths; Ethernet/IPv4 ones are formatted. */
import { ETHERTYPE_IPV4 } from './constants.js';
import { hexAddressAt, ipv4At, need } from './bytes.js';

export interface ArpPacket {
  hardwareType: number;
  protocolType: number;
  /** 1 request, 2 reply (RFC 826); 3/4 RARP (RFC 903) */
  operation: number;
  senderHardware: string;
  senderProtocol: string;
  targetHardware: string;
  targetProtocol: string;
}

function protocolAddress(buf: Buffer, o: number, length: number, protocolType: number): string {
  return length === 4 && protocolType === ETHERTYPE_IPV4 ? ipv4At(buf, o) : hexAddressAt(buf, o, length);
}

export function decodeArp(buf: Buffer, offset: number, end: number): ArpPacket {
  need('ARP', offset, 8, end);
  const hlen = buf[offset + 4]!;
  const plen = buf[offset + 5]!;
  // Both lengths are single bytes, so the body is at most 2 * (255 + 255) bytes: no limit needed.
  need('ARP', offset, 8 + 2 * (hlen + plen), end);
  const protocolType = buf.readUInt16BE(offset + 2);
  const sha = offset + 8;
  const spa = sha + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  return {
    hardwareType: buf.readUInt16BE(offset),
    protocolType,
    operation: buf.readUInt16BE(offset + 6),
    senderHardware: hexAddressAt(buf, sha, hlen),
    senderProtocol: protocolAddress(buf, spa, plen, protocolType),
    targetHardware: hexAddressAt(buf, tha, hlen),
    targetProtocol: protocolAddress(buf, tpa, plen, protocolType),
  };
}

/** tshark's line for an ARP packet: "Who has 10.0.0.2? Tell 10.0.0.1", "10.0.0.2 is at aa:..". */
export function arpInfo(a: ArpPacket): string {
  switch (a.operation) {
    case 1:
      return `Who has ${a.targetProtocol}? Tell ${a.senderProtocol}`;
    case 2:
      return `${a.senderProtocol} is at ${a.senderHardware}`;
    default:
      return `ARP operation ${a.operation}`;
  }
}
