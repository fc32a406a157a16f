/** Defaults and limits of the broadcast system, in one place. */

/** The seeds' UDP port (master.py / node.py). */
export const DEFAULT_PORT = 12345;
/** The seeds' message. */
export const DEFAULT_MESSAGE = 'Hello, Nodes!';
/** ms between messages when --count > 1 */
export const DEFAULT_INTERVAL_MS = 1000;
/** ms the master waits for acknowledgements before reporting on a message */
export const DEFAULT_ACK_WAIT_MS = 1000;

/** Largest datagram a node accepts, bytes; larger ones are counted as oversized and dropped. */
export const MAX_DATAGRAM_BYTES = 8192;
/** Largest envelope header line, bytes (the signature is 86 characters of it). */
export const MAX_HEADER_BYTES = 256;
/** Largest body a master will send: the datagram limit less the largest header. */
export const MAX_BODY_BYTES = MAX_DATAGRAM_BYTES - MAX_HEADER_BYTES;
/** Receive buffer a node asks for, bytes (SO_RCVBUF; the kernel caps it at net.core.rmem_max). */
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Longest sender name, characters. */
export const MAX_NAME_LENGTH = 64;

/** ms of clock difference a trusting node tolerates between the envelope's time and its own */
export const DEFAULT_MAX_SKEW_MS = 30_000;
/** sequence numbers below the highest seen that the replay window still remembers (RFC 4303 §3.4.3) */
export const REPLAY_WINDOW = 1024;
/**
 * Without --trust, how far above the highest sequence number seen an envelope may jump and still move
 * the window; a farther one is shown but not recorded, unless a second one follows close above it.
 */
export const MAX_SEQ_JUMP = 1024;
/** master sessions a node remembers at once; the oldest is forgotten first */
export const MAX_SESSIONS = 1024;
/** Nodes a master's roster holds at most; the longest silent is dropped first. */
export const MAX_ROSTER = 4096;
/** Messages a master keeps waiting for acknowledgements at once. */
export const MAX_PENDING_MESSAGES = 1024;

/** Acknowledgements a node sends one source address per second at most (token bucket rate). */
export const ACK_RATE_PER_SOURCE = 250;
/** ... and at once (token bucket size). */
export const ACK_BURST_PER_SOURCE = 500;
/** Source addresses a node tracks at once (rate buckets, protocol speakers); least recently heard forgotten first. */
export const MAX_TRACKED_SOURCES = 4096;
/** Acknowledgements a master counts per message; more are counted as excess and not listed. */
export const MAX_ACKS_PER_MESSAGE = 4096;
/** Receive buffer a master asks for, bytes: a burst of acknowledgements from a large LAN must not overflow it. */
export const MASTER_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** The seeds' node.py reads with recvfrom(1024): longer datagrams are cut there. */
export const ORIGINAL_READ_BYTES = 1024;
/** What the seeds' node.py answers each datagram with, before the text it received. */
export const ORIGINAL_REPLY_PREFIX = 'I received: ';
