/**
 * Defaults for statistics, flows and anomaly detection, in one place. Every structure here is
 * bounded by one of these numbers, whatever the traffic.
 */

/** Seconds kept in the per-second volume series (a sliding window). */
export const DEFAULT_SERIES_SECONDS = 60;
/** Hard cap on the series window, seconds: the series is allocated once at this size or less. */
export const MAX_SERIES_SECONDS = 3600;
/** Distinct protocol names tracked one by one; further names are counted under OTHER_PROTOCOL. */
export const DEFAULT_MAX_PROTOCOLS = 32;
/** The bucket that absorbs protocol names past the cap. */
export const OTHER_PROTOCOL = '(other)';
/** Counters in each heavy-hitters (space-saving) sketch of top talkers. */
export const DEFAULT_TALKER_COUNTERS = 64;
/** Hard cap on sketch counters. */
export const MAX_TALKER_COUNTERS = 4096;
/** Key used for packets without a source or destination address. */
export const NO_ADDRESS = '(none)';

/**
 * Upper edges (inclusive, bytes) of the packet-size buckets; a last bucket holds everything above
 * 1518 (the largest untagged Ethernet frame, IEEE 802.3), i.e. jumbo frames and offloaded segments.
 */
export const SIZE_BUCKET_EDGES: readonly number[] = [64, 128, 256, 512, 1024, 1518];
/** Labels of the size buckets, one more than the edges. */
export const SIZE_BUCKET_LABELS: readonly string[] = [
  '0-64',
  '65-128',
  '129-256',
  '257-512',
  '513-1024',
  '1025-1518',
  '>1518',
];

/** Flows: idle timeout, seconds of packet time (Zeek's default for TCP inactivity is 5 min; 60 s keeps tables small). */
export const DEFAULT_FLOW_IDLE_SECONDS = 60;
/** Flows: idle timeout of UDP, ICMP and other datagram flows, s (NetFlow's default inactive timeout is 15 s). */
export const DEFAULT_DATAGRAM_IDLE_SECONDS = 15;
/** Flows: how long a closed TCP flow (both FINs or an RST) lingers for its last ACKs, seconds (Zeek: tcp_close_delay 5 s). */
export const DEFAULT_FLOW_CLOSE_LINGER_SECONDS = 2;
/**
 * Flows: an open flow older than this (s of packet time since its last report) is reported with
 * what it did so far and goes on with fresh counters: NetFlow's active timeout (Cisco's default is
 * 30 min, often set to 60 s; Zeek has none). 10 s: a bulk transfer or a long flood is scored while it
 * runs, not after it ends.
 */
export const DEFAULT_FLOW_ACTIVE_SECONDS = 10;
/** Flows: most flows held at once; past it the oldest idle flow is evicted and reported. */
export const DEFAULT_MAX_FLOWS = 65_536;

/** Isolation Forest (Liu, Ting, Zhou 2008): trees in the ensemble. */
export const DEFAULT_TREES = 100;
/** Isolation Forest: subsample size psi per tree (the paper's recommended 256). */
export const DEFAULT_SAMPLE_SIZE = 256;
/** Isolation Forest: most training vectors accepted at once (memory bound of fit()). */
export const MAX_TRAINING_ROWS = 1_000_000;

/** Anomaly detection: packets learnt as the baseline before scoring starts. */
export const DEFAULT_BASELINE_PACKETS = 5_000;
/** Anomaly detection: finished flows learnt as the baseline before flow scoring starts. */
export const DEFAULT_BASELINE_FLOWS = 500;
/**
 * Anomaly detection: share of baseline items allowed above the threshold, per forest (the threshold
 * is the 1 - this quantile of the baseline's scores). 0.1%: the 99.9th percentile sits above small
 * clusters of rare but normal traffic and leaves room for drift; attacks score well above it
 * (docs/anomaly.md).
 */
export const DEFAULT_CONTAMINATION = 0.001;
/** Anomaly detection: the threshold never goes below this score, whatever the baseline quantile. */
export const MIN_THRESHOLD = 0.5;
/** Anomaly detection: features named in each explanation. */
export const DEFAULT_TOP_FEATURES = 3;

/** Features: time constant of the decaying per-host rates, seconds. */
export const DEFAULT_RATE_TAU_SECONDS = 2;
/** Features: time constant of the decaying per-host flow rates, seconds. */
export const DEFAULT_FLOW_RATE_TAU_SECONDS = 5;
/** Features: most sources / destinations with per-host state (least recently seen dropped first). */
export const DEFAULT_MAX_HOSTS = 4_096;

/**
 * Slots of the score memo of each packet forest (a power of two): packet vectors repeat (shapes,
 * and host behaviour once quantized), and on the evaluation traffic 65,536 slots hold about as many
 * distinct host-behaviour vectors as come up in ten minutes. Memory: slots x (dims + 1) x 8 bytes,
 * 3 MiB and 2 MiB for the two packet forests.
 */
export const PACKET_MEMO_SLOTS = 65_536;
/**
 * Slots of the score memo of each flow forest: flows are fewer, and about 30 % of their vectors
 * repeat (a flood's or a scan's flows all look alike). Memory 1 MiB and 0.4 MiB.
 */
export const FLOW_MEMO_SLOTS = 16_384;

/** Features: time constant of the per-pair packet and byte rates, seconds (rates per second). */
export const DEFAULT_VOLUME_TAU_SECONDS = 1;

/** Novelty events: of one kind in a burst, then per second (a token bucket in packet time). */
export const DEFAULT_NOVELTY_BURST = 10;
export const DEFAULT_NOVELTY_PER_SECOND = 1;
/** Novelty: source addresses remembered as known (oldest forgotten first; a spoofed flood churns them). */
export const MAX_KNOWN_HOSTS = 65_536;
/** Novelty: services (address, port, protocol) remembered as known. */
export const MAX_KNOWN_SERVICES = 16_384;
/** Novelty: IP-to-MAC bindings remembered from ARP. */
export const MAX_KNOWN_BINDINGS = 4_096;
