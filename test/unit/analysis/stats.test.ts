import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrafficStats, formatStats, SIZE_BUCKET_LABELS } from '../../../src/analysis/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { packet } from './packets.js';

const T0 = 1_700_000_000;

test('volume, average size and protocol distribution are exact', () => {
  const stats = new TrafficStats();
  stats.add(packet({ protocol: 'TCP', length: 60 }));
  stats.add(packet({ protocol: 'TCP', length: 1500 }));
  stats.add(packet({ protocol: 'DNS', length: 90 }));
  stats.add(packet({ protocol: 'UDP', length: 9000 }));
  const s = stats.snapshot();
  assert.equal(s.packets, 4);
  assert.equal(s.bytes, 60 + 1500 + 90 + 9000);
  assert.equal(s.avgPacketSize, (60 + 1500 + 90 + 9000) / 4);
  const byName = new Map(s.protocols.map((p) => [p.protocol, p]));
  assert.equal(byName.get('TCP')!.packets, 2);
  assert.equal(byName.get('TCP')!.bytes, 1560);
  assert.equal(byName.get('TCP')!.packetShare, 0.5);
  assert.equal(byName.get('TCP')!.minSize, 60);
  assert.equal(byName.get('TCP')!.maxSize, 1500);
  assert.equal(byName.get('TCP')!.meanSize, 780);
  assert.equal(byName.get('UDP')!.byteShare, 9000 / 10650);
  assert.equal(s.protocols[0]!.protocol, 'UDP', 'sorted by bytes');
});

test('size buckets have inclusive upper edges 64, 128, ..., 1518 and a jumbo bucket', () => {
  const stats = new TrafficStats();
  for (const length of [0, 64, 65, 128, 129, 1518, 1519, 9000]) stats.add(packet({ length }));
  const tcp = stats.snapshot().protocols[0]!;
  assert.deepEqual(SIZE_BUCKET_LABELS, [
    '0-64',
    '65-128',
    '129-256',
    '257-512',
    '513-1024',
    '1025-1518',
    '>1518',
  ]);
  assert.deepEqual(tcp.sizeHistogram, [2, 2, 1, 0, 0, 1, 2]);
});

test('the per-second series slides over a bounded window; late packets count in totals only', () => {
  const stats = new TrafficStats({ seriesSeconds: 4 });
  stats.add(packet({ t: T0 + 100.1, length: 10 }));
  stats.add(packet({ t: T0 + 100.9, length: 10 }));
  stats.add(packet({ t: T0 + 101.5, length: 20, protocol: 'UDP' }));
  stats.add(packet({ t: T0 + 105.0, length: 40 }));
  stats.add(packet({ t: T0 + 103.2, length: 5 })); // out of order, inside the window
  stats.add(packet({ t: T0 + 99.0, length: 7 })); // older than the window
  const s = stats.snapshot();
  assert.equal(s.series.endSec, T0 + 105);
  assert.deepEqual(s.series.packets, [0, 1, 0, 1]); // seconds 102..105
  assert.deepEqual(s.series.bytes, [0, 5, 0, 40]);
  assert.equal(s.packets, 6);
  assert.equal(s.bytes, 92);
  assert.equal(s.firstTs, T0 + 99);
  const udp = stats.snapshot({ protocol: 'UDP' });
  assert.deepEqual(udp.series.packets, [0, 0, 0, 0]);
  assert.equal(udp.packets, 1);
  assert.equal(udp.protocols.length, 1);
  // A jump far ahead clears the whole window in at most W steps.
  stats.add(packet({ t: T0 + 1e6, length: 1 }));
  assert.deepEqual(stats.snapshot().series.packets, [0, 0, 0, 1]);
});

test('top talkers find the heavy source among many small ones with bounded counters', () => {
  const stats = new TrafficStats({ talkerCounters: 8 });
  for (let i = 0; i < 2000; i++) {
    stats.add(packet({ src: `10.1.${i >> 8}.${i & 255}`, dst: '10.0.0.9', length: 100 }));
    if (i % 2 === 0) stats.add(packet({ src: '10.0.0.66', dst: '10.0.0.10', length: 1000 }));
  }
  const s = stats.snapshot();
  assert.ok(s.topSources.byBytes.length <= 8);
  const heavy = s.topSources.byBytes[0]!;
  assert.equal(heavy.address, '10.0.0.66');
  assert.ok(heavy.value - heavy.error <= 1_000_000 && 1_000_000 <= heavy.value, JSON.stringify(heavy));
  assert.equal(s.topSources.byPackets[0]!.address, '10.0.0.66');
  assert.equal(s.topSources.byPackets[0]!.value - s.topSources.byPackets[0]!.error <= 1000, true);
  assert.equal(s.topDestinations.byPackets[0]!.address, '10.0.0.9');
  assert.equal(s.topDestinations.byPackets[0]!.value, 2000);
  assert.deepEqual(
    stats.snapshot({ src: '10.0.0.66' }).topSources.byBytes.map((t) => t.address),
    ['10.0.0.66'],
  );
});

test('a constructor filter counts only matching packets', () => {
  const stats = new TrafficStats({ filter: { src: '10.0.0.1', protocol: 'TCP' } });
  stats.add(packet({ src: '10.0.0.1', protocol: 'TCP' }));
  stats.add(packet({ src: '10.0.0.1', protocol: 'UDP' }));
  stats.add(packet({ src: '10.0.0.3', protocol: 'TCP' }));
  const s = stats.snapshot();
  assert.equal(s.packets, 1);
  assert.equal(s.filteredOut, 2);
  assert.deepEqual(s.filter, { src: '10.0.0.1', protocol: 'TCP' });
});

test('protocols past the cap fall into one bucket', () => {
  const stats = new TrafficStats({ maxProtocols: 2 });
  for (const protocol of ['A', 'B', 'C', 'D', 'A']) stats.add(packet({ protocol }));
  const names = stats
    .snapshot()
    .protocols.map((p) => `${p.protocol}:${p.packets}`)
    .sort();
  assert.deepEqual(names, ['(other):2', 'A:2', 'B:1']);
});

test('odd fields never throw; bad lengths are counted; the snapshot is plain JSON', () => {
  const stats = new TrafficStats();
  const odd = { ...packet(), length: Number.NaN, tsSec: Number.NaN, src: undefined, dst: undefined };
  stats.add(odd);
  stats.add({ ...packet(), length: -5, tsSec: -10 });
  stats.add({ ...packet(), length: Number.POSITIVE_INFINITY });
  const s = stats.snapshot();
  assert.equal(s.badLength, 3);
  assert.equal(s.bytes, 0);
  assert.ok(s.topSources.byPackets.some((t) => t.address === '(none)' && t.value === 1));
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test('bad options are typed errors', () => {
  assert.throws(() => new TrafficStats({ seriesSeconds: 0 }), WirelabError);
  assert.throws(() => new TrafficStats({ seriesSeconds: 1e9 }), WirelabError);
  assert.throws(() => new TrafficStats({ talkerCounters: 0 }), WirelabError);
});

test('formatStats prints totals, protocols, sizes and talkers', () => {
  const stats = new TrafficStats();
  stats.add(packet({ t: T0, protocol: 'DNS', length: 80, src: '192.0.2.1' }));
  stats.add(packet({ t: T0 + 2, protocol: 'TCP', length: 1514, src: '192.0.2.2' }));
  const text = formatStats(stats.snapshot());
  assert.match(text, /Packets: 2 {2}Bytes: 1\.6 kB/);
  assert.match(text, /Duration: 2\.000 s/);
  assert.match(text, /^ {2}TCP +1 +50\.0%/m);
  assert.match(text, /1025-1518/);
  assert.match(text, /Top sources by bytes:\n {2}192\.0\.2\.2/);
});
