/** Options, dependencies, events and counters of a WhisperNet-mode peer (peer.ts). */
import type { Logger } from '../../common/log.js';
import type { Clock } from '../../common/lifecycle.js';
import type { GossipSeen } from '../peer-types.js';
import type { WhisperConnection } from './link.js';
import type { WhisperEndpoint } from './codec.js';

export interface WhispernetPeerOptions {
  /** IPv4 address to listen on and dial from (default 127.0.0.1) */
  host?: string;
  /** address announced to seeds and peers when not `host` (e.g. `localhost`, as the original announces) */
  advertiseHost?: string;
  /** TCP port, 0 for any free one */
  port?: number;
  seeds: WhisperEndpoint[];
  /** least capacity (default 2; the original's formula gives 0 links to ids above 90) */
  floor?: number;
  /** ms between own messages (default 5000) */
  gossipIntervalMs?: number;
  /** own messages in all (default 10) */
  messages?: number;
  /** start originating at start() (default true) */
  autoGossip?: boolean;
  /** ms between liveness checks of each link (default 13000) */
  livenessIntervalMs?: number;
  /** failed checks (unanswered requests, or failed re-dials of a lost link) before Dead Node (default 3) */
  misses?: number;
  /** ms for a seed request, a dial and the Connection exchange (default 3000) */
  requestTimeoutMs?: number;
  /** ms of silence that ends an unpadded record */
  quietMs?: number;
  /** uniform [0, 1) (default Math.random) */
  random?: () => number;
}

export interface WhispernetPeerDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface WhispernetPeerEvents {
  gossip: [GossipSeen];
  neighbour: [{ peer: string; change: 'added' | 'removed'; degree: number }];
  registered: [{ seed: string }];
  'dead-reported': [{ peer: string }];
}

export interface WhispernetPeerStats {
  degree: number;
  /** second connections to linked peers, kept open (both sides dialled) */
  spares: number;
  capacity: number;
  originated: number;
  /** distinct messages seen */
  seen: number;
  /** candidates known, not linked */
  known: number;
  gossipReceived: number;
  duplicates: number;
  /** gmessages sent on (own and others', replays not included) */
  forwarded: number;
  /** `forwarding` answers received */
  forwardingReplies: number;
  /** gmessages replayed to new links */
  replayed: number;
  deadReported: number;
  malformed: number;
}

/** One link to a peer. */
export interface Link {
  conn: WhisperConnection;
  /** `ip:port`, `localhost` canonical */
  key: string;
  /** as the peer announced it or we dialled it */
  endpoint: WhisperEndpoint;
  /** we dialled it (its address is proven) */
  dialed: boolean;
  /** a Liveness Request is unanswered */
  awaiting: boolean;
  misses: number;
}
