/**
 * Defaults and limits of the chat system, in one place. Sizes in bytes, times in ms.
 * The seed's values are kept where it had them: port 10000, 1024-byte raw file blocks ended by `EOF`.
 */

/** The seed's port. */
export const DEFAULT_PORT = 10_000;

/** Longest record header we accept (bytes); the seed's longest is `quiz_question` (13). */
export const MAX_HEADER_BYTES = 64;
/** Longest record payload we accept from a client (bytes); checked before allocation. A file chunk fits. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 + 64;
/** A payload over the limit but at most this long is skipped (the connection survives); longer closes it. */
export const MAX_SKIP_BYTES = 16 * 1024 * 1024;
/** Longest chat text (bytes of UTF-8) in a msg or to record. */
export const MAX_TEXT_BYTES = 4096;
/** Longest user name (characters) and password (bytes). */
export const MAX_NAME_CHARS = 32;
export const MAX_PASSWORD_BYTES = 1024;

/** Largest file a client may upload or relay (bytes). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024 * 1024;
/** Bytes of file data in one framed chunk (our own mode). */
export const FILE_CHUNK_BYTES = 256 * 1024;
/** A sender keeps writing until this many bytes wait in the socket's buffer, then waits for 'drain'. */
export const SEND_WINDOW_BYTES = 2 * 1024 * 1024;
/** Longest file name (bytes of UTF-8). */
export const MAX_FILE_NAME_BYTES = 200;
/** After the seed's `EOF` the server waits this long before its next record to that client, so the seed client's recv(1024) does not read them together. */
export const SEED_EOF_GAP_MS = 50;

/** Parts of uploads and unconfirmed downloads kept for a resume expire after this long (ms): 24 h. */
export const PARTIAL_TTL_MS = 24 * 3_600_000;
/** Bytes those parts may hold together before the oldest are removed: 8 GiB. */
export const MAX_PARTIAL_BYTES = 8 * 1024 * 1024 * 1024;

/** Bytes queued for one client before it is disconnected as a slow reader. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** A client not logged in after this long is disconnected (the issue: 30 s). */
export const LOGIN_TIMEOUT_MS = 30_000;
/** Records per second a client may send on average (token bucket), and the burst allowed. */
export const RECORDS_PER_SECOND = 50;
export const RECORD_BURST = 200;
/** Failed logins allowed per account and per address in one window, and the window (ms). */
export const MAX_FAILED_LOGINS = 5;
export const FAILED_LOGIN_WINDOW_MS = 60_000;
/** Entries kept in the failed-login table (oldest dropped). */
export const FAILED_LOGIN_ENTRIES = 10_000;

/**
 * Join and leave notices go to everybody (the seed's behaviour) while at most this many users are
 * online; above it they are left out, as large IRC channels do, since every join would otherwise cost
 * one record per online user (quadratic in the crowd).
 */
export const MAX_PRESENCE_USERS = 500;
/** Most connections held at once. */
export const MAX_CONNECTIONS = 20_000;
/** Most connections from one address that have not logged in yet (more are refused at once). */
export const MAX_PENDING_PER_ADDRESS = 256;

/** Quiz: default time to answer (ms). */
export const QUIZ_MS = 60_000;
/** Quiz files: most questions, longest file (bytes). */
export const MAX_QUIZ_QUESTIONS = 200;
export const MAX_QUIZ_FILE_BYTES = 256 * 1024;

/** argon2id parameters (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1). */
export const ARGON2_MEMORY_KIB = 19_456;
export const ARGON2_TIME_COST = 2;
export const ARGON2_PARALLELISM = 1;

/** Time given to transfers and writes at shutdown before sockets are destroyed (ms). */
export const SHUTDOWN_GRACE_MS = 2_000;
