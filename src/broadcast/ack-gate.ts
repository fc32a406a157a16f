/**
 * Whether a node may answer a datagram with an acknowledgement. Any source address may be spoofed, so
 * an acknowledgement must never make the node a reflector (DESIGN.md, hostile senders):
 * - no answer to a source no socket can be (port 0, 0.0.0.0, a broadcast or multicast address);
 * - never more bytes out than came in;
 * - plain text is acknowledged only to an address that has spoken the protocol (sent an envelope);
 * - at most ACK_RATE_PER_SOURCE acknowledgements a second to one address.
 * Pure: the time comes in as an argument.
 */
import { ACK_BURST_PER_SOURCE, ACK_RATE_PER_SOURCE, MAX_TRACKED_SOURCES } from './constants.js';
import { RateLimiter } from './rate-limit.js';

export type AckRefusal = 'unanswerable source' | 'larger than the datagram' | 'plain text from a stranger' | 'rate limit';

export interface AckRequest {
  address: string;
  port: number;
  /** the datagram being acknowledged: an envelope or plain text */
  format: 'envelope' | 'plain';
  /** bytes that came in */
  inBytes: number;
  /** bytes the acknowledgement would be */
  ackBytes: number;
  /** ms */
  nowMs: number;
}

function isIpv4(address: string): number[] | undefined {
  const parts = address.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts : undefined;
}

export class AckGate {
  private readonly limiter: RateLimiter;
  /** addresses that sent an envelope, least recently heard first */
  private readonly speakers = new Map<string, true>();

  /** @param ownBroadcasts the directed broadcast addresses of this host's interfaces */
  constructor(
    private readonly ownBroadcasts: ReadonlySet<string> = new Set(),
    ratePerSecond: number = ACK_RATE_PER_SOURCE,
    burst: number = ACK_BURST_PER_SOURCE,
    private readonly maxSources: number = MAX_TRACKED_SOURCES,
  ) {
    this.limiter = new RateLimiter(ratePerSecond, burst, maxSources);
  }

  /** An envelope came from `address`: it speaks the protocol. */
  spokeProtocol(address: string): void {
    this.speakers.delete(address);
    if (this.speakers.size >= this.maxSources) {
      const oldest = this.speakers.keys().next().value;
      if (oldest !== undefined) this.speakers.delete(oldest);
    }
    this.speakers.set(address, true);
  }

  /** undefined: send it; otherwise why not. */
  refuse(r: AckRequest): AckRefusal | undefined {
    if (!this.answerable(r.address, r.port)) return 'unanswerable source';
    if (r.ackBytes > r.inBytes) return 'larger than the datagram';
    if (r.format === 'plain' && !this.speakers.has(r.address)) return 'plain text from a stranger';
    if (!this.limiter.take(r.address, r.nowMs)) return 'rate limit';
    return undefined;
  }

  private answerable(address: string, port: number): boolean {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return false;
    const v4 = isIpv4(address);
    if (!v4) return address !== '::' && !address.toLowerCase().startsWith('ff'); // IPv6: not unspecified, not multicast
    if (v4[0] === 0 || v4[0]! >= 224) return false; // 0.0.0.0/8, multicast, 240/4 and 255.255.255.255
    return !this.ownBroadcasts.has(address);
  }
}
