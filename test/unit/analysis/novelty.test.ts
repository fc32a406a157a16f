import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable, NoveltyTracker, PacketRole, formatNovelty, type Novelty } from '../../../src/analysis/index.js';
import type { PacketSummary } from '../../../src/capture/types.js';
import { ACK, SYN, packet } from './packets.js';

const T0 = 1_700_000_000;

function arp(info: string, src: string, t: number, index = 1): PacketSummary {
  return { ...packet({ t, index, src, dst: 'ff:ff:ff:ff:ff:ff' }), type: 'ARP', protocol: 'ARP', ipProto: -1, sport: undefined, dport: undefined, info };
}

test('a new host is reported once, after learning; hosts seen while learning are known', () => {
  const tracker = new NoveltyTracker();
  const out: Novelty[] = [];
  tracker.observe(packet({ src: '10.0.0.1', t: T0 }), false, false, out);
  tracker.observe(packet({ src: '10.0.0.1', t: T0 + 1 }), false, true, out);
  assert.equal(out.length, 0);
  for (let i = 0; i < 5; i++) tracker.observe(packet({ src: '10.0.0.9', t: T0 + 2 + i, index: 100 + i }), false, true, out);
  assert.equal(out.length, 1);
  assert.deepEqual({ kind: out[0]!.kind, address: out[0]!.address, index: out[0]!.index }, { kind: 'new host', address: '10.0.0.9', index: 100 });
  assert.equal(formatNovelty(out[0]!), 'NEW host 10.0.0.9 (packet #100)');
  assert.equal(tracker.stats().newHosts, 1);
});

test('novelty events are rate-limited: a spoofed flood gives a burst, then one a second, with counts of those left out', () => {
  const tracker = new NoveltyTracker({ burst: 10, perSecond: 1 });
  const out: Novelty[] = [];
  // 2,000 forged sources in 2 s
  for (let i = 0; i < 2000; i++) tracker.observe(packet({ src: `203.0.${i >> 8}.${i & 255}`, t: T0 + i / 1000, index: i + 1 }), false, true, out);
  assert.ok(out.length >= 10 && out.length <= 13, `${out.length} events`);
  const left = out.reduce((n, e) => n + e.suppressed, 0);
  assert.equal(tracker.stats().newHosts, 2000);
  assert.equal(tracker.stats().suppressed, 2000 - out.length);
  assert.ok(left > 0 && left <= 2000 - out.length);
  assert.match(formatNovelty(out[out.length - 1]!), /more of this kind not shown/);
});

test('a service answering for the first time is reported once (from the flow table: the responder answered)', () => {
  const tracker = new NoveltyTracker();
  const table = new FlowTable();
  const out: Novelty[] = [];
  const session = (sport: number, t: number, report: boolean): void => {
    for (const p of [
      packet({ src: 'c', dst: 's', sport, dport: 8081, tcpFlags: SYN, t }),
      packet({ src: 's', dst: 'c', sport: 8081, dport: sport, tcpFlags: SYN | ACK, t: t + 0.001 }),
      packet({ src: 'c', dst: 's', sport, dport: 8081, tcpFlags: ACK, t: t + 0.002 }),
    ]) {
      table.push(p);
      tracker.observe(p, table.lastRole === PacketRole.Answered, report, out);
    }
  };
  session(40000, T0, false); // learning: c and s become known hosts
  assert.equal(out.length, 0);
  session(40001, T0 + 1, true); // known service: nothing
  assert.equal(out.length, 0);
  const fresh = new NoveltyTracker();
  const seen: Novelty[] = [];
  for (const p of [packet({ src: 's', dst: 'c', sport: 8081, dport: 40002, tcpFlags: SYN | ACK, t: T0 + 2 })]) fresh.observe(p, true, true, seen);
  const service = seen.find((e) => e.kind === 'new service')!;
  assert.deepEqual([service.address, service.port, service.protocol], ['s', 8081, 'TCP']);
  assert.equal(formatNovelty(service), 'NEW service s:8081/TCP (packet #' + service.index + ')');
});

test('ARP binding an IP address to another MAC is reported; re-resolution to the same MAC is not', () => {
  const tracker = new NoveltyTracker();
  const out: Novelty[] = [];
  tracker.observe(arp('Who has 10.0.0.2? Tell 10.0.0.1', 'aa:aa:aa:aa:aa:01', T0), false, false, out);
  tracker.observe(arp('10.0.0.2 is at aa:aa:aa:aa:aa:02', 'aa:aa:aa:aa:aa:02', T0 + 0.001), false, false, out);
  tracker.observe(arp('Who has 10.0.0.2? Tell 10.0.0.1', 'aa:aa:aa:aa:aa:01', T0 + 60), false, true, out);
  tracker.observe(arp('10.0.0.2 is at aa:aa:aa:aa:aa:02', 'aa:aa:aa:aa:aa:02', T0 + 60.001), false, true, out);
  assert.equal(out.length, 0, 'ordinary re-resolution');
  tracker.observe(arp('10.0.0.2 is at aa:aa:aa:aa:aa:66', 'aa:aa:aa:aa:aa:66', T0 + 61, 7), false, true, out);
  assert.equal(out.length, 1);
  assert.deepEqual([out[0]!.kind, out[0]!.address, out[0]!.mac, out[0]!.previousMac], ['new MAC for an IP address', '10.0.0.2', 'aa:aa:aa:aa:aa:66', 'aa:aa:aa:aa:aa:02']);
  assert.equal(formatNovelty(out[0]!), 'NEW MAC for 10.0.0.2: aa:aa:aa:aa:aa:66, was aa:aa:aa:aa:aa:02 (packet #7)');
  // an ARP probe (RFC 5227, sender 0.0.0.0) binds nothing
  tracker.observe(arp('Who has 10.0.0.2? Tell 0.0.0.0', 'aa:aa:aa:aa:aa:77', T0 + 62), false, true, out);
  assert.equal(out.length, 1);
});
