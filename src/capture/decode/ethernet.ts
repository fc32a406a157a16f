/**
 * Ethernet II / IEEE 802.3 header (IEEE 802.3 clause 3) with stacked IEEE 802.1Q (C-tag, 0x8100) and
 * 802.1ad (S-tag, 0x88a8; and the pre-standard 0x9100) VLAN tags. The frame check sequence is not
 * captured by libpcap on most platforms, so it is not expected here.
 */
import { ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN } from './constants.js';
import { malformed, need, u16 } from './bytes.js';

/** One 802.1Q/802.1ad tag (IEEE 802.1Q 9.6). */
export interface VlanTag {
  /** tag protocol identifier: 0x8100, 0x88a8 or 0x9100 */
  tpid: number;
  /** priority code point, 0..7 */
  pcp: number;
  /** drop eligible indicator, 0 or 1 */
  dei: number;
  /** VLAN identifier, 0..4095 */
  vid: number;
}

export interface EthernetHeader {
  /** byte offset of the destination MAC (the source MAC follows at +6) */
  offset: number;
  /** the EtherType after any VLAN tags; a value <= 1500 is an 802.3 length (LLC follows) */
  etherType: number;
  /** VLAN tags outermost first; undefined when untagged */
  vlans: VlanTag[] | undefined;
  /** byte offset of the payload */
  payloadOffset: number;
}

function isVlanTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
}

/** Decode the Ethernet header at `offset`; at most `maxVlanTags` tags are followed. */
export function decodeEthernet(buf: Buffer, offset: number, end: number, maxVlanTags: number): EthernetHeader {
  need('Ethernet', offset, 14, end);
  let type = u16(buf, offset + 12);
  let p = offset + 14;
  let vlans: VlanTag[] | undefined;
  while (isVlanTpid(type)) {
    vlans ??= [];
    if (vlans.length >= maxVlanTags) throw malformed('Ethernet', `more than ${maxVlanTags} VLAN tags`, p);
    need('802.1Q', p, 4, end);
    const tci = u16(buf, p);
    vlans.push({ tpid: type, pcp: tci >>> 13, dei: (tci >>> 12) & 1, vid: tci & 0x0fff });
    type = u16(buf, p + 2);
    p += 4;
  }
  return { offset, etherType: type, vlans, payloadOffset: p };
}
