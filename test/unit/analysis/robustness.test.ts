/**
 * Seeded random input: odd, extreme and inconsistent PacketSummary fields (as a decoder might hand
 * over for damaged packets) go through every analysis component. Nothing may throw except our typed
 * errors, every output must stay JSON-able, and memory bounds must hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PacketSummary } from '../../../src/capture/types.js';
import {
  AnomalyDetector,
  FlowTable,
  TrafficStats,
  formatAnomaly,
  formatStats,
  mulberry32,
  type Anomaly,
  type Rng,
} from '../../../src/analysis/index.js';
import { isWirelabError } from '../../../src/common/errors.js';

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

const numbers = [
  0,
  -1,
  1,
  65535,
  65536,
  2 ** 31,
  -(2 ** 31),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e300,
  0.5,
];

function randomPacket(rng: Rng, i: number): PacketSummary {
  const wild = (normal: number): number => (rng() < 0.2 ? pick(rng, numbers) : normal);
  const maybe = <T>(value: T): T | undefined => (rng() < 0.1 ? undefined : value);
  return {
    index: i,
    tsSec: wild(1_700_000_000 + Math.floor(i / 10) - (rng() < 0.05 ? 500 : 0)),
    tsNsec: wild(Math.floor(rng() * 1e9)),
    type: pick(rng, ['IPv4', 'IPv6', 'ARP', '']),
    src: maybe(`10.0.${Math.floor(rng() * 4)}.${Math.floor(rng() * 300)}`),
    dst: maybe(pick(rng, ['10.0.0.1', '::1', 'ff:ff:ff:ff:ff:ff', '', '\u0000'])),
    sport: maybe(wild(Math.floor(rng() * 65536))),
    dport: maybe(wild(Math.floor(rng() * 1024))),
    protocol: pick(rng, [
      'TCP',
      'UDP',
      'DNS',
      'ICMP',
      '',
      '__proto__',
      'constructor',
      `P${Math.floor(rng() * 100)}`,
    ]),
    ipProto: wild(pick(rng, [6, 17, 1, 58, -1])),
    length: wild(Math.floor(rng() * 2000)),
    tcpFlags: wild(Math.floor(rng() * 256)),
    flags: '',
    info: '',
    ...(rng() < 0.05 ? { error: 'truncated' } : {}),
  };
}

function onlyTypedErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    assert.ok(isWirelabError(err), `unexpected error: ${String(err)}`);
  }
}

for (const seed of [1, 2, 3]) {
  test(`random packets, seed ${seed}: no untyped error, JSON-able outputs, bounded tables`, () => {
    const rng = mulberry32(seed);
    const stats = new TrafficStats({ maxProtocols: 8, talkerCounters: 16, seriesSeconds: 30 });
    const flows = new FlowTable({ maxFlows: 500 });
    const detector = new AnomalyDetector({
      baselinePackets: 500,
      baselineFlows: 50,
      warmup: 0,
      trees: 20,
      maxHosts: 100,
    });
    const anomalies: Anomaly[] = [];
    for (let i = 1; i <= 20_000; i++) {
      const p = randomPacket(rng, i);
      onlyTypedErrors(() => stats.add(p));
      onlyTypedErrors(() => void flows.push(p));
      onlyTypedErrors(() => anomalies.push(...detector.push(p)));
      assert.ok(flows.size <= 500);
    }
    onlyTypedErrors(() => anomalies.push(...detector.flush()));
    const snapshot = stats.snapshot();
    assert.equal(snapshot.packets, 20_000);
    assert.ok(snapshot.protocols.length <= 9);
    assert.ok(snapshot.topSources.byBytes.length <= 16);
    assert.equal(snapshot.series.packets.length, 30);
    assert.doesNotThrow(() => JSON.stringify(snapshot));
    assert.doesNotThrow(() => formatStats(snapshot));
    assert.ok(detector.stats().packetsScored > 0, 'scoring ran');
    for (const a of anomalies) {
      assert.ok(a.score > 0 && a.score <= 1, `score ${a.score}`);
      assert.doesNotThrow(() => JSON.stringify(a));
      assert.equal(typeof formatAnomaly(a), 'string');
    }
  });
}
