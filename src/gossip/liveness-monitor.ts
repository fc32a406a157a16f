/**
 * The liveness side of a peer: each interval, a Liveness Request to every neighbour and a probe to
 * every lost link still watched; a neighbour or lost link silent for `misses` whole intervals is
 * reported as a Dead Node to the seeds (LivenessTracker decides; SWIM with Lifeguard's "slow is not
 * dead", Dadgar et al. 2018). Counts the liveness frames and bytes it sends.
 */
import type { Logger } from '../common/log.js';
import type { Connection } from './connection.js';
import { probeLiveness, request, type DialOptions } from './dial.js';
import { REPORT_ATTEMPTS } from './constants.js';
import { LivenessTracker } from './liveness.js';
import type { Neighbourhood } from './neighbourhood.js';
import { encodeFrame, endpointKey, formatMessage, type Endpoint, type GossipMessage } from './protocol.js';

type LivenessRequest = Extract<GossipMessage, { type: 'liveness-request' }>;

export interface LivenessCounters {
  /** liveness frames sent: requests and replies on links, probes of lost links */
  livenessFrames: number;
  /** bytes of those frames, headers included */
  livenessBytes: number;
  deadReported: number;
  /** Dead Node reports repeated to a seed that had not answered */
  reportRetries: number;
}

export interface LivenessMonitorOptions {
  /** consecutive missed intervals before a peer is reported dead */
  misses: number;
  /** ms; also the deadline of one probe */
  intervalMs: number;
  /** every configured seed: reports go to all of them */
  seeds: Endpoint[];
}

export interface LivenessMonitorDeps {
  hood: Neighbourhood;
  logger: Logger;
  /** this peer's address, known once it listens */
  self: () => Endpoint;
  dialOptions: () => DialOptions;
  /** called for each peer reported dead */
  reported: (peer: Endpoint) => void;
}

export class LivenessMonitor {
  readonly counters: LivenessCounters = { livenessFrames: 0, livenessBytes: 0, deadReported: 0, reportRetries: 0 };
  private readonly tracker: LivenessTracker;
  /** timers of reports waiting to be repeated */
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly options: LivenessMonitorOptions,
    private readonly deps: LivenessMonitorDeps,
  ) {
    this.tracker = new LivenessTracker(options.misses);
  }

  /** One interval at `now` (ms): check every neighbour and every watched lost link. */
  round(now: number): void {
    const { hood } = this.deps;
    for (const n of hood.all()) {
      if (this.tracker.check(n.key) === 'dead') {
        n.conn.close('reported dead');
        this.reportDead(n.endpoint, now);
      } else {
        this.send(n.conn, { type: 'liveness-request', timestamp: now, peer: this.deps.self() });
      }
    }
    for (const lost of hood.watched()) {
      const key = endpointKey(lost);
      if (hood.isNeighbour(key)) {
        hood.unwatch(key);
      } else if (this.tracker.check(key) === 'dead') {
        hood.unwatch(key);
        this.reportDead(lost, now);
      } else {
        void this.probe(lost, now);
      }
    }
  }

  /** A Liveness Request came on `conn` (a link, or a prober's fresh connection): answer it. */
  answer(conn: Connection, m: LivenessRequest): void {
    this.send(conn, { type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: this.deps.self() });
  }

  /** A reply from neighbour `key`: it is alive, its count of misses starts again. */
  answered(key: string): void {
    this.tracker.answered(key);
  }

  /** Drop the reports waiting to be repeated. */
  close(): void {
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }

  /** A new link to `key` starts with a clean count. */
  forget(key: string): void {
    this.tracker.forget(key);
  }

  private send(conn: Connection, m: GossipMessage): void {
    const before = conn.bytesOut;
    if (!conn.send(m)) return;
    this.counters.livenessFrames++;
    this.counters.livenessBytes += conn.bytesOut - before;
  }

  /** Probe a lost link over a fresh connection; an answer ends the watch (the next round counts a miss). */
  private async probe(peer: Endpoint, now: number): Promise<void> {
    const key = endpointKey(peer);
    this.counters.livenessFrames++;
    this.counters.livenessBytes += encodeFrame(formatMessage({ type: 'liveness-request', timestamp: now, peer: this.deps.self() })).length;
    if (await probeLiveness(peer, this.deps.self(), { ...this.deps.dialOptions(), timeoutMs: this.options.intervalMs })) {
      this.tracker.forget(key);
      this.deps.hood.unwatch(key);
    }
  }

  /** Tell the seeds (every configured one: the dead peer may be registered where we are not). */
  private reportDead(peer: Endpoint, now: number): void {
    const key = endpointKey(peer);
    const { hood, logger } = this.deps;
    this.counters.deadReported++;
    hood.forgetCandidate(key);
    logger.warn({ peer: key }, `Dead Node ${key}: reporting to the seeds`);
    this.deps.reported(peer);
    const report: GossipMessage = { type: 'dead-node', peer, timestamp: now, reporter: this.deps.self().host };
    for (const seed of this.options.seeds) void this.reportTo(seed, report, 1);
  }

  /**
   * Send a report to one seed and wait for its `report noted`; a seed that does not answer (down, or
   * its confirmation slots taken) is asked again, one interval later and then doubling, up to
   * REPORT_ATTEMPTS times in all, so a dead peer does not stay listed because one report was dropped.
   */
  private async reportTo(seed: Endpoint, report: Extract<GossipMessage, { type: 'dead-node' }>, attempt: number): Promise<void> {
    const noted = (got: GossipMessage[]): boolean => got.some((m) => m.type === 'report-noted' && endpointKey(m.peer) === endpointKey(report.peer));
    try {
      await request(seed, [report], noted, this.deps.dialOptions());
      return;
    } catch (err) {
      this.deps.logger.warn({ seed: endpointKey(seed), attempt, err: (err as Error).message }, 'seed did not note the Dead Node report');
    }
    if (this.closed || attempt >= REPORT_ATTEMPTS) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.counters.reportRetries++;
      void this.reportTo(seed, report, attempt + 1);
    }, this.options.intervalMs * 2 ** (attempt - 1));
    this.retries.add(timer);
  }
}
