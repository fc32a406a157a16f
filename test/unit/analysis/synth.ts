/**
 * Synthetic, labelled traffic for evaluating the anomaly detector: a seeded mix of normal web
 * (HTTPS/HTTP over TCP with handshakes, data, ACKs and closes), DNS, NTP and ping traffic from a
 * few dozen clients, with a little ordinary failure (unanswered SYNs, refused connections, aborts),
 * plus injected attacks: a SYN port scan, a spoofed-source SYN flood and jumbo UDP packets.
 */
import type { PacketSummary } from '../../../src/capture/types.js';
import { mulberry32, type Rng } from '../../../src/analysis/prng.js';

export type Label = 'normal' | 'scan' | 'scan-reply' | 'flood' | 'flood-reply' | 'jumbo';

export interface Labelled {
  p: PacketSummary;
  label: Label;
}

export interface AttackPlan {
  /** s from the start: a SYN scan of ports 1..scanPorts of one host at scanRate probes/s */
  scanAt?: number;
  scanPorts?: number;
  scanRate?: number;
  /** s from the start: floodPackets spoofed SYNs to one web server at floodRate/s */
  floodAt?: number;
  floodPackets?: number;
  floodRate?: number;
  /** jumbo (9000-byte) UDP packets spread over [jumboFrom, jumboTo) s */
  jumboFrom?: number;
  jumboTo?: number;
  jumboCount?: number;
}

export interface SynthOptions {
  seed: number;
  /** s of traffic */
  duration: number;
  /** new client sessions per second, all clients together */
  sessionsPerSec?: number;
  attacks?: AttackPlan;
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const EPOCH = 1_700_000_000;
const DNS_SERVER = '192.168.1.1';
/** A host of the LAN that sends nothing but the scan. */
export const SCANNER = '192.168.1.66';
export const SCAN_TARGET = '192.168.1.5';
export const FLOOD_TARGET = '203.0.113.10';

const FLAG_NAMES: [number, string][] = [
  [FIN, 'FIN'],
  [SYN, 'SYN'],
  [RST, 'RST'],
  [PSH, 'PSH'],
  [ACK, 'ACK'],
];

class Builder {
  readonly out: Labelled[] = [];
  constructor(readonly rng: Rng) {}

  between(lo: number, hi: number): number {
    return lo + this.rng() * (hi - lo);
  }

  int(lo: number, hi: number): number {
    return Math.floor(this.between(lo, hi + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }

  /** An exponential gap with the given mean, s. */
  exp(mean: number): number {
    return -Math.log(1 - this.rng()) * mean;
  }

  emit(
    t: number,
    src: string,
    dst: string,
    sport: number | undefined,
    dport: number | undefined,
    proto: 'TCP' | 'UDP' | 'DNS' | 'ICMP',
    length: number,
    tcpFlags: number,
    label: Label,
  ): void {
    const ipProto = proto === 'TCP' ? 6 : proto === 'ICMP' ? 1 : 17;
    const whole = Math.floor(t);
    const p: PacketSummary = {
      index: 0,
      tsSec: EPOCH + whole,
      tsNsec: Math.floor((t - whole) * 1e9),
      type: 'IPv4',
      src,
      dst,
      sport,
      dport,
      protocol: proto,
      ipProto,
      length: Math.round(length),
      tcpFlags,
      flags: FLAG_NAMES.filter(([bit]) => tcpFlags & bit)
        .map(([, name]) => name)
        .join(','),
      info: '',
    };
    this.out.push({ p, label });
  }
}

const clients = Array.from({ length: 40 }, (_, i) => `192.168.1.${10 + i}`);
const webServers = Array.from({ length: 30 }, (_, i) => `203.0.113.${10 + i}`);

/** One TCP connection from `c` to `s:port`, with handshake, requests, data, ACKs and a close. */
function webSession(b: Builder, t0: number, c: string, s: string, port: number): number {
  const rtt = b.between(0.005, 0.08);
  const sport = b.int(32768, 60999);
  let t = t0;
  const up = (len: number, flags: number): void => b.emit(t, c, s, sport, port, 'TCP', len, flags, 'normal');
  const down = (len: number, flags: number): void =>
    b.emit(t, s, c, port, sport, 'TCP', len, flags, 'normal');
  up(74, SYN);
  t += rtt / 2;
  down(74, SYN | ACK);
  t += rtt / 2;
  up(66, ACK);
  const requests = b.int(1, 3);
  for (let r = 0; r < requests; r++) {
    t += b.exp(0.05);
    up(b.int(200, 900), PSH | ACK);
    t += rtt / 2 + b.exp(0.01);
    const segments = Math.min(60, 1 + Math.floor(b.exp(8)));
    for (let k = 0; k < segments; k++) {
      t += b.between(0.0001, 0.002);
      down(k === segments - 1 ? b.int(100, 1514) : 1514, k === segments - 1 ? PSH | ACK : ACK);
      if (k % 2 === 1) up(66, ACK);
    }
    t += rtt / 2;
    up(66, ACK);
  }
  t += b.exp(0.3);
  if (b.rng() < 0.05) {
    up(54, RST | ACK); // an aborted connection: ordinary too
    return t;
  }
  up(66, FIN | ACK);
  t += rtt / 2;
  down(66, FIN | ACK);
  t += rtt / 2;
  up(66, ACK);
  return t;
}

function dnsLookup(b: Builder, t0: number, c: string): number {
  const sport = b.int(32768, 60999);
  b.emit(t0, c, DNS_SERVER, sport, 53, 'DNS', b.int(70, 100), 0, 'normal');
  const t = t0 + b.between(0.002, 0.03);
  b.emit(t, DNS_SERVER, c, 53, sport, 'DNS', b.int(100, 300), 0, 'normal');
  return t;
}

/** Ordinary failures: a SYN never answered (retried at 1 s and 3 s), or refused with an RST. */
function failedConnection(b: Builder, t0: number, c: string): void {
  const s = b.pick(webServers);
  const sport = b.int(32768, 60999);
  if (b.rng() < 0.6) {
    for (const delay of [0, 1, 3]) b.emit(t0 + delay, c, s, sport, 443, 'TCP', 74, SYN, 'normal');
  } else {
    b.emit(t0, c, SCAN_TARGET, sport, 8080, 'TCP', 74, SYN, 'normal');
    b.emit(t0 + b.between(0.0002, 0.001), SCAN_TARGET, c, 8080, sport, 'TCP', 54, RST | ACK, 'normal');
  }
}

function session(b: Builder, t0: number): void {
  const c = b.pick(clients);
  const roll = b.rng();
  if (roll < 0.7) {
    const t = b.rng() < 0.6 ? dnsLookup(b, t0, c) : t0;
    const port = b.rng() < 0.8 ? 443 : 80;
    webSession(b, t + 0.001, c, b.pick(webServers), port);
  } else if (roll < 0.85) {
    dnsLookup(b, t0, c);
  } else if (roll < 0.9) {
    b.emit(t0, c, DNS_SERVER, 123, 123, 'UDP', 90, 0, 'normal');
    b.emit(t0 + b.between(0.001, 0.01), DNS_SERVER, c, 123, 123, 'UDP', 90, 0, 'normal');
  } else if (roll < 0.97) {
    const dst = b.pick(webServers);
    b.emit(t0, c, dst, undefined, undefined, 'ICMP', 98, 0, 'normal');
    b.emit(t0 + b.between(0.005, 0.08), dst, c, undefined, undefined, 'ICMP', 98, 0, 'normal');
  } else {
    failedConnection(b, t0, c);
  }
}

function portScan(b: Builder, at: number, ports: number, rate: number): void {
  const sport = 61234; // a half-open scanner keeps one source port
  const open = new Set([22, 80, 443]);
  for (let port = 1; port <= ports; port++) {
    const t = at + (port - 1) / rate + b.between(0, 0.2 / rate);
    b.emit(t, SCANNER, SCAN_TARGET, sport, port, 'TCP', 58, SYN, 'scan');
    const back = t + b.between(0.0002, 0.002);
    if (open.has(port)) {
      b.emit(back, SCAN_TARGET, SCANNER, port, sport, 'TCP', 58, SYN | ACK, 'scan-reply');
      b.emit(back + 0.0001, SCANNER, SCAN_TARGET, sport, port, 'TCP', 54, RST, 'scan');
    } else {
      b.emit(back, SCAN_TARGET, SCANNER, port, sport, 'TCP', 54, RST | ACK, 'scan-reply');
    }
  }
}

function synFlood(b: Builder, at: number, packets: number, rate: number): void {
  for (let k = 0; k < packets; k++) {
    const t = at + b.exp(1 / rate) + k / rate;
    const spoofed = `${b.int(1, 223)}.${b.int(0, 255)}.${b.int(0, 255)}.${b.int(1, 254)}`;
    const sport = b.int(1024, 65535);
    b.emit(t, spoofed, FLOOD_TARGET, sport, 80, 'TCP', 60, SYN, 'flood');
    b.emit(
      t + b.between(0.0001, 0.001),
      FLOOD_TARGET,
      spoofed,
      80,
      sport,
      'TCP',
      58,
      SYN | ACK,
      'flood-reply',
    );
  }
}

function jumbos(b: Builder, from: number, to: number, count: number): void {
  const sport = b.int(32768, 60999);
  for (let k = 0; k < count; k++) {
    b.emit(b.between(from, to), b.pick(clients), b.pick(webServers), sport, 5001, 'UDP', 9000, 0, 'jumbo');
  }
}

/** Labelled packets in time order, indexed from 1. */
export function synthesize(options: SynthOptions): Labelled[] {
  const b = new Builder(mulberry32(options.seed));
  const rate = options.sessionsPerSec ?? 15;
  for (let t = b.exp(1 / rate); t < options.duration; t += b.exp(1 / rate)) session(b, t);
  const a = options.attacks ?? {};
  if (a.scanAt !== undefined) portScan(b, a.scanAt, a.scanPorts ?? 1000, a.scanRate ?? 200);
  if (a.floodAt !== undefined) synFlood(b, a.floodAt, a.floodPackets ?? 3000, a.floodRate ?? 1000);
  if (a.jumboFrom !== undefined) jumbos(b, a.jumboFrom, a.jumboTo ?? options.duration, a.jumboCount ?? 40);
  const sorted = b.out.sort((x, y) => x.p.tsSec - y.p.tsSec || x.p.tsNsec - y.p.tsNsec);
  sorted.forEach((item, i) => (item.p.index = i + 1));
  return sorted;
}
