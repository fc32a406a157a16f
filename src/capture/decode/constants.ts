/**
 * Numbers of the field (link types, EtherTypes, IP protocol numbers, well-known ports) and the
 * decoder's limits. Link types follow https://www.tcpdump.org/linktypes.html, EtherTypes the IEEE
 * registry, IP protocol numbers the IANA registry.
 */

/** LINKTYPE_NULL: BSD loopback, 4-byte address family in the capturing host's byte order. */
export const LINKTYPE_NULL = 0;
/** LINKTYPE_ETHERNET: IEEE 802.3 / Ethernet II. */
export const LINKTYPE_ETHERNET = 1;
/** DLT_RAW as most BSDs number it (raw IPv4/IPv6, version nibble decides). */
export const LINKTYPE_RAW_BSD = 12;
/** DLT_RAW as OpenBSD numbers it. */
export const LINKTYPE_RAW_OPENBSD = 14;
/** LINKTYPE_RAW: raw IPv4/IPv6. */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_LOOP: OpenBSD loopback, 4-byte address family in network byte order. */
export const LINKTYPE_LOOP = 108;
/** LINKTYPE_LINUX_SLL: Linux "cooked" capture v1 (16-byte header). */
export const LINKTYPE_LINUX_SLL = 113;
/** LINKTYPE_IPV4: bare IPv4. */
export const LINKTYPE_IPV4 = 228;
/** LINKTYPE_IPV6: bare IPv6. */
export const LINKTYPE_IPV6 = 229;
/** LINKTYPE_LINUX_SLL2: Linux "cooked" capture v2 (20-byte header). */
export const LINKTYPE_LINUX_SLL2 = 276;

/** Names of link types, decoded or not, so that an unknown one is still named. */
export const LINK_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_NULL, 'NULL'],
  [LINKTYPE_ETHERNET, 'Ethernet'],
  [LINKTYPE_RAW_BSD, 'RAW'],
  [LINKTYPE_RAW_OPENBSD, 'RAW'],
  [LINKTYPE_RAW, 'RAW'],
  [LINKTYPE_LOOP, 'LOOP'],
  [LINKTYPE_LINUX_SLL, 'SLL'],
  [LINKTYPE_IPV4, 'IPv4'],
  [LINKTYPE_IPV6, 'IPv6'],
  [LINKTYPE_LINUX_SLL2, 'SLL2'],
  [9, 'PPP'],
  [105, 'IEEE802_11'],
  [127, 'IEEE802_11_RADIOTAP'],
  [147, 'USER0'],
  [189, 'USB_LINUX'],
  [220, 'USB_LINUX_MMAPPED'],
  [227, 'CAN_SOCKETCAN'],
  [253, 'NETLINK'],
]);

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service VLAN tag (Q-in-Q). */
export const ETHERTYPE_QINQ = 0x88a8;
/** The pre-standard Q-in-Q tag some switches still send. */
export const ETHERTYPE_QINQ_OLD = 0x9100;
/** An EtherType field at or below this is an IEEE 802.3 length, followed by an 802.2 LLC header. */
export const ETHERTYPE_MAX_LENGTH = 1500;

/** Names of EtherTypes we recognise but do not decode further. */
export const ETHERTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [ETHERTYPE_IPV4, 'IPv4'],
  [ETHERTYPE_ARP, 'ARP'],
  [ETHERTYPE_IPV6, 'IPv6'],
  [ETHERTYPE_VLAN, '802.1Q'],
  [ETHERTYPE_QINQ, '802.1ad'],
  [ETHERTYPE_QINQ_OLD, 'QinQ'],
  [0x0842, 'WoL'],
  [0x8035, 'RARP'],
  [0x809b, 'AppleTalk'],
  [0x8137, 'IPX'],
  [0x8808, 'EthernetFlowControl'],
  [0x8809, 'SlowProtocols'],
  [0x8847, 'MPLS'],
  [0x8848, 'MPLS-multicast'],
  [0x8863, 'PPPoE-Discovery'],
  [0x8864, 'PPPoE-Session'],
  [0x888e, 'EAPOL'],
  [0x88cc, 'LLDP'],
  [0x88e5, 'MACsec'],
  [0x88f7, 'PTP'],
  [0x8906, 'FCoE'],
  [0x9000, 'Loopback'],
]);

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** Names of IP protocol numbers (IANA), used when the transport is not decoded. */
export const IP_PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [IPPROTO_HOPOPTS, 'HOPOPT'],
  [IPPROTO_ICMP, 'ICMP'],
  [2, 'IGMP'],
  [4, 'IPIP'],
  [IPPROTO_TCP, 'TCP'],
  [IPPROTO_UDP, 'UDP'],
  [41, 'IPv6'],
  [IPPROTO_ROUTING, 'IPv6-Route'],
  [IPPROTO_FRAGMENT, 'IPv6-Frag'],
  [47, 'GRE'],
  [IPPROTO_ESP, 'ESP'],
  [IPPROTO_AH, 'AH'],
  [IPPROTO_ICMPV6, 'ICMPv6'],
  [IPPROTO_NONE, 'IPv6-NoNxt'],
  [IPPROTO_DSTOPTS, 'IPv6-Opts'],
  [88, 'EIGRP'],
  [89, 'OSPF'],
  [103, 'PIM'],
  [112, 'VRRP'],
  [132, 'SCTP'],
  [136, 'UDPLite'],
]);

/** DNS (RFC 1035). */
export const PORT_DNS = 53;
/** Multicast DNS (RFC 6762): the DNS message format on another port. */
export const PORT_MDNS = 5353;
/** LLMNR (RFC 4795): the DNS message format on another port. */
export const PORT_LLMNR = 5355;
/** wirelab's UDP broadcast (see src/broadcast). */
export const PORT_WIRELAB_BROADCAST = 12345;

/** Explicit maxima of the decoders: input over one of them is a DecodeError, never a large allocation. */
export interface DecodeLimits {
  /** stacked 802.1Q/802.1ad tags in one Ethernet frame */
  maxVlanTags: number;
  /** IPv6 extension headers followed in one packet */
  maxIpv6ExtensionHeaders: number;
  /** TCP/IPv4 options listed per header (each header's option area is at most 40 bytes anyway) */
  maxOptions: number;
  /** DNS questions decoded per message (more are counted but not listed) */
  maxDnsQuestions: number;
  /** DNS resource records decoded per message across answer, authority and additional sections */
  maxDnsRecords: number;
  /** compression pointers followed in one DNS name (RFC 1035 4.1.4); guards against loops */
  maxDnsPointers: number;
  /** DNS name length in bytes, wire form (RFC 1035 2.3.4: 255) */
  maxDnsNameLength: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxVlanTags: 4,
  maxIpv6ExtensionHeaders: 8,
  maxOptions: 40,
  maxDnsQuestions: 16,
  maxDnsRecords: 64,
  maxDnsPointers: 16,
  maxDnsNameLength: 255,
});

/** RFC 1035 2.3.4: a label is 63 bytes at most. */
export const DNS_MAX_LABEL_LENGTH = 63;
