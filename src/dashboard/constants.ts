/**
 * The dashboard's limits and defaults, in one place. Every structure the dashboard keeps is bounded
 * by one of these numbers, however long it runs and whatever the traffic (docs/dashboard.md).
 */

/** Default TCP port (the seed's Dash app listened on 8050). */
export const DEFAULT_PORT = 8050;
/** Default address: loopback only; any other address requires a token. */
export const DEFAULT_HOST = '127.0.0.1';

/** Seconds in the per-second traffic series of every view (10 minutes). */
export const SERIES_SECONDS = 600;
/** Packets kept (summary and bytes) for the download, filtered views and the recent-packets table. */
export const HISTORY_PACKETS = 200_000;
/** Captured bytes kept in the packet history at most (the oldest packets go first past it). */
export const HISTORY_BYTES = 64 * 1024 * 1024;
/** Recent packets each view keeps for its table (the page virtualises what it shows). */
export const VIEW_RECENT_PACKETS = 5_000;
/** Finished flows each view keeps, newest last. */
export const VIEW_FINISHED_FLOWS = 1_000;
/** Flows the unfiltered view's table holds at once (past it the oldest idle one is evicted). */
export const MAX_FLOWS = 65_536;
/** Flows each filtered view's table holds at once. */
export const MAX_FILTERED_FLOWS = 16_384;
/** Anomalies kept, newest last. */
export const ANOMALIES_KEPT = 1_000;
/** Views (distinct filters) alive at once, the unfiltered one included. */
export const MAX_VIEWS = 8;
/** ms a filtered view with no watcher and no request lives on. */
export const VIEW_IDLE_MS = 60_000;

/** Rows of each list in an update: anomalies, flows, talkers. */
export const LIST_ROWS = 100;
/** Packet rows in one update at most (the newest, when more arrived since the last one). */
export const UPDATE_PACKET_ROWS = 500;
/** ms between updates to one WebSocket client, at least. */
export const UPDATE_INTERVAL_MS = 500;
/** WebSocket clients at once. */
export const MAX_CLIENTS = 32;
/** Bytes queued on one WebSocket past which its updates are skipped (the next one carries the latest). */
export const MAX_CLIENT_BUFFER = 1024 * 1024;
/** ms a client may stay over MAX_CLIENT_BUFFER before it is disconnected. */
export const SLOW_CLIENT_MS = 30_000;
/** Bytes of one message from a browser, at most. */
export const MAX_CLIENT_MESSAGE = 4096;

/** Bytes of an uploaded capture file, at most. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** Characters of a filter field (an address, a CIDR, a protocol name). */
export const MAX_FILTER_CHARS = 64;
/** Characters of a BPF expression. */
export const MAX_BPF_CHARS = 1024;
