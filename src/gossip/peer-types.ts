/** Options, dependencies, events and counters of a gossip Peer (peer.ts). */
import type { Logger } from '../common/log.js';
import type { Clock } from '../common/lifecycle.js';
import type { Endpoint, ProtocolLimits } from './protocol.js';
import type { DegreePolicyName } from './topology.js';
import type { Keyring } from './secure.js';

export interface PeerOptions {
  /** IPv4 address to listen on and dial from (default 127.0.0.1) */
  host?: string;
  /** address told to others, when not `host` (e.g. host 0.0.0.0) */
  advertiseHost?: string;
  /** TCP port, 0 for any free one */
  port?: number;
  seeds: Endpoint[];
  /** degree policy (default power-law) */
  policy?: DegreePolicyName;
  /** least capacity of any peer (default 2) */
  floor?: number;
  /** preferential attachment: links a new peer makes (default 2) */
  links?: number;
  /** ms between own messages (default 5000) */
  gossipIntervalMs?: number;
  /** own messages in all (default 10) */
  messages?: number;
  /** start originating at start() (default true); else call startGossip() */
  autoGossip?: boolean;
  /**
   * How a new message travels on (router.ts). tree (default, Plumtree): bodies along a tree per
   * origin (its first message along the anchor tree), hashes (IHAVE) on the other links; announce:
   * hashes only, neighbours pull (IWANT); flood: bodies to every neighbour.
   */
  dissemination?: 'tree' | 'announce' | 'flood';
  /** ms before an unanswered IWANT is asked of another announcer, and (tree) before a lazily announced message is pulled (default 250) */
  pullTimeoutMs?: number;
  /** tree: ms an IHAVE is held to be sent with others in one write, off the bodies' path (default 100; 0: at once) */
  lazyDelayMs?: number;
  /** ms between liveness checks of each neighbour (default 13000) */
  livenessIntervalMs?: number;
  /** consecutive missed checks before a neighbour is reported dead (default 3) */
  misses?: number;
  /** ms for a seed request or a dial (default 3000) */
  requestTimeoutMs?: number;
  limits?: ProtocolLimits;
  /** keep retrying the first join with back-off (0.5 s doubling to 30 s) until it succeeds or the peer closes (Serf's -retry-join) */
  retryJoin?: boolean;
  /** the network key: every frame authenticated and encrypted; strangers cannot register, link, gossip or report (secure.ts) */
  keyring?: Keyring;
  /** link attempts run in parallel (default 8) */
  dialParallel?: number;
  /** uniform [0, 1) (default Math.random) */
  random?: () => number;
}

export interface PeerDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface GossipSeen {
  /** ip:port of the peer that made the message */
  origin: string;
  text: string;
  /** neighbour it came from; null for our own */
  from: string | null;
  hash: string;
  /** ms since the epoch */
  at: number;
}

export interface PeerEvents {
  gossip: [GossipSeen];
  neighbour: [{ peer: string; change: 'added' | 'removed'; degree: number }];
  registered: [{ seed: string; id: number }];
  'dead-reported': [{ peer: string }];
  /** the first join failed and will be tried again in `retryInMs` (retryJoin) */
  'join-retry': [{ attempt: number; error: string; retryInMs: number }];
}

export interface PeerStats {
  id: number;
  degree: number;
  capacity: number;
  originated: number;
  /** distinct messages seen */
  seen: number;
  known: number;
  gossipReceived: number;
  /** gossip frames received for a message already seen */
  duplicates: number;
  /** gossip bodies sent (forwarded, or answering IWANT) */
  forwarded: number;
  /** IHAVE announcements sent */
  announced: number;
  /** liveness frames sent: requests and replies on links, probes of lost links */
  livenessFrames: number;
  /** bytes of those liveness frames, 4-byte headers included */
  livenessBytes: number;
  deadReported: number;
  malformed: number;
  refusedBusy: number;
  /** hellos refused: a claimed address that is not the source, not allowed, or not proved */
  refusedHello: number;
  /** first-join attempts made */
  joinAttempts: number;
  /** gossip bodies and IHAVEs refused by the checks and rate limits */
  gossipRefused: number;
  /** IHAVEs sent to new neighbours to catch up */
  catchUpAnnounced: number;
  /** inbound connections refused at the per-source or total cap */
  connectionsRefused: number;
  /** Dead Node reports repeated to a seed that had not answered */
  reportRetries: number;
}
