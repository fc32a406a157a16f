/**
 * Defaults and limits of the capture sources and sinks: the one place they live. Readers take these
 * as explicit maxima; a length field over a limit is a typed error, never an allocation.
 */

/**
 * Largest captured packet accepted from a file or a live stream, bytes. libpcap's own ceiling for
 * most link types is 262144 (MAXIMUM_SNAPLEN); segmentation offload can make captured packets far
 * larger than the MTU but not larger than this.
 */
export const DEFAULT_MAX_PACKET_BYTES = 262_144;

/**
 * Largest pcapng block accepted, bytes. libpcap refuses blocks over 16 MiB (MAX_BLOCKSIZE); a block
 * is buffered whole before it is parsed, so this also bounds the reader's memory.
 */
export const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** Most interfaces (IDBs) one pcapng section may declare before the reader refuses the file. */
export const DEFAULT_MAX_INTERFACES = 1024;

/** Snapshot length written into the headers of the files we write, bytes. */
export const WRITE_SNAPLEN = 262_144;

/** Size of the blocks the writer hands to the file stream, bytes (fewer, larger writes). */
export const WRITE_BLOCK_BYTES = 1024 * 1024;

/**
 * Size of the chunks read from capture files, bytes. Packets are views into these chunks, so a chunk
 * lives until its last packet is collected; small chunks keep peak memory near constant (measured:
 * 64 KiB ~110 MiB peak RSS over 1M packets, 1 MiB ~190 MiB, at the same speed).
 */
export const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Buffer size of the callback reader (readCaptureFileInto), bytes: no packet outlives its call, so
 * one buffer is read into again and again, and fewer, larger reads cost less per packet.
 */
export const READ_INTO_CHUNK_BYTES = 1024 * 1024;

/** The magic numbers that name a capture format, as read big-endian from the file's first four bytes. */
export const MAGIC = {
  /** pcap, microsecond timestamps */
  pcapMicro: 0xa1b2c3d4,
  /** pcap, nanosecond timestamps */
  pcapNano: 0xa1b23c4d,
  /** Alexey Kuznetzov's "modified" pcap: microseconds, 24-byte record headers */
  pcapModified: 0xa1b2cd34,
  /** pcapng Section Header Block type (a palindrome: the same in both byte orders) */
  pcapngSection: 0x0a0d0d0a,
  /** pcapng byte-order magic inside the SHB */
  pcapngByteOrder: 0x1a2b3c4d,
} as const;

/** pcapng block types (draft-ietf-opsawg-pcapng section 4 and 11.1). */
export const BLOCK = {
  interfaceDescription: 0x00000001,
  packet: 0x00000002,
  simplePacket: 0x00000003,
  enhancedPacket: 0x00000006,
} as const;

/** LINKTYPE_ETHERNET (tcpdump.org/linktypes.html) */
export const LINKTYPE_ETHERNET = 1;

/** How long LiveCapture waits for the capture tool to report that it is listening, ms. */
export const LIVE_START_TIMEOUT_MS = 10_000;

/** How long LiveCapture waits for the capture tool to exit after SIGINT before SIGKILL, ms. */
export const LIVE_STOP_TIMEOUT_MS = 5_000;

/** Kernel buffer size asked of tcpdump (-B), KiB. */
export const LIVE_BUFFER_KIB = 65_536;
/** ms a live capture keeps reading after a stop is asked: tcpdump's block timeout (1000 ms) and a margin */
export const LIVE_DRAIN_MS = 1_200;
