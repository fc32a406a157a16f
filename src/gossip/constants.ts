/**
 * Defaults of the gossip system, in one place. Intervals and timeouts are in ms.
 * The seed (WhisperNet) values are kept where it had them: a message every 5 s, 10 in all, a liveness
 * check every 13 s, 3 misses, capacity 40 * 1.5^(-order/10) (order: the join order, topology.ts).
 */

/** Largest frame body we accept or send (bytes); checked before any allocation. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Most entries in one peer list or neighbour list. */
export const MAX_LIST_ENTRIES = 8192;
/** Most seeds in a config (each owns an id space, IdAllocator). */
export const MAX_ID_SPACES = 256;
/** Longest gossip message text (characters). */
export const MAX_GOSSIP_TEXT = 512;

/** Time between a peer's own gossip messages (ms). */
export const GOSSIP_INTERVAL_MS = 5_000;
/** How many messages each peer originates. */
export const GOSSIP_MESSAGES = 10;
/** Time between liveness checks of each neighbour (ms). */
export const LIVENESS_INTERVAL_MS = 13_000;
/** Consecutive missed liveness checks before a neighbour is reported dead. */
export const LIVENESS_MISSES = 3;

/** Capacity formula of the seed: base * decay^(-id / idScale), never below the floor. */
export const CAPACITY_BASE = 40;
export const CAPACITY_DECAY = 1.5;
export const CAPACITY_ID_SCALE = 10;
/** No peer's capacity falls below this, so that no peer is left alone. */
export const CAPACITY_FLOOR = 2;
/** Links a new peer makes under preferential attachment (Barabási–Albert m). */
export const ATTACHMENT_LINKS = 2;
/** Capacity of a peer under preferential attachment: hubs may grow, but not without bound. */
export const ATTACHMENT_MAX_DEGREE = 1_000;

/** Message cache: most hashes remembered, and for how long (ms). */
export const MESSAGE_CACHE_ENTRIES = 100_000;
export const MESSAGE_CACHE_TTL_MS = 10 * 60_000;
/** Announce-then-pull: bodies kept to answer IWANT, hashes awaited, announcers remembered per hash. */
export const PULL_STORE_ENTRIES = 20_000;
export const PULL_WANTED_ENTRIES = 20_000;
export const PULL_ANNOUNCERS = 16;
/** Tree mode: origins remembered per neighbour (children) and per peer (parents). */
export const TREE_ORIGINS = 4_096;
/**
 * An IWANT not answered in this long is asked of the next announcer; in tree mode, also how long an
 * announced message may take to come down the tree before it is pulled (ms).
 */
export const PULL_TIMEOUT_MS = 250;
/** Tree mode: IHAVEs are held this long and sent in one write per neighbour (ms). */
export const LAZY_DELAY_MS = 100;
/** Tree mode: IHAVEs held for one neighbour at most; a full queue is sent at once. */
export const LAZY_QUEUE_MAX = 512;

/** Timeout of one request to a seed or one connection attempt to a peer (ms). */
export const REQUEST_TIMEOUT_MS = 3_000;
/** Bytes queued for one connection before it is dropped as a slow consumer. */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Connection attempts per maintenance round when a peer is below its target degree. */
export const CONNECT_ATTEMPTS_PER_ROUND = 8;
/** A peer short of its target degree asks the seeds for fresh candidates at most once per this many liveness rounds. */
export const REJOIN_ROUNDS = 10;
/** Most peers a seed registers at once, and Dead Node confirmations (probes) it runs at once. */
export const SEED_MAX_PEERS = 100_000;
export const SEED_MAX_CONFIRMING = 256;
/** Most candidates (peers not linked) a peer remembers; the oldest learnt is forgotten first. */
export const MAX_CANDIDATES = 8_192;
/** An inbound connection that has not become a link is closed after this long idle (ms). */
export const INBOUND_IDLE_MS = 30_000;

/** A frame must arrive whole within this long from its first byte (ms). */
export const FRAME_TIMEOUT_MS = 10_000;
/** An inbound connection to a peer must say hello (or finish its probe) within this long (ms). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection to a seed is closed this long after it opened, whatever it is doing (ms). */
export const SEED_CONVERSATION_MS = 30_000;
/** Connections a seed holds at once, and from one source address. */
export const SEED_MAX_CONNECTIONS = 4_096;
export const SEED_MAX_CONNECTIONS_PER_SOURCE = 64;
/** Inbound connections a peer holds before they become links (or finish a probe), in all and per source. */
export const PEER_MAX_PENDING = 256;
export const PEER_MAX_PENDING_PER_SOURCE = 16;
/** Bytes held in unfinished frames by all connections of one seed or peer together. */
export const BUFFER_BUDGET_BYTES = 64 * 1024 * 1024;
/** Peers registered from one source address; the live peers in one peer list (a random sample). */
export const SEED_MAX_PEERS_PER_SOURCE = 1_024;
export const SEED_LIST_SAMPLE = 1_024;
/** A registered peer not proved for this long is probed again by its seed, and removed if silent (ms). */
export const SEED_REVALIDATE_MS = 60_000;
/** Re-probes a seed runs at once. */
export const SEED_SWEEP_BATCH = 32;
/**
 * How long a seed waits for the other seeds' answers when it agrees a new address's id (ms): shorter
 * than a registration's connect-back, so a seed that is down delays a registration only a little.
 */
export const SEED_ID_QUERY_TIMEOUT_MS = 1_000;
/** Id queries a seed has in flight to the other seeds at once (a registration past it is refused). */
export const SEED_MAX_ID_QUERIES = 1_024;
/** Dead Node confirmations in flight on behalf of one reporter (address). */
export const SEED_MAX_CONFIRMING_PER_REPORTER = 16;
/** Lost links a peer keeps probing at once (the oldest is dropped past it). */
export const MAX_WATCHED = 256;
/** Outbound link attempts a peer runs in parallel. */
export const DIAL_PARALLEL = 8;
/**
 * ms a connected dial waits for a hello slot (hello-slots.ts) before it says hello anyway: a
 * candidate that takes the slot and never answers holds it for REQUEST_TIMEOUT_MS, and must not hide
 * the live candidates behind it.
 */
export const HELLO_LEASE_MS = 500;
/** A Dead Node report is repeated to a seed that did not answer, this many times in all. */
export const REPORT_ATTEMPTS = 6;
/** Gossip bodies accepted per neighbour: per second sustained, and in a burst. */
export const GOSSIP_RATE_PER_NEIGHBOUR = 1_000;
export const GOSSIP_BURST_PER_NEIGHBOUR = 2_000;
/** Gossip messages accepted per origin: per second sustained, and in a burst. */
export const GOSSIP_RATE_PER_ORIGIN = 100;
export const GOSSIP_BURST_PER_ORIGIN = 200;
/** IHAVE announcements accepted per neighbour: per second sustained, and in a burst (a catch-up digest is one burst). */
export const IHAVE_RATE_PER_NEIGHBOUR = 4_000;
export const IHAVE_BURST_PER_NEIGHBOUR = 4_096;
/** A gossip message stamped this far in the future is refused (ms). */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** Catch-up: on a new link, IHAVE for at most this many of the latest messages still in the cache window. */
export const CATCH_UP_MAX = 2_048;
/** Join retries (--retry-join): the first wait and the longest (ms). */
export const RETRY_JOIN_FIRST_MS = 500;
export const RETRY_JOIN_MAX_MS = 30_000;
/** A peer registers again this often, before its seeds' re-probe (SEED_REVALIDATE_MS) would come (ms). */
export const REGISTRATION_REFRESH_MS = 45_000;
