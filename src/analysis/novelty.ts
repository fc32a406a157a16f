/**
 * Novelty, reported once as an event rather than as every packet of a newcomer: a source address not
 * seen before (`new host`), a service (address, port, protocol) answering for the first time
 * (`new service`), an IP address that ARP now binds to another MAC address (`new MAC for an IP
 * address`: what ARP spoofing looks like). What is known is learnt from every packet, from the first
 * on; events are reported only once the detector scores (after its warm-up and baseline). Events
 * of each kind are rate-limited (a token bucket in packet time), so a flood from spoofed sources
 * gives a few events and a count of those left out, not one per forged address. Memory is bounded:
 * past its cap, a set forgets its oldest entry (which may then be reported again, once).
 */
import type { PacketSummary } from '../capture/types.js';
import {
  DEFAULT_NOVELTY_BURST,
  DEFAULT_NOVELTY_PER_SECOND,
  MAX_KNOWN_BINDINGS,
  MAX_KNOWN_HOSTS,
  MAX_KNOWN_SERVICES,
} from './constants.js';
import { secondsOf } from './host-state.js';

export type NoveltyKind = 'new host' | 'new service' | 'new MAC for an IP address';

/** One novelty event. */
export interface Novelty {
  kind: NoveltyKind;
  /** index of the packet that showed it */
  index: number;
  /** s since the epoch, that packet's time */
  ts: number;
  /** the new host; the service's address; the IP address with a new MAC */
  address: string;
  /** new service: its port (0 for ICMP and other protocols without ports) and protocol */
  port?: number;
  protocol?: string;
  /** new MAC: the MAC ARP now gives, and the one it gave before */
  mac?: string;
  previousMac?: string;
  /** events of this kind left out by the rate limit since the previous one reported */
  suppressed: number;
}

export interface NoveltyStats {
  newHosts: number;
  newServices: number;
  newMacs: number;
  /** events left out by the rate limit */
  suppressed: number;
}

/** A set of strings that forgets its oldest entry past `max`. */
class BoundedSet<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (!this.map.has(key) && this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
}

/** Per kind: a token bucket in packet time. */
class Limiter {
  private tokens: number;
  private last = Number.NEGATIVE_INFINITY;
  /** left out since the last event that went out, and in all */
  suppressed = 0;
  total = 0;
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  /** May an event go out at `time` (s)? If not, it is counted as suppressed. */
  take(time: number): boolean {
    if (time > this.last) {
      if (this.last > Number.NEGATIVE_INFINITY) this.tokens = Math.min(this.burst, this.tokens + (time - this.last) * this.perSecond);
      this.last = time;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.suppressed++;
    this.total++;
    return false;
  }
}

const ARP_REQUEST = /^Who has \S+\? Tell (\S+)$/;
const ARP_REPLY = /^(\S+) is at (\S+)$/;

export interface NoveltyOptions {
  /** events of one kind in a burst (default 10) */
  burst?: number;
  /** events of one kind per second after a burst (default 1) */
  perSecond?: number;
}

export class NoveltyTracker {
  private readonly hosts = new BoundedSet<true>(MAX_KNOWN_HOSTS);
  private readonly services = new BoundedSet<true>(MAX_KNOWN_SERVICES);
  private readonly macs = new BoundedSet<string>(MAX_KNOWN_BINDINGS);
  private readonly limits: Record<NoveltyKind, Limiter>;
  private counts = { newHosts: 0, newServices: 0, newMacs: 0 };

  constructor(options: NoveltyOptions = {}) {
    const burst = options.burst ?? DEFAULT_NOVELTY_BURST;
    const rate = options.perSecond ?? DEFAULT_NOVELTY_PER_SECOND;
    this.limits = {
      'new host': new Limiter(burst, rate),
      'new service': new Limiter(burst, rate),
      'new MAC for an IP address': new Limiter(burst, rate),
    };
  }

  stats(): NoveltyStats {
    const suppressed = Object.values(this.limits).reduce((n, l) => n + l.total, 0);
    return { ...this.counts, suppressed };
  }

  /**
   * Learn from `p` and, when `report`, append its novelty events to `out`. `answered`: this packet
   * is a responder's first answer in its flow (FlowTable.lastRole), so its sender is a service.
   */
  observe(p: PacketSummary, answered: boolean, report: boolean, out: Novelty[]): void {
    if (p.type === 'ARP') {
      this.arp(p, report, out);
      return;
    }
    const src = p.src;
    if (src === undefined || !(p.ipProto >= 0)) return;
    if (this.hosts.get(src) === undefined) {
      this.hosts.set(src, true);
      if (report) {
        this.counts.newHosts++;
        this.emit(out, { kind: 'new host', index: p.index, ts: secondsOf(p), address: src, suppressed: 0 });
      }
    }
    if (!answered) return;
    const port = p.sport ?? 0;
    const service = `${src}|${port}|${p.ipProto}`;
    if (this.services.get(service) !== undefined) return;
    this.services.set(service, true);
    if (!report) return;
    this.counts.newServices++;
    this.emit(out, { kind: 'new service', index: p.index, ts: secondsOf(p), address: src, port, protocol: p.protocol, suppressed: 0 });
  }

  /** ARP binds the sender's IP address to its MAC (requests: "Tell IP" from MAC; replies: "IP is at MAC"). */
  private arp(p: PacketSummary, report: boolean, out: Novelty[]): void {
    let ip: string | undefined;
    let mac: string | undefined;
    const request = ARP_REQUEST.exec(p.info);
    if (request) {
      ip = request[1];
      mac = p.src;
    } else {
      const reply = ARP_REPLY.exec(p.info);
      ip = reply?.[1];
      mac = reply?.[2];
    }
    if (ip === undefined || mac === undefined || ip === '0.0.0.0') return; // probes (RFC 5227) bind nothing
    const before = this.macs.get(ip);
    if (before === mac) return;
    this.macs.set(ip, mac);
    if (before === undefined || !report) return;
    this.counts.newMacs++;
    this.emit(out, { kind: 'new MAC for an IP address', index: p.index, ts: secondsOf(p), address: ip, mac, previousMac: before, suppressed: 0 });
  }

  private emit(out: Novelty[], event: Novelty): void {
    const limit = this.limits[event.kind];
    const suppressed = limit.suppressed;
    if (!limit.take(event.ts)) return;
    event.suppressed = suppressed;
    limit.suppressed = 0;
    out.push(event);
  }
}

/** One line for a novelty event, e.g. `NEW host 10.0.0.7 (packet #1234)`. */
export function formatNovelty(e: Novelty): string {
  const more = e.suppressed > 0 ? `; ${e.suppressed} more of this kind not shown before it` : '';
  switch (e.kind) {
    case 'new host':
      return `NEW host ${e.address} (packet #${e.index}${more})`;
    case 'new service':
      return `NEW service ${e.address}:${e.port ?? 0}/${e.protocol ?? '?'} (packet #${e.index}${more})`;
    case 'new MAC for an IP address':
      return `NEW MAC for ${e.address}: ${e.mac ?? '?'}, was ${e.previousMac ?? '?'} (packet #${e.index}${more})`;
  }
}
