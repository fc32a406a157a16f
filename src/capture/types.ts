/**
 * The records that flow from capture to decoding to analysis. These are the contract between
 * `capture/` (readers, live capture), `capture/decode/` and `analysis/`.
 */

/** One packet as a capture source delivers it, before decoding. */
export interface RawPacket {
  /** 1-based position in the capture (frame number, as tshark's frame.number) */
  index: number;
  /** link-layer header type (LINKTYPE_* from tcpdump.org/linktypes.html, low 16 bits) */
  linkType: number;
  /** timestamp: whole seconds since the epoch; NaN when the capture holds none (pcapng Simple Packet Block) */
  tsSec: number;
  /** timestamp: nanoseconds within the second (0..999_999_999), full precision kept */
  tsNsec: number;
  /** length on the wire (tshark's frame.len), may exceed data.length when the capture was snapped */
  originalLength: number;
  /** the captured bytes (a view, not a copy, where the source allows) */
  data: Buffer;
  /** pcapng interface id, 0 for pcap */
  interfaceId: number;
}

/**
 * The seed analyzer's fields for one packet, plus what statistics and anomaly detection need.
 * Absent fields are `undefined` (JSON output omits them or prints null).
 */
export interface PacketSummary {
  index: number;
  /** NaN when the capture holds no timestamp (see RawPacket.tsSec) */
  tsSec: number;
  tsNsec: number;
  /** the network-layer type: 'IPv4', 'IPv6', 'ARP', or the EtherType/link type name when not IP */
  type: string;
  /** source address: IP address, or MAC for non-IP frames */
  src: string | undefined;
  dst: string | undefined;
  sport: number | undefined;
  dport: number | undefined;
  /** highest protocol recognised: 'TCP', 'UDP', 'ICMP', 'ICMPv6', 'ARP', 'DNS', 'wirelab-broadcast', ... */
  protocol: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6), or -1 when not IP */
  ipProto: number;
  /** original length on the wire, bytes */
  length: number;
  /** TCP flags as a bitmask (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80); 0 when not TCP */
  tcpFlags: number;
  /** human flags: TCP flag names ("SYN,ACK"), or IPv4 fragment flags ("DF", "MF") when not TCP; '' when none */
  flags: string;
  /** a one-line description of the top layer (e.g. "Standard query 0x1a2b A example.com") */
  info: string;
  /** set when decoding stopped early: what was malformed or truncated */
  error?: string;
  /** TCP: sequence number, acknowledgement number (0 without ACK), window (unscaled); absent otherwise */
  seq?: number;
  ack?: number;
  window?: number;
  /** application fields found in the payload (e.g. TLS `sni`, HTTP `method`/`host`, wirelab `type`); absent when none */
  app?: Record<string, string | number>;
}
