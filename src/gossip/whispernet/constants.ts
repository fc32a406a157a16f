/**
 * Defaults and limits of the WhisperNet compatibility mode (docs/whispernet.md). Sizes in bytes,
 * times in ms. The original's own values are kept where it had them (1024-byte records, a message every
 * 5 s, 10 in all, a liveness check every 13 s, 3 failures).
 */

/** The original reads with recv(1024) and pads every peer message with spaces to this many bytes. */
export const BLOCK_BYTES = 1024;
/**
 * A record that may end without padding (a registration, a peer list) is taken as complete once no
 * byte has followed it for this long. Only records at the end of a burst wait for it: any byte that
 * follows (padding or the next record) ends one at once.
 */
export const QUIET_MS = 100;
/** Longest run of padding between two records; more closes the connection. */
export const MAX_PADDING_BYTES = 64 * 1024;
/** Longest record of any kind but a peer list (a gmessage is cut at BLOCK_BYTES). */
export const MAX_RECORD_BYTES = 2048;
/** Longest peer list we read (an original seed sends every registered peer in one record). */
export const MAX_LIST_BYTES = 64 * 1024;
/** Most entries in one peer list we read. */
export const MAX_LIST_ENTRIES = 4096;
/** Longest host name field (an IPv4 address or `localhost` is all we accept). */
export const MAX_HOST_CHARS = 64;
/** Longest float-seconds timestamp field. */
export const MAX_TIMESTAMP_CHARS = 24;

/** A peer list a seed sends fits the original peer's one read of this many bytes. */
export const LIST_REPLY_BYTES = 1024;
/** Messages of the last REPLAY_WINDOW_MS (at most REPLAY_MAX) are replayed to each new link. */
export const REPLAY_MAX = 256;
export const REPLAY_WINDOW_MS = 120_000;
/** Connections a seed holds at once. */
export const SEED_MAX_CONNECTIONS = 4096;
/** An inbound connection that has not registered (seed) or said hello (peer) is closed after this (ms). */
export const HANDSHAKE_IDLE_MS = 30_000;
/** Bytes queued for one connection before it is dropped as a slow consumer. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** Connections a peer holds before their `Connection with Peer` exchange ends (dialled and accepted). */
export const MAX_PENDING = 256;
